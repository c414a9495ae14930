"""Calibration: still standing stance, gravity, gyro bias, functional flexion axis.

Works on sensor data already on the analysis grid (see ``timegrid``):

1. **Stance** (``stance.py``): the first still period ≥ ``min_stance_s`` in
   the standing pose (the pose holding most of the still time); announced
   when it is not at the start of the recording.
2. **Gyro bias** of each sensor: its mean rate over the stance.
3. **Vertical** (segment z axis): earth up in the sensor frame over the stance,
   from the orientation filter (so it is consistent with the later angles).
4. **Flexion axis** (segment y axis): for the pelvis and upper back, the
   dominant axis of the bias-free gyro during movement, made orthogonal to
   the vertical (which removes turning about the vertical); for the thigh,
   from walking if any, else from a sideways weight shift, else the median of
   the per-rep axes. Signs come
   from what a hinge does: the pelvis and upper back tilt forward, far; the
   knee goes forward as the pelvis tilts forward. ``axis_confidence``:
   1 − λ₂/λ₁ of the movement (thigh: the share of reps agreeing).
5. **Strap slips** (``slips.py``): the mounting is re-estimated after each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import (
    matrix_to_quat,
    quat_to_matrix,
    rotvec_to_matrix,
    segment_angles_deg,
    vertical_in_sensor,
)
from hinge_imu.core.orientation import OrientationSettings, OrientationTracker
from hinge_imu.core.results import SensorCalibration
from hinge_imu.core.slips import find_slips, gap_slips
from hinge_imu.core.stance import (
    CalibrationSettings,
    NoStanceError,
    all_still,
    find_stance,
    norm_rows,
    runs,
    unit,
)

__all__ = ["Calibration", "CalibrationSettings", "NoStanceError", "calibrate"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Calibration:
    """The calibration of every sensor plus the stance it came from.

    Attributes:
        sensors: sensor → its calibration (``q_S_B`` is the mounting).
        stance_start_s, stance_end_s: the stance used, s.
        messages: what the user should know, one line each.
    """

    sensors: Mapping[str, SensorCalibration]
    stance_start_s: float
    stance_end_s: float
    messages: tuple[str, ...] = ()
    #: sensor → strap slips found: (start s, end s, mounting ``q_S_B`` from the
    #: end on); the sensor's angles are unknown (NaN) while it slips.
    slips: Mapping[str, tuple[tuple[float, float, tuple[float, ...]], ...]] = field(
        default_factory=dict
    )
    #: First moment every sensor was still (≥ 0.5 s), s: reps are looked for
    #: from then on (before it the orientation filter may still be settling
    #: from a start in mid-movement). None: from the stance on.
    first_still_s: float | None = None

    @property
    def reps_from_s(self) -> float:
        """Time from which reps are looked for, s."""
        if self.first_still_s is None:
            return self.stance_start_s
        return min(self.first_still_s, self.stance_start_s)

    def R_S_B(self, sensor: str) -> FloatArray:
        return quat_to_matrix(np.asarray(self.sensors[sensor].q_S_B))

    def mountings(self, sensor: str) -> list[tuple[float, FloatArray]]:
        """The sensor's mounting over time: [(from_s, R_S_B), …], first from −inf."""
        out = [(-np.inf, self.R_S_B(sensor))]
        for _, t_end, q in self.slips.get(sensor, ()):
            out.append((t_end, quat_to_matrix(np.asarray(q))))
        return out

    def slipping(self, sensor: str) -> list[tuple[float, float]]:
        """When the sensor was slipping on its strap: [(start_s, end_s)]."""
        return [(t0, t1) for t0, t1, _ in self.slips.get(sensor, ())]


def _axis_from_gyro(
    gyr_dps: FloatArray, vertical_s: FloatArray, settings: CalibrationSettings
) -> tuple[FloatArray, float]:
    """(unit axis ⟂ vertical, confidence 0–1) from the movement in bias-free gyro data."""
    w = gyr_dps - np.outer(gyr_dps @ vertical_s, vertical_s)
    moving = norm_rows(gyr_dps) > settings.moving_gyro_dps
    wm = w[moving]
    if wm.shape[0] < 10:
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


