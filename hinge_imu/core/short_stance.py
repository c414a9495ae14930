"""Calibration without a still stance of ``min_stance_s``: a short stance, else upright moments.

Part of the calibration (``calibration.py``); see docs/analysis.md ("1.
Calibration", "A short stance"). Real people stand for a second or less
before their first rep, and sway while they do. When no still stance of
``min_stance_s`` exists, the gyro biases come from the upright moments
between reps (``upright.py``: a swaying stance gives a poor bias; where
they are too brief, from whole rep cycles after the short stance:
``cycle_bias.py``), and the
reference pose — each sensor's vertical — from the first *short stance*
if there is one: at least ``short_stance_min_s`` where every pose sensor's
accelerometer direction stays within ``short_stance_sway_deg`` of its mean,
in the pose of the upright moments, and not a rep's lockout held (where
the trunk stands is read by the orientation filter: a walk in swings the
trunk accelerometers as far as a rep's hole; ``trunk_verticals``), its
verticals read as the filter settled on the reps reads them
(``settle_short_stance``). Against it the rules reading the lockout pose
keep their meaning. Without one the
reference is the upright moments themselves, and those rules are not
assessed (``UPRIGHT_NOT_ASSESSED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.arrays import column_mean, moving_mean, norm_rows, unit, unit_rows
from hinge_imu.core.calibration_data import GridData, Stance
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.cycle_bias import stance_to_lockout_bias
from hinge_imu.core.held_lockout import TILT_SENSORS, held_lockouts
from hinge_imu.core.opening_cycles import opening_to_lockout_bias
from hinge_imu.core.orientation import OrientationSettings, vertical_backward, vertical_over
from hinge_imu.core.stance import NoStanceError, pose_sensor_names
from hinge_imu.core.upright import upright_moments

__all__ = [
    "BIAS_FROM_STOPS",
    "CALIBRATION_WORDS",
    "SHORT_STANCE",
    "UPRIGHT",
    "UPRIGHT_NOT_ASSESSED",
    "settle_short_stance",
    "short_stance",
    "stance_without_still",
    "trunk_verticals",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Calibration kinds (``Stance.kind``, ``SensorCalibration.kind``): no still
#: stance, the reference pose from a short stance / from the upright moments.
SHORT_STANCE = "short_stance"
UPRIGHT = "upright"
#: Kinds whose gyro bias comes from the brief stops between reps: rougher
#: than a still stance's, so the orientation filter goes on estimating it.
BIAS_FROM_STOPS = frozenset({SHORT_STANCE, UPRIGHT})
#: What each kind calibrated on, in words (messages, the printed table).
CALIBRATION_WORDS = {
    "stance": "a still stance",
    SHORT_STANCE: "a short stance and the upright moments between reps",
    UPRIGHT: "the upright moments between reps",
}
#: Rules reading the lockout pose: against upright moments between reps
#: (the lockout itself) they have no meaning, so they are not assessed.
UPRIGHT_NOT_ASSESSED = ("no_lockout", "ribs_flared")


def _quiet(
    u: Mapping[str, FloatArray],
    turn: Mapping[str, FloatArray],
    ab: tuple[int, int],
    cos_sway: float,
    turn_deg: float,
) -> bool:
    """Over [a, b) every pose sensor's direction ``u`` stays within the sway
    bound of its mean, and its turn ``turn`` (integrated gyro, deg) within
    ``turn_deg`` of its mean."""
    a, b = ab
    for s, x in u.items():
        if float(np.min(x[a:b] @ unit(column_mean(x[a:b])))) < cos_sway:
            return False
        t = turn[s][a:b]
        if float(np.max(norm_rows(t - column_mean(t)))) > turn_deg:
            return False
    return True


def trunk_verticals(
    grid: GridData,
    bias_dps: Mapping[str, FloatArray],
    n: int,
    orientation: OrientationSettings,
) -> dict[str, FloatArray]:
    """Earth up (n, 3) in each trunk sensor's frame (``TILT_SENSORS``) from the
    orientation filter, on the gyro biases ``bias_dps`` (estimated on, as the
    angles of a calibration without a still stance are).

    Where the trunk stands is read from this, not from the accelerometer
    alone: a walk's steps swing a trunk accelerometer's direction 20–70°
    from standing (SIMULATED `real` walks, 0.2 s means) while the trunk
    stays upright (the filter's vertical within 10.4° over 32 walks); a
    rep's hole tilts it 27.7° or more (280 reps).
    """
    out = {}
    for s in (s for s in TILT_SENSORS if s in grid.acc_mps2):
        b = bias_dps[s]
        settings = replace(
            orientation,
            rate_hz=grid.rate_hz,
            gyro_bias_dps=(float(b[0]), float(b[1]), float(b[2])),
            rest_bias_estimation=True,
            motion_bias_estimation=True,
        )
        acc, gyr = grid.acc_mps2[s][:n], grid.gyr_dps[s][:n]
        out[s] = vertical_over(acc, gyr, grid.valid[s][:n], settings)
    return out


def _opening_end(
    trunk: Mapping[str, FloatArray],
    u: Mapping[str, FloatArray],
    upright: BoolArray,
    settings: CalibrationSettings,
) -> int:
    """Where the opening ends: the first sample a trunk sensor stands more than
    ``held_lockout_deg`` from its pose over the upright moments ``upright`` (a
    rep's hole; N: never), by both its filter vertical ``trunk`` and its smoothed
    accelerometer direction ``u``: a walk in swings the accelerometer as far
    (not the filter); at the data's first samples the filter, led in backward
    over the whole set on a rough bias, can stand off (REAL squat-rt sets
    opening standing: 3 of 66 lost their short stance on the filter alone)."""
    n = upright.shape[0]
    cos_hole = np.cos(np.deg2rad(settings.held_lockout_deg))
    far = np.zeros(n, dtype=bool)
    for s, up in trunk.items():
        by_filter = up @ unit(column_mean(up[upright])) < cos_hole
        by_acc = u[s][:n] @ unit(column_mean(u[s][:n][upright])) < cos_hole
        far |= by_filter & by_acc
    return int(np.argmax(far)) if far.any() else n


def short_stance(
    grid: GridData,
    upright: BoolArray,
    bias_dps: Mapping[str, FloatArray],
    settings: CalibrationSettings,
    orientation: OrientationSettings,
) -> tuple[int, int, int] | None:
    """The short stance [start, end) (indices) the data opens with, and where the
    opening ends (the first rep's hole, :func:`_opening_end`); None if there is none.

    A short stance lasts at least ``short_stance_min_s`` (at most
    ``max_stance_s``) with every sensor's data, before the first rep's
    hole (:func:`_opening_end`, on the trunk's filter verticals
    :func:`trunk_verticals`: a walk is no hole; a set preceded by a still stance has one of
    ``min_stance_s`` mostly; the restless moments before a later one are
    fidgets, as quiet but up to 4° off standing). Over it every pose
    sensor's accelerometer direction (smoothed over ``smooth_s``; the
    direction only, as magnitudes read 10–40 % off) stays within
    ``short_stance_sway_deg`` of its mean (no walk, no knock) and its turn
    — the gyro less ``bias_dps`` (the upright moments'), integrated — within
    ``short_stance_turn_deg`` (the start of a rep is slow, but turns on).
    Its pose is that of the upright moments ``upright`` (N,): every pose
    sensor within ``pose_tolerance_deg``; and it is no rep's lockout held
    (``held_lockout.held_lockouts`` on the trunk's filter verticals: the
    stand after a walk in is no lockout). The first such period is taken.
    ``orientation``: the filter those verticals are read by.
    """
    acc, rate_hz = grid.acc_mps2, grid.rate_hz
    n = upright.shape[0]
    w = max(2, round(settings.short_stance_min_s * rate_hz))
    if n < w or not upright.any():
        return None
    names = pose_sensor_names(acc)
    smooth = round(settings.smooth_s * rate_hz)
    u = {s: unit_rows(moving_mean(unit_rows(acc[s][:n]), smooth)) for s in acc}
    ref = {s: unit(column_mean(u[s][upright])) for s in acc}
    trunk = trunk_verticals(grid, bias_dps, n, orientation)
    end = _opening_end(trunk, u, upright, settings)
    if end < w:
        return None
    u = {s: u[s][:end] for s in names}
    turn = {s: np.cumsum(grid.gyr_dps[s][:end] - bias_dps[s], axis=0) / rate_hz for s in names}
    cos_sway = float(np.cos(np.deg2rad(settings.short_stance_sway_deg)))
    turn_deg = settings.short_stance_turn_deg
    # A cheap screen first: for unit vectors all within the bound of their
    # mean direction, the length of their mean is at least cos(bound).
    ok = np.ones(end - w + 1, dtype=bool)
    for s in names:
        c = np.zeros((end + 1, 3))
        np.cumsum(u[s], axis=0, out=c[1:])
        ok &= norm_rows(c[w:] - c[:-w]) >= w * cos_sway
    lost = np.zeros(end + 1)
    np.cumsum(~np.logical_and.reduce([grid.valid[s][:end] for s in acc]), out=lost[1:])
    ok &= lost[w:] == lost[:-w]
    longest = max(w, round(settings.max_stance_s * rate_hz))
    step = max(1, w // 5)
    for i in np.flatnonzero(ok).tolist():
        if not ok[i] or not _quiet(u, turn, (i, i + w), cos_sway, turn_deg):
            continue  # (not ok: inside a quiet period looked at already)
        b = i + w
        while b < min(end, i + longest) and _quiet(
            u, turn, (i, min(end, b + step)), cos_sway, turn_deg
        ):
            b = min(end, b + step)
        far = [
            angle_between_deg(column_mean(u[s][i:b]), ref[s]) > settings.pose_tolerance_deg
            for s in names
        ]
        if not any(far) and not held_lockouts(trunk, [(i, b)], rate_hz, settings)[0]:
            return i, b, end
        ok[i:b] = False  # the rest of this quiet period is the same pose
    return None


def settle_short_stance(
    vert: FloatArray,
    grid: GridData,
    sensor: str,
    st: Stance,
    settings: OrientationSettings,
    per_tick: FloatArray | None,
) -> None:
    """The vertical ``vert`` over a short stance, in place: as the filter reads
    it run backward from ``lead_in_s`` after the stance's start (or the first gap).

    A short stance opens the data, before the first rep, and the reps are
    read by a filter settled on them. The forward run can reach it still
    settling: after a walk in, whose turn on the spot rotates the
    accelerometer's error the filter holds in the earth frame (it settles
    over a few ``tau_acc_s``; docs/analysis.md, "Limits"), the stand read
    2–10° from what the filter settled on the reps that follow reads there
    (SIMULATED `real` walk-in stances, the worst sensor per session), and
    every angle of those reps was off by that. Run backward, the filter
    reaches the stance settled on the reps. Only for a stance starting
    ``tau_acc_s`` or more into the sensor's data: nearer its start the
    forward run, led in backward from there, still reads what the backward
    run does (0.2–1.5° apart on SIMULATED swaying stances at the start, no
    better either way: read backward, live's hip flexion peaks moved
    0.1–0.3° from offline's). Not for a still stance: after a set, a walk
    may follow it (the backward run then brings that walk's turn; tried:
    pelvic tilt at lockout 0.85 → 1.54° over the `real` preset).
    """
    a, b = st.start, st.end
    if a - int(np.argmax(grid.valid[sensor])) < round(settings.tau_acc_s * grid.rate_hz):
        return
    hi = min(vert.shape[0], a + round(settings.lead_in_s * grid.rate_hz))
    gap = np.flatnonzero(~grid.valid[sensor][a:hi])
    hi = a + int(gap[0]) if gap.size else hi
    if hi < b:
        return  # a gap in the stance (no stance has one): the forward reading stays
    bias = None if per_tick is None else per_tick[a:hi]
    acc, gyr = grid.acc_mps2[sensor][a:hi], grid.gyr_dps[sensor][a:hi]
    vert[a:b] = vertical_backward(acc, gyr, settings, bias)[: b - a]


def stance_without_still(
    grid: GridData,
    cs: CalibrationSettings,
    still: BoolArray,
    err: NoStanceError,
    orientation: OrientationSettings,
) -> Stance:
    """Stage 1 without a still stance of ``min_stance_s``: a short stance, else upright moments.

    The gyro biases come from the upright moments between reps either way
    (``upright.upright_moments``), or after a short stance, where every
    sensor is steady at once for less than ``cycle_bias_max_steady_s``,
    from whole rep cycles from it to a later lockout
    (``cycle_bias.stance_to_lockout_bias``); without a short stance, where
    they are steady for less than ``cycle_opening_max_steady_s``, from the
    rep cycles since the data's opening (``opening_cycles.opening_to_lockout_bias``).
    ``err``: why there is no still stance. Raises NoStanceError when there
    are no upright moments either.
    """
    acc, rate = grid.acc_mps2, grid.rate_hz
    pose, bias, (a, b), steady_s = upright_moments(acc, grid.gyr_dps, grid.valid, rate, cs)
    opening = short_stance(grid, pose, bias, cs, orientation)
    moments = f"the upright moments between reps ({pose.sum() / rate:.1f} s in all)"
    cycles = None
    # Only from a short stance: from a brief opening moment (no stance at
    # all) the cycle bias was worse than the steady moments' (the worst
    # sensor 0.7–3.7 against 0.3–2.7 °/s, SIMULATED stance_none). And only
    # when the first rep follows it: a walk in between turns the person
    # about the vertical, which the cycles take as none (180° over 17 s
    # reads ~10 °/s off).
    if (
        opening is not None
        and steady_s < cs.cycle_bias_max_steady_s
        and (opening[2] - opening[1]) / rate <= cs.cycle_bias_max_lead_s
    ):
        cycles = stance_to_lockout_bias(grid, pose, bias, opening[:2], cs)
        bias = cycles or bias
    elif opening is None and steady_s < cs.cycle_opening_max_steady_s:
        # No stance at all and hardly a steady moment (back-to-back reps from
        # the start): the steady moments' bias read 1–28 °/s off (SIMULATED
        # fast sets), the cycles since the opening's first moment 0.2–6.2.
        cycles = opening_to_lockout_bias(grid, pose, cs)
        bias = cycles or bias
    n = min(x.shape[0] for x in acc.values())
    window = int(cs.axis_window_s * rate)
    why = f"{err}".split(" (")[0]
    if cycles is not None:
        # Said first: the rest of the sentence ends in the kind's own words.
        why += (
            f"; only {steady_s:.1f} s with every gyro steady, so the gyro bias is the mean "
            "rate over whole rep cycles (standing pose to standing pose)"
        )
    if opening is not None:
        a, b, _ = opening
        why += (
            f"; calibrated on the short stance at {grid.t_s(a):.1f}–{grid.t_s(b):.1f} s "
            f"(the reference pose: every rule is assessed) and the gyro bias on {moments}"
        )
        axes = (max(0, a - window), min(n, b + window))
        return Stance(a, b, still, bias, *axes, (why,), SHORT_STANCE)
    rules = ", ".join(UPRIGHT_NOT_ASSESSED)
    why += (
        f"; calibrated on {moments[:-1]}, {grid.t_s(a):.1f}–{grid.t_s(b):.1f} s); "
        f"the rules reading the lockout pose ({rules}) are not assessed"
    )
    axes = (max(0, a - window), min(n, b + window))
    return Stance(a, b, still, bias, *axes, (why,), UPRIGHT, pose, cycles is not None)
