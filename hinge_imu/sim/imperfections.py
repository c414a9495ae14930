"""Sensor imperfections on top of the ideal signals (SIMULATED data).

Each function takes its own random generator so that switching one
imperfection on does not change the random draws of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sim.config import Imperfections

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Length of a knock or a heel strike (half-sine), s.
KNOCK_S = 0.02
#: How strongly each sensor feels a knock from the bar (thigh = 1).
KNOCK_GAIN = {
    "thigh": 1.0,
    "pelvis": 0.6,
    "upper_back": 0.4,
    "head": 0.3,
    "shank": 0.8,
    "foot": 0.5,
}
#: How strongly each sensor feels a heel strike (foot = 1).
HEEL_STRIKE_GAIN = {
    "foot": 1.0,
    "shank": 0.9,
    "thigh": 0.6,
    "pelvis": 0.45,
    "upper_back": 0.35,
    "head": 0.3,
}
#: Gyro twitch of a heel strike at the foot, deg/s.
HEEL_STRIKE_GYR_DPS = 5.0
#: The warm-up drift is 95 % there after ``gyr_warmup_s``: its time constant
#: is a third of it (e⁻³ ≈ 5 %).
WARMUP_TAU_FRACTION = 1.0 / 3.0


@dataclass(frozen=True)
class SensorErrors:
    """The drawn error parameters of one sensor (all in its own frame)."""

    acc_gain: float
    acc_axis_scale: tuple[float, float, float]
    acc_offset_mps2: tuple[float, float, float]
    gyr_bias_dps: tuple[float, float, float]
    drift_amp_dps: tuple[float, float, float]
    drift_period_s: tuple[float, float, float]
    drift_phase_rad: tuple[float, float, float]
    warmup_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    warmup_tau_s: float = 200.0
    bad_board: bool = False

    @staticmethod
    def draw(
        imp: Imperfections,
        rng: np.random.Generator,
        extra_rng: np.random.Generator,
        bad_board: bool = False,
    ) -> SensorErrors:
        """Draw one sensor's errors. The classic fields come from ``rng``; the
        ``real`` ones (uniform bias, offset, scale, warm-up, bad board) from
        ``extra_rng``, so the classic presets draw exactly as they always did."""

        def t3(a: FloatArray) -> tuple[float, float, float]:
            return (float(a[0]), float(a[1]), float(a[2]))

        gain = float(1.0 + rng.uniform(-1.0, 1.0) * imp.acc_gain_error)
        scale = 1.0 + rng.normal(0.0, 1.0, 3) * imp.acc_axis_scale_error
        offset = rng.normal(0.0, 1.0, 3) * imp.acc_offset_mps2
        bias = rng.normal(0.0, 1.0, 3) * imp.gyr_bias_dps
        drift = (
            rng.uniform(0.5, 1.0, 3) * imp.gyr_drift_dps,
            rng.uniform(120.0, 900.0, 3),
            rng.uniform(0.0, 2 * np.pi, 3),
        )
        u = extra_rng.uniform
        scale_max = imp.bad_board_scale_max if bad_board else imp.acc_scale_max
        if scale_max:
            scale = scale * (1.0 + u(-1.0, 1.0, 3) * scale_max)
        if imp.acc_offset_max_mps2:
            offset = offset + u(-1.0, 1.0, 3) * imp.acc_offset_max_mps2
        if imp.gyr_bias_max_dps:
            bias = bias + u(-1.0, 1.0, 3) * imp.gyr_bias_max_dps
        lo, hi = imp.gyr_warmup_dps
        warmup = np.zeros(3)
        if hi:
            warmup = u(lo, hi, 3) * extra_rng.choice([-1.0, 1.0], 3)
        return SensorErrors(
            acc_gain=gain,
            acc_axis_scale=t3(scale),
            acc_offset_mps2=t3(offset),
            gyr_bias_dps=t3(bias),
            drift_amp_dps=t3(drift[0]),
            drift_period_s=t3(drift[1]),
            drift_phase_rad=t3(drift[2]),
            warmup_dps=t3(warmup),
            warmup_tau_s=WARMUP_TAU_FRACTION * imp.gyr_warmup_s,
            bad_board=bad_board,
        )

    def warmup_at(self, t_s: FloatArray) -> FloatArray:
        """Warm-up drift (N,3) at ``t_s``: ``W (1 − exp(−t/τ))``, deg/s."""
        rise = 1.0 - np.exp(-np.asarray(t_s) / self.warmup_tau_s)
        return rise[:, None] * np.asarray(self.warmup_dps)[None, :]

    def as_json(self) -> dict[str, Any]:
        return {
            "acc_gain": self.acc_gain,
            "acc_axis_scale": list(self.acc_axis_scale),
            "acc_offset_mps2": list(self.acc_offset_mps2),
            "gyr_bias_dps": list(self.gyr_bias_dps),
            "gyr_drift_amplitude_dps": list(self.drift_amp_dps),
            "gyr_drift_period_s": list(self.drift_period_s),
            "gyr_warmup_dps": list(self.warmup_dps),
            "gyr_warmup_tau_s": self.warmup_tau_s,
            "bad_board": self.bad_board,
        }


def sample_times(
    duration_s: float, rate_hz: float, rng: np.random.Generator
) -> tuple[FloatArray, IntArray]:
    """Device sample instants (regular, random phase) and the sample counter."""
    phase = float(rng.uniform(0.0, 1.0 / rate_hz))
    n = int(np.floor((duration_s - phase) * rate_hz)) + 1
    seq = np.arange(n, dtype=np.int64)
    return phase + seq / rate_hz, seq


def apply_errors(
    acc: FloatArray,
    gyr: FloatArray,
    t_s: FloatArray,
    err: SensorErrors,
    imp: Imperfections,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Scale, offset, bias, drift, warm-up and white noise (sensor frame)."""
    scale = err.acc_gain * np.asarray(err.acc_axis_scale)
    acc_out = acc * scale + np.asarray(err.acc_offset_mps2)
    drift = np.stack(
        [
            a * np.sin(2 * np.pi * t_s / p + ph)
            for a, p, ph in zip(
                err.drift_amp_dps, err.drift_period_s, err.drift_phase_rad, strict=True
            )
        ],
        axis=1,
    )
    gyr_out = gyr + np.asarray(err.gyr_bias_dps) + drift
    if any(err.warmup_dps):
        gyr_out = gyr_out + err.warmup_at(t_s)
    if imp.acc_noise_mps2:
        acc_out = acc_out + rng.normal(0.0, imp.acc_noise_mps2, acc.shape)
    if imp.gyr_noise_dps:
        gyr_out = gyr_out + rng.normal(0.0, imp.gyr_noise_dps, gyr.shape)
    return acc_out, gyr_out