def _lean_axis(
    vert_s: FloatArray,
    z_s: FloatArray,
    valid: BoolArray,
    pelvis_vert_s: FloatArray,
    pelvis_frame: FloatArray,
    rate_hz: float,
) -> FloatArray | None:
    """A limb's left axis from sideways weight shifts, or None without any.

    Shifting the weight sideways tilts the pelvis and both thighs in the
    frontal plane together; the thigh's gravity direction then moves along
    its left axis. Used only when the pelvis leaned ≥ 1.5° sideways while it
    stayed upright (|sagittal| < 3°) for at least 0.5 s.
    """
    sag_p, fro_p = segment_angles_deg(pelvis_vert_s, pelvis_frame)
    fin = np.isfinite(vert_s).all(axis=1) & np.isfinite(fro_p)
    lean = valid & fin & (np.abs(fro_p) > 2.0) & (np.abs(sag_p) < 2.0)
    if lean.sum() < 0.5 * rate_hz:
        return None
    d = vert_s[lean] - z_s
    d -= np.outer(d @ z_s, z_s)
    # The thigh must have leaned about as far as the pelvis, along one line.
    ratio = np.linalg.norm(d, axis=1) / np.sin(np.deg2rad(np.abs(fro_p[lean])))
    evals, evecs = np.linalg.eigh(d.T @ d)
    one_line = evals[2] > 0 and evals[1] / evals[2] < 0.05
    if not (one_line and 0.7 < float(np.median(ratio)) < 1.4):
        return None
    return unit(evecs[:, 2] - (evecs[:, 2] @ z_s) * z_s)


def _walking(
    gyr_dps: FloatArray, valid: BoolArray, tilt_deg: FloatArray, settings: CalibrationSettings
) -> BoolArray:
    """Samples where the limb moves while the pelvis and trunk stay upright (steps)."""
    moving = norm_rows(gyr_dps) > settings.moving_gyro_dps
    return np.asarray(valid & moving & (np.abs(np.nan_to_num(tilt_deg)) < 8.0))


