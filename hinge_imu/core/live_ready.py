"""When a live calibration can be taken: the checks of ``LiveAnalyser`` on what it has seen.

Offline the calibration sees the whole recording; live, a calibration on
the data so far can be wrong in ways the whole would show (a pause in the
hole as the only stop, a fidget as the only movement). These checks say
when the data so far supports one, and when a calibration again is worth
taking (docs/analysis.md, "Live").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from hinge_imu.core.angles import angle_between_deg
from hinge_imu.core.arrays import norm_rows
from hinge_imu.core.calibration import ANGLE_READERS, Calibration
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.live_settings import LiveSettings
from hinge_imu.core.orientation import OrientationSettings, vertical_over
from hinge_imu.core.results import SensorCalibration
from hinge_imu.core.short_stance import BIAS_FROM_STOPS
from hinge_imu.core.stance import pose_sensor_names, same_pose
from hinge_imu.core.step import AnalysisStep
from hinge_imu.core.timegrid import GridChunk

#: Why a try of live's first calibration was refused ("": taken), in the order checked.
WaitReason = Literal[
    "",
    "no_pelvis",
    "data",
    "no_stance",
    "stance_data",
    "pose_short",
    "not_opening",
    "axes",
    "no_rep",
]

#: What each refusal tells the user waiting for the first calibration (docs/live.md).
WAIT_WORDS: dict[WaitReason, str] = {
    "": "calibrated",
    "no_pelvis": "no data from the pelvis sensor yet",
    "data": "too little data yet",
    "no_stance": "no moment standing still yet",
    "stance_data": "too little data for a still stance yet",
    "pose_short": "no rep back up to a moment standing tall yet",
    "not_opening": "no rep back up standing as you started yet",
    "axes": "not enough hinging yet to find every flexion axis",
    "no_rep": "no rep between two moments standing tall yet",
}


@dataclass(frozen=True)
class CalibrationTry:
    """One try of live's first calibration: what ``LiveAnalyser._try_calibrate`` weighed, and
    why it was refused (``reason``; "" taken). A fact it did not weigh is None.

    Attributes:
        t_s: newest sample time at the try, s.
        reason: the first check that held the calibration off ("" none).
        data_s: the least data kept of any sensor that sent some, s.
        calibration: the calibration weighed (None: none possible yet).
        opening: it is in the pose the data opens in (``in_opening_pose``).
        moved_s: pelvis movement after its stance, s (``movement_after_stance_s``).
        axes_clear: every sensor an angle reads is clear (``reads_clear``).
        reps: the reps the stages on it found in the ticks kept.
        rep_seen: one of them counts (``rep_seen``).
    """

    t_s: float
    reason: WaitReason = ""
    data_s: float = 0.0
    calibration: Calibration | None = None
    opening: bool | None = None
    moved_s: float | None = None
    axes_clear: bool | None = None
    reps: int | None = None
    rep_seen: bool | None = None

    @property
    def words(self) -> str:
        """The reason as the user is told it."""
        return WAIT_WORDS[self.reason]


def clear(c: SensorCalibration) -> bool:
    """The sensor's calibration is ok and has nothing to say (its flexion axis clear)."""
    return c.ok and not c.messages


def in_opening_pose(
    chunks: Mapping[str, GridChunk],
    cal: Calibration,
    opening_s: float,
    rate_hz: float,
    settings: CalibrationSettings,
    orientation: OrientationSettings,
) -> bool:
    """The calibration's standing pose is the pose the data opens in.

    With only one or two stops seen, the pose ``calibrate_grid`` calls
    standing can be the bottom of the first rep (a pause in the hole, the
    only stop so far), every angle then reading upside down. So it is
    taken early only in the pose of the data's first ``opening_s`` (within
    ``pose_tolerance_deg``, as :func:`~hinge_imu.core.stance.same_pose`):
    a set starts standing. That pose is the orientation filter's vertical
    (on the calibration's gyro bias, led in backward from ``lead_in_s``
    in), not the accelerometer's direction: a recording that opens walking
    in swings the accelerometers 20–70° from the pose the walker stands in.
    """
    n_open = max(1, round(opening_s * rate_hz))
    pose = pose_sensor_names(chunks)
    differ = 0
    for s in pose:
        c = chunks[s]
        valid = ~c.gap
        first = int(np.argmax(valid))
        if int(valid.sum()) < n_open:
            return False
        b = cal.sensors[s].gyro_bias_dps
        est = cal.kind in BIAS_FROM_STOPS  # as the angles are read on it
        filt = replace(
            orientation,
            rate_hz=rate_hz,
            gyro_bias_dps=(b[0], b[1], b[2]),
            rest_bias_estimation=est or orientation.rest_bias_estimation,
            motion_bias_estimation=est or orientation.motion_bias_estimation,
        )
        end = first + max(n_open, round(orientation.lead_in_s * rate_hz))
        acc = cal.correct_acc(s, c.acc_mps2[first:end])  # as the calibration read it
        up = vertical_over(acc, c.gyr_dps[first:end], valid[first:end], filt)
        off_deg = float(angle_between_deg(up[:n_open].mean(axis=0), cal.R_S_B(s)[:, 2]))
        differ += off_deg > settings.pose_tolerance_deg
    return bool(same_pose(np.array(differ), len(pose)))


def movement_after_stance_s(
    pelvis: GridChunk, cal: Calibration, rate_hz: float, settings: CalibrationSettings
) -> float:
    """Pelvis movement after the stance, s (the flexion axes need some)."""
    after = round(cal.stance_end_s * rate_hz) - pelvis.k0
    bias = np.asarray(cal.sensors["pelvis"].gyro_bias_dps)
    gyr = pelvis.gyr_dps[after:] - bias
    moving = (norm_rows(gyr) > settings.moving_gyro_dps) & ~pelvis.gap[after:]
    return float(moving.sum() / rate_hz)


