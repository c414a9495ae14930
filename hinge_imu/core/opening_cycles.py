"""The gyro bias from the rep cycles since the data's opening: no stance at all.

Part of the calibration without a still stance (``short_stance.py``); see
docs/analysis.md, section 1, "without any stance at all". A fast set that
opens mid-rep, back to back, has no stance and hardly a steady moment: the
reps return to the pose the set started in, so each sensor's bias comes from
whole rep cycles, from the data's first ``cycle_opening_s`` (a set starts
standing) to its lockouts in that pose (``cycle_bias.cycle_bias`` per
interval), and from 3 lockouts on the median over pairs of lockouts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hinge_imu.core.arrays import column_mean, runs, unit, unit_rows
from hinge_imu.core.calibration_data import GridData
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.cycle_bias import cycle_bias, net_rotation, turning_points, turns_in_pose
from hinge_imu.core.stance import pose_sensor_names, same_pose

__all__ = ["opening_to_lockout_bias", "opening_window"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def opening_window(grid: GridData, settings: CalibrationSettings) -> tuple[int, int] | None:
    """The data's first ``cycle_opening_s`` [start, end) from the first sample every
    sensor has (None: a gap in it, or no more data than that)."""
    w = max(1, round(settings.cycle_opening_s * grid.rate_hz))
    n = min(x.shape[0] for x in grid.acc_mps2.values())
    i0 = max(int(np.argmax(v[:n])) for v in grid.valid.values())
    if n <= i0 + w or not all(v[i0 : i0 + w].all() for v in grid.valid.values()):
        return None
    return i0, i0 + w


def opening_to_lockout_bias(
    grid: GridData, moments: BoolArray, settings: CalibrationSettings
) -> dict[str, FloatArray] | None:
    """Each gyro bias (3,) deg/s from the whole rep cycles since the data's opening.

    Without any stance (back-to-back reps from the start): the first end is
    :func:`opening_window` (a set starts standing, the bar in hand); the
    others the upright moments of ``moments`` (N,) and the turning points
    after it (back-to-back reps stop too briefly for a moment) where the pose
    sensors' accelerometer directions lie within ``pose_tolerance_deg`` of
    the opening's as ``stance.same_pose`` (a rep's bottom or descent is no
    end; at a fast turning point the upper back's reads the reversal, 25–55°
    off), at least ``cycle_opening_min_s`` after it, with every sensor's data
    in between. Each sensor takes its own ends (one where its direction is
    off is not: a lockout with the ribs flared), or the last common one if it
    has none, and its bias from them (:func:`_bias_from_ends`; the pose at
    each end taken as the same: at a turning point the accelerometer reads
    the reversal too). None when there is no end.
    """
    n = min(x.shape[0] for x in grid.acc_mps2.values())
    first = opening_window(grid, settings)
    if first is None:
        return None
    i0 = first[0]
    ref = {s: unit(column_mean(unit_rows(x[i0 : first[1]]))) for s, x in grid.acc_mps2.items()}
    # Turning points add ends (back-to-back reps stop too briefly for a moment);
    # their speed read without a bias: the moments' may be 1–28 °/s off here.
    zero = {s: np.zeros(3) for s in grid.acc_mps2}
    turns = turns_in_pose(grid, zero, ref, first[1], settings, every=False)
    ends = sorted([*runs(moments[:n]), *((t, t + 1) for t in turns)], reverse=True)
    own, common = _ends_in_pose(grid, first, ref, ends, {}, settings)
    if not common:
        # No lockout the accelerometers show yet: rep 1's, by the gyro alone.
        by_gyro = _early_lockouts(grid, first, settings)
        own, common = _ends_in_pose(
            grid, first, ref, sorted(by_gyro, reverse=True), by_gyro, settings
        )
    if not common:
        return None
    # A sensor near the pose at under half the common ends reads the reversal at a
    # turning point (the upper back far from the hip: 25–55° off at true lockouts,
    # yet within 6° in one with the ribs flared): its own test says nothing, and
    # the median over pairs of the common ends drops the odd lockout.
    return {
        s: _bias_from_ends(grid, s, first, e if 2 * len(e) >= len(common) else common, settings)
        for s, e in own.items()
    }


def _ends_in_pose(
    grid: GridData,
    first: tuple[int, int],
    ref: dict[str, FloatArray],
    ends: list[tuple[int, int]],
    looks: dict[tuple[int, int], dict[str, float]],
    settings: CalibrationSettings,
) -> tuple[dict[str, list[tuple[int, int]]], list[tuple[int, int]]]:
    """Of ``ends`` (latest first), each sensor's own lockouts and the common ones (in time
    order): where the pose sensors stand in the opening's pose (as ``stance.same_pose``)
    by their accelerometer directions, or by ``looks`` (end → each sensor's cosine to
    its opening pose), at least ``cycle_opening_min_s`` after the opening."""
    rate = grid.rate_hz
    i0 = first[0]
    mid0 = (first[0] + first[1]) // 2
    cos_pose = np.cos(np.deg2rad(settings.pose_tolerance_deg))
    pose = pose_sensor_names(grid.acc_mps2)
    min_k = settings.cycle_opening_min_s * rate
    own: dict[str, list[tuple[int, int]]] = {s: [] for s in grid.acc_mps2}
    common: list[tuple[int, int]] = []
    for a, b in ends:
        j = (a + b) // 2
        if (j - mid0) / rate < settings.cycle_opening_min_s:
            break
        if not all(v[i0:j].all() for v in grid.valid.values()):
            continue
        cos = looks.get((a, b)) or {
            s: float(unit(column_mean(unit_rows(grid.acc_mps2[s][a:b]))) @ ref[s])
            for s in grid.acc_mps2
        }
        if not same_pose(np.array(sum(cos[s] < cos_pose for s in pose)), len(pose)):
            continue  # a rep's bottom or descent
        if not common or common[0][0] - j >= min_k:
            common.insert(0, (a, b))
        # Each sensor's own ends: a lockout with the ribs flared (the upper back
        # 16–17° back, SIMULATED) is no end for it, its bias would be off by
        # that over the cycles' length (6.8 °/s).
        for s in grid.acc_mps2:
            mine = own[s]
            if cos[s] >= cos_pose and (not mine or mine[0][0] - j >= min_k):
                mine.insert(0, (a, b))  # one end per stop or turn
    return own, common


def _early_lockouts(
    grid: GridData,
    first: tuple[int, int],
    settings: CalibrationSettings,
) -> dict[tuple[int, int], dict[str, float]]:
    """Turning points within ``cycle_gyro_pose_s`` of the opening whose pose the gyro
    alone shows: end → each sensor's cosine of its net rotation since the opening.

    At a fast lockout the pelvis' accelerometer too reads the reversal (15–27° off
    at a true lockout, SIMULATED), so rep 1's lockout failed the accelerometer's
    pose test; over the first seconds an unknown bias (a few °/s) turns the
    integrated gyro by a few degrees, a rep's bottom by 30–100°.
    """
    rate = grid.rate_hz
    mid0 = (first[0] + first[1]) // 2
    zero = {s: np.zeros(3) for s in grid.acc_mps2}
    out = {}
    for t in turning_points(grid, zero, first[1], settings):
        if (t - mid0) / rate > settings.cycle_gyro_pose_s:
            break
        turned = {
            s: float(np.linalg.norm(net_rotation(grid.gyr_dps[s][mid0:t], rate)))
            for s in grid.acc_mps2
        }
        out[(t, t + 1)] = {s: float(np.cos(np.deg2rad(d))) for s, d in turned.items()}
    return out


def _bias_from_ends(
    grid: GridData,
    sensor: str,
    first: tuple[int, int],
    ends: list[tuple[int, int]],
    settings: CalibrationSettings,
) -> FloatArray:
    """One sensor's gyro bias (3,) deg/s from its lockouts ``ends`` (in time order).

    From the opening to the last one, the bias is off by the pose that
    lockout misses over the interval (fast lockouts stand 2–5° from the
    opening's pose on the pelvis, each within ~1° of the others: SIMULATED).
    With ``cycle_opening_pairs`` lockouts or more, the median of the biases
    between every two of the last ``cycle_opening_ends`` (at least
    ``cycle_opening_min_s`` apart) instead: that common offset drops out, and
    the median drops a lockout not reached (a rep without one: 12–16° off).
    """
    rate, rounds = grid.rate_hz, settings.cycle_bias_rounds
    acc, gyr = {sensor: grid.acc_mps2[sensor]}, {sensor: grid.gyr_dps[sensor]}
    ends = ends[-settings.cycle_opening_ends :]
    min_k = settings.cycle_opening_min_s * rate
    pairs = [
        (p, q)
        for i, p in enumerate(ends)
        for q in ends[i + 1 :]
        if (q[0] + q[1]) // 2 - (p[0] + p[1]) // 2 >= min_k
    ]
    if len(ends) < settings.cycle_opening_pairs or not pairs:
        return cycle_bias(acc, gyr, first, ends[-1], rate, rounds, False)[sensor]
    each = [cycle_bias(acc, gyr, p, q, rate, rounds, False)[sensor] for p, q in pairs]
    return np.asarray(np.median(np.array(each), axis=0))
