"""Calibration as named stages, on sensor data already on the analysis grid.

``calibrate(grid)`` runs, in order (docs/analysis.md, "1. Calibration"):

1. :func:`stance_and_bias` (``stance.py``): the first still period ≥
   ``min_stance_s`` in the standing pose (the pose holding most of the still
   time), announced when it is not at the start; each sensor's gyro bias is
   its mean rate over the stance. Without one (``short_stance.py``): the
   gyro biases from the upright moments between reps (where those are
   too brief, from whole rep cycles), the reference pose
   from a short stance if there is one, else from those moments.
2. :func:`verticals` (``axis_stages.py``, as are stages 4 and 5): earth
   up in each sensor frame from the orientation filter (so it agrees with
   the later angles); the segment z axis is its mean over the stance.
3. :func:`strap_slips` (``slip_stages.py``; detectors in ``slips.py``):
   slips seen in the gyro or hidden in lost data; the axes are fitted on
   the data turned back by every slip seen in the gyro, up to a sensor's
   first slip in lost data.
4. :func:`trunk_axes`: pelvis, upper back, head: the dominant axis of the
   bias-free gyro during movement, orthogonal to the vertical; forward is
   the side they tilt far to.
5. :func:`limb_axes`: the thigh: from walking, else a sideways weight
   shift, else the median of the per-rep axes; the knee goes forward as the
   pelvis tilts forward.
6. :func:`slip_mountings` (``slip_stages.py``): the mounting from each slip on (the flexion axis
   fitted again after a slip in lost data).
7. :func:`verdict`: each sensor ok or not, and why.

Given ``acc_fit`` (offline and live), right after the gyro bias tracks:
:func:`accelerometer_fits` (``acc_fit.py``) fits each accelerometer's
per-axis scale and offset on the data's rests and, where its gate
passes, stages 2–7 run on the corrected accelerometer.

Every threshold is a named field of ``CalibrationSettings`` with its unit.
:func:`calibrate_grid` is the one entry from grid chunks, used by the
offline analysis and the live analyser alike. A new stage is a function of
the same shape, called in ``calibrate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_SENSORS
from hinge_imu.core.acc_fit import AccCorrection, AccFitSettings, accelerometer_fits
from hinge_imu.core.angles import matrix_to_quat
from hinge_imu.core.axis_stages import limb_axes, trunk_axes, trunk_tilt, verticals
from hinge_imu.core.calibration_data import Axes, Calibration, GridData, Stance
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.messages import merge_repeats
from hinge_imu.core.offline_bias import track_bias
from hinge_imu.core.orientation import OrientationSettings
from hinge_imu.core.rest_bias import BiasTrack, RestBiasSettings
from hinge_imu.core.results import SensorCalibration
from hinge_imu.core.short_stance import BIAS_FROM_STOPS, stance_without_still
from hinge_imu.core.slip_stages import slip_mountings, strap_slips, unslipped
from hinge_imu.core.stance import NoStanceError, all_still, find_stance, quiet
from hinge_imu.core.timegrid import GridChunk

__all__ = [
    "Calibration",
    "CalibrationSettings",
    "GridData",
    "NoStanceError",
    "calibrate",
    "calibrate_grid",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: sensor → ``stance.quiet`` of all its samples (quiet mask, smoothed gyro).
QuietTicks = Mapping[str, tuple[BoolArray, FloatArray]]
#: Sensors some angle of docs/rules.md reads (the others never block a verdict).
ANGLE_READERS = frozenset(s for need in ANGLE_SENSORS.values() for s in need)


def _never_changes(acc_mps2: FloatArray, valid: BoolArray) -> bool:
    """The readings ``acc_mps2[valid]`` are all the same (or none)."""
    first = np.flatnonzero(valid[:1000])
    if first.size > 1 and np.any(acc_mps2[first] != acc_mps2[first[0]]):
        return False  # the usual case, decided on the first second or so
    acc = acc_mps2[valid]
    return acc.shape[0] == 0 or bool(np.all(acc == acc[0]))


def stance_and_bias(
    grid: GridData,
    cs: CalibrationSettings,
    quiet_ticks: QuietTicks,
    orientation: OrientationSettings,
) -> Stance:
    """Stage 1: the still standing stance and every sensor's gyro bias over it.

    ``quiet_ticks``: sensor → ``stance.quiet`` of all its samples;
    ``orientation``: the filter that reads where the trunk stands without one.
    """
    acc, gyr, rate = grid.acc_mps2, grid.gyr_dps, grid.rate_hz
    frozen = [s for s in acc if s in ANGLE_READERS and _never_changes(acc[s], grid.valid[s])]
    if frozen:
        # A sensor whose readings never change (exact zeros: one never started): truly nothing.
        raise NoStanceError(
            f"nothing to calibrate on: {', '.join(frozen)} sent the same reading throughout "
            "(exact zeros: was it started?)"
        )
    still = all_still(acc, gyr, grid.valid, rate, cs, quiet_ticks)
    n = min(x.shape[0] for x in acc.values())
    # The axes are fitted on the movement either side of the stance: offline
    # sees the whole recording, and a stance at its end has every rep before it.
    window = int(cs.axis_window_s * rate)
    try:
        a, b, msgs = find_stance(acc, gyr, grid.valid, rate, cs, still, grid.k0)
    except NoStanceError as err:
        return stance_without_still(grid, cs, still, err, orientation)
    bias = {s: gyr[s][a:b].mean(axis=0) for s in acc}
    return Stance(a, b, still, bias, max(0, a - window), min(n, b + window), tuple(msgs))


def first_stance(st: Stance, rate_hz: float, cs: CalibrationSettings) -> bool:
    """Does the data open with the stance (within ``pin_stance_s``)?

    Only such a stance pins the bias track (``track_bias``'s anchor). One
    later follows movement — a set (chosen over the lockouts held in it,
    ``held_lockout.py``), a walk, or fidgeting (a stance only at the end) —
    and its mean rate holds the person settling: it is then one rest among
    the others.
    """
    if st.kind != "stance":
        return False
    return st.start <= round(cs.pin_stance_s * rate_hz)


def bias_tracks(
    grid: GridData,
    st: Stance,
    cs: CalibrationSettings,
    rest: RestBiasSettings,
    quiet_ticks: QuietTicks,
) -> dict[str, BiasTrack]:
    """Each gyro bias over the whole data, from every rest in it (``rest_bias.py``).

    Before the first rest whole rep cycles measure it only after a still
    stance: without one the orientation filter goes on estimating the bias
    itself (``BIAS_FROM_STOPS``), and on REAL squat sets the cycles moved it
    by up to 1.7 °/s and broke a thigh's axis (docs/analysis.md, "Drift").
    """
    if st.kind in BIAS_FROM_STOPS:
        rest = replace(rest, cycles=False)
    return {
        s: track_bias(
            GridChunk(grid.k0, grid.acc_mps2[s], grid.gyr_dps[s], ~grid.valid[s]),
            st.bias_dps[s],
            grid.rate_hz,
            rest,
            cs,
            st.pose_mean(grid.acc_mps2[s]),
            grid.k0 + (st.start + st.end) // 2 if first_stance(st, grid.rate_hz, cs) else None,
            quiet_ticks[s],
        )
        for s in grid.sensors
    }


def verdict(
    grid: GridData,
    st: Stance,
    axes: Axes,
    cs: CalibrationSettings,
    tracks: Mapping[str, BiasTrack] | None = None,
    acc: Mapping[str, AccCorrection] | None = None,
) -> dict[str, SensorCalibration]:
    """Stage 7: every sensor's calibration, ok or not (and why, in its messages)."""
    t0, t1 = grid.t_s(st.start), grid.t_s(st.end)
    out: dict[str, SensorCalibration] = {}
    for s in grid.sensors:
        sag, conf = axes.sagittal_deg[s], axes.confidence[s]
        span = float(np.nanmax(np.abs(sag))) if sag.size else 0.0
        smsgs: list[str] = []
        ok = True
        if span < cs.min_movement_deg:
            smsgs.append(f"{s}: too little movement ({span:.0f}°) to find its flexion axis")
            ok = s == "thigh"  # a still thigh (knees locked) still measures ~0 honestly
        elif conf < cs.min_axis_confidence:
            smsgs.append(f"{s}: flexion axis unclear (confidence {conf:.2f})")
            ok = False
        if not ok and s not in ANGLE_READERS:
            smsgs[-1] += "; no rule reads it, so it is ignored"
        bias = st.bias_dps[s]
        track = (tracks or {}).get(s)
        last = bias if track is None else track.last_dps
        fit = (acc or {}).get(s)
        fitted = fit is not None and fit.applied
        out[s] = SensorCalibration(
            sensor=s,
            stance_start_s=t0,
            stance_end_s=t1,
            gyro_bias_dps=(float(bias[0]), float(bias[1]), float(bias[2])),
            q_S_B=tuple(float(x) for x in matrix_to_quat(axes.frames[s])),  # type: ignore[arg-type]
            axis_confidence=round(conf, 3),
            ok=ok,
            messages=tuple(smsgs),
            kind=st.kind,
            bias_rests=0 if track is None else track.rests,
            last_gyro_bias_dps=(float(last[0]), float(last[1]), float(last[2])),
            acc_scale=fit.scale if fitted and fit else None,
            acc_offset_mps2=fit.offset_mps2 if fitted and fit else None,
            acc_pairs=fit.pairs if fit else 0,
        )
    return out


def calibrate(
    grid: GridData,
    settings: CalibrationSettings | None = None,
    orientation: OrientationSettings | None = None,
    rest: RestBiasSettings | None = None,
    acc_fit: AccFitSettings | None = None,
) -> Calibration:
    """Calibrate every sensor from grid data: the stages above, in order.

    ``acc_fit``: fit and correct the accelerometers first (None: not).
    Raises NoStanceError when no still standing period exists.
    """
    cs = settings or CalibrationSettings()
    os_ = orientation or OrientationSettings(rate_hz=grid.rate_hz)
    # The quiet test of every sensor's whole data: the stance and the bias
    # tracking both read it; not held through the later stages (memory).
    quiet_ticks = {
        s: quiet(grid.acc_mps2[s], grid.gyr_dps[s], grid.rate_hz, cs) for s in grid.sensors
    }
    st = stance_and_bias(grid, cs, quiet_ticks, os_)
    tracks = bias_tracks(grid, st, cs, rest or RestBiasSettings(), quiet_ticks)
    acc = {} if acc_fit is None else accelerometer_fits(grid, st, tracks, quiet_ticks, acc_fit)
    del quiet_ticks
    if any(f.applied for f in acc.values()):
        # Every later stage reads the corrected accelerometer, as the angles will.
        grid = replace(grid, acc_mps2={s: acc[s].apply(a) for s, a in grid.acc_mps2.items()})
    vert = verticals(grid, st, os_, tracks)
    slips = strap_slips(grid, st, cs)
    fit_on = unslipped(grid, st, vert, slips)
    trunk = trunk_axes(fit_on, cs)
    limbs = limb_axes(fit_on, trunk, cs)
    axes = Axes(
        {**trunk.frames, **limbs.frames},
        {**trunk.sagittal_deg, **limbs.sagittal_deg},
        {**trunk.confidence, **limbs.confidence},
    )
    mountings, slip_msgs = slip_mountings(grid, st, axes.frames, slips, trunk_tilt(trunk), cs)
    sensors = verdict(grid, st, axes, cs, tracks, acc)
    msgs = [*st.messages, *limbs.messages, *slip_msgs]
    # No message either way: a correction is said in the sensor's calibration
    # (``SensorCalibration.acc_note``: the printed table, the report's quality
    # page); a warning line per sensor on every good recording was noise.
    msgs += [m for s in grid.sensors for m in sensors[s].messages]
    t0, t1 = grid.t_s(st.start), grid.t_s(st.end)
    pose_s = (st.end - st.start if st.pose is None else int(st.pose.sum())) / grid.rate_hz
    return Calibration(
        sensors, t0, t1, merge_repeats(msgs), mountings, tracks, pose_s, st.opening_cycles, acc
    )


def calibrate_grid(
    chunks: Mapping[str, GridChunk],
    rate_hz: float,
    settings: CalibrationSettings | None = None,
    orientation: OrientationSettings | None = None,
    rest: RestBiasSettings | None = None,
    acc_fit: AccFitSettings | None = None,
) -> Calibration:
    """Calibrate from each sensor's grid ticks: the one entry of offline and live.

    ``acc_fit``: fit and correct the accelerometers (``calibrate``; None: not).

    The chunks may differ in length and start (the first tick of any sensor
    is where the data starts); a sensor short at either end counts as lost
    data there. Raises NoStanceError when no still standing period exists.
    """
    k0 = min(c.k0 for c in chunks.values())
    n = max(c.k0 + len(c) for c in chunks.values()) - k0
    acc, gyr, valid, bridged = {}, {}, {}, {}
    for name, c in chunks.items():
        lo = c.k0 - k0
        hi = lo + len(c)
        if lo == 0 and hi == n:  # the usual case: every tick its own, used as it is (no copy)
            acc[name] = np.asarray(c.acc_mps2, dtype=np.float64)
            gyr[name] = np.asarray(c.gyr_dps, dtype=np.float64)
            valid[name] = ~c.gap
            if c.bridged is not None:
                bridged[name] = c.bridged
            continue
        a = np.empty((n, 3))
        g = np.zeros((n, 3))
        v = np.zeros(n, dtype=bool)
        a[lo:hi], g[lo:hi], v[lo:hi] = c.acc_mps2, c.gyr_dps, ~c.gap
        # Outside its data a sensor repeats its nearest sample (no turn, steady gravity).
        a[:lo] = c.acc_mps2[0] if len(c) else 0.0
        a[hi:] = c.acc_mps2[-1] if len(c) else 0.0
        acc[name], gyr[name], valid[name] = a, g, v
        if c.bridged is not None:
            bridged[name] = np.zeros(n, dtype=bool)
            bridged[name][lo:hi] = c.bridged
    grid = GridData(acc, gyr, valid, rate_hz, k0, bridged)
    return calibrate(grid, settings, orientation, rest, acc_fit)
