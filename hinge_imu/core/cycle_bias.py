"""The gyro bias from whole rep cycles: reps return to the pose they left.

Part of the calibration without a still stance (``short_stance.py``); see
docs/analysis.md ("No still stance at all"). Between two moments in the same
standing pose (the opening's short stance or an upright moment, and a later
rep's lockout: a stop, or the turning point of back-to-back reps) a
sensor's net rotation is small, so its mean rate over the
interval is its bias plus that net rotation over the interval's length. The
tilt part of the net rotation shows in the accelerometer's direction at the
two ends (directions only: magnitudes read 10–40 % off; at a turning point
none, the pose taken as the first end's); the turn about the vertical is
taken as none. Used only where the steady moments ``upright.joint_bias``
rests on are scarce (``cycle_bias_max_steady_s``), and offline for the
bias track before its first rest (:func:`cycle_rests`: a restless
opening). The bias is the one whose bias-free gyro,
integrated as rotations (not added: a rep turning about two axes does not
commute), turns the first end's direction into the last's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import quat_to_matrix
from hinge_imu.core.arrays import column_mean, moving_mean, norm_rows, runs, unit, unit_rows
from hinge_imu.core.bias_model import Measurement
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.stance import pose_sensor_names, same_pose

if TYPE_CHECKING:  # (both import this module)
    from hinge_imu.core.calibration_data import GridData
    from hinge_imu.core.rest_bias import RestBiasSettings

__all__ = [
    "cycle_bias",
    "cycle_rests",
    "net_rotation",
    "orientations",
    "stance_to_lockout_bias",
    "turning_points",
    "turns_in_pose",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _quat_mul(p: FloatArray, q: FloatArray) -> FloatArray:
    """Hamilton products of (N, 4) quaternions [w, x, y, z], row by row."""
    pw, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    qw, qx, qy, qz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=1,
    )


def _rotvec_to_quat(v_rad: FloatArray) -> FloatArray:
    """(N, 3) rotation vectors, rad → (N, 4) unit quaternions."""
    angle = np.sqrt(np.sum(v_rad * v_rad, axis=1))
    half = 0.5 * angle
    # sin(x/2)/x → 1/2 as x → 0.
    k = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(half)[:, None], v_rad * k[:, None]], axis=1)


def _quat_to_rotvec_deg(q: FloatArray) -> FloatArray:
    """One unit quaternion (4,) → its rotation vector, deg."""
    w = q[0] if q[0] >= 0 else -q[0]
    v = q[1:] if q[0] >= 0 else -q[1:]
    s = float(np.sqrt(v @ v))
    if s < 1e-15:
        return 2.0 * np.rad2deg(v)
    return np.rad2deg(2.0 * np.arctan2(s, w)) * v / s


def orientations(rate_dps: FloatArray, rate_hz: float) -> FloatArray:
    """The orientation (N, 4) after each of N body-frame rates (N, 3) deg/s, relative to
    the first sample's frame (running products in time order: log2(N) vector steps)."""
    q = _rotvec_to_quat(np.deg2rad(rate_dps) / rate_hz)
    d = 1
    while d < q.shape[0]:
        q[d:] = _quat_mul(q[:-d], q[d:])  # the earlier product on the left
        d *= 2
    return q


def net_rotation(rate_dps: FloatArray, rate_hz: float) -> FloatArray:
    """The net rotation (3,) deg of body-frame rates (N, 3) deg/s over N samples,
    as a rotation vector in the first sample's frame."""
    if rate_dps.shape[0] == 0:
        return np.zeros(3)
    return _quat_to_rotvec_deg(orientations(rate_dps, rate_hz)[-1])


def _tilt_deg(u_first: FloatArray, u_last: FloatArray) -> FloatArray:
    """The smallest rotation (rotation vector, deg, first end's frame) of a sensor whose
    up direction reads ``u_first`` then ``u_last`` in its own frame."""
    axis = np.cross(u_last, u_first)
    s = float(np.sqrt(axis @ axis))
    if s < 1e-12:
        return np.zeros(3)
    return np.rad2deg(np.arctan2(s, float(u_first @ u_last))) * axis / s


