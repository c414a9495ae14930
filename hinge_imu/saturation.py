"""Readings held at a sensor's range limit (saturation): ONE detector, for the reader and live.

A sensor at the limit of its range (e.g. ±16 g, ±2000 °/s) reports its
extreme count bit for bit while the true value is beyond it; a real movement
passes its peak in one or two samples. The sensor's range is not in the
recording, so its limit is read from the data: a channel is **saturated**
where it holds one value for ``min_held_samples`` samples or more in a row,
that value

* is the channel's most extreme so far (nothing before it in the session
  was further out on that side: a clipped channel can never exceed its
  clip value), and
* lies at or beyond the smallest full-scale range IMUs have (±2 g, ±125 °/s),
  so a still sensor's 1 g, or a slow turn, is never taken for a clip.

"So far" rather than "in the whole recording" makes the detector causal:
live coaching finds exactly the stretches the reader finds, whatever the
block sizes (``SaturationDetector.update`` per block; the reader feeds the
whole recording in blocks of ``STREAM_BLOCK`` samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Standard gravity, m/s² per g (for showing accelerometer limits in g).
G_MPS2 = 9.80665
#: The six channels a stretch may name, in this order (acc m/s², gyr °/s).
CHANNELS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
#: Samples per update when a whole stream is looked at (:func:`saturated_stretches`):
#: a block's channel rows stay in the CPU's cache (a 1-hour, 100 Hz stream:
#: 18 → 13 ms, cold), and the stretches do not depend on the blocks.
STREAM_BLOCK = 50_000


@dataclass(frozen=True)
class SaturationSettings:
    """When held readings count as saturated.

    Attributes:
        min_range_acc_mps2: smallest accelerometer range IMUs have (±2 g), m/s²:
            a value held nearer 0 is no clip.
        min_range_gyr_dps: smallest gyroscope range IMUs have (±125 °/s), deg/s.
        min_held_samples: samples in a row at one extreme value that make a stretch.
    """

    min_range_acc_mps2: float = 2 * G_MPS2
    min_range_gyr_dps: float = 125.0
    min_held_samples: int = 3


@dataclass(frozen=True)
class Saturation:
    """One stretch of a sensor held at its range limit.

    Attributes:
        start_s: first held sample, s.
        end_s: the first sample after the stretch (the last sample's time
            when it runs to the end), s: the stretch is ``[start_s, end_s)``.
        channels: the channels held (``acc_x`` … ``gyr_z``), in ``CHANNELS`` order.
        values: the value each held, m/s² (acc) or deg/s (gyr).
    """

    start_s: float
    end_s: float
    channels: tuple[str, ...]
    values: tuple[float, ...]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def overlaps(self, t_from_s: float, t_to_s: float) -> bool:
        """The stretch touches ``[t_from_s, t_to_s]`` (a rep's start to its end), s."""
        return self.start_s <= t_to_s and self.end_s > t_from_s

    def limits_text(self) -> str:
        """Each channel's held value: ``gyr_z at +2000 °/s, acc_y at -156.9 m/s² (-16.0 g)``."""
        parts = []
        for ch, v in zip(self.channels, self.values, strict=True):
            if ch.startswith("acc"):
                parts.append(f"{ch} at {v:+.1f} m/s² ({v / G_MPS2:+.1f} g)")
            else:
                parts.append(f"{ch} at {v:+.0f} °/s")
        return ", ".join(parts)

    def describe(self) -> str:
        """When, how long and which limit, e.g. ``at 12.30 s for 0.05 s (gyr_z at +2000 °/s)``."""
        return f"at {self.start_s:.2f} s for {self.duration_s:.2f} s ({self.limits_text()})"


#: Stretches a one-line summary lists (``describe_stretches``); the rest are counted.
LISTED_STRETCHES = 4


def describe_stretches(found: Sequence[Saturation], listed: int = LISTED_STRETCHES) -> str:
    """One line for a sensor's stretches: how many, how long, the first ``listed`` in full."""
    total_s = sum(x.duration_s for x in found)
    shown = "; ".join(x.describe() for x in found[:listed])
    more = f"; and {len(found) - listed} more" if len(found) > listed else ""
    return f"{len(found)} time(s), {total_s:.2f} s in all: {shown}{more}"


#: (start_s, end_s, channel index, value) of one channel's held run.
_Run = tuple[float, float, int, float]


class SaturationDetector:
    """One sensor's saturated stretches, found block by block: ``update``, ``finish``, ``reset``.

    The stretches found do not depend on how the samples are split into
    blocks. ``update`` returns the stretches that became final (no later
    sample can change them); ``found`` holds all of them.
    """

    def __init__(self, settings: SaturationSettings | None = None) -> None:
        self.settings = settings or SaturationSettings()
        s = self.settings
        self._floor = np.array([s.min_range_acc_mps2] * 3 + [s.min_range_gyr_dps] * 3)
        self.reset()

    def reset(self) -> None:
        self.found: list[Saturation] = []
        self._top = np.full(6, -np.inf)  # each channel's extremes so far, its open run included
        self._bottom = np.full(6, np.inf)
        self._value = np.zeros(6)  # the value of each channel's open run (none: length 0) …
        self._len = np.zeros(6, dtype=np.int64)  # … its samples so far …
        self._start = np.full(6, np.nan)  # … and its first sample's time, s
        self._last_t = float("nan")
        self._closed: list[_Run] = []  # held runs that ended, not yet final

    def update(
        self, t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray
    ) -> list[Saturation]:
        """The next samples (times increasing, s); the stretches that became final."""
        n = int(t_s.shape[0])
        if n == 0:
            return []
        # One row per channel, each contiguous (concatenating the transposes would
        # give a column-major array): reductions along rows are ~10× faster.
        x = np.empty((6, n))
        x[:3], x[3:] = acc_mps2.T, gyr_dps.T
        top, bottom = x.max(axis=1), x.min(axis=1)
        # Only a channel beyond its floor (now, or in its open run) can be clipped.
        reach = np.maximum(np.maximum(top, -bottom), np.abs(self._value))
        watch = reach >= self._floor
        if not watch.any():  # the usual block: only the open runs move on
            self._value = x[:, -1].copy()
            self._len.fill(1)
            self._start.fill(t_s[-1])
        else:
            for j in np.flatnonzero(watch):
                self._channel(int(j), t_s, x[j])
            rest = ~watch
            self._value[rest] = x[rest, -1]
            self._len[rest] = 1
            self._start[rest] = t_s[-1]
        np.maximum(self._top, top, out=self._top)
        np.minimum(self._bottom, bottom, out=self._bottom)
        self._last_t = float(t_s[-1])
        return self._final(self._open_candidates_from()) if self._closed else []

    def finish(self) -> list[Saturation]:
        """End of data: an open held run ends at the last sample; every stretch is final."""
        held = self._len >= self.settings.min_held_samples
        for j in np.flatnonzero(held & self._is_extreme(self._value)):
            self._closed.append(
                (float(self._start[j]), self._last_t, int(j), float(self._value[j]))
            )
        self._len[:] = 0
        self._value[:] = 0.0  # below every floor: no open run to watch
        return self._final(np.inf)

    def touching(self, t_from_s: float, t_to_s: float) -> bool:
        """A stretch found so far (an open held run included) touches ``[t_from_s, t_to_s]``, s."""
        if any(s.overlaps(t_from_s, t_to_s) for s in self.found):
            return True
        if any(a <= t_to_s and b > t_from_s for a, b, _, _ in self._closed):
            return True
        held = (self._len >= self.settings.min_held_samples) & self._is_extreme(self._value)
        return bool((self._start[held] <= t_to_s).any())

    # ---- internals -----------------------------------------------------------------------

    def _is_extreme(self, v: FloatArray) -> BoolArray:
        """Per channel: ``v`` is at the channel's extreme so far and beyond its floor."""
        top = (v >= self._top) & (v >= self._floor)
        return np.asarray(top | ((v <= self._bottom) & (v <= -self._floor)))

    def _channel(self, j: int, t_s: FloatArray, x: FloatArray) -> None:
        """One channel's samples of a block: its held runs that ended, and its open run.

        Only samples beyond the floor that repeat the one before can extend a
        held run, so the runs are looked for among those (few) alone.
        """
        n, floor, need = x.shape[0], self._floor[j], self.settings.min_held_samples
        same = np.empty(n, dtype=bool)
        same[0] = self._len[j] > 0 and x[0] == self._value[j]
        np.equal(x[1:], x[:-1], out=same[1:])
        if not same[0] and self._len[j] > 0:  # the open run ended just before the block
            self._close(j, float(self._start[j]), float(t_s[0]), int(self._len[j]), self._value[j])
        idx = np.flatnonzero(same & (np.abs(x) >= floor))
        if idx.size:
            cut = np.flatnonzero(np.diff(idx) != 1)
            first, last = idx[np.r_[0, cut + 1]], idx[np.r_[cut, idx.size - 1]]
            # A run covers the sample before its first repeat (or the open run, at 0).
            on = first == 0
            length = last - first + 2 + np.where(on, self._len[j] - 1, 0)
            keep = (length >= need) & (last < n - 1)  # a run at the block's end stays open
            if keep.any():
                begin = np.maximum(first[keep] - 1, 0)
                # Each run's extremes up to and including it, from the segments before it.
                seg_top = np.maximum.reduceat(x, np.r_[0, begin + 1])[:-1]
                seg_bottom = np.minimum.reduceat(x, np.r_[0, begin + 1])[:-1]
                tops = np.maximum(np.maximum.accumulate(seg_top), self._top[j])
                bottoms = np.minimum(np.minimum.accumulate(seg_bottom), self._bottom[j])
                for r, b, e in zip(range(begin.size), begin, last[keep] + 1, strict=True):
                    v = float(x[b])
                    # |v| is beyond the floor already; the sign says which limit
                    # (a channel that never went positive has a negative top).
                    if (v > 0 and v == tops[r]) or (v < 0 and v == bottoms[r]):
                        t0 = float(self._start[j]) if b == 0 and on[keep][r] else float(t_s[b])
                        self._closed.append((t0, float(t_s[e]), j, v))
        # The open run at the block's end: its value, length and first sample's time.
        if not same[-1]:
            self._len[j], self._start[j] = 1, t_s[-1]
        elif same.all():
            self._len[j] += n
        else:
            k = n - 1 - int(np.argmin(same[::-1]))  # the open run's first sample
            self._len[j], self._start[j] = n - k, t_s[k]
        self._value[j] = x[-1]  # the extremes move on in ``update``, after every channel

    def _close(self, j: int, start_s: float, end_s: float, n: int, v: float) -> None:
        """Channel ``j``'s open run ended just before a block (its extremes already hold it)."""
        is_top = v >= self._top[j] and v >= self._floor[j]
        is_bottom = v <= self._bottom[j] and v <= -self._floor[j]
        if n >= self.settings.min_held_samples and (is_top or is_bottom):
            self._closed.append((start_s, end_s, j, float(v)))
        self._len[j] = 0

    def _open_candidates_from(self) -> float:
        """Earliest start of an open run that may still become (or be) a held run, s."""
        maybe = self._is_extreme(self._value) & (self._len > 0)
        return float(self._start[maybe].min()) if maybe.any() else np.inf

    def _final(self, horizon_s: float) -> list[Saturation]:
        """Merge the ended runs; those no open run can reach (end < ``horizon_s``) are final."""
        if not self._closed:
            return []
        groups = merge_runs(self._closed)
        out: list[Saturation] = []
        keep: list[_Run] = []
        for g in groups:
            if not keep and max(r[1] for r in g) < horizon_s:
                out.append(_stretch(g))
            else:
                keep += g
        self._closed = keep
        self.found += out
        return out


def merge_runs(runs: Sequence[_Run]) -> list[list[_Run]]:
    """Runs grouped where they overlap or touch (``start <= end`` of the group), in time order."""
    groups: list[list[_Run]] = []
    end = -np.inf
    for run in sorted(runs):
        if groups and run[0] <= end:
            groups[-1].append(run)
            end = max(end, run[1])
        else:
            groups.append([run])
            end = run[1]
    return groups


def _stretch(group: Sequence[_Run]) -> Saturation:
    held = sorted({(j, v) for _, _, j, v in group})
    return Saturation(
        start_s=min(r[0] for r in group),
        end_s=max(r[1] for r in group),
        channels=tuple(CHANNELS[j] for j, _ in held),
        values=tuple(v for _, v in held),
    )


def saturated_stretches(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_dps: FloatArray,
    settings: SaturationSettings | None = None,
) -> tuple[Saturation, ...]:
    """Every saturated stretch of one sensor's whole stream, in time order."""
    det = SaturationDetector(settings)
    for lo in range(0, t_s.shape[0], STREAM_BLOCK):
        hi = lo + STREAM_BLOCK
        det.update(t_s[lo:hi], acc_mps2[lo:hi], gyr_dps[lo:hi])
    det.finish()
    return tuple(det.found)
