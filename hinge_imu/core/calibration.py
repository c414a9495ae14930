"""Calibration: still standing stance, gravity, gyro bias, functional flexion axis.

Works on sensor data already on the analysis grid (see ``timegrid``):

1. **Stance.** A sample is *still* when, for every present sensor, the
   smoothed gyro rate (after a rough bias) is small and the accelerometer is
   steady. Still runs ≥ ``min_stance_s`` are candidates. Candidates are
   grouped by pose (pelvis and upper-back gravity directions within
   ``pose_tolerance_deg``); the standing pose is the group where the person
   spends most still time (standing between sets, pauses at lockout), and the
   stance is the first candidate of that group. If that is not at the start
   of the recording, the calibration says so.
2. **Gyro bias** of each sensor: its mean rate over the stance.
3. **Vertical** (segment z axis): earth up in the sensor frame over the stance,
   from the orientation filter (so it is consistent with the later angles).
4. **Flexion axis** (segment y axis): the dominant axis of the bias-free gyro
   during movement, made orthogonal to the vertical (which removes turning
   about the vertical). Its sign comes from what a hinge does: the pelvis
   and upper back tilt forward, far (the large tilts are positive); the
   thigh's knee goes forward as the pelvis tilts forward.
   ``axis_confidence`` = 1 − λ₂/λ₁ of that movement (1: a clean single axis).
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

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class NoStanceError(ValueError):
    """No still standing period of the required length anywhere."""


@dataclass(frozen=True)
class CalibrationSettings:
    """How the stance and the axes are found.

    Attributes:
        min_stance_s: shortest still period accepted as the stance, s.
        max_stance_s: only the first this-many seconds of a still period are
            used (a long "still" period may hide a slow weight shift), s.
        still_gyro_dps: smoothed gyro rate below which a sensor is still, deg/s.
        still_acc_mps2: accelerometer standard deviation below which it is still, m/s².
        smooth_s: smoothing window for the still test, s.
        pose_tolerance_deg: still periods within this of each other are one pose.
        moving_gyro_dps: gyro rate above which a sample counts as movement (axis fit).
        axis_window_s: movement after the stance used for the axis, s.
        min_axis_confidence: below this a sensor's calibration is not ok.
        min_movement_deg: a sensor that never turned this far cannot show its axis.
        slip_rate_dps: a sensor turning this much faster than its smooth motion
            (the 0.3 s running median) is slipping on its strap, deg/s.
        slip_min_deg, slip_max_s: a slip turns at least this far, this quickly.
        gap_slip_deg: a sensor whose gravity direction changed this much across
            a long gap, while the others' did not, slipped during the gap, deg.
    """

    min_stance_s: float = 1.0
    max_stance_s: float = 2.0
    still_gyro_dps: float = 6.0
    still_acc_mps2: float = 0.35
    smooth_s: float = 0.2
    pose_tolerance_deg: float = 12.0
    moving_gyro_dps: float = 15.0
    axis_window_s: float = 240.0
    min_axis_confidence: float = 0.5
    min_movement_deg: float = 8.0
    slip_rate_dps: float = 150.0
    slip_min_deg: float = 5.0
    slip_max_s: float = 0.3
    gap_slip_deg: float = 8.0


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
    #: sensor → strap slips found: (time s, mounting ``q_S_B`` from then on).
    slips: Mapping[str, tuple[tuple[float, tuple[float, ...]], ...]] = field(default_factory=dict)
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
        for t, q in self.slips.get(sensor, ()):
            out.append((t, quat_to_matrix(np.asarray(q))))
        return out


def _moving_mean(x: FloatArray, n: int) -> FloatArray:
    """Centred moving mean over n samples along axis 0 (edges: nearest value repeated)."""
    if n <= 1 or x.shape[0] == 0:
        return x
    lo, hi = n // 2, n - 1 - n // 2
    pad = [(lo, hi)] + [(0, 0)] * (x.ndim - 1)
    c = np.cumsum(np.pad(x, pad, mode="edge"), axis=0)
    c = np.concatenate((np.zeros((1, *x.shape[1:])), c), axis=0)
    return np.asarray((c[n:] - c[:-n]) / n)


def _moving_median(x: FloatArray, n: int) -> FloatArray:
    """Centred moving median over n (odd) samples along axis 0 of (N, C) data."""
    half = n // 2
    padded = np.pad(x, [(half, half), (0, 0)], mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, n, axis=0)
    return np.asarray(np.median(win, axis=-1))


def still_mask(
    acc_mps2: FloatArray, gyr_dps: FloatArray, rate_hz: float, settings: CalibrationSettings
) -> BoolArray:
    """Samples where one sensor is still (small smoothed rotation, steady acc)."""
    n = round(settings.smooth_s * rate_hz)
    norm = np.linalg.norm(gyr_dps, axis=1)
    quiet = norm < 2 * settings.still_gyro_dps
    rough_bias = np.median(gyr_dps[quiet], axis=0) if quiet.any() else np.zeros(3)
    rate = np.linalg.norm(_moving_mean(gyr_dps - rough_bias, n), axis=1)
    mean_acc = _moving_mean(acc_mps2, n)
    var = _moving_mean(np.sum((acc_mps2 - mean_acc) ** 2, axis=1), n)
    return (rate < settings.still_gyro_dps) & (
        np.sqrt(np.maximum(var, 0.0)) < settings.still_acc_mps2
    )


def runs(mask: BoolArray) -> list[tuple[int, int]]:
    """Half-open [start, end) index runs where ``mask`` is True."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.diff(m.astype(np.int8))
    starts = np.nonzero(d == 1)[0]
    ends = np.nonzero(d == -1)[0]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _unit(v: FloatArray) -> FloatArray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


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