def rep_seen(
    step: AnalysisStep, cal: Calibration, axes_clear: bool, from_opening: bool = False
) -> bool:
    """A rep of ``step`` lies between the first and the last upright moment of ``cal``,
    or after the first with every sensor's axis clear (back-to-back reps after
    the opening show no turning point long enough for an upright moment).
    ``from_opening``: the data's opening counts as the first moment (a set
    starts standing; rep 1 starting within 0.2 s has no moment before it)."""
    first_s = -np.inf if from_opening else cal.stance_start_s
    after = (r.metrics for r in step.reps if r.metrics.t_start >= first_s)
    return any(axes_clear or m.t_end <= cal.stance_end_s for m in after)


def tells_news(
    old: Calibration, new: Calibration, was_clear: set[str], settled_pose_s: float = np.inf
) -> bool:
    """``new`` tells something ``old`` did not: another kind (a still stance after a short one
    or upright moments; or the data so far no longer shows the old one's), a slip, an axis
    now clear or ok, an accelerometer now corrected (``acc_fit``: rest pairs enough at
    last); after one from the opening's rep cycles, one on at least ``settled_pose_s``
    of the standing pose)."""
    cleared = any(s not in was_clear and clear(c) for s, c in new.sensors.items())
    now_ok = any(c.ok and not old.sensors[s].ok for s, c in new.sensors.items() if s in old.sensors)
    fitted = bool(_corrected(new) - _corrected(old))
    # A bias from the rep cycles since the opening is rough (a few °/s): one on
    # ``settled_pose_s`` of upright moments is news (SIMULATED: steps read as reps
    # otherwise; on the 0.45 s of moments after set 1 a vertical read 11° off).
    rough = old.opening_cycles and not new.opening_cycles and new.pose_s >= settled_pose_s
    news = new.kind != old.kind or rough or new_slip(old, new)
    return news or cleared or now_ok or fitted


def _corrected(cal: Calibration) -> set[str]:
    """The sensors whose accelerometer ``cal`` corrects."""
    return {s for s, fit in cal.acc.items() if fit.applied}


def tilts_cycles(old: Calibration, new: Calibration, limit_deg: float) -> bool:
    """``old`` came from the rep cycles since the opening and ``new``, again without a
    still stance, moves a pose sensor's vertical beyond ``limit_deg``.

    Early in such a set the upright moments are a few turning points; one
    lockout held with the ribs flared (true trunk −17°, SIMULATED) can be
    most of them, and the trunk then reads inclined while walking: steps
    pass for reps. A still stance is always taken."""
    if not old.opening_cycles or new.kind not in BIAS_FROM_STOPS:
        return False
    return any(
        angle_between_deg(old.R_S_B(s)[:, 2], new.R_S_B(s)[:, 2]) > limit_deg
        for s in pose_sensor_names(new.sensors)
        if s in old.sensors
    )


def taken_again(
    old: Calibration, new: Calibration, due: str, live: LiveSettings
) -> Calibration | None:
    """The calibration to go on with after calibrating again for ``due`` ("reps", "rest",
    "axis", "slip": ``LiveAnalyser._again_due``), or None to keep ``old``."""
    was_clear = {s for s, c in old.sensors.items() if clear(c)}
    if any(s in was_clear and not clear(c) for s, c in new.sensors.items()):
        return None  # not a better calibration: a sensor it leaves unclear was clear
    if tilts_cycles(old, new, live.cycles_again_tilt_deg):
        if not new.opening_cycles:
            return None  # a few moments, one of them not standing
        new = with_biases_of(old, new)  # … but the biases over more cycles are better
    if due in ("rest", "axis") and not tells_news(old, new, was_clear, live.cycles_settled_pose_s):
        return None  # a rest that shows nothing new
    if due == "slip" and not new_slip(old, new):
        return None  # a movement, no new slip
    return new


def with_biases_of(old: Calibration, new: Calibration) -> Calibration:
    """``old`` with ``new``'s gyro biases (and bias tracks): both from the rep cycles since
    the opening, ``new`` over more of them (a fast lockout's missed pose weighs less),
    but its pose tilted by a few moments (``tilts_cycles``)."""
    sensors = {
        s: replace(
            c,
            gyro_bias_dps=new.sensors[s].gyro_bias_dps,
            last_gyro_bias_dps=new.sensors[s].last_gyro_bias_dps,
            bias_rests=new.sensors[s].bias_rests,
        )
        for s, c in old.sensors.items()
        if s in new.sensors
    }
    return replace(old, sensors=sensors, bias=new.bias)


def new_slip(old: Calibration, new: Calibration) -> bool:
    """``new`` finds strap slips ``old`` did not (or not the same number)."""
    return {s: len(v) for s, v in new.slips.items()} != {s: len(v) for s, v in old.slips.items()}


def reads_not_ok(cal: Calibration | None) -> bool:
    """A sensor an angle reads is not ok in ``cal``: every rep is left unjudged."""
    return cal is not None and any(not c.ok for s, c in cal.sensors.items() if s in ANGLE_READERS)


def reads_clear(cal: Calibration) -> bool:
    """Every sensor an angle reads is clear in ``cal`` (a shank or foot no rule needs, never
    clear, does not hold a calibration back: issue 12, "an extra sensor")."""
    return all(clear(c) for s, c in cal.sensors.items() if s in ANGLE_READERS)
