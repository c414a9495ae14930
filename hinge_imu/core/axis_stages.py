"""The calibration's axis stages: where each sensor's segment points and how it bends.

Stages 2, 4 and 5 of ``calibration.calibrate`` (docs/analysis.md,
"1. Calibration"): :func:`verticals` reads earth up in each sensor frame
with the same orientation filter the angles use later (so the reference
pose and the angles agree); :func:`trunk_axes` fits the pelvis, upper back
and head flexion axes from the movement; :func:`limb_axes` fits the thigh's
from walking, a sideways weight shift or the reps, given the trunk's. The
axis fitting itself (pure geometry on arrays) is in ``axes.py``; these
stages choose which data it sees and which way is forward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import segment_angles_deg
from hinge_imu.core.arrays import unit
from hinge_imu.core.axes import axis_from_gyro, frame, lean_axis, limb_axis, walked
from hinge_imu.core.calibration_data import TRUNK_SENSORS, Axes, AxisInput, GridData, Stance
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.orientation import OrientationSettings, vertical_over
from hinge_imu.core.rest_bias import BiasTrack
from hinge_imu.core.short_stance import BIAS_FROM_STOPS, SHORT_STANCE, settle_short_stance

__all__ = ["limb_axes", "trunk_axes", "trunk_tilt", "verticals"]

FloatArray = npt.NDArray[np.float64]


def verticals(
    grid: GridData,
    st: Stance,
    orientation: OrientationSettings,
    tracks: Mapping[str, BiasTrack] | None = None,
) -> dict[str, FloatArray]:
    """Stage 2: earth up in each sensor frame (N', 3) up to the end of the axis window.

    The filter runs from the first sample with the gyro bias removed (the
    stance's, or as tracked at rests), settled by a backward lead-in, as the
    later angles do: the stance's vertical is then the one they read (a
    short stance's read backward: ``short_stance.settle_short_stance``).
    """
    out = {}
    end = st.axis_end
    for s in grid.sensors:
        b = st.bias_dps[s]
        bias = (float(b[0]), float(b[1]), float(b[2]))
        est = st.kind in BIAS_FROM_STOPS  # as the later angles do (stream.AnalysisStages)
        settings = replace(
            orientation,
            rate_hz=grid.rate_hz,
            gyro_bias_dps=bias,
            rest_bias_estimation=est or orientation.rest_bias_estimation,
            motion_bias_estimation=est or orientation.motion_bias_estimation,
        )
        track = (tracks or {}).get(s)
        per_tick = None if track is None else track.at(grid.k0 + np.arange(end))
        acc, gyr = grid.acc_mps2[s][:end], grid.gyr_dps[s][:end]
        out[s] = vertical_over(acc, gyr, grid.valid[s][:end], settings, per_tick)
        if st.kind == SHORT_STANCE:
            settle_short_stance(out[s], grid, s, st, settings, per_tick)
    return out


def trunk_axes(data: AxisInput, cs: CalibrationSettings) -> Axes:
    """Stage 4: pelvis, upper back, head: one clear axis each; forward is where they tilt far."""
    grid, st, vert, use = data.grid, data.stance, data.vertical, data.use
    seg = slice(st.axis_start, st.axis_end)
    frames, sag, conf = {}, {}, {}
    for s in (s for s in TRUNK_SENSORS if s in grid.acc_mps2):
        z = unit(st.pose_mean(vert[s]))
        w = (grid.gyr_dps[s][seg] - st.bias_dps[s])[use[s][seg]]
        axis, conf[s] = axis_from_gyro(w, z, cs)
        frames[s] = frame(z, axis)
        sag[s] = segment_angles_deg(vert[s][seg], frames[s])[0]
        lo, hi = np.nanpercentile(sag[s], [cs.sign_tail_pct, 100.0 - cs.sign_tail_pct])
        if -lo > hi:
            frames[s] = frame(z, -axis)
            sag[s] = -sag[s]
    return Axes(frames, sag, conf)


def trunk_tilt(trunk: Axes) -> FloatArray | None:
    """The larger of pelvic tilt and trunk inclination over the axis window (None: neither)."""
    sag = trunk.sagittal_deg
    if "upper_back" in sag and "pelvis" in sag:
        return np.fmax(sag["pelvis"], sag["upper_back"])
    return sag.get("pelvis", sag.get("upper_back"))


def limb_axes(data: AxisInput, trunk: Axes, cs: CalibrationSettings) -> Axes:
    """Stage 5: the thigh (and any other limb sensor), given the trunk's axes.

    Its axis from walking if there was any, else from a sideways weight
    shift, else the median over reps (knee cave moving with the hinge would
    tilt a single fit); the knee goes forward as the pelvis tilts forward.
    """
    grid, st, vert, use = data.grid, data.stance, data.vertical, data.use
    seg = slice(st.axis_start, st.axis_end)
    rate = grid.rate_hz
    ref = trunk.sagittal_deg.get("pelvis", trunk.sagittal_deg.get("upper_back"))
    tilt = trunk_tilt(trunk)
    frames, sag, conf, msgs = {}, {}, {}, []
    for s in (s for s in grid.sensors if s not in trunk.frames):
        z = unit(st.pose_mean(vert[s]))
        w = grid.gyr_dps[s][seg] - st.bias_dps[s]
        axis, conf[s] = limb_axis(w, z, use[s][seg], tilt, rate, cs)
        steps = walked(w, use[s][seg], tilt, rate, cs)
        shift = None
        if not steps and "pelvis" in trunk.frames:
            pelvis_vert = vert["pelvis"][seg]
            shift = lean_axis(
                vert[s][seg], z, use[s][seg], pelvis_vert, trunk.frames["pelvis"], rate, cs
            )
        if shift is not None:
            axis = shift
        elif s == "thigh" and not steps:
            msgs.append(
                "thigh: flexion axis from the reps (no walking or sideways weight "
                "shift seen); knee cave that happens in every rep reads low — walk a "
                "few steps after the stance to calibrate the thigh"
            )
        frames[s] = frame(z, axis)
        sag[s] = segment_angles_deg(vert[s][seg], frames[s])[0]
        if ref is None:
            continue
        in_rep = ref > cs.rep_tilt_deg
        if in_rep.any() and float(np.nansum(-sag[s][in_rep] * ref[in_rep])) < 0:
            frames[s] = frame(z, -axis)
            sag[s] = -sag[s]
    return Axes(frames, sag, conf, tuple(msgs))