def _limb_axis(
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
    if tilt_deg is None:
        return _axis_from_gyro(gyr_dps[valid], vertical_s, settings)
    walking = _walking(gyr_dps, valid, tilt_deg, settings)
    if walking.sum() >= 2.0 * rate_hz:
        return _axis_from_gyro(gyr_dps[walking], vertical_s, settings)
    # Median of per-rep axes (a rep: a run where the pelvis/trunk tilt > 15°).
    helper = np.eye(3)[0] if abs(vertical_s[0]) < 0.9 else np.eye(3)[1]
    e1 = unit(np.cross(vertical_s, helper))
    e2 = np.cross(vertical_s, e1)
    angles, weights = [], []
    for lo, hi in runs(np.nan_to_num(tilt_deg) > 15.0):
        ax, cf = _axis_from_gyro(gyr_dps[lo:hi][valid[lo:hi]], vertical_s, settings)
        if cf <= 0:
            continue
        # Axis direction as a doubled angle: the sign of an axis is arbitrary.
        angles.append(2.0 * np.arctan2(ax @ e2, ax @ e1))
        weights.append(hi - lo)
    if not angles:
        return _axis_from_gyro(gyr_dps[valid], vertical_s, settings)
    ang = np.asarray(angles)
    # Robust centre on the circle: the per-rep angle closest to all others.
    dist = np.abs(np.angle(np.exp(1j * (ang[:, None] - ang[None, :]))))
    centre = ang[int(np.argmin(np.median(dist, axis=1)))]
    near = np.abs(np.angle(np.exp(1j * (ang - centre)))) < np.deg2rad(20.0)
    mean = np.angle(np.sum(np.exp(1j * ang[near]))) / 2.0
    axis = np.cos(mean) * e1 + np.sin(mean) * e2
    # Confidence: the share of rep time whose own axis agrees with the result.
    w = np.asarray(weights, dtype=np.float64)
    return axis, float(w[near].sum() / w.sum())


def _refit_after_slip(
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
    if int(valid.sum()) < rate_hz:
        return None
    z = r_S_B[:, 2]
    if limb:
        axis, conf = _limb_axis(gyr_dps, z, valid, tilt_deg, rate_hz, settings)
    else:
        axis, conf = _axis_from_gyro(gyr_dps[valid], z, settings)
    if conf < settings.min_axis_confidence:
        return None
    return _frame(z, axis if axis @ r_S_B[:, 1] >= 0 else -axis)


def _frame(vertical_s: FloatArray, left_s: FloatArray) -> FloatArray:
    """R_S_B with columns x (anterior) = y × z, y (left), z (superior)."""
    z = unit(vertical_s)
    y = unit(left_s - (left_s @ z) * z)
    x = np.cross(y, z)
    return np.stack((x, y, z), axis=1)


def calibrate(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings | None = None,
    orientation: OrientationSettings | None = None,
) -> Calibration:
    """Calibrate every sensor from grid data (each (N, 3); ``valid`` (N,) False in gaps).

    Raises NoStanceError when no still standing period exists.
    """
    cs = settings or CalibrationSettings()
    os_ = orientation or OrientationSettings(rate_hz=rate_hz)
    still = all_still(acc, gyr, valid, rate_hz, cs)
    a, b, msgs = find_stance(acc, gyr, valid, rate_hz, cs, still)
    n = min(x.shape[0] for x in acc.values())
    end = min(n, b + int(cs.axis_window_s * rate_hz))
    t0, t1 = a / rate_hz, b / rate_hz
    vert: dict[str, FloatArray] = {}
    bias: dict[str, FloatArray] = {}
    conf: dict[str, float] = {}
    # Orientation from the start (the filter initialises from the first sample)
    # to the end of the axis window, with the stance bias removed.
    seg = slice(a, end)
    for s in acc:
        bias[s] = gyr[s][a:b].mean(axis=0)
        tracker = OrientationTracker(
            OrientationSettings(
                rate_hz, os_.tau_acc_s, tuple(bias[s].tolist()), os_.rest_bias_estimation
            )
        )
        vert[s] = vertical_in_sensor(tracker.update(acc[s][:end], gyr[s][:end]))
    # Strap slips first: the axes are fitted on the data before a sensor's
    # first slip only (after it the sensor sits differently on the body).
    # Each slip as (first index, last index, Q): the mounting turns by Q
    # (R_S_B ← Q · R_S_B) from the end of the slip on.
    by_gyro = {
        s: [
            (lo, hi, rotvec_to_matrix(rv).T)
            for lo, hi, rv in find_slips(gyr[s] - bias[s], valid[s], rate_hz, cs)
            if hi > b
        ]
        for s in acc
    }
    marks = {s: [x for lo, hi, _ in ev for x in (lo, hi)] for s, ev in by_gyro.items()}
    in_gaps = gap_slips(acc, valid, still, b, rate_hz, cs, marks)
    found_slips = {s: sorted(by_gyro[s] + in_gaps[s], key=lambda x: x[0]) for s in acc}
    use = {s: valid[s][:end].copy() for s in acc}
    for s, found in found_slips.items():
        if found:
            use[s][found[0][0] :] = False
            vert[s] = vert[s].copy()
            vert[s][found[0][0] :] = np.nan
    frames: dict[str, FloatArray] = {}
    sag: dict[str, FloatArray] = {}
    # Pelvis, upper back, head first: one clear axis, and they tilt forward, far.
    trunkish = [s for s in ("pelvis", "upper_back", "head") if s in acc]
    for s in trunkish:
        z = unit(vert[s][a:b].mean(axis=0))
        w = (gyr[s][seg] - bias[s])[use[s][seg]]
        axis, conf[s] = _axis_from_gyro(w, z, cs)
        frames[s] = _frame(z, axis)
        sag[s] = segment_angles_deg(vert[s][seg], frames[s])[0]
        lo, hi = np.nanpercentile(sag[s], [0.5, 99.5])
        if -lo > hi:
            frames[s] = _frame(z, -axis)
            sag[s] = -sag[s]
    ref = sag.get("pelvis", sag.get("upper_back"))
    tilt = np.fmax(sag["pelvis"], sag["upper_back"]) if "upper_back" in sag else ref
    # Thigh (and any other limb sensor): its axis from walking if there was
    # any, else from a sideways weight shift, else the median over reps (knee
    # cave moving with the hinge would tilt a single fit); the knee goes
    # forward as the pelvis tilts forward.
    for s in acc:
        if s in trunkish:
            continue
        z = unit(vert[s][a:b].mean(axis=0))
        w = gyr[s][seg] - bias[s]
        axis, conf[s] = _limb_axis(w, z, use[s][seg], tilt, rate_hz, cs)
        walked = tilt is not None and _walking(w, use[s][seg], tilt, cs).sum() >= 2.0 * rate_hz
        lean_axis = None
        if not walked and "pelvis" in frames:
            lean_axis = _lean_axis(
                vert[s][seg], z, use[s][seg], vert["pelvis"][seg], frames["pelvis"], rate_hz
            )
        if lean_axis is not None:
            axis = lean_axis
        elif s == "thigh" and not walked:
            msgs.append(
                "thigh: flexion axis from the reps (no walking or sideways weight "
                "shift seen); knee cave that happens in every rep reads low — walk a "
                "few steps after the stance to calibrate the thigh"
            )
        frames[s] = _frame(z, axis)
        sag[s] = segment_angles_deg(vert[s][seg], frames[s])[0]
        if ref is None:
            continue
        in_rep = ref > 15.0
        if in_rep.any() and float(np.nansum(-sag[s][in_rep] * ref[in_rep])) < 0:
            frames[s] = _frame(z, -axis)
            sag[s] = -sag[s]
    slips: dict[str, tuple[tuple[float, float, tuple[float, ...]], ...]] = {}
    for s in acc:
        after: list[tuple[float, float, tuple[float, ...]]] = []
        r = frames[s]
        for k, (lo, hi, q) in enumerate(found_slips[s]):
            # The sensor turned while the segment did not: the segment frame
            # seen from the sensor turns back by the same rotation.
            r = q @ r
            how = "mounting re-estimated from then on"
            # A slip found in lost data starts on a lost sample; a gyro-found one never does.
            in_gap = not valid[s][lo]
            if in_gap:
                # Gravity across the gap cannot show a turn about the vertical
                # (for the thigh that turn reads as knee cave): fit the
                # flexion axis again on the movement after the slip.
                nxt = found_slips[s][k + 1][0] if k + 1 < len(found_slips[s]) else end
                stop = max(hi, min(nxt, end))
                refit = _refit_after_slip(
                    r,
                    gyr[s][hi:stop] - bias[s],
                    valid[s][hi:stop],
                    None if tilt is None else tilt[hi - a : stop - a],
                    s not in trunkish,
                    rate_hz,
                    cs,
                )
                if refit is None:
                    how += ", but not its turn about the vertical (too little movement after it)"
                else:
                    r = refit
                    how += " (flexion axis refitted on the movement after it)"
            q_new = tuple(float(x) for x in matrix_to_quat(r))
            after.append((lo / rate_hz, hi / rate_hz, q_new))
            deg = float(np.degrees(np.arccos(np.clip((np.trace(q) - 1.0) / 2.0, -1.0, 1.0))))
            where = "during lost data " if in_gap else ""
            msgs.append(f"{s}: strap slipped {where}at {lo / rate_hz:.1f} s ({deg:.0f}°); {how}")
        if after:
            slips[s] = tuple(after)
    out: dict[str, SensorCalibration] = {}
    for s in acc:
        span = float(np.nanmax(np.abs(sag[s]))) if sag[s].size else 0.0
        smsgs: list[str] = []
        ok = True
        if span < cs.min_movement_deg:
            smsgs.append(f"{s}: too little movement ({span:.0f}°) to find its flexion axis")
            ok = s == "thigh"  # a still thigh (knees locked) still measures ~0 honestly
        elif conf[s] < cs.min_axis_confidence:
            smsgs.append(f"{s}: flexion axis unclear (confidence {conf[s]:.2f})")
            ok = False
        out[s] = SensorCalibration(
            sensor=s,
            stance_start_s=t0,
            stance_end_s=t1,
            gyro_bias_dps=(float(bias[s][0]), float(bias[s][1]), float(bias[s][2])),
            q_S_B=tuple(float(x) for x in matrix_to_quat(frames[s])),  # type: ignore[arg-type]
            axis_confidence=round(conf[s], 3),
            ok=ok,
            messages=tuple(smsgs),
        )
        msgs.extend(smsgs)
    settled = [lo for lo, hi in runs(still) if hi - lo >= round(0.5 * rate_hz)]
    first_still = settled[0] / rate_hz if settled else None
    return Calibration(out, t0, t1, tuple(msgs), slips, first_still)
