"""When the live analyser calibrates, and calibrates again (``LiveSettings``).

The settings of :class:`~hinge_imu.core.live.LiveAnalyser`, apart from
those it shares with the offline analysis (``AnalysisSettings``); every
field is a named threshold with its unit (docs/live.md, docs/analysis.md
"Live").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LiveSettings"]


@dataclass(frozen=True)
class LiveSettings:
    """When the live analyser takes a calibration.

    Attributes:
        retry_every_s: how often a calibration is tried while waiting, s of data.
        stance_margin_s: data needed beyond ``min_stance_s`` before a first try, s.
        min_axis_movement_s: pelvis movement after the stance (gyro above the
            calibration's ``moving_gyro_dps``) needed before the axes are
            trusted, when every sensor's calibration is clear, s.
        max_axis_wait_s: with this much movement after the stance, calibrate
            even if a sensor (a thigh that hardly moves in a perfect hinge)
            has not shown its axis clearly, s.
        keep_max_s: longest stretch of grid ticks kept while waiting, s.
        nag_after_s: after this long without a calibration the user is told
            what is needed, s.
        upright_wait_s: without a still stance, a calibration on the upright
            moments between reps is taken once this much data is kept even
            when the first rep has not shown them clearly (see
            ``live_ready.in_opening_pose``; a recording opening mid-movement), s.
        upright_opening_s: the pose the data opens in is the accelerometers'
            mean direction over this long, s: the upright moments must be in
            it (the standing pose, not the bottom of a rep).
        upright_min_pose_s: … and they must add up to this much before
            ``upright_wait_s`` (the turning points of back-to-back reps alone,
            ~0.1 s, give too rough a vertical and gyro bias), s.
        cycles_min_data_s: a calibration whose gyro biases come from the
            rep cycles since the opening (``Calibration.opening_cycles``:
            back-to-back reps from the start) is tried from this much data
            (rep 1's lockout, not ``min_stance_s`` + ``stance_margin_s``),
            taken without ``upright_min_pose_s``, in the pose of the data's
            first ``CalibrationSettings.cycle_opening_s`` (rep 1 starts
            0.1–0.2 s in), and with its rep 1 counted from the opening, s.
        cycles_settled_pose_s: … and a calibration on at least this much of
            the standing pose at a rest replaces it (the cycle bias is a few
            °/s off), s.
        cycles_again_tilt_deg: while it stands, a calibration again without
            a still stance that moves a pose sensor's vertical beyond this is
            refused (a few moments, one a lockout with the ribs flared, or a
            calibration after rep 4 on 0.45 s of moments putting the upper
            back 11° off: steps then read as reps; SIMULATED 16 sessions
            same reps 13/16 at 12°, 15/16 at 6°), deg.
        recalibrate_after_reps: once this many reps are seen (and back up),
            calibrate again on every tick since the start (not only the
            last ``keep_max_s``: a set starts standing, the pose test of
            the upright moments needs the opening), as offline would on
            that data; one entry per re-calibration. Taken only if no
            sensor clear before comes out unclear.
        again_within_s: … only within this much data from its first sample
            (the ticks are kept until then, and a calibration costs more the
            more there are), s.
        rest_again_s: also every this long of a rest after a rep's end (a
            pause between sets may hold a still stance, or show a strap that
            slipped: found as offline finds it, on all seen so far); taken
            only when it tells something new (a stance, a slip, an axis
            now clear); and every this long of a movement, taken only on a
            new strap slip (a slip at a rest looks like a rep), s.
        again_lead_s: the new stages start this long before the next angle
            row, their filters led in backward over the ticks from there
            (what they find before that row was told already), s.
    """

    retry_every_s: float = 0.25
    stance_margin_s: float = 0.5
    min_axis_movement_s: float = 1.0
    max_axis_wait_s: float = 6.0
    keep_max_s: float = 60.0
    nag_after_s: float = 20.0
    upright_wait_s: float = 20.0
    upright_opening_s: float = 0.5
    upright_min_pose_s: float = 0.3
    cycles_min_data_s: float = 1.0
    cycles_settled_pose_s: float = 1.0
    cycles_again_tilt_deg: float = 6.0
    recalibrate_after_reps: tuple[int, ...] = (3, 6, 9)
    again_lead_s: float = 10.0
    again_within_s: float = 180.0
    rest_again_s: float = 2.5