def cycle_bias(
    acc_mps2: Mapping[str, FloatArray],
    gyr_dps: Mapping[str, FloatArray],
    first: tuple[int, int],
    last: tuple[int, int],
    rate_hz: float,
    rounds: int = 3,
    tilt: bool = True,
) -> dict[str, FloatArray]:
    """Each sensor's gyro bias (3,) deg/s from its movement between two same-pose ends.

    ``first``, ``last``: [start, end) indices of the two ends (the up
    direction is each one's mean accelerometer direction; the interval runs
    from the middle of one to the middle of the other). The mean rate over
    it less the tilt between the ends (``tilt`` False: none, the same pose at
    both), then ``rounds`` Gauss–Newton steps on the integrated rotation.
    """
    i = (first[0] + first[1]) // 2
    j = (last[0] + last[1]) // 2
    t_s = (j - i) / rate_hz
    out = {}
    for s, acc in acc_mps2.items():
        u0 = unit(column_mean(unit_rows(acc[first[0] : first[1]])))
        u1 = unit(column_mean(unit_rows(acc[last[0] : last[1]])))
        turned = _tilt_deg(u0, u1) if tilt else np.zeros(3)
        w = gyr_dps[s][i:j]
        b = (column_mean(w) * (j - i) / rate_hz - turned) / t_s
        for _ in range(rounds):
            q = orientations(w - b, rate_hz)
            # A bias change at a sample turns the net rotation by it as seen
            # from the first end's frame: the Jacobian is the sum of the
            # orientations so far (−T·I only while the sensor hardly turns).
            prior = np.concatenate([np.eye(3)[None], quat_to_matrix(q[:-1])])
            jac = prior.sum(axis=0) / rate_hz
            b = b + np.linalg.solve(jac, _quat_to_rotvec_deg(q[-1]) - turned)
        out[s] = b
    return out


def turning_points(
    grid: GridData, bias: Mapping[str, FloatArray], from_i: int, settings: CalibrationSettings
) -> list[int]:
    """The turning points after ``from_i`` (indices, in time order): the sensors' summed
    rate beyond ``bias`` (smoothed over ``cycle_turn_smooth_s``) at a local minimum
    under ``cycle_turn_dps`` per sensor, with every sensor's data for a window after
    it (a rep's bottom is one too)."""
    names = list(grid.acc_mps2)
    n = min(x.shape[0] for x in grid.acc_mps2.values())
    k = max(1, round(settings.cycle_turn_smooth_s * grid.rate_hz))
    speed = np.zeros(n)
    for s in names:
        speed += moving_mean(norm_rows(grid.gyr_dps[s][:n] - bias[s])[:, None], k)[:, 0]
    low = speed < settings.cycle_turn_dps * len(names)
    low[1:-1] &= (speed[1:-1] <= speed[:-2]) & (speed[1:-1] < speed[2:])
    low[[0, -1]] = False
    low[: from_i + 1] = False
    # Every sensor's own data around it (a sensor short at the end has lost data there).
    have = np.logical_and.reduce([grid.valid[s][:n] for s in names])
    low &= have & np.concatenate([have[k:], np.zeros(min(k, n), dtype=bool)])
    return [int(i) for i in np.flatnonzero(low)]


