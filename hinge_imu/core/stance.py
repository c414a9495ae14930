"""The still standing stance: still detection and the choice of the standing pose.

Part of the calibration (``calibration.py``); see docs/analysis.md
("1. Calibration"). Works on sensor data already on the analysis grid.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from hinge_imu.core.calibration_settings import CalibrationSettings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class NoStanceError(ValueError):
    """No still standing period of the required length anywhere."""


def moving_mean(x: FloatArray, n: int) -> FloatArray:
    """Centred moving mean over n samples along axis 0 (edges: nearest value repeated)."""
    if n <= 1 or x.shape[0] == 0:
        return x
    lo, m = n // 2, x.shape[0]
    # c = [0, cumsum(edge-padded x)], built in place (no np.pad / concatenate copies).
    c = np.empty((m + n, *x.shape[1:]))
    c[0] = 0.0
    c[1 : 1 + lo] = x[0]
    c[1 + lo : 1 + lo + m] = x
    c[1 + lo + m :] = x[-1]
    np.cumsum(c[1:], axis=0, out=c[1:])
    return np.asarray((c[n:] - c[:-n]) / n)


def norm_rows(v: FloatArray) -> FloatArray:
    """Length of each row of (N, 3): ``np.linalg.norm(v, axis=1)`` bit for bit, ~4× faster."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.sqrt(x * x + y * y + z * z)


def runs(mask: BoolArray) -> list[tuple[int, int]]:
    """Half-open [start, end) index runs where ``mask`` is True."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.diff(m.astype(np.int8))
    starts = np.nonzero(d == 1)[0]
    ends = np.nonzero(d == -1)[0]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def unit(v: FloatArray) -> FloatArray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def still_mask(
    acc_mps2: FloatArray, gyr_dps: FloatArray, rate_hz: float, settings: CalibrationSettings
) -> BoolArray:
    """Samples where one sensor is still, from how much its signals vary.

    Real sensors read several °/s at rest (bias, warming) and their
    accelerometers 10–40 % off in magnitude, so neither raw level decides:
    the smoothed gyro must stay within ``still_vary_dps`` of its own
    ``still_mean_s`` mean, and the accelerometer's *direction* steady within
    ``still_acc_deg``. Among those quiet samples the median rate is the
    sensor's rough bias; a still sample also turns less than
    ``still_gyro_dps`` beyond it (a slow, smooth turn varies little too).
    """
    n = round(settings.smooth_s * rate_hz)
    smooth = moving_mean(gyr_dps, n)
    vary = norm_rows(smooth - moving_mean(gyr_dps, round(settings.still_mean_s * rate_hz)))
    length = norm_rows(acc_mps2)
    u = acc_mps2 / np.where(length > 0, length, 1.0)[:, None]
    # Squared distance of the unit vector from its moving mean: norm_rows² without the sqrt.
    d = u - moving_mean(u, n)
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    spread_deg = np.degrees(np.sqrt(np.maximum(moving_mean(dx * dx + dy * dy + dz * dz, n), 0.0)))
    quiet = (vary < settings.still_vary_dps) & (spread_deg < settings.still_acc_deg)
    rough_bias = np.median(smooth[quiet], axis=0) if quiet.any() else np.zeros(3)
    return quiet & (norm_rows(smooth - rough_bias) < settings.still_gyro_dps)


def all_still(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings,
) -> BoolArray:
    """Grid samples where every sensor is still (and has data)."""
    n = min(a.shape[0] for a in acc.values())
    still = np.ones(n, dtype=bool)
    for s in acc:
        still &= still_mask(acc[s][:n], gyr[s][:n], rate_hz, settings) & valid[s][:n]
    return still


def find_stance(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings,
    still: BoolArray | None = None,
    k0: int = 0,
) -> tuple[int, int, list[str]]:
    """The standing stance as indices [start, end) into the arrays, plus messages.

    ``k0`` is the grid index of the arrays' first sample (for the times in messages).

    Raises NoStanceError when no still period ≥ ``min_stance_s`` exists.
    """
    names = list(acc)
    if still is None:
        still = all_still(acc, gyr, valid, rate_hz, settings)
    min_len = round(settings.min_stance_s * rate_hz)
    cands = [(a, b) for a, b in runs(still) if b - a >= min_len]
    if not cands:
        raise NoStanceError(
            f"no still standing period of {settings.min_stance_s:g} s anywhere "
            "(the recording must contain the wearer standing still)"
        )
    pose_sensors = [s for s in ("thigh", "pelvis", "upper_back") if s in acc] or names[:1]
    durations = np.array([b - a for a, b in cands], dtype=np.float64)
    # Two still periods show the same pose when every pose sensor's gravity
    # direction agrees within the tolerance — with three sensors, all but one
    # (a strap that slipped between them must not split the standing pose).
    differ = np.zeros((len(cands), len(cands)), dtype=np.int64)
    cos_tol = np.cos(np.deg2rad(settings.pose_tolerance_deg))
    for s in pose_sensors:
        u = np.array([acc[s][a:b].mean(axis=0) for a, b in cands])
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        differ += (u @ u.T) <= cos_tol
    same = differ <= (1 if len(pose_sensors) >= 3 else 0)
    group_time = same.astype(np.float64) @ durations
    best = float(group_time.max())
    # The earliest candidate whose pose holds (nearly) the most still time.
    # "Same pose" is not transitive, so near-ties go to the earliest.
    pick = int(np.nonzero(group_time >= 0.8 * best)[0][0])
    a, b = cands[pick]
    b = min(b, a + round(settings.max_stance_s * rate_hz))
    t_a, t_b = (k0 + a) / rate_hz, (k0 + b) / rate_hz
    msgs: list[str] = []
    first_still = runs(still)
    if a > 0.5 * rate_hz or (first_still and first_still[0][0] != a):
        msgs.append(
            f"the recording does not start with a still stance of {settings.min_stance_s:g} s; "
            f"calibrated on the still standing period at {t_a:.1f}–{t_b:.1f} s"
        )
    return a, b, msgs
