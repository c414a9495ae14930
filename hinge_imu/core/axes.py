"""Flexion-axis fits of the calibration: pure functions on bias-free grid data.

Part of the calibration (``calibration.py``); see docs/analysis.md
("1. Calibration"). Every threshold is a named ``CalibrationSettings`` field.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import segment_angles_deg
from hinge_imu.core.arrays import norm_rows, runs, unit
from hinge_imu.core.calibration_settings import CalibrationSettings

__all__ = [
    "axis_from_gyro",
    "frame",
    "lean_axis",
    "limb_axis",
    "refit_after_slip",
    "walking",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def axis_from_gyro(
    gyr_dps: FloatArray, vertical_s: FloatArray, settings: CalibrationSettings
) -> tuple[FloatArray, float]:
    """(unit axis ⟂ vertical, confidence 0–1) from the movement in bias-free gyro data.

    The axis is the dominant direction of the rotation with its component
    about the vertical removed (turning about the vertical is not flexion);
    the confidence is 1 − λ₂/λ₁ of that rotation.
    """
    w = gyr_dps - np.outer(gyr_dps @ vertical_s, vertical_s)
    moving = norm_rows(gyr_dps) > settings.moving_gyro_dps
    wm = w[moving]
    if wm.shape[0] < settings.min_axis_samples:
        # Nothing moved: any horizontal axis is as good as another.
        helper = (
            np.array([1.0, 0.0, 0.0]) if abs(vertical_s[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        )
        return unit(np.cross(vertical_s, helper)), 0.0
    c = wm.T @ wm
    evals, evecs = np.linalg.eigh(c)
    axis = unit(evecs[:, 2] - (evecs[:, 2] @ vertical_s) * vertical_s)
    conf = float(1.0 - evals[1] / evals[2]) if evals[2] > 0 else 0.0
    return axis, conf


def lean_axis(
    vert_s: FloatArray,
    z_s: FloatArray,
    valid: BoolArray,
    pelvis_vert_s: FloatArray,
    pelvis_frame: FloatArray,
    rate_hz: float,
    settings: CalibrationSettings,
) -> FloatArray | None:
    """A limb's left axis from sideways weight shifts, or None without any.

    Shifting the weight sideways tilts the pelvis and both thighs in the
    frontal plane together; the thigh's gravity direction then moves along
    its left axis. The axis is the direction the thigh's gravity moves per
    degree the pelvis leans, fitted on the change within each stretch where
    the pelvis stayed upright (sagittal tilt under ``lean_max_sagittal_deg``)
    for ``lean_min_s``, unbroken but for lost data up to ``lean_max_gap_s``,
    and leaned ``lean_min_frontal_deg`` one way or the other in it (its
    range). The change, not the offset from the stance: after a
    rep both verticals can be a few degrees off the stance's (orientation
    drift, a swaying stance), and such an offset looks like a lean held
    still but points anywhere.
    """
    cs = settings
    sag_p, fro_p = segment_angles_deg(pelvis_vert_s, pelvis_frame)
    use = valid & np.isfinite(vert_s).all(axis=1) & np.isfinite(fro_p)
    upright = np.abs(np.nan_to_num(sag_p, nan=np.inf)) < cs.lean_max_sagittal_deg
    # A short burst of lost samples leaves the stretch whole (only they are
    # left out of the fit); a longer one could hide a rep.
    for lo, hi in runs(~use):
        if hi - lo > cs.lean_max_gap_s * rate_hz:
            upright[lo:hi] = False
    min_lean = np.sin(np.deg2rad(cs.lean_min_frontal_deg))
    shifts, moves = [], []
    for lo, hi in runs(upright):
        keep = use[lo:hi]
        lean = np.sin(np.deg2rad(fro_p[lo:hi][keep]))
        if lean.size < cs.lean_min_s * rate_hz or np.ptp(lean) < min_lean:
            continue
        shifts.append(lean - lean.mean())
        moves.append(vert_s[lo:hi][keep] - vert_s[lo:hi][keep].mean(axis=0))
    if not shifts:
        return None
    f, d = np.concatenate(shifts), np.concatenate(moves)
    d -= np.outer(d @ z_s, z_s)
    # Thigh gravity change per unit of pelvis lean: ~unit length along the left axis.
    moved = float(np.sum(d**2))
    if moved == 0.0:  # the thigh did not follow at all
        return None
    b = (d.T @ f) / float(f @ f)
    unexplained = float(np.sum((d - np.outer(f, b)) ** 2)) / moved
    ratio = float(np.linalg.norm(b))
    if unexplained >= cs.lean_max_spread or not cs.lean_ratio_min < ratio < cs.lean_ratio_max:
        return None
    return unit(b - (b @ z_s) * z_s)


def walking(
    gyr_dps: FloatArray, valid: BoolArray, tilt_deg: FloatArray, settings: CalibrationSettings
) -> BoolArray:
    """Samples where the limb moves while the pelvis and trunk stay upright (steps)."""
    moving = norm_rows(gyr_dps) > settings.moving_gyro_dps
    upright = np.abs(np.nan_to_num(tilt_deg)) < settings.walking_upright_deg
    return np.asarray(valid & moving & upright)


def walked(
    gyr_dps: FloatArray,
    valid: BoolArray,
    tilt_deg: FloatArray | None,
    rate_hz: float,
    settings: CalibrationSettings,
) -> bool:
    """Enough walking (``min_walking_s``) to take a limb's axis from it."""
    if tilt_deg is None:
        return False
    steps = walking(gyr_dps, valid, tilt_deg, settings)
    return bool(steps.sum() >= settings.min_walking_s * rate_hz)


