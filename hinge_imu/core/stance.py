"""The still standing stance: still detection and the choice of the standing pose.

Part of the calibration (``calibration.py``); see docs/analysis.md
("1. Calibration"). Works on sensor data already on the analysis grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.arrays import (
    column_mean,
    column_median,
    moving_mean,
    norm_rows,
    runs,
    unit,
    unit_rows,
)
from hinge_imu.core.calibration_settings import CalibrationSettings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class NoStanceError(ValueError):
    """No still standing period of the required length anywhere."""


def quiet(
    acc_mps2: FloatArray, gyr_dps: FloatArray, rate_hz: float, settings: CalibrationSettings
) -> tuple[BoolArray, FloatArray]:
    """(samples where one sensor's signals hardly vary, its gyro smoothed over ``smooth_s``).

    Real sensors read several °/s at rest (bias, warming) and their
    accelerometers 10–40 % off in magnitude, so neither raw level decides:
    the smoothed gyro must stay within ``still_vary_dps`` of its own
    ``still_mean_s`` mean, and the accelerometer's *direction* steady within
    ``still_acc_deg`` (RMS about its moving mean).
    """
    n = round(settings.smooth_s * rate_hz)
    steady, smooth = gyro_steady(gyr_dps, rate_hz, settings)
    u = unit_rows(acc_mps2)
    # Squared distance of the unit vector from its moving mean: norm_rows² without the
    # sqrt (in place, the same arithmetic: a recording's worth of ticks per pass).
    d = moving_mean(u, n)
    np.subtract(u, d, out=d)
    np.square(d, out=d)
    d2 = d[:, 0] + d[:, 1]
    d2 += d[:, 2]
    spread_deg = moving_mean(d2, n)
    np.maximum(spread_deg, 0.0, out=spread_deg)
    np.degrees(np.sqrt(spread_deg, out=spread_deg), out=spread_deg)
    return steady & (spread_deg < settings.still_acc_deg), smooth


def gyro_steady(
    gyr_dps: FloatArray, rate_hz: float, settings: CalibrationSettings
) -> tuple[BoolArray, FloatArray]:
    """(samples where the gyro smoothed over ``smooth_s`` stays within ``still_vary_dps``
    of its ``still_mean_s`` mean, that smoothed gyro (N, 3) deg/s): the gyro part of
    :func:`quiet`."""
    smooth = moving_mean(gyr_dps, round(settings.smooth_s * rate_hz))
    mean = moving_mean(gyr_dps, round(settings.still_mean_s * rate_hz))
    return norm_rows(np.subtract(smooth, mean, out=mean)) < settings.still_vary_dps, smooth


def still_mask(
    acc_mps2: FloatArray,
    gyr_dps: FloatArray,
    rate_hz: float,
    settings: CalibrationSettings,
    quiet_ticks: tuple[BoolArray, FloatArray] | None = None,
) -> BoolArray:
    """Samples where one sensor is still: quiet (:func:`quiet`) and not turning.

    Among the quiet samples the median rate is the sensor's rough bias; a
    still sample turns less than ``still_gyro_dps`` beyond it (a slow,
    smooth turn varies little too). ``quiet_ticks``: :func:`quiet` of these
    very samples, already computed (read, never changed).
    """
    calm, smooth = quiet_ticks or quiet(acc_mps2, gyr_dps, rate_hz, settings)
    rough_bias = quiet_bias(smooth, calm, settings, rounds=0)
    return calm & (norm_rows(smooth - rough_bias) < settings.still_gyro_dps)


def quiet_bias(
    smooth_dps: FloatArray,
    calm: BoolArray,
    settings: CalibrationSettings,
    rounds: int,
    densest: bool = False,
) -> FloatArray:
    """A gyro bias (3,) deg/s: the median smoothed rate of the quiet samples.

    Slow parts of a movement vary little too: ``rounds`` times, the median
    is refined on the quiet samples that also turn less than
    ``still_gyro_dps`` beyond it. With ``densest`` the start is not their
    median but the densest cluster of their rates (:func:`densest_rate`).
    """
    if not calm.any():
        return np.zeros(3)
    bias = densest_rate(smooth_dps[calm], settings) if densest else column_median(smooth_dps[calm])
    for _ in range(rounds):
        near = calm & (norm_rows(smooth_dps - bias) < settings.still_gyro_dps)
        if near.any():
            bias = column_median(smooth_dps[near])
    return np.asarray(bias)


def densest_rate(rates_dps: FloatArray, settings: CalibrationSettings) -> FloatArray:
    """The rates among ``rates_dps`` (M, 3k: k sensors side by side) with most others near.

    Near: every sensor's rate (3,) deg/s within ``still_gyro_dps``.

    Without a still stance the slow parts of the movement outnumber the
    moments at rest (in back-to-back reps a thigh descending at a steady
    70 °/s varies little), so the median quiet rate is no bias; but every
    stop and turning point between reps reads the bias itself, so the bias
    is where the quiet rates crowd. Only rates within ``max_bias_dps`` (what
    a MEMS gyro can read at rest, every sensor) are candidates (none: zero,
    never turning as slowly as a bias);
    at most ``bias_candidates`` of them, evenly spread, are counted against
    at most 8 × that many (a deterministic subsample: same answer every run).
    """
    blocks = range(0, rates_dps.shape[1], 3)
    ok = np.logical_and.reduce(
        [norm_rows(rates_dps[:, j : j + 3]) < settings.max_bias_dps for j in blocks]
    )
    plausible = rates_dps[ok]
    if plausible.shape[0] == 0:
        return np.zeros(rates_dps.shape[1])
    k = settings.bias_candidates
    cands = plausible[:: max(1, plausible.shape[0] // k)]
    pool = plausible[:: max(1, plausible.shape[0] // (8 * k))]
    near = np.ones((cands.shape[0], pool.shape[0]), dtype=bool)
    for j in blocks:  # every sensor within still_gyro_dps
        d2 = ((cands[:, None, j : j + 3] - pool[None, :, j : j + 3]) ** 2).sum(axis=2)
        near &= d2 < settings.still_gyro_dps**2
    return np.asarray(cands[int(np.argmax(near.sum(axis=1)))], dtype=np.float64)


def all_still(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings,
    quiet_ticks: Mapping[str, tuple[BoolArray, FloatArray]] | None = None,
) -> BoolArray:
    """Grid samples where every sensor is still (and has data).

    ``quiet_ticks``: sensor → :func:`quiet` of all its samples, already
    computed (used where every sensor has the same number of samples).
    """
    n = min(a.shape[0] for a in acc.values())
    same_n = all(a.shape[0] == n for a in acc.values())
    still = np.ones(n, dtype=bool)
    for s in acc:
        q = quiet_ticks.get(s) if quiet_ticks is not None and same_n else None
        still &= still_mask(acc[s][:n], gyr[s][:n], rate_hz, settings, q) & valid[s][:n]
    return still


def pose_groups(
    acc: Mapping[str, FloatArray], cands: list[tuple[int, int]], settings: CalibrationSettings
) -> tuple[BoolArray, FloatArray]:
    """Which still periods show the pose of the first and of the last one (2, K), and the
    time each of those two poses holds (2,).

    Two periods show the same pose when every pose sensor's gravity
    direction agrees within ``pose_tolerance_deg`` — with three sensors, all
    but one (a strap that slipped between them must not split the standing
    pose). Only those two poses are candidates for standing (:func:`standing_pick`).
    """
    pose_sensors = pose_sensor_names(acc)
    durations = np.array([b - a for a, b in cands], dtype=np.float64)
    ends = [0, len(cands) - 1]
    differ = np.zeros((2, len(cands)), dtype=np.int64)
    cos_tol = np.cos(np.deg2rad(settings.pose_tolerance_deg))
    for s in pose_sensors:
        u = np.array([column_mean(acc[s][a:b]) for a, b in cands])
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        differ += (u[ends] @ u.T) <= cos_tol
    same = same_pose(differ, len(pose_sensors))
    return same, same.astype(np.float64) @ durations


def pose_sensor_names(sensors: Iterable[str]) -> list[str]:
    """The sensors whose gravity directions make a pose (the first sensor if none of them)."""
    names = list(sensors)
    return [s for s in ("thigh", "pelvis", "upper_back") if s in names] or names[:1]


def same_pose(differ: IntArray, n_pose_sensors: int) -> BoolArray:
    """Poses agree where few enough pose sensors' gravity directions ``differ`` (counts).

    Every sensor must agree — with three, all but one (a strap that slipped
    between them must not split the standing pose).
    """
    return np.asarray(differ <= (1 if n_pose_sensors >= 3 else 0))


def pose_distance_deg(
    acc: Mapping[str, FloatArray],
    at: tuple[int, int],
    cands: list[tuple[int, int]],
    settings: CalibrationSettings,
) -> FloatArray:
    """How far each period's pose (K,) is from the pose over ``at`` = [start, end), deg.

    The largest angle between the gravity directions of any pose sensor (the
    sensors :func:`pose_groups` compares).
    """
    pose_sensors = pose_sensor_names(acc)
    out = np.zeros(len(cands))
    for s in pose_sensors:
        ref = unit(column_mean(acc[s][at[0] : at[1]]))
        u = np.array([unit(column_mean(acc[s][a:b])) for a, b in cands])
        out = np.maximum(out, angle_between_deg(u, ref))
    return out


def opening_span(
    acc: Mapping[str, FloatArray], rate_hz: float, settings: CalibrationSettings, end: bool = False
) -> tuple[int, int]:
    """[start, end) of the pose the recording opens in: its first ``upright_min_s``
    (with ``end``: the pose it closes in, its last ``upright_min_s``)."""
    n = min(x.shape[0] for x in acc.values())
    k = min(n, max(1, round(settings.upright_min_s * rate_hz)))
    return (n - k, n) if end else (0, k)


def standing_pick(
    acc: Mapping[str, FloatArray],
    cands: list[tuple[int, int]],
    same: BoolArray,
    group_time: FloatArray,
    rate_hz: float,
    settings: CalibrationSettings,
) -> int:
    """Which of the periods ``cands`` (time order) shows the standing pose: the first or the last.

    ``same`` and ``group_time`` are :func:`pose_groups` of ``cands`` (the
    pick's row of ``same`` is ``same[pick > 0]``). A set
    starts and ends standing, but people linger at the bottom more than at
    the top (real back-to-back squats: 2–4 s of slow moments at the bottom,
    0.3–1.3 s at the top; slow reps pause there for a second or more), so
    the pose holding the most time can be the bottom, and every angle then
    reads upside down from it. The standing pose is that of the first or of
    the last period (a recording may be cut mid-rep at either end): the one
    nearer the pose the recording opens in (its first ``upright_min_s``), or
    on a near tie (within ``pose_tolerance_deg``) the one holding more time.
    """
    pick = 0 if group_time[0] >= group_time[-1] else len(cands) - 1
    if not same[0, -1]:
        ends = [cands[0], cands[-1]]
        opening = pose_distance_deg(acc, opening_span(acc, rate_hz, settings), ends, settings)
        if abs(opening[0] - opening[-1]) > settings.pose_tolerance_deg:
            pick = 0 if opening[0] < opening[-1] else len(cands) - 1
    return pick


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

    The earliest still period ≥ ``min_stance_s`` in the standing pose
    (:func:`standing_pick`). ``k0`` is the grid index of the arrays' first
    sample (for the times in messages).

    Raises NoStanceError when no still period ≥ ``min_stance_s`` exists, or
    none in a pose within ``stance_opening_deg`` of the opening or the closing pose.
    """
    if still is None:
        still = all_still(acc, gyr, valid, rate_hz, settings)
    min_len = round(settings.min_stance_s * rate_hz)
    still_runs = runs(still)
    cands = [(a, b) for a, b in still_runs if b - a >= min_len]
    if not cands:
        raise NoStanceError(
            f"no still standing period of {settings.min_stance_s:g} s anywhere "
            "(the recording must contain the wearer standing still)"
        )
    same, group_time = pose_groups(acc, cands, settings)
    # The standing pose as for the upright moments (:func:`standing_pick`):
    # at a slow tempo people pause in the hole for a second or more, and the
    # pose holding the most still time was then the bottom.
    standing = standing_pick(acc, cands, same, group_time, rate_hz, settings)
    # The earliest still period in that pose ("same pose" is not transitive:
    # the earliest of those the standing one matches) that is no rep's
    # lockout held (the pelvis tucked: no "standing tall"), else the earliest.
    # (Imported here: held_lockout reads slips.py, which reads this module.)
    from hinge_imu.core.held_lockout import standing_tall

    members = np.flatnonzero(same[int(standing > 0)])
    tall = standing_tall(acc, gyr, valid, [cands[i] for i in members], rate_hz, settings)
    a, b = cands[int(members[tall])]
    # When every still period is a pause in the hole (or a lockout left
    # undone and held), first and last are no stance: a stance stands near the
    # pose the recording opens in or, when it opens mid-rep, the pose it
    # closes in (SIMULATED `real` sessions: stances within 6.5° of one of
    # them, a held lockout 20° short of standing 13.5°, bottoms 36° or more;
    # REAL recordings' stances within 8.2°).
    far = [
        pose_distance_deg(acc, opening_span(acc, rate_hz, settings, end), [(a, b)], settings)[0]
        > settings.stance_opening_deg
        for end in (False, True)
    ]
    if all(far):
        raise NoStanceError(
            f"no still standing period of {settings.min_stance_s:g} s anywhere "
            "(the still periods are in neither the pose the recording opens in nor the one "
            "it closes in)"
        )
    b = min(b, a + round(settings.max_stance_s * rate_hz))
    t_a, t_b = (k0 + a) / rate_hz, (k0 + b) / rate_hz
    msgs: list[str] = []
    if a > 0.5 * rate_hz or (still_runs and still_runs[0][0] != a):
        msgs.append(
            f"the recording does not start with a still stance of {settings.min_stance_s:g} s; "
            f"calibrated on the still standing period at {t_a:.1f}–{t_b:.1f} s"
            + (" (the still moments before it were lockouts held between reps)" if tall else "")
        )
    return a, b, msgs