def _min_rotation(a: FloatArray, b: FloatArray) -> FloatArray:
    """The smallest rotation matrix turning direction a into direction b."""
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    sin, cos = float(np.linalg.norm(axis)), float(np.dot(a, b))
    if sin < 1e-9:
        return np.eye(3)
    return _rotvec_matrix(np.degrees(np.arctan2(sin, cos)) * axis / sin)


def gap_slips(
    acc: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    still: BoolArray,
    after_index: int,
    rate_hz: float,
    settings: CalibrationSettings,
    other_events: Mapping[str, list[int]] | None = None,
) -> dict[str, list[tuple[int, int, FloatArray]]]:
    """Strap slips hidden in long gaps: [(gap start, gap end, Q)] per sensor.

    A slip inside a gap leaves no trace in the gyro. It shows as a change of
    the sensor's gravity direction between the still periods around the gap
    while every other sensor's stayed put. ``Q`` is the smallest rotation
    (sensor frame) explaining it; a turn about the vertical is not observable.
    """
    out: dict[str, list[tuple[int, int, FloatArray]]] = {s: [] for s in acc}
    if len(acc) < 2:
        return out
    min_n = round(0.1 * rate_hz)
    rests = [(a, b) for a, b in runs(still) if b - a >= min_n]
    window = round(30.0 * rate_hz)
    for s in acc:
        gaps = [g for g in runs(~valid[s]) if g[1] - g[0] >= 2]
        # Rests must lie between this gap and the sensor's neighbouring gaps
        # or gyro-detected slips, or they would compare across another event.
        marks = sorted([x for g in gaps for x in g] + list((other_events or {}).get(s, [])))
        for g_lo, g_hi in gaps:
            if g_lo <= after_index:
                continue
            prev = max([m for m in marks if m < g_lo], default=0)
            nxt = min([m for m in marks if m > g_hi], default=still.shape[0])
            before = [r for r in rests if max(prev, g_lo - window) <= r[0] and r[1] <= g_lo]
            before = before[::-1]
            later = [r for r in rests if g_hi <= r[0] and r[1] <= min(nxt, g_hi + window)]
            # The nearest pair of rests in the same pose of every other sensor
            # (standing both times, not a pause at the bottom of a rep).
            for (b0, b1), (a0, a1) in ((p, q) for q in later[:3] for p in before):
                d_b = {x: _unit(acc[x][b0:b1].mean(axis=0)) for x in acc}
                d_a = {x: _unit(acc[x][a0:a1].mean(axis=0)) for x in acc}
                turned = {
                    x: float(np.degrees(np.arccos(np.clip(d_b[x] @ d_a[x], -1.0, 1.0))))
                    for x in acc
                }
                if max(turned[x] for x in acc if x != s) >= 0.5 * settings.gap_slip_deg:
                    continue
                if turned[s] >= settings.gap_slip_deg:
                    out[s].append((g_lo, g_hi, _min_rotation(d_b[s], d_a[s])))
                break
    return out


