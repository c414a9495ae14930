"""Still periods that are a rep's lockout held, not the relaxed standing stance.

Part of the stance choice (``stance.find_stance``); see docs/analysis.md
("1. Calibration"). Between reps of a set people hold the lockout: hips
pushed through, the pelvis tucked back a few degrees (the posterior tilt
``no_lockout`` asks for). Such a stop is still and in the standing pose,
but it is not "standing tall" (rules.md): calibrated on it, every angle is
measured from the tucked pelvis and the lockouts read their tuck as zero.
A held lockout is recognised by what comes just before it: the trunk was
in the hole (tilted as in a rep) moments earlier.

A later standing period is taken instead only when no strap slipped in
between: slips are looked for after the stance (``slip_stages.py``), so one
before it would leave the earlier reps in the wrong mounting.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.slips import own_slips

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The sensors whose tilt tells a rep (rules.md: a rep tilts the pelvis or
#: the trunk; a walking thigh swings as far, so it is not asked).
TILT_SENSORS = ("pelvis", "upper_back")
#: The hole is looked for in block means this long, s …
HOLE_BLOCK_S = 0.1
#: … and lasts at least this long (a rep's hole lasts longer, a knock from
#: handling the bar is over in under 0.1 s), s.
HOLE_MIN_S = 0.3


def held_lockouts(
    acc: Mapping[str, FloatArray],
    cands: list[tuple[int, int]],
    rate_hz: float,
    settings: CalibrationSettings,
) -> BoolArray:
    """Which still periods [start, end) (K,) directly follow a rep: held lockouts.

    A period is a held lockout when, within ``held_lockout_s`` before its
    start, a trunk sensor's gravity direction stood more than
    ``held_lockout_deg`` from the period's own for ``HOLE_MIN_S`` or longer
    (the hole of the rep just finished). Without a pelvis or upper back
    nothing is one. ``acc``: per sensor (N, 3) anything pointing along
    gravity, read for its direction only: the accelerometer (the stance
    choice), or the orientation filter's vertical (the short stance: a walk
    just before it swings a trunk accelerometer as far as a rep's hole,
    ``short_stance.trunk_verticals``).
    """
    out = np.zeros(len(cands), dtype=bool)
    sensors = [s for s in TILT_SENSORS if s in acc]
    look = max(1, round(settings.held_lockout_s * rate_hz))
    for i, (a, b) in enumerate(cands):
        lo = max(0, a - look)
        if lo == a:
            continue
        for s in sensors:
            ref = acc[s][a:b].mean(axis=0)
            # the direction only (magnitudes are never trusted), in block means
            k = max(1, round(HOLE_BLOCK_S * rate_hz))
            m = (a - lo) // k
            if m == 0:
                continue
            before = acc[s][a - m * k : a].reshape(m, k, 3).mean(axis=1)
            far = angle_between_deg(before, ref) > settings.held_lockout_deg
            if far.sum() * HOLE_BLOCK_S >= HOLE_MIN_S:
                out[i] = True
                break
    return out


def slipped_between(
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    lo: int,
    hi: int,
    rate_hz: float,
    settings: CalibrationSettings,
) -> bool:
    """Did any sensor's strap slip (a burst of its own, ``slips.own_slips``) in [lo, hi)?

    The gyro as read: a slip stands out from the running median, which a
    bias of a few deg/s does not change.
    """
    part = {s: (g[lo:hi], valid[s][lo:hi]) for s, g in gyr.items()}
    return any(
        own_slips(g, ok, [o for n, o in part.items() if n != s], rate_hz, settings)
        for s, (g, ok) in part.items()
    )


def turned_alone(
    acc: Mapping[str, FloatArray],
    first: tuple[int, int],
    later: tuple[int, int],
    settings: CalibrationSettings,
) -> bool:
    """Did one sensor's gravity direction change by ``gap_slip_deg`` or more
    between two still periods in the standing pose while every other's
    changed by less than ``gap_others_share`` of it (a slip, also one
    hidden in lost data, as ``slips.gap_slips`` tells it)?"""
    turned = np.array(
        [
            float(angle_between_deg(a[first[0] : first[1]].mean(0), a[later[0] : later[1]].mean(0)))
            for a in acc.values()
        ]
    )
    big = turned >= settings.gap_slip_deg
    small = turned < settings.gap_others_share * settings.gap_slip_deg
    return bool(turned.size >= 2 and big.sum() == 1 and small.sum() == turned.size - 1)


def standing_tall(
    acc: Mapping[str, FloatArray],
    gyr: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    cands: list[tuple[int, int]],
    rate_hz: float,
    settings: CalibrationSettings,
) -> int:
    """Which of the still periods ``cands`` (time order, one pose) is the stance.

    The earliest that is no held lockout (:func:`held_lockouts`), unless a
    strap slipped between the earliest period and it (in the gyro, or a
    sensor's pose alone changed); else the earliest.
    """
    held = held_lockouts(acc, cands, rate_hz, settings)
    pick = int(np.argmin(held))
    if pick == 0 or held[pick]:
        return 0
    a, b = cands[pick]
    k = max(1, round(HOLE_BLOCK_S * rate_hz))
    # its first and last moments both: a slip hidden in a bridged gap can
    # fall inside a still period (the bridge is a smooth line)
    if any(turned_alone(acc, cands[0], span, settings) for span in ((a, a + k), (b - k, b))):
        return 0
    if slipped_between(gyr, valid, cands[0][0], b, rate_hz, settings):
        return 0
    return pick
