"""Data-quality gate: a rep with lost data or a stale sensor is not judged, never buzzed.

A false alarm costs the user's trust, so live coaching stays silent when the
data behind a verdict is doubtful. The gate watches every sensor's sample
times as they arrive and answers two questions:

* ``check_span(t_from_s, t_to_s)``: is the data of every sensor complete over
  this span (no gap longer than ``max_gap_s``, at most ``max_lost_share`` of
  the samples missing, and every sensor has reached ``t_to_s``)?
* ``stale_sensors()``: which sensors have fallen behind the others by more
  than ``stale_after_s`` (a sensor that stopped sending)?

It keeps only the last ``memory_s`` seconds of sample times, so memory stays
flat over long sessions.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hinge_imu.core.timegrid import GridSettings

FloatArray = npt.NDArray[np.float64]


@dataclass
class _SensorTrack:
    chunks: deque[FloatArray]
    gaps_s: deque[tuple[float, float]]
    rate_hz: float | None
    last_t_s: float = float("-inf")
    first_t_s: float = float("inf")


class QualityGate:
    """Tracks data completeness per sensor.

    Args:
        max_gap_s: a gap between two samples longer than this makes a span unjudgeable, s
            (default: the longest gap the analysis bridges, ``GridSettings.max_bridge_s``).
        max_lost_share: largest share of missing samples in a span (0–1).
        stale_after_s: a sensor this far behind the newest sample of any sensor is stale, s.
        memory_s: how much history is kept, s.
    """

    def __init__(
        self,
        max_gap_s: float | None = None,
        max_lost_share: float = 0.25,
        stale_after_s: float = 0.3,
        memory_s: float = 60.0,
    ) -> None:
        # A gap the analysis bridges by interpolation is one it trusts; a longer
        # one is where it has no data (and the offline analysis does not judge).
        self.max_gap_s = GridSettings().max_bridge_s if max_gap_s is None else max_gap_s
        self.max_lost_share = max_lost_share
        self.stale_after_s = stale_after_s
        self.memory_s = memory_s
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[str, _SensorTrack] = {}
        self.newest_t_s = float("-inf")

    def add_sensor(self, sensor: str, rate_hz: float | None = None) -> None:
        """Declare a sensor the session expects (so silence from it counts as stale)."""
        if sensor not in self._tracks:
            self._tracks[sensor] = _SensorTrack(deque(), deque(), rate_hz)

    @property
    def sensors(self) -> tuple[str, ...]:
        return tuple(self._tracks)

    def update(self, sensor: str, t_s: FloatArray) -> None:
        """New samples of one sensor arrived (times in s, increasing)."""
        if len(t_s) == 0:
            return
        self.add_sensor(sensor)
        tr = self._tracks[sensor]
        t = np.asarray(t_s, dtype=np.float64)
        # Plain floats for the per-block bookkeeping: it runs for every block
        # of every sensor, where numpy's per-call overhead is the whole cost.
        first, last = float(t[0]), float(t[-1])
        if tr.last_t_s > float("-inf"):
            if first - tr.last_t_s > self.max_gap_s:
                tr.gaps_s.append((tr.last_t_s, first))
        else:
            tr.first_t_s = first
        if len(t) > 1 and last - first > self.max_gap_s:
            for i in np.nonzero(np.diff(t) > self.max_gap_s)[0]:
                tr.gaps_s.append((float(t[i]), float(t[i + 1])))
        tr.chunks.append(t)
        tr.last_t_s = last
        if last > self.newest_t_s:
            self.newest_t_s = last
        horizon = self.newest_t_s - self.memory_s
        if float(tr.chunks[0][-1]) < horizon:
            while tr.chunks and tr.chunks[0][-1] < horizon:
                tr.chunks.popleft()
            while tr.gaps_s and tr.gaps_s[0][1] < horizon:
                tr.gaps_s.popleft()

    def rate_hz(self, sensor: str) -> float:
        """The sensor's nominal rate if given, else the median rate seen, Hz."""
        tr = self._tracks[sensor]
        return tr.rate_hz if tr.rate_hz else self.measured_rate_hz(sensor)

    def measured_rate_hz(self, sensor: str) -> float:
        """Samples per second over the last few seconds received, Hz (nan if unknown)."""
        tr = self._tracks[sensor]
        if not tr.chunks:
            return float("nan")
        parts = []
        for c in reversed(tr.chunks):
            parts.append(c)
            if tr.last_t_s - c[0] >= 3.0:
                break
        t = np.concatenate(parts[::-1])
        span = float(t[-1] - t[0])
        return (len(t) - 1) / span if len(t) > 2 and span > 0 else float("nan")

    def stale_sensors(self) -> tuple[str, ...]:
        return tuple(
            s
            for s, tr in self._tracks.items()
            if tr.last_t_s < self.newest_t_s - self.stale_after_s
        )

    def check_span(self, t_from_s: float, t_to_s: float) -> str:
        """Empty if every sensor's data over ``[t_from_s, t_to_s]`` is complete, else why not."""
        problems = []
        for sensor, tr in self._tracks.items():
            if tr.last_t_s < t_to_s - self.stale_after_s:
                problems.append(f"{sensor} stale (no data after {tr.last_t_s:.2f} s)")
                continue
            gaps = [(a, b) for a, b in tr.gaps_s if b > t_from_s and a < t_to_s]
            if gaps:
                a, b = max(gaps, key=lambda g: g[1] - g[0])
                problems.append(f"{sensor} lost {b - a:.2f} s of data at {a:.2f} s")
                continue
            rate = self.rate_hz(sensor)
            if np.isfinite(rate) and t_to_s > t_from_s and tr.chunks:
                # Only the chunks that overlap the span (newest first).
                parts = []
                for c in reversed(tr.chunks):
                    if c[-1] < t_from_s:
                        break
                    parts.append(c)
                t = np.concatenate(parts[::-1]) if parts else np.zeros(0)
                got = int(np.searchsorted(t, t_to_s, "right") - np.searchsorted(t, t_from_s))
                expected = (min(t_to_s, tr.last_t_s) - max(t_from_s, tr.first_t_s)) * rate
                if expected > 10 and got < (1.0 - self.max_lost_share) * expected:
                    lost = 1.0 - got / expected
                    problems.append(f"{sensor} lost {100 * lost:.0f}% of samples")
        return "; ".join(problems)