def limb_axis(
    gyr_dps: FloatArray,
    vertical_s: FloatArray,
    valid: BoolArray,
    tilt_deg: FloatArray | None,
    rate_hz: float,
    settings: CalibrationSettings,
) -> tuple[FloatArray, float]:
    """Flexion axis of a limb sensor (thigh): from walking, else the median rep axis.

    Walking swings the thigh about its flexion axis alone, far; in a hinge the
    thigh moves less and knee cave (a rotation about another axis) moves with
    it, so one fit over all reps would tilt the axis towards the cave axis.
    """
    cs = settings
    if tilt_deg is None:
        return axis_from_gyro(gyr_dps[valid], vertical_s, cs)
    if walked(gyr_dps, valid, tilt_deg, rate_hz, cs):
        return axis_from_gyro(gyr_dps[walking(gyr_dps, valid, tilt_deg, cs)], vertical_s, cs)
    # Median of per-rep axes (a rep: a run where the pelvis/trunk tilt > rep_tilt_deg).
    helper = np.eye(3)[0] if abs(vertical_s[0]) < 0.9 else np.eye(3)[1]
    e1 = unit(np.cross(vertical_s, helper))
    e2 = np.cross(vertical_s, e1)
    angles, weights = [], []
    for lo, hi in runs(np.nan_to_num(tilt_deg) > cs.rep_tilt_deg):
        ax, cf = axis_from_gyro(gyr_dps[lo:hi][valid[lo:hi]], vertical_s, cs)
        if cf <= 0:
            continue
        # Axis direction as a doubled angle: the sign of an axis is arbitrary.
        angles.append(2.0 * np.arctan2(ax @ e2, ax @ e1))
        weights.append(hi - lo)
    if not angles:
        return axis_from_gyro(gyr_dps[valid], vertical_s, cs)
    ang = np.asarray(angles)
    # Robust centre on the circle: the per-rep angle closest to all others.
    dist = np.abs(np.angle(np.exp(1j * (ang[:, None] - ang[None, :]))))
    centre = ang[int(np.argmin(np.median(dist, axis=1)))]
    near = np.abs(np.angle(np.exp(1j * (ang - centre)))) < np.deg2rad(cs.rep_axis_cluster_deg)
    mean = np.angle(np.sum(np.exp(1j * ang[near]))) / 2.0
    axis = np.cos(mean) * e1 + np.sin(mean) * e2
    # Confidence: the share of rep time whose own axis agrees with the result.
    w = np.asarray(weights, dtype=np.float64)
    return axis, float(w[near].sum() / w.sum())


def frame(vertical_s: FloatArray, left_s: FloatArray) -> FloatArray:
    """R_S_B with columns x (anterior) = y × z, y (left), z (superior)."""
    z = unit(vertical_s)
    y = unit(left_s - (left_s @ z) * z)
    x = np.cross(y, z)
    return np.stack((x, y, z), axis=1)


def refit_after_slip(
    r_S_B: FloatArray,
    gyr_dps: FloatArray,
    valid: BoolArray,
    tilt_deg: FloatArray | None,
    limb: bool,
    rate_hz: float,
    settings: CalibrationSettings,
) -> FloatArray | None:
    """``R_S_B`` with its flexion axis fitted on the movement after a slip (None: too little).

    ``r_S_B`` is the mounting turned by the slip as gravity saw it: its
    vertical is right, its turn about the vertical unknown. The new axis keeps
    the side of the old one (a slip turns the sensor by far less than 90°).
    """
    if int(valid.sum()) < settings.refit_min_s * rate_hz:
        return None
    z = r_S_B[:, 2]
    if limb:
        axis, conf = limb_axis(gyr_dps, z, valid, tilt_deg, rate_hz, settings)
    else:
        axis, conf = axis_from_gyro(gyr_dps[valid], z, settings)
    if conf < settings.min_axis_confidence:
        return None
    return frame(z, axis if axis @ r_S_B[:, 1] >= 0 else -axis)
