"""One sensor's stage after calibration: grid ticks → orientation → segment angles.

:class:`SensorChain` corrects the accelerometer where the calibration
fitted its scale and offset (``acc_fit.py``: every tick the stages read,
live and offline alike), subtracts the gyro bias per tick (the calibration's
track, then, live, the bias measured at each rest as it ends:
``rest_bias.py``), runs the orientation filter (``orientation.py``;
restarted after a long gap) and turns its vertical into the segment's
sagittal and frontal angles with the mounting of the moment (strap slips
change it). Part of :class:`~hinge_imu.core.stream.AnalysisStages`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.acc_fit import AccCorrection
from hinge_imu.core.angles import sagittal_angle_deg, segment_angles_deg, vertical_in_sensor
from hinge_imu.core.arrays import norm_rows
from hinge_imu.core.orientation import OrientationSettings, OrientationTracker
from hinge_imu.core.rest_bias import BiasTrack, RestBias
from hinge_imu.core.timegrid import GridChunk, GridSettings

__all__ = ["SensorChain"]

FloatArray = npt.NDArray[np.float64]


class SensorChain:
    """One sensor: grid ticks → orientation → segment angles, deg per tick."""

    def __init__(
        self,
        mountings: Sequence[tuple[float, FloatArray]],
        orientation: OrientationSettings,
        grid: GridSettings,
        slipping: Sequence[tuple[float, float]] = (),
        bias: BiasTrack | None = None,
        rest: RestBias | None = None,
        at_rest_angle: bool = True,
        acc: AccCorrection | None = None,
    ):
        #: The accelerometer's fitted scale and offset (applied only where its gate passed).
        self.acc = acc or AccCorrection()
        #: The gyro bias over the ticks the calibration looked at (offline: all of them).
        self.bias = bias
        #: Tracks the bias at the rests after ``bias.end_k`` (live), causally.
        self.rest = rest
        #: [(from_s, R_S_B)]: the mounting, changed by strap slips.
        self.mountings = [(float(t), np.asarray(r, dtype=np.float64)) for t, r in mountings]
        #: [(start_s, end_s)]: while the strap slips the angles are unknown.
        self.slipping = [(float(a), float(b)) for a, b in slipping]
        self.rate_hz = grid.rate_hz
        #: Compute the third column (the sagittal angle from the accelerometer
        #: alone); False: NaN there, a third of the chain's time saved where
        #: nothing reads it (only the thigh's is read, ``stream.py``).
        self.at_rest_angle = at_rest_angle
        self.tracker = OrientationTracker(orientation)
        self.reset()

    def reset(self) -> None:
        self.tracker.reset()
        self._in_gap = True  # before the first sample
        self._led_in_k = -1  # grid index where a lead-in left the filter settled
        self._ahead: GridChunk | None = None  # ticks in hand before they are fed
        if self.rest is not None:
            self.rest.reset()
        #: [(grid tick, bias (3,) deg/s)]: the bias from each rest found live on.
        self._steps: list[tuple[int, FloatArray]] = []

    def _bias_dps(self, k0: int, n: int) -> FloatArray | None:
        """The gyro bias (n, 3) at ticks k0 … k0+n−1 (None: the settings' constant one)."""
        if self.bias is None:
            return None
        k = np.arange(k0, k0 + n)
        # Steps before k0 other than the last one no longer matter.
        while len(self._steps) > 1 and self._steps[1][0] <= k0:
            self._steps.pop(0)
        if not self._steps:
            return self.bias.at(k)  # offline: the track alone (read, never written)
        out = np.array(self.bias.at(k))
        for k_from, b in self._steps:
            out[k >= k_from] = b
        return out

    def bias_now(self) -> tuple[int, FloatArray]:
        """(rests measured so far, the newest bias (3,) deg/s) for diagnostics."""
        if self.bias is None:
            return 0, np.asarray(self.tracker.settings.gyro_bias_dps, dtype=np.float64)
        if self.rest is not None and self.rest.rests:
            return self.bias.rests + self.rest.rests, self.rest.state.bias_dps.copy()
        return self.bias.rests, self.bias.last_dps.copy()

    def lead_in(self, chunk: GridChunk) -> None:
        """Settle the filter backward over the ticks about to be fed (``chunk``, from the first).

        Call after ``reset()`` and before the first ``update``; the first
        ticks then continue the settled filter instead of restarting it, and
        so does the filter after every long gap inside ``chunk`` (it restarts
        settled backward over the ticks after the gap, not from one
        accelerometer sample: a gap while walking would otherwise read as a
        tilt of 15–30° for a second or two, and as a rep).
        """
        self._ahead = chunk
        self._restart(chunk.k0)

    def _restart(self, k: int) -> None:
        """Restart the filter at grid index ``k``: settled over the ticks in hand from there."""
        self.tracker.reset()
        c = self._ahead
        if c is None or not c.k0 <= k < c.k0 + len(c):
            return
        lo = k - c.k0
        first = np.flatnonzero(~c.gap[lo:])
        if first.size == 0:
            return
        f = lo + int(first[0])
        n = min(len(c) - f, round(self.tracker.settings.lead_in_s * self.rate_hz) + 1)
        # The ticks in hand stay as recorded (offline: the whole recording, not copied).
        acc = self.acc.apply(c.acc_mps2[f : f + n])
        self.tracker.lead_in(acc, c.gyr_dps[f:], ~c.gap[f:], self._bias_dps(c.k0 + f, n))
        # The data starts at tick f: the filter carries on there instead of restarting.
        self._led_in_k = c.k0 + f

    def update(self, chunk: GridChunk) -> FloatArray:
        """The next grid ticks (as recorded) as (M, 3), deg; NaN in long gaps.

        Columns: sagittal and frontal angle from the orientation filter, and
        the sagittal angle from the accelerometer's direction alone (true
        only at rest: the filter lags there, docs/analysis.md "Lockout").
        """
        if len(chunk) == 0:
            return np.zeros((0, 3))
        acc_mps2 = self.acc.apply(chunk.acc_mps2)  # as the calibration read it
        if acc_mps2 is not chunk.acc_mps2:
            chunk = replace(chunk, acc_mps2=acc_mps2)
        if (
            self.rest is not None
            and self.bias is not None
            and chunk.k0 + len(chunk) > self.bias.end_k - 2 * self.rest.lag
        ):
            # Live, after the calibration's data: a rest's bias from its end on.
            self._steps += [(e.apply_k, e.state.bias_dps) for e in self.rest.update(chunk)]
        bias = self._bias_dps(chunk.k0, len(chunk))
        # After a long gap the filter restarts from the accelerometer: what
        # happened in the gap (a strap slip, a turn) is not in its state.
        gap = chunk.gap
        if not self._in_gap and not gap.any():
            # The usual live block: no gap, none before it; the filter runs on.
            q = self.tracker.update(chunk.acc_mps2, chunk.gyr_dps, bias)
        else:
            starts = np.nonzero(~gap & np.concatenate(([self._in_gap], gap[:-1])))[0]
            self._in_gap = bool(gap[-1])
            bounds = [0, *starts.tolist(), len(chunk)]
            parts = []
            for lo, hi in itertools.pairwise(bounds):
                if lo in starts and chunk.k0 + lo != self._led_in_k:
                    self._restart(chunk.k0 + lo)
                if hi > lo:
                    b = None if bias is None else bias[lo:hi]
                    parts.append(
                        self.tracker.update(chunk.acc_mps2[lo:hi], chunk.gyr_dps[lo:hi], b)
                    )
            q = parts[0] if len(parts) == 1 else np.vstack(parts)
        vert = vertical_in_sensor(q)
        # The accelerometer's own vertical (its direction only; the magnitude
        # may be 10-40 % off): a rest's lockout is read on it (stream.py).
        acc = np.asarray(chunk.acc_mps2, dtype=np.float64)
        acc_vert = acc / np.maximum(norm_rows(acc), 1e-9)[:, None] if self.at_rest_angle else None
        out = np.empty((len(chunk), 3))
        if acc_vert is None:
            out[:, 2] = np.nan
        if len(self.mountings) == 1 and not self.slipping:
            # No strap slip: one mounting for every tick (no per-tick selection).
            r0 = self.mountings[0][1]
            out[:, 0], out[:, 1] = segment_angles_deg(vert, r0)
            if acc_vert is not None:
                out[:, 2] = sagittal_angle_deg(acc_vert, r0)
            out[chunk.gap] = np.nan
            return out
        t = (chunk.k0 + np.arange(len(chunk))) / self.rate_hz
        for i, (t_from, r) in enumerate(self.mountings):
            t_to = self.mountings[i + 1][0] if i + 1 < len(self.mountings) else np.inf
            sel = (t >= t_from) & (t < t_to)
            if sel.any():
                out[sel, 0], out[sel, 1] = segment_angles_deg(vert[sel], r)
                if acc_vert is not None:
                    out[sel, 2] = sagittal_angle_deg(acc_vert[sel], r)
        out[chunk.gap] = np.nan
        for t0, t1 in self.slipping:
            out[(t >= t0) & (t < t1)] = np.nan
        return out