def turns_in_pose(
    grid: GridData,
    bias: Mapping[str, FloatArray],
    ref: Mapping[str, FloatArray],
    from_i: int,
    settings: CalibrationSettings,
    every: bool,
) -> list[int]:
    """The :func:`turning_points` in the standing pose (indices, in time order).

    The pose sensors' accelerometer directions (over ``cycle_turn_smooth_s``:
    the reversal's acceleration rocks them, 20–35° 0.05 s away in fast
    simulated reps) within ``pose_tolerance_deg`` of ``ref`` (a rep's bottom
    is a turning point too): ``every`` one, or as ``stance.same_pose`` (the
    upper back's, far from the hip, reads 25–37° off at a fast lockout).
    """
    n = min(x.shape[0] for x in grid.acc_mps2.values())
    k = max(1, round(settings.cycle_turn_smooth_s * grid.rate_hz))
    cos_pose = np.cos(np.deg2rad(settings.pose_tolerance_deg))
    pose = pose_sensor_names(list(grid.acc_mps2))
    out = []
    for i in turning_points(grid, bias, from_i, settings):
        lo, hi = max(0, i - k // 2), min(n, i + k // 2 + 1)
        differ = sum(
            unit(column_mean(unit_rows(grid.acc_mps2[s][lo:hi]))) @ ref[s] < cos_pose for s in pose
        )
        if differ == 0 or (not every and same_pose(np.array(differ), len(pose))):
            out.append(i)
    return out


def _last_turn(
    grid: GridData,
    bias: Mapping[str, FloatArray],
    ref: Mapping[str, FloatArray],
    from_i: int,
    settings: CalibrationSettings,
) -> int | None:
    """The last of :func:`turns_in_pose` with every pose sensor in the pose (None: none)."""
    turns = turns_in_pose(grid, bias, ref, from_i, settings, every=True)
    return turns[-1] if turns else None


def stance_to_lockout_bias(
    grid: GridData,
    moments: BoolArray,
    bias_dps: Mapping[str, FloatArray],
    stance: tuple[int, int],
    settings: CalibrationSettings,
) -> dict[str, FloatArray] | None:
    """Each gyro bias (3,) deg/s from the whole rep cycles after a short stance.

    ``moments``: the upright moments (N,) and ``bias_dps`` the biases
    ``upright_moments`` found; ``stance``: the short stance [start, end) the
    data opens with, the first end. The last end is the later of the last
    moment and the last turning point in the standing pose after it
    (:func:`_last_turn`: back-to-back reps stop too briefly for a moment;
    one inside the moment would drop the accelerometer's tilt at a real
    stop, 3–4° at a slow rep's lockout),
    at least ``cycle_bias_min_s`` after the first, with every sensor's data
    in between. At a moment the tilt between the ends is the
    accelerometer's; at a turning point, where the turn reverses, the
    accelerometer reads the reversal's acceleration too (3–9° off in fast
    simulated reps), the pose is taken as the stance's. None when there is
    no such interval.
    """
    rate = grid.rate_hz
    last = runs(moments)[-1]
    ref = {
        s: unit(column_mean(unit_rows(x[stance[0] : stance[1]]))) for s, x in grid.acc_mps2.items()
    }
    turn = _last_turn(grid, bias_dps, ref, last[1], settings)
    tilt = True
    if turn is not None:
        last, tilt = (turn, turn + 1), False
    i, j = (stance[0] + stance[1]) // 2, (last[0] + last[1]) // 2
    if (j - i) / rate < settings.cycle_bias_min_s:
        return None
    if not all(v[i:j].all() for v in grid.valid.values()):
        return None
    return cycle_bias(
        grid.acc_mps2, grid.gyr_dps, stance, last, rate, settings.cycle_bias_rounds, tilt
    )


def cycle_rests(
    acc_mps2: FloatArray,
    gyr_dps: FloatArray,
    calm: BoolArray,
    valid: BoolArray,
    rate_hz: float,
    bias_dps: FloatArray,
    standing_up: FloatArray | None,
    settings: RestBiasSettings,
    k0: int = 0,
) -> list[Measurement]:
    """One sensor's gyro bias measured over whole rep cycles: the bias track before its
    first rest (``offline_bias.track_bias``).

    A restless opening has no rest for a minute or more, and the track
    held the first rest's bias there while the gyro warmed up. But between two of its
    brief stops in the standing pose (``calm`` (N,): quiet, at least
    ``cycle_end_min_s``; gravity within ``standing_deg`` of
    ``standing_up``, any pose if None) the sensor turns by what its
    accelerometer's direction shows (the turn about the vertical taken as
    none), so :func:`cycle_bias` gives the bias over the interval. From
    each such end to the first one at least ``cycle_min_s`` later, then on
    from there; the error is about ``cycle_deg`` spread over the interval.
    An interval turning the person round (a walk between sets, 180° about
    the vertical) reads tens of °/s off: one more than ``cycle_max_dps``
    from ``bias_dps`` is left out, as is one with lost data (``valid``
    (N,) False) in it. Measurements at grid ticks from ``k0``.
    """
    s = settings
    ok = calm & valid
    if standing_up is not None:
        u = unit_rows(acc_mps2)
        ok &= u @ unit(standing_up) > np.cos(np.deg2rad(s.standing_deg))
    min_n = max(1, round(s.cycle_end_min_s * rate_hz))
    ends = [(a, b) for a, b in runs(ok) if b - a >= min_n]
    span = round(s.cycle_min_s * rate_hz)
    starts = np.array([a for a, _ in ends], dtype=np.int64)
    out: list[Measurement] = []
    i = 0
    while i < len(ends):
        j = int(np.searchsorted(starts, ends[i][0] + span))
        if j >= len(ends):
            break
        first, last = ends[i], ends[j]
        i = j
        lo, hi = (first[0] + first[1]) // 2, (last[0] + last[1]) // 2
        if not valid[first[0] : last[1]].all():
            continue
        b = cycle_bias({"s": acc_mps2}, {"s": gyr_dps}, first, last, rate_hz)["s"]
        if float(np.linalg.norm(b - bias_dps)) > s.cycle_max_dps:
            continue
        t_s = (hi - lo) / rate_hz
        out.append(Measurement(k0 + (lo + hi) // 2, b, (s.cycle_deg / t_s) ** 2))
    return out
