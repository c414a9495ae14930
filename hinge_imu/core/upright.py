"""Calibration without a still stance: the upright moments between reps.

Part of the calibration (``calibration.py``); see docs/analysis.md
("1. Calibration", "No still moment at all"). When a recording has no still
standing period, the brief stops at lockout and the turning points between
reps give the standing pose (``upright_moments``) and the gyro bias
(``joint_bias``, away from the sway the accelerometers show:
``gravity_turn_dps``). Works on sensor data already on the analysis grid.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.arrays import column_median, moving_mean, norm_rows, runs, unit_rows
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.stance import (
    NoStanceError,
    densest_rate,
    gyro_steady,
    pose_groups,
    quiet_bias,
    standing_pick,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["gravity_turn_dps", "joint_bias", "upright_moments"]


def joint_bias(
    smooth_dps: Mapping[str, FloatArray],
    calm: Mapping[str, BoolArray],
    settings: CalibrationSettings,
    start_calm: Mapping[str, BoolArray] | None = None,
) -> dict[str, FloatArray]:
    """Every sensor's gyro bias (3,) deg/s, from the moments the whole body is at rest at once.

    A slow stretch of one segment's movement (a trunk tilting back up at a
    steady 15 °/s) can crowd its steady rates more than its rests do, but
    the segments' slow stretches do not line up, while at a stop or a
    turning point between reps every sensor reads its bias at the same
    moment. So the bias is the densest cluster of the sensors' rates taken
    together (:func:`densest_rate` on the samples where all are steady),
    refined ``upright_bias_rounds`` times as each sensor's median over the
    samples where every sensor turns less than ``still_gyro_dps`` beyond its
    bias. With no moment where every sensor is steady, each gets its own
    densest cluster, refined the same way on its own. ``start_calm``: where
    given, the cluster's centre is sought only where it holds too (every
    sensor; none such: everywhere), the rounds still use all of ``calm``.
    """
    names = list(smooth_dps)
    together = np.logical_and.reduce([calm[s] for s in names])
    if not together.any():
        r = settings.upright_bias_rounds
        return {s: quiet_bias(smooth_dps[s], calm[s], settings, r, densest=True) for s in names}
    first = together
    if start_calm is not None:
        first = together & np.logical_and.reduce([start_calm[s] for s in names])
        if not first.any():
            first = together
    rates = np.concatenate([smooth_dps[s][first] for s in names], axis=1)
    start = densest_rate(rates, settings)
    bias = {s: start[3 * i : 3 * i + 3] for i, s in enumerate(names)}
    for _ in range(settings.upright_bias_rounds):
        near = together.copy()
        for s in names:
            near &= norm_rows(smooth_dps[s] - bias[s]) < settings.still_gyro_dps
        if not near.any():
            break
        bias = {s: column_median(smooth_dps[s][near]) for s in names}
    return {s: np.asarray(b, dtype=np.float64) for s, b in bias.items()}


def gravity_turn_dps(
    acc_mps2: FloatArray, rate_hz: float, settings: CalibrationSettings
) -> FloatArray:
    """How fast (N,) deg/s the accelerometer's direction, smoothed over ``smooth_s``, turns:
    the change between the smoothed directions half a window either side."""
    n = round(settings.smooth_s * rate_hz)
    u = moving_mean(unit_rows(acc_mps2), n)
    h = max(1, n // 2)
    out = np.zeros(u.shape[0])
    if u.shape[0] > 2 * h:
        out[h:-h] = angle_between_deg(u[2 * h :], u[: -2 * h]) * rate_hz / (2 * h)
    return out


def upright_moments(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    rate_hz: float,
    settings: CalibrationSettings,
) -> tuple[BoolArray, dict[str, FloatArray], tuple[int, int], float]:
    """Without a still stance: the upright moments between reps, and each gyro bias.

    The biases come from the moments every sensor is steady at once
    (:func:`joint_bias`). Upright moments are the brief stops — every sensor turning less
    than ``upright_gyro_dps`` beyond its bias for at least ``upright_min_s`` —
    in the pose of the first or the last of them holding most of that time:
    the lockout between reps, where the person stands (the orientation
    filter's vertical is good there).

    Returns (the samples of those moments (N,), sensor → bias (3,) deg/s,
    (first, end) index of the moments, how long every sensor was steady at
    once and the accelerometers did not rock, s: what the biases rest on).
    Raises NoStanceError when there is no such stop at all.
    """
    n = min(a.shape[0] for a in acc.values())
    # The gyro's steadiness alone: real thigh accelerometers are too noisy for
    # the direction test on most samples (2–6 % of a set pass it), and every
    # turning point between reps, where the rate reads the bias, is steady.
    steady = {s: gyro_steady(gyr[s][:n], rate_hz, settings) for s in acc}
    smooth = {s: steady[s][1] for s in acc}
    calm = {s: steady[s][0] & valid[s][:n] for s in acc}
    # A swaying or fidgeting opening keeps the gyros steady enough to outvote
    # the rests; the accelerometer shows its rocking (see bias_gravity_turn_dps).
    limit_dps = settings.bias_gravity_turn_dps
    rocking = 2 * np.sum(
        [gravity_turn_dps(acc[s][:n], rate_hz, settings) > limit_dps for s in acc], axis=0
    ) > len(acc)
    # What the bias rests on: the moments every sensor is steady, none rocking.
    steady_s = float((np.logical_and.reduce([calm[s] for s in acc]) & ~rocking).sum()) / rate_hz
    bias = joint_bias(smooth, calm, settings, {s: ~rocking for s in acc})
    slow = np.ones(n, dtype=bool)
    for s in acc:
        slow &= (norm_rows(smooth[s] - bias[s]) < settings.upright_gyro_dps) & valid[s][:n]
    found = runs(slow)
    min_len = max(1, round(settings.upright_min_s * rate_hz))
    cands = [(a, b) for a, b in found if b - a >= min_len]
    if not cands:
        # Back-to-back reps never stop: their turning points (every sensor
        # slow at once, however briefly) are the upright moments of sorts.
        min_len = max(1, round(settings.upright_turn_min_s * rate_hz))
        cands = [(a, b) for a, b in found if b - a >= min_len]
    if not cands:
        raise NoStanceError(
            "nothing to calibrate on: the wearer never stood still, not even at a "
            "turning point between reps (every sensor slow at once)"
        )
    same, group_time = pose_groups(acc, cands, settings)
    pick = standing_pick(acc, cands, same, group_time, rate_hz, settings)
    members = [cands[i] for i in np.flatnonzero(same[int(pick > 0)])]
    mask = np.zeros(n, dtype=bool)
    for a, b in members:
        mask[a:b] = True
    return mask, bias, (members[0][0], members[-1][1]), steady_s
