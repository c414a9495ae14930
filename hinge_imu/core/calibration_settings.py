"""Every threshold of the calibration, with its unit (docs/analysis.md, "1. Calibration")."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CalibrationSettings"]


@dataclass(frozen=True)
class CalibrationSettings:
    """How the stance, the axes, the slips and the verdict are found.

    Stance and bias (``stance.py``):
        min_stance_s: shortest still period accepted as the stance, s.
        max_stance_s: only the first this-many seconds of a still period are
            used (a long "still" period may hide a slow weight shift), s.
        pin_stance_s: a stance starting within this of the data's start
            pins the gyro bias track to its own mean rate; a later one
            follows movement (a set, a walk, a fidget) and its mean rate
            holds the person settling: one rest among the others, s.
        still_vary_dps: a still sensor's smoothed gyro stays this close to
            its own ``still_mean_s`` mean (how much it varies, not its level:
            real gyros read several deg/s at rest), deg/s.
        still_mean_s: the window of that mean, s.
        still_acc_deg: a still sensor's accelerometer direction varies less
            than this (RMS about its moving mean; the direction, because real
            accelerometers read 10–40 % off in magnitude), deg.
        still_gyro_dps: … and its smoothed rate is this close to its rough
            bias (the median rate while quiet), deg/s.
        smooth_s: smoothing window for the still test, s.
        pose_tolerance_deg: still periods within this of each other are one pose, deg.
        stance_opening_deg: a still period in the standing pose is no stance
            when its pose is further than this both from the pose the
            recording opens in and from the one it closes in (then every
            still period is a pause in the hole or a lockout left undone), deg.
        held_lockout_s, held_lockout_deg: a still period whose pelvis or
            upper back stood more than ``held_lockout_deg`` from its own pose
            within ``held_lockout_s`` before it is a rep's lockout held
            (pelvis tucked), taken as the stance only when no other still
            standing period exists (``held_lockout.py``), s and deg.
        upright_min_s: without a still stance, the brief stops between reps
            (every sensor turning less than ``upright_gyro_dps`` beyond its
            bias) lasting this long are the upright moments calibrated on, s.
        upright_gyro_dps: … that turning rate, deg/s (real sensors jitter by
            2–7 °/s at rest).
        upright_turn_min_s: without any such stop (back-to-back reps), the
            turning points between reps, every sensor that slow for at least
            this long, are used instead, s.
        upright_bias_rounds: … each gyro bias, the densest cluster of the
            steady samples' rates, is refined this often on those turning less
            than ``still_gyro_dps`` beyond it, rounds.
        max_bias_dps: the most a gyro reads at rest (a MEMS gyro's zero-rate
            offset: ±20 °/s at worst in common datasheets); quiet samples
            turning faster are slow movement, never the bias, deg/s.
        bias_gravity_turn_dps: … the cluster's centre is sought only among
            samples where most sensors' accelerometer direction (smoothed
            over ``smooth_s``) turns slower than this: a swaying or
            fidgeting body rocks it (1.5° of simulated sway: 10–60 °/s,
            mostly the sway's linear acceleration, ~5× the gyro's own turn)
            while its gyros vary slowly enough to look steady and crowd a
            rate several °/s off the bias; at rest it hardly moves. Most,
            not every, sensor: a real thigh accelerometer alone is noisy
            enough to trip it (every sensor at 20 °/s split a real squat-rt
            set's rep). Only the turn across gravity shows; a twist about
            the vertical passes. The refinement rounds use every steady
            sample (sway about the bias is two-sided, its median stays
            there); none left: no gate, deg/s.
        bias_candidates: how many quiet rates are tried as that cluster's
            centre (an even subsample; more only costs time), count.
        cycle_bias_max_steady_s: with less than this of every sensor steady
            at once and no accelerometer rocking (what ``joint_bias`` rests
            on), the gyro biases come from whole rep cycles instead
            (``cycle_bias.py``: the mean rate between two ends in the
            standing pose, less the tilt between them), s.
        cycle_bias_max_lead_s: … and only when the first rep's hole comes
            at most this long after the short stance (a walk in between
            turns the person about the vertical, which the cycles take as
            none; SIMULATED fast sets after a swaying stance: 1–2 s), s.
        cycle_bias_min_s: … from the middle of the first end (the short
            stance, else the first upright moment) to the middle of the last
            upright moment at least this long (pose mismatch over it is the
            error: 2° over 2 s is 1 °/s), s.
        cycle_bias_rounds: … the rotation integrated with the bias and the
            bias corrected this often (a rep turning about two axes does
            not add up as vectors), rounds.
        cycle_opening_max_steady_s: without any short stance, with less
            than this of every sensor steady at once (back-to-back reps from
            the data's first moment: SIMULATED fast sets 0.0–0.3 s during set
            1, the steady moments' bias then 1–28 °/s off and their verticals
            up to 19° off), the gyro biases come from whole rep cycles from
            the data's first ``cycle_opening_s`` (a set starts standing) to
            each sensor's last lockout in that pose (an upright moment or a
            turning point, at least ``cycle_opening_min_s`` after it); the
            pose at both ends taken as the same (at a turning point the
            upper back's accelerometer reads the reversal: 5–33 °/s off with
            its tilt, 0.4–6.2 without), s.
        cycle_gyro_pose_s: … where no lockout passes the accelerometers'
            pose test yet (at a fast lockout the pelvis' reads the reversal
            too, 15–27° off), a turning point within this of the opening whose
            pose sensors' gyro turned less than ``pose_tolerance_deg`` since
            it (an unknown bias turns it a few degrees in that time, a rep's
            bottom 30–100°), s.
        cycle_opening_pairs, cycle_opening_ends: … with this many lockouts
            or more, the median of the biases between every two of the last
            ``cycle_opening_ends`` (the pose a fast lockout misses from the
            opening's, 2–5° on the pelvis, drops out), count.
        cycle_turn_dps, cycle_turn_smooth_s: … the last end may be a
            turning point (back-to-back reps stop too briefly for an upright
            moment): the sensors' rates beyond the upright moments' bias,
            smoothed over ``cycle_turn_smooth_s``, summed, at a local
            minimum under ``cycle_turn_dps`` per sensor, in the standing
            pose, deg/s and s.
        short_stance_min_s: without a still stance of ``min_stance_s``, a
            quiet standing period this long gives the reference pose (the
            gyro bias still comes from the upright moments; ``short_stance.py``), s.
        short_stance_sway_deg: … over it every pose sensor's accelerometer
            direction (smoothed over ``smooth_s``) stays within this of its
            mean: a swaying stance passes (1.5° of simulated sway rocks an
            upper back's direction by up to 11°, mostly linear
            acceleration), a walk (a thigh's 20–25°) or a knock does not, deg.
        short_stance_turn_deg: … and its turn (the gyro less the upright
            moments' bias, integrated) stays within this of its mean: a
            simulated swaying stance turns 1.0–2.1°, the first half second
            of a rep 3° or more, a walk 8–18°, deg.

    Trunk axes (pelvis, upper back, head):
        moving_gyro_dps: gyro rate above which a sample counts as movement, deg/s.
        axis_window_s: movement after the stance used for the axes, s.
        min_axis_samples: fewer moving samples than this show no axis, samples.
        sign_tail_pct: the sign of a trunk axis makes the larger of the two
            tails (this percentile at either end) forward, %.

    Limb axes (thigh):
        rep_tilt_deg: pelvis/trunk tilt above which the data is inside a rep
            (per-rep thigh axes, the thigh's sign), deg.
        walking_upright_deg: pelvis/trunk tilt under which a moving limb is
            walking, deg.
        min_walking_s: walking needed to take the thigh axis from it, s.
        rep_axis_cluster_deg: per-rep thigh axes within this of their robust
            centre are averaged, deg.
        lean_min_frontal_deg: a sideways weight shift changes the pelvis's
            frontal angle by at least this (its range) within one unbroken
            stretch …, deg.
        lean_max_sagittal_deg: … where its sagittal tilt stays under this, deg.
        lean_min_s: … of at least this long, s.
        lean_max_gap_s: lost data up to this long leaves such a stretch
            whole (SIMULATED harsh: bursts up to ~0.8 s; a hinge rep, which
            the pelvis's own data would show, takes longer), s.
        lean_max_spread: the thigh's gravity must move with the pelvis's
            lean: the share of its movement in those stretches that the lean
            does not explain (least squares) below this.
        lean_ratio_min, lean_ratio_max: the thigh must lean about as far as
            the pelvis: its gravity change per unit of pelvis lean within these.

    Strap slips (``slips.py``):
        slip_rate_dps: a sensor turning this much faster than its smooth motion
            (the ``slip_median_s`` running median) is slipping on its strap, deg/s.
        slip_median_s: the window of that running median, s.
        slip_screen_share: candidates first pass this share of
            ``slip_rate_dps`` away from the running mean (a cheap screen).
        slip_edge_share: a slip runs while the rate stays above this share
            of ``slip_rate_dps``.
        slip_min_deg, slip_max_s: a slip turns at least this far, this quickly.
        slip_chain_share: … and on its own: no other sensor an angle reads
            turns faster than this share of the sensor's own peak rate
            around it (a fast deep rep turns the whole chain), 0–1.
        gap_slip_deg: a sensor whose gravity direction changed this much across
            a long gap, while the others' did not, slipped during the gap, deg.
        gap_others_share: … the others' changed by less than this share of
            ``gap_slip_deg``.
        gap_rest_min_s: still moments compared across a gap last this long, s.
        gap_rest_window_s: … and lie within this of the gap, s.
        gap_rest_near_s: … within this of a gap short enough to be bridged
            (``GridSettings.hidden_slip_s`` to ``max_bridge_s``), s.
        refit_min_s: valid data after a slip in lost data needed to fit its
            flexion axis again, s.

    Verdict:
        min_axis_confidence: below this a sensor's calibration is not ok (0–1).
        min_movement_deg: a sensor that never turned this far cannot show its axis, deg.
    """

    min_stance_s: float = 1.0
    max_stance_s: float = 2.0
    pin_stance_s: float = 1.0
    still_vary_dps: float = 4.0
    still_mean_s: float = 0.3
    still_acc_deg: float = 2.0
    still_gyro_dps: float = 6.0
    smooth_s: float = 0.2
    pose_tolerance_deg: float = 12.0
    stance_opening_deg: float = 11.0
    held_lockout_s: float = 1.5
    held_lockout_deg: float = 15.0
    upright_min_s: float = 0.1
    upright_gyro_dps: float = 12.0
    upright_turn_min_s: float = 0.02
    upright_bias_rounds: int = 3
    max_bias_dps: float = 25.0
    bias_gravity_turn_dps: float = 10.0
    bias_candidates: int = 400
    cycle_bias_max_steady_s: float = 1.0
    cycle_bias_max_lead_s: float = 3.0
    cycle_bias_min_s: float = 1.5
    cycle_bias_rounds: int = 3
    cycle_opening_max_steady_s: float = 1.0
    cycle_opening_pairs: int = 3
    cycle_gyro_pose_s: float = 2.0
    cycle_opening_ends: int = 6
    cycle_opening_s: float = 0.1
    cycle_opening_min_s: float = 0.6
    cycle_turn_dps: float = 20.0
    cycle_turn_smooth_s: float = 0.05
    short_stance_min_s: float = 0.5
    short_stance_sway_deg: float = 12.0
    short_stance_turn_deg: float = 2.5
    moving_gyro_dps: float = 15.0
    axis_window_s: float = 240.0
    min_axis_samples: int = 10
    sign_tail_pct: float = 0.5
    rep_tilt_deg: float = 15.0
    walking_upright_deg: float = 8.0
    min_walking_s: float = 2.0
    rep_axis_cluster_deg: float = 20.0
    lean_min_frontal_deg: float = 2.0
    lean_max_sagittal_deg: float = 2.0
    lean_min_s: float = 0.5
    lean_max_gap_s: float = 1.0
    lean_max_spread: float = 0.05
    lean_ratio_min: float = 0.7
    lean_ratio_max: float = 1.4
    slip_rate_dps: float = 150.0
    slip_median_s: float = 0.3
    slip_screen_share: float = 0.8
    slip_edge_share: float = 0.25
    slip_min_deg: float = 5.0
    slip_max_s: float = 0.3
    slip_chain_share: float = 0.33
    gap_slip_deg: float = 8.0
    gap_others_share: float = 0.5
    gap_rest_min_s: float = 0.1
    gap_rest_window_s: float = 30.0
    gap_rest_near_s: float = 1.0
    refit_min_s: float = 1.0
    min_axis_confidence: float = 0.5
    min_movement_deg: float = 8.0
