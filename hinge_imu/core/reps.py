"""Rep detection on the angle grid, causal (docs/rules.md "A rep runs from standing to standing").

:class:`RepDetector` (its settings and events: :mod:`~hinge_imu.core.rep_events`)
reads one *driver* angle (hip flexion; pelvic tilt or
trunk inclination without a thigh sensor) and a *tilt* angle
(:func:`tilt_angle_deg`: trunk inclination, without it pelvic tilt), sample by
sample, and reports events:

* ``started``: the driver rose ``start_above_deg`` above its standing level;
* ``bottom``: the peak is confirmed (the driver fell ``bottom_confirm_deg`` below it);
* ``finished``: the lockout is known, with the rep's :class:`RepBounds`.
  Either the pose settled (range under ``settle_range_deg`` for ``settle_s``,
  below the *lockout ceiling*; the lockout is the first settled sample), or
  the next rep began without a pause (the driver rose ``rise_again_deg``
  above its lowest value since the peak, and that lowest value was under the
  ceiling; the lockout is that lowest sample). A finished event therefore
  comes at most ``settle_s`` after the lockout. The ceiling is
  ``lockout_drop_deg`` below the peak and at most ``lockout_max_share`` of
  the peak's height above the standing level, but never under
  ``start_above_deg`` above it (a small movement back where it started has
  ended): a pause in the hole (hip
  flexion settling 20° under the peak as the pelvis tucks, then the rest of
  the ascent) continues the same rep, while a missed lockout (coming up to
  20–30° and staying) still ends it.
* ``rejected``: the movement was not a rep (peak under ``min_peak_deg``, the
  tilt never reached ``min_tilt_deg`` — a step or a turn —, or
  shorter than ``min_duration_s`` — a knock).

The standing level follows still, near-upright periods between reps and the
lockouts of reps, so a small drift of the calibration does not move the
start of every rep; never a rejected movement's low point (a step's, with
the leg behind), so the first rep after a walk starts where it starts
(:class:`~hinge_imu.core.rep_standing.StandingLevel`, which also finds the
start of the next rep).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.rep_events import RepEvent, RepSettings, tilt_angle_deg
from hinge_imu.core.rep_history import DriverHistory
from hinge_imu.core.rep_metrics import RepBounds
from hinge_imu.core.rep_standing import StandingLevel
from hinge_imu.core.windowed import median_list, settle_windows

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


_IDLE, _DOWN, _UP = 0, 1, 2


class RepDetector:
    """Causal rep segmentation; ``update()`` per chunk of grid samples."""

    def __init__(
        self, settings: RepSettings | None = None, rate_hz: float = 100.0, first_k: int = 0
    ) -> None:
        self.settings = settings or RepSettings()
        self.rate_hz = rate_hz
        #: Grid index of the first sample fed.
        self.first_k = first_k
        self.reset()

    def reset(self) -> None:
        self._settle_n = max(2, round(self.settings.settle_s * self.rate_hz))
        self._k = self.first_k  # grid index of the next sample
        self._state = _IDLE
        self._start = 0
        self._peak = -np.inf
        self._peak_i = 0
        self._min = np.inf
        self._min_i = 0
        self._tilt_max = -np.inf
        # The tilt's maximum up to the lowest driver sample after the peak:
        # a lockout at that sample judges the rep on its own samples only.
        self._tilt_at_min = -np.inf
        # Recent driver values (for the settle test and the back-to-back start).
        self._hist = DriverHistory(self.first_k)
        #: The standing level, and the search for the next rep's start.
        self._standing = StandingLevel(self.settings, self._settle_n, self._hist)
        self._win: tuple[BoolArray, FloatArray] | None = None

    @property
    def in_rep(self) -> bool:
        return self._state != _IDLE

    @property
    def rep_start(self) -> int:
        """Grid index where the open rep started (meaningful while ``in_rep``)."""
        return self._start

    def _t(self, i: int) -> float:
        return i / self.rate_hz

    def update(self, driver_deg: FloatArray, tilt_deg: FloatArray) -> list[RepEvent]:
        """Feed the next samples (M,) of the driver and tilt angles; return events."""
        x = np.asarray(driver_deg, dtype=np.float64)
        tilt = np.asarray(tilt_deg, dtype=np.float64)
        events: list[RepEvent] = []
        s = self.settings
        settle_n = self._settle_n
        self._win = None
        self._standing.new_chunk()
        j = 0
        m = x.shape[0]
        while j < m:
            if self._state == _IDLE:
                j = self._idle(x, j, events)
                continue
            # Samples that only update the running peak/minimum are taken in
            # bulk; the sample that may trigger an event goes through the
            # per-sample logic below.
            j += self._skip(x, tilt, j)
            if j >= m:
                break
            i = self._k + j
            v = x[j]
            self._hist.push(v)
            if np.isfinite(tilt[j]):
                self._tilt_max = max(self._tilt_max, float(tilt[j]))
            j += 1
            if not np.isfinite(v):
                continue
            if i - self._start > s.max_rep_s * self.rate_hz:
                events.append(self._close("longer than the longest rep"))
                continue
            if self._state == _DOWN:
                if v > self._peak:
                    self._peak, self._peak_i = float(v), i
                elif v < self._peak - s.bottom_confirm_deg:
                    self._state = _UP
                    self._min, self._min_i = float(v), i
                    self._tilt_at_min = self._tilt_max
                    events.append(RepEvent("bottom", self._peak_i, self._t(self._peak_i)))
                continue
            # _UP: after the peak, waiting for the lockout.
            if v < self._min:
                self._min, self._min_i = float(v), i
                self._tilt_at_min = self._tilt_max
            if v > self._min + s.rise_again_deg:
                if self._min > self._ceiling():
                    # Back up without having come up to a lockout: still the same rep.
                    self._state = _DOWN
                    if v > self._peak:
                        self._peak, self._peak_i = float(v), i
                    continue
                lock = self._min_i
                ev = self._finish(lock, lock + 1, self._tilt_at_min)
                events.append(ev)
                if ev.kind == "finished":
                    # A step's low point (the leg behind) is no standing pose:
                    # following it would start a "rep" at the end of a walk.
                    self._standing.follow(self._min)
                if v <= self._standing.base + s.start_above_deg:
                    self._state = _IDLE  # not above standing: no movement has begun yet
                    continue
                # The next rep began at once: it starts where it rose above the standing level.
                start = self._hist.first_above(lock + 1, i, self._standing.base + s.start_above_deg)
                self._begin(start, events)
                for k in range(start, i + 1):
                    hv = self._hist.at(k)
                    if np.isfinite(hv) and hv > self._peak:
                        self._peak, self._peak_i = hv, k
                continue
            # Settled: the last settle_n samples lie within a small range, below the peak.
            if i - self._peak_i >= settle_n:
                w = self._hist.last(settle_n)
                w = w[np.isfinite(w)]
                if (
                    w.size >= settle_n // 2
                    and float(w.max() - w.min()) < s.settle_range_deg
                    and float(w.max()) < self._ceiling()
                ):
                    # The lockout: where the driver came within settle_tol of where it settled.
                    final = median_list(w.tolist())
                    lock = i
                    while (
                        lock - 1 > self._peak_i
                        and abs(self._hist.at(lock - 1) - final) < s.settle_tol_deg
                    ):
                        lock -= 1
                    # The settle window: the pose at rest after the lockout.
                    ev = self._finish(lock, lock + 1)
                    events.append(replace(ev, settled=(i + 1 - settle_n, i + 1)))
                    self._state = _IDLE
                    self._standing.follow(final)
        self._k += m
        self._trim()
        return events

    def _skip(self, x: FloatArray, tilt: FloatArray, j: int) -> int:
        """Consume samples from ``j`` on that cannot trigger an event; return how many."""
        s = self.settings
        n = self._settle_n
        seg = x[j : j + 256]
        size = seg.size
        if size == 0:
            return 0
        i0 = self._k + j
        # The per-sample path closes over-long reps at the first finite sample
        # past the limit: local index p on (idx - start > max_rep).
        over = s.max_rep_s * self.rate_hz - (i0 - self._start)
        p = 0 if over < 0 else math.floor(over) + 1
        if self._state == _DOWN:
            run = np.fmax.accumulate(np.concatenate(([self._peak], seg)))
            runmax = run[:-1]
            event = (seg <= runmax) & (seg < runmax - s.bottom_confirm_deg)
        else:
            run = np.fmin.accumulate(np.concatenate(([self._min], seg)))
            # run[1:]: the minimum up to and including each sample.
            event = seg > run[1:] + s.rise_again_deg
            # Settled: the window of n samples ending here qualifies (the
            # state-free part is computed once per chunk), below the ceiling.
            settle_ok, win_max = self._window_flags(x, j)
            settle = settle_ok[j : j + size] & (win_max[j : j + size] < self._ceiling())
            q = self._peak_i + n - i0  # idx - peak_i >= n from local index q on
            if q > 0:
                settle[:q] = False
            event |= settle
        if p < size:
            event[p:] |= np.isfinite(seg[p:])
        take = int(event.argmax())
        if not event[take]:
            take = size  # no event in this window
        if take == 0:
            return 0
        part = seg[:take]
        self._hist.push_many(part)
        tilt_before = self._tilt_max
        tt = float(np.fmax.reduce(tilt[j : j + take]))
        if tt == tt:  # not NaN: some tilt sample was finite
            self._tilt_max = max(self._tilt_max, tt)
        # run[take] is the running peak (minimum) over the state and part:
        # a change means part holds a new one (its first occurrence wins).
        v = float(run[take])
        if self._state == _DOWN and v > self._peak:
            self._peak, self._peak_i = v, i0 + int((part == v).argmax())
        elif self._state == _UP and v < self._min:
            at = int((part == v).argmax())
            self._min, self._min_i = v, i0 + at
            tt = float(np.fmax.reduce(tilt[j : j + at + 1]))
            self._tilt_at_min = max(tilt_before, tt) if tt == tt else tilt_before
        return take

    def _window_flags(self, x: FloatArray, j: int) -> tuple[BoolArray, FloatArray]:
        """Per sample of this chunk: may the settle window ending there qualify, and its max.

        The window holds the ``settle_n`` driver samples ending at the sample
        (earlier ones from the history); it qualifies when the sample is
        finite, at least half the window is finite and its finite values span
        less than ``settle_range_deg``. State-free, so made once per chunk on
        first use (``update`` clears it).
        """
        if self._win is not None:
            return self._win
        n = self._settle_n
        # The history ends at x[j - 1]; the n - 1 samples before x[0] lead in.
        h = len(self._hist) - j
        lead = np.asarray(self._hist.values[max(0, h - (n - 1)) : max(0, h)], dtype=np.float64)
        if lead.size < n - 1:
            lead = np.concatenate((np.full(n - 1 - lead.size, np.nan), lead))
        self._win = settle_windows(np.concatenate((lead, x)), n, self.settings.settle_range_deg)
        return self._win

    def finish(self) -> list[RepEvent]:
        """End of data: close a rep that is past its bottom at its lowest point."""
        if self._state == _UP:
            ev = self._finish(self._min_i, self._min_i + 1, self._tilt_at_min)
            self._state = _IDLE
            return [ev]
        if self._state == _DOWN:
            self._state = _IDLE
            return [RepEvent("rejected", self._start, self._t(self._start), reason="data ended")]
        return []

    # ---- helpers -------------------------------------------------------------------------

    def _idle(self, x: FloatArray, j: int, events: list[RepEvent]) -> int:
        """Standing, until a rep starts (``StandingLevel.rise``).

        Returns the chunk index after the rep's start sample, or the chunk's end.
        """
        at = self._standing.rise(x, j, self._k)
        if at >= x.shape[0]:
            return at
        start = self._k + at
        self._begin(start, events)
        self._peak, self._peak_i = float(x[at]), start
        return at + 1

    def _ceiling(self) -> float:
        """Highest driver value a lockout may settle at, deg (see the module docstring).

        Never under the height a movement starts at: a small one (a bow
        from a standing level read a few degrees high) that settles back
        where it started has ended, even if not ``lockout_drop_deg`` below
        its peak; left open, it merged with the next movement into a "rep".
        """
        s = self.settings
        base = self._standing.base
        share = base + s.lockout_max_share * (self._peak - base)
        return max(min(self._peak - s.lockout_drop_deg, share), base + s.start_above_deg)

    def _begin(self, start: int, events: list[RepEvent]) -> None:
        self._state = _DOWN
        self._start = start
        self._peak, self._peak_i = -np.inf, start
        self._min, self._min_i = np.inf, start
        self._tilt_max = -np.inf
        self._tilt_at_min = -np.inf
        events.append(RepEvent("started", start, self._t(start)))

    def _finish(self, lock: int, end: int, tilt_max: float | None = None) -> RepEvent:
        """The rep ends at ``lock``; ``tilt_max``: the tilt's maximum up to it (None: so far)."""
        s = self.settings
        tilt = self._tilt_max if tilt_max is None else tilt_max
        b = RepBounds(self._start, min(self._peak_i, end - 1), end)
        peak = self._peak
        dur = (end - self._start) / self.rate_hz
        reason = ""
        if peak < s.min_peak_deg:
            reason = f"peak {peak:.0f}° under {s.min_peak_deg:g}°"
        elif tilt < s.min_tilt_deg:
            reason = f"pelvis/trunk tilted only {tilt:.0f}° (a step or turn)"
        elif dur < s.min_duration_s:
            reason = f"lasted only {dur:.2f} s (a knock)"
        kind = "rejected" if reason else "finished"
        return RepEvent(kind, lock, self._t(lock), b, reason)

    def _close(self, reason: str) -> RepEvent:
        self._state = _IDLE
        return RepEvent("rejected", self._start, self._t(self._start), reason=reason)

    def _trim(self) -> None:
        self._hist.drop_before(self._start if self._state != _IDLE else self._k - 1024)


__all__ = ["RepDetector", "RepEvent", "RepSettings", "tilt_angle_deg"]
