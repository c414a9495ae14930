"""Per-sensor orientation from accelerometer and gyroscope (6D), via ``vqf``.

A thin wrapper: settings in a frozen dataclass, ``update()`` per chunk of
evenly spaced samples (the grid), ``reset()``. The heading of a 6D
orientation is arbitrary and drifts; the analysis never uses it (every angle
is measured against the earth vertical within the segment's own frame).

Why VQF's real-time filter (``vqf.VQF``) and not its offline one: the same
stage must serve live coaching, which is causal; the accuracy evidence is in
docs/analysis.md ("Choice of orientation filter"). VQF's own bias estimation
is off by default: the calibration stance gives the gyro bias, it is
measured again at every rest (``rest_bias.py``; passed per sample to
:meth:`OrientationTracker.update`), and the benchmark showed no gain from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import vqf

from hinge_imu.core.angles import vertical_in_sensor

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class OrientationSettings:
    """Settings of the orientation filter.

    Attributes:
        rate_hz: sample rate of the (evenly spaced) input, Hz.
        tau_acc_s: time constant of the accelerometer (inclination) correction, s.
        gyro_bias_dps: gyro bias subtracted before filtering (sensor frame, deg/s).
        rest_bias_estimation: let VQF refine the gyro bias while at rest
            (off: the stance bias is subtracted instead).
        motion_bias_estimation: let VQF estimate the gyro bias during
            movement too (for a calibration without a still stance, whose
            bias comes from brief stops only).
        lead_in_s: how much data :meth:`OrientationTracker.lead_in` runs
            backward over, s (a few ``tau_acc_s``: the filter has converged).
    """

    rate_hz: float = 100.0
    tau_acc_s: float = 3.0
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rest_bias_estimation: bool = False
    lead_in_s: float = 10.0
    motion_bias_estimation: bool = False


class OrientationTracker:
    """Causal 6D orientation of one sensor: ``q_E_S`` (scalar first, earth z up)."""

    def __init__(self, settings: OrientationSettings | None = None) -> None:
        self.settings = settings or OrientationSettings()
        self.reset()

    def reset(self) -> None:
        s = self.settings
        self._filter: vqf.VQF | vqf.BasicVQF
        if s.rest_bias_estimation or s.motion_bias_estimation:
            self._filter = vqf.VQF(
                1.0 / s.rate_hz,
                tauAcc=s.tau_acc_s,
                restBiasEstEnabled=s.rest_bias_estimation,
                motionBiasEstEnabled=s.motion_bias_estimation,
                # 6D only: no magnetometer, so its disturbance rejection would only
                # run VQF's rest-detection filters for nothing (same quat6D).
                magDistRejectionEnabled=False,
            )
        else:
            # Without any bias estimation VQF is its basic filter (VQF's own
            # documentation): the same quat6D, bit for bit, in 3/4 of the time
            # (no rest detection run for nothing).
            self._filter = vqf.BasicVQF(1.0 / s.rate_hz, tauAcc=s.tau_acc_s)
        self._bias_rps = np.deg2rad(np.asarray(s.gyro_bias_dps, dtype=np.float64))

    def _bias(self, bias_dps: FloatArray | None) -> FloatArray:
        return self._bias_rps if bias_dps is None else np.deg2rad(bias_dps)

    def update(
        self, acc_mps2: FloatArray, gyr_dps: FloatArray, bias_dps: FloatArray | None = None
    ) -> FloatArray:
        """Filter M evenly spaced samples; return ``q_E_S`` (M, 4).

        ``bias_dps``: the gyro bias per sample (M, 3), deg/s, instead of the
        settings' one (the bias tracked at rests, ``rest_bias.py``).
        """
        n = int(np.shape(acc_mps2)[0])
        if n == 0:
            return np.zeros((0, 4))
        # deg2rad makes a new array: the bias comes off in place (one pass less).
        gyr_rps = np.ascontiguousarray(np.deg2rad(gyr_dps), dtype=np.float64)
        gyr_rps -= self._bias(bias_dps)
        acc = np.ascontiguousarray(acc_mps2, dtype=np.float64)
        out = self._filter.updateBatch(gyr_rps, acc)
        return np.asarray(out["quat6D"], dtype=np.float64)

    def lead_in(
        self,
        acc_mps2: FloatArray,
        gyr_dps: FloatArray,
        valid: BoolArray,
        bias_dps: FloatArray | None = None,
    ) -> None:
        """Settle the filter by running it backward in time over the data to come.

        It reads ahead, so only where that data is already in hand (offline,
        or the ticks a live analyser kept until it calibrated). Given the
        data from where the forward run will begin (forward order, ``valid``
        False in long gaps), the filter runs from ``lead_in_s`` in (or the
        first gap) back to the first sample, so the forward run starts
        converged instead of from one accelerometer sample (a recording that
        starts mid-movement). Reversed in time the specific force is
        unchanged and the rotation rate changes sign.
        """
        n = min(int(np.shape(acc_mps2)[0]), round(self.settings.lead_in_s * self.settings.rate_hz))
        bad = np.flatnonzero(~np.asarray(valid[:n], dtype=bool))
        n = int(bad[0]) if bad.size else n
        if n < 2:
            return
        bias = self._bias(None if bias_dps is None else bias_dps[:n][::-1])
        gyr_rps = -(np.deg2rad(gyr_dps[:n][::-1]) - bias)
        self._filter.updateBatch(
            np.ascontiguousarray(gyr_rps, dtype=np.float64),
            np.ascontiguousarray(acc_mps2[:n][::-1], dtype=np.float64),
        )


def vertical_over(
    acc_mps2: FloatArray,
    gyr_dps: FloatArray,
    valid: BoolArray,
    settings: OrientationSettings,
    bias_dps: FloatArray | None = None,
) -> FloatArray:
    """Earth up in the sensor frame (N, 3) over N evenly spaced samples in hand.

    The filter is led in backward from the first valid sample (before it a
    sensor repeats its first one), then run forward over all of them.
    ``bias_dps``: the gyro bias per sample (N, 3), deg/s, instead of the
    settings' one.
    """
    tracker = OrientationTracker(settings)
    f = int(np.argmax(valid)) if valid.shape[0] else 0
    tracker.lead_in(
        acc_mps2[f:], gyr_dps[f:], valid[f:], None if bias_dps is None else bias_dps[f:]
    )
    return vertical_in_sensor(tracker.update(acc_mps2, gyr_dps, bias_dps))


def vertical_backward(
    acc_mps2: FloatArray,
    gyr_dps: FloatArray,
    settings: OrientationSettings,
    bias_dps: FloatArray | None = None,
) -> FloatArray:
    """Earth up in the sensor frame (N, 3) as the filter reads each of N evenly
    spaced samples when run backward in time from the last one (settled on
    what follows each sample, as :meth:`OrientationTracker.lead_in` is).

    Reversed in time the specific force is unchanged and the rotation rate
    (less its bias) changes sign. ``bias_dps``: per sample (N, 3), deg/s.
    """
    if acc_mps2.shape[0] == 0:
        return np.zeros((0, 3))
    bias = np.broadcast_to(
        np.asarray(settings.gyro_bias_dps if bias_dps is None else bias_dps), gyr_dps.shape
    )
    q = OrientationTracker(settings).update(acc_mps2[::-1], -gyr_dps[::-1], -bias[::-1])
    return vertical_in_sensor(q)[::-1]