def find_stance(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings,
    still: BoolArray | None = None,
) -> tuple[int, int, list[str]]:
    """The standing stance as grid indices [start, end), plus messages.

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
    # The first candidate whose pose holds most of the still time (ties: earliest).
    pick = int(np.nonzero(group_time >= 0.999 * best)[0][0])
    a, b = cands[pick]
    b = min(b, a + round(settings.max_stance_s * rate_hz))
    msgs: list[str] = []
    first_still = runs(still)
    if a > 0.5 * rate_hz or (first_still and first_still[0][0] != a):
        msgs.append(
            f"the recording does not start with a still stance of {settings.min_stance_s:g} s; "
            f"calibrated on the still standing period at {a / rate_hz:.1f}–{b / rate_hz:.1f} s"
        )
    return a, b, msgs


def _axis_from_gyro(
    gyr_dps: FloatArray, vertical_s: FloatArray, settings: CalibrationSettings
) -> tuple[FloatArray, float]:
    """(unit axis ⟂ vertical, confidence 0–1) from the movement in bias-free gyro data."""
    w = gyr_dps - np.outer(gyr_dps @ vertical_s, vertical_s)
    moving = np.linalg.norm(gyr_dps, axis=1) > settings.moving_gyro_dps
    wm = w[moving]
    if wm.shape[0] < 10:
        # Nothing moved: any horizontal axis is as good as another.
        helper = (
            np.array([1.0, 0.0, 0.0]) if abs(vertical_s[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        )
        return _unit(np.cross(vertical_s, helper)), 0.0
    c = wm.T @ wm
    evals, evecs = np.linalg.eigh(c)
    axis = _unit(evecs[:, 2] - (evecs[:, 2] @ vertical_s) * vertical_s)
    conf = float(1.0 - evals[1] / evals[2]) if evals[2] > 0 else 0.0
    return axis, conf


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
    moving = np.linalg.norm(gyr_dps, axis=1) > settings.moving_gyro_dps
    walking = valid & moving & (np.abs(tilt_deg) < 8.0)
    if walking.sum() >= 2.0 * rate_hz:
        return _axis_from_gyro(gyr_dps[walking], vertical_s, settings)
    # Median of per-rep axes (a rep: a run where the pelvis/trunk tilt > 15°).
    helper = np.eye(3)[0] if abs(vertical_s[0]) < 0.9 else np.eye(3)[1]
    e1 = _unit(np.cross(vertical_s, helper))
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


def _frame(vertical_s: FloatArray, left_s: FloatArray) -> FloatArray:
    """R_S_B with columns x (anterior) = y × z, y (left), z (superior)."""
    z = _unit(vertical_s)
    y = _unit(left_s - (left_s @ z) * z)
    x = np.cross(y, z)
    return np.stack((x, y, z), axis=1)


def find_slips(
    gyr_dps: FloatArray, valid: BoolArray, rate_hz: float, settings: CalibrationSettings
) -> list[tuple[int, int, FloatArray]]:
    """Strap slips of one sensor: [(first, last grid index, rotation vector in S, deg)].

    A slip is a short burst of rotation on top of the smooth body movement:
    the gyro minus its 0.3 s running median exceeds ``slip_rate_dps`` and the
    burst, integrated, turns the sensor at least ``slip_min_deg``.
    """
    w = max(3, round(0.3 * rate_hz) | 1)
    # A cheap screen (distance from the running mean), then the exact test
    # (distance from the running median) only around the candidates.
    rough = np.linalg.norm(gyr_dps - _moving_mean(gyr_dps, w), axis=1)
    rough[~valid] = 0.0
    out = []
    pad = 2 * w
    for c_lo, c_hi in runs(rough > 0.8 * settings.slip_rate_dps):
        lo0, hi0 = max(0, c_lo - pad), min(gyr_dps.shape[0], c_hi + pad)
        part = gyr_dps[lo0:hi0]
        resid = part - _moving_median(part, w)
        norm = np.linalg.norm(resid, axis=1)
        norm[~valid[lo0:hi0]] = 0.0
        for lo, hi in runs(norm > 0.25 * settings.slip_rate_dps):
            if lo0 + lo < c_lo - w or lo0 + hi > c_hi + w:
                continue  # belongs to a neighbouring candidate
            too_long = hi - lo > settings.slip_max_s * rate_hz
            if norm[lo:hi].max() < settings.slip_rate_dps or too_long:
                continue
            rotvec = resid[lo:hi].sum(axis=0) / rate_hz
            if float(np.linalg.norm(rotvec)) >= settings.slip_min_deg:
                out.append((lo0 + lo, lo0 + hi, rotvec))
    return out


def _rotvec_matrix(rotvec_deg: FloatArray) -> FloatArray:
    return rotvec_to_matrix(rotvec_deg)


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
            (lo, hi, _rotvec_matrix(rv).T)
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
        z = _unit(vert[s][a:b].mean(axis=0))
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
    # any, else the median over reps (knee cave moving with the hinge would
    # tilt a single fit); the knee goes forward as the pelvis tilts forward.
    for s in acc:
        if s in trunkish:
            continue
        z = _unit(vert[s][a:b].mean(axis=0))
        w = gyr[s][seg] - bias[s]
        axis, conf[s] = _limb_axis(w, z, use[s][seg], tilt, rate_hz, cs)
        frames[s] = _frame(z, axis)
        sag[s] = segment_angles_deg(vert[s][seg], frames[s])[0]
        if ref is None:
            continue
        in_rep = ref > 15.0
        if in_rep.any() and float(np.nansum(-sag[s][in_rep] * ref[in_rep])) < 0:
            frames[s] = _frame(z, -axis)
            sag[s] = -sag[s]
    slips: dict[str, tuple[tuple[float, tuple[float, ...]], ...]] = {}
    for s in acc:
        after: list[tuple[float, tuple[float, ...]]] = []
        r = frames[s]
        for lo, hi, q in found_slips[s]:
            # The sensor turned while the segment did not: the segment frame
            # seen from the sensor turns back by the same rotation.
            r = q @ r
            after.append((hi / rate_hz, tuple(float(x) for x in matrix_to_quat(r))))
            deg = float(np.degrees(np.arccos(np.clip((np.trace(q) - 1.0) / 2.0, -1.0, 1.0))))
            where = "during lost data " if not valid[s][lo] else ""
            msgs.append(
                f"{s}: strap slipped {where}at {lo / rate_hz:.1f} s "
                f"({deg:.0f}°); mounting re-estimated from then on"
            )
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
