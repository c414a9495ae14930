"""Put every sensor on one uniform time grid, causally.

Each sensor's raw samples (own rate, own instants, lost packets) are
resampled by :class:`GridResampler` onto the common grid ``t = k / rate_hz``
(k = 0, 1, 2 …) by linear interpolation. A grid tick whose two bracketing raw
samples are more than ``max_bridge_s`` apart lies in a *long gap*: it still
gets an interpolated value (so the orientation filter runs on evenly spaced
samples) but is flagged, and the angles there become NaN. Ticks before a
sensor's first sample are flagged the same way.

:class:`GridAligner` then joins the per-sensor ticks into rows, emitting a row
only once every sensor has reached it (``flush()`` emits the rest at the end).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GridSettings:
    """The analysis grid.

    Attributes:
        rate_hz: grid rate, Hz (every sensor is resampled to it).
        max_bridge_s: longest gap between two raw samples that is bridged by
            interpolation; longer gaps are flagged (angles NaN).
        hidden_slip_s: a bridged gap longer than this could hide a strap slip
            (one takes ~0.1 s): its ticks are marked ``GridChunk.bridged``, s.
    """

    rate_hz: float = 100.0
    max_bridge_s: float = 0.25
    hidden_slip_s: float = 0.06

    @property
    def dt_s(self) -> float:
        return 1.0 / self.rate_hz


@dataclass(frozen=True)
class GridChunk:
    """Consecutive grid ticks of one sensor.

    Attributes:
        k0: index of the first tick (its time is ``k0 / rate_hz``).
        acc_mps2, gyr_dps: interpolated samples (M, 3).
        gap: (M,) True where the tick lies in a long gap or before the first sample.
        bridged: (M,) True where it lies in a bridged gap longer than
            ``GridSettings.hidden_slip_s`` (None: not known).
    """

    k0: int
    acc_mps2: FloatArray
    gyr_dps: FloatArray
    gap: BoolArray
    bridged: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.gap.shape[0])


class GridResampler:
    """Resamples one sensor's raw samples onto the grid as they arrive.

    ``update()`` returns the ticks up to the newest sample's time; a tick is
    emitted once the raw sample after it has arrived (or it falls on one).
    """

    def __init__(self, settings: GridSettings | None = None) -> None:
        self.settings = settings or GridSettings()
        self.reset()

    def reset(self) -> None:
        self._next_k = 0
        self._last_t: float | None = None
        self._last_acc = np.zeros(3)
        self._last_gyr = np.zeros(3)

    def update(self, t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray) -> GridChunk:
        """Take raw samples (N,), (N, 3), (N, 3) in time order; return the new ticks."""
        t = np.asarray(t_s, dtype=np.float64)
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3)
        rate = self.settings.rate_hz
        k0 = self._next_k
        if t.size == 0:
            return _empty_chunk(k0)
        if self._last_t is not None:
            t = np.concatenate(([self._last_t], t))
            acc = np.vstack((self._last_acc, acc))
            gyr = np.vstack((self._last_gyr, gyr))
        # Last tick at or before the newest sample (small epsilon: float times).
        k_end = math.floor(t[-1] * rate + 1e-6) + 1
        n = max(0, k_end - k0)
        self._last_t, self._last_acc, self._last_gyr = float(t[-1]), acc[-1].copy(), gyr[-1].copy()
        if n == 0:
            return _empty_chunk(k0)
        self._next_k = k0 + n
        tk = (k0 + np.arange(n)) / rate
        # Bracketing raw samples of each tick: t[i-1] < tk <= t[i] (one search
        # for both sensors' channels; linear interpolation, constant beyond the ends).
        i = np.searchsorted(t, tk - 1e-9, side="left")
        before_first = i == 0
        if t.size > 1:
            i = np.clip(i, 1, t.size - 1)
            i_lo = i - 1
            # np.take: a faster gather than fancy indexing, same values.
            t_hi, t_lo = t.take(i), t.take(i_lo)
            span = t_hi - t_lo
            w = np.clip((tk - t_lo) / np.where(span > 0, span, 1.0), 0.0, 1.0)[:, None]
            out_acc, out_gyr = _lerp(acc, i_lo, i, w), _lerp(gyr, i_lo, i, w)
            on_sample = np.abs(t_hi - tk) < 1e-6
            gap = (span > self.settings.max_bridge_s) & ~on_sample
            bridged = (span > self.settings.hidden_slip_s) & ~on_sample & ~gap
        else:
            out_acc = np.repeat(acc[:1], n, axis=0)
            out_gyr = np.repeat(gyr[:1], n, axis=0)
            gap = np.zeros(n, dtype=bool)
            bridged = gap.copy()
        if before_first.any():  # only ticks before the first sample (rare after the start)
            gap |= before_first & (np.abs(t[0] - tk) > 1e-6)
        return GridChunk(k0, out_acc, out_gyr, gap, bridged)


def _lerp(
    x: FloatArray, i_lo: npt.NDArray[np.intp], i: npt.NDArray[np.intp], w: FloatArray
) -> FloatArray:
    """``x[i_lo] + w * (x[i] - x[i_lo])``, bit for bit, in place (no temporaries)."""
    lo = x.take(i_lo, axis=0)
    out = x.take(i, axis=0)
    out -= lo
    out *= w
    out += lo
    return out


def _empty_chunk(k0: int) -> GridChunk:
    return GridChunk(k0, np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class GridRows:
    """Rows of the common grid: ``t_s`` (M,) and per-sensor channel arrays (M, C)."""

    k0: int
    t_s: FloatArray
    channels: Mapping[str, FloatArray]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


class GridAligner:
    """Joins per-sensor channel blocks (already on the grid) into rows.

    Each sensor delivers consecutive ticks of C channels (NaN where unknown);
    a row is emitted once every sensor has delivered it.
    """

    def __init__(
        self, sensors: Sequence[str], n_channels: int, rate_hz: float, first_k: int = 0
    ) -> None:
        self.sensors = tuple(sensors)
        self.n_channels = n_channels
        self.rate_hz = rate_hz
        #: Grid index of every sensor's first tick.
        self.first_k = first_k
        self.reset()

    def reset(self) -> None:
        self._buf: dict[str, list[FloatArray]] = {s: [] for s in self.sensors}
        self._have: dict[str, int] = dict.fromkeys(self.sensors, 0)  # ticks buffered
        self._k0 = self.first_k  # index of the first buffered row

    def update(self, sensor: str, values: FloatArray) -> GridRows:
        """Add the next ticks of one sensor (M, C); return the rows now complete."""
        if values.shape[0]:
            self._buf[sensor].append(np.asarray(values, dtype=np.float64))
            self._have[sensor] += int(values.shape[0])
        return self._emit(min(self._have.values()))

    def flush(self) -> GridRows:
        """Emit every buffered row; sensors that fell short are NaN there."""
        return self._emit(max(self._have.values(), default=0))

    def _emit(self, n: int) -> GridRows:
        k0 = self._k0
        if n <= 0:
            return GridRows(
                k0, np.zeros(0), {s: np.zeros((0, self.n_channels)) for s in self.sensors}
            )
        out: dict[str, FloatArray] = {}
        for s in self.sensors:
            parts = self._buf[s]
            allv = np.vstack(parts) if parts else np.zeros((0, self.n_channels))
            if allv.shape[0] < n:
                pad = np.full((n - allv.shape[0], self.n_channels), np.nan)
                allv = np.vstack((allv, pad))
            out[s] = allv[:n]
            rest = allv[n:]
            self._buf[s] = [rest] if rest.shape[0] else []
            self._have[s] = max(0, self._have[s] - n)
        self._k0 = k0 + n
        return GridRows(k0, (k0 + np.arange(n)) / self.rate_hz, out)