def add_knocks(
    acc: FloatArray,
    gyr: FloatArray,
    t_s: FloatArray,
    knocks: list[dict[str, Any]],
) -> None:
    """Add half-sine acceleration spikes (and a small gyro twitch) in place."""
    for k in knocks:
        s = (t_s - k["t_s"]) / KNOCK_S
        inside = (s >= 0) & (s <= 1)
        if not inside.any():
            continue
        pulse = np.sin(np.pi * s[inside])
        acc[inside] += pulse[:, None] * np.asarray(k["acc_mps2"])[None, :]
        gyr[inside] += pulse[:, None] * np.asarray(k["gyr_dps"])[None, :]


def draw_knocks(
    times_s: list[float], sensors: tuple[str, ...], peak_mps2: float, rng: np.random.Generator
) -> dict[str, list[dict[str, Any]]]:
    """One knock per time, felt by every sensor (strongest at the thigh)."""
    gain = KNOCK_GAIN
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in sensors}
    for t in times_s:
        peak = float(rng.uniform(0.5, 1.0) * peak_mps2)
        for s in sensors:
            d = Rotation.random(random_state=rng).apply([1.0, 0.0, 0.0])
            w = Rotation.random(random_state=rng).apply([1.0, 0.0, 0.0])
            out[s].append(
                {
                    "t_s": round(float(t), 4),
                    "peak_mps2": round(peak * gain[s], 3),
                    "acc_mps2": [float(x) for x in peak * gain[s] * d],
                    "gyr_dps": [float(x) for x in 20.0 * gain[s] * w],
                }
            )
    return out


def draw_heel_strikes(
    times_s: list[float],
    up_in_sensor: dict[str, FloatArray],
    peak_g: tuple[float, float],
    rng: np.random.Generator,
) -> dict[str, list[dict[str, Any]]]:
    """Heel strikes as knocks: a vertical jolt (earth up, seen in each
    sensor's frame ``up_in_sensor[s]`` (N,3) at the strike times), peak drawn
    in ``peak_g`` at the foot and weaker up the body, plus a small gyro twitch."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in up_in_sensor}
    for i, t in enumerate(times_s):
        peak = float(rng.uniform(*peak_g)) * GRAVITY_MPS2
        for s, up in up_in_sensor.items():
            g = HEEL_STRIKE_GAIN[s]
            w = Rotation.random(random_state=rng).apply([1.0, 0.0, 0.0])
            out[s].append(
                {
                    "t_s": round(float(t), 4),
                    "peak_mps2": round(peak * g, 3),
                    "acc_mps2": [float(x) for x in peak * g * up[i]],
                    "gyr_dps": [float(x) for x in HEEL_STRIKE_GYR_DPS * g * w],
                }
            )
    return out


def receive_times(
    t_dev: FloatArray, rate_hz: float, jitter_s: float, rng: np.random.Generator
) -> FloatArray:
    """Timestamps as received: device time plus jitter (kept under 0.4 sample,
    so time still increases)."""
    if not jitter_s:
        return t_dev
    lim = 0.4 / rate_hz
    return t_dev + np.clip(rng.normal(0.0, jitter_s, t_dev.shape), -lim, lim)


def lost_mask(n: int, imp: Imperfections, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """True where a sample arrives; lost samples come in bursts."""
    keep = np.ones(n, dtype=bool)
    if not imp.loss_fraction or n < 10:
        return keep
    target = round(imp.loss_fraction * n)
    lost = 0
    while lost < target:
        length = int(min(rng.geometric(1.0 / max(imp.loss_burst_samples, 1.0)), target - lost))
        start = int(rng.integers(1, n - length - 1))
        newly = int(keep[start : start + length].sum())
        keep[start : start + length] = False
        lost += max(newly, 1)
    return keep
