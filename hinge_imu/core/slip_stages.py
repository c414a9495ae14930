"""The calibration's strap-slip stages (docs/analysis.md, "Strap slips").

Stage 3 of ``calibration.py``, :func:`strap_slips`, finds each sensor's
slips (the detectors are in ``slips.py``: a burst in the gyro the rest of
the body does not share, or a change of gravity direction across lost
data); :func:`unslipped` gives the data the axes are fitted on, each
sensor in its mounting before its slips; stage 6, :func:`slip_mountings`,
turns each mounting by its slips once the axes are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import matrix_to_quat, rotvec_to_matrix
from hinge_imu.core.arrays import unit
from hinge_imu.core.axes import refit_after_slip
from hinge_imu.core.calibration_data import TRUNK_SENSORS, AxisInput, GridData, Slip, Stance
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.slips import gap_slips, own_slips

__all__ = ["slip_mountings", "strap_slips", "unslipped"]

FloatArray = npt.NDArray[np.float64]


def strap_slips(grid: GridData, st: Stance, cs: CalibrationSettings) -> dict[str, list[Slip]]:
    """Stage 3: each sensor's strap slips after the stance, in time order."""
    rate = grid.rate_hz
    free = {s: grid.gyr_dps[s] - st.bias_dps[s] for s in grid.sensors}
    # The body a rep or a step turns: every worn sensor, not only those an
    # angle reads (a lone lower-back sensor jolting at each heel strike has
    # only the foot to show that the whole body moved).
    chain = {s: (free[s], grid.valid[s]) for s in free}
    by_gyro = {
        s: [
            (lo, hi, rotvec_to_matrix(rv).T)
            for lo, hi, rv in own_slips(
                free[s], grid.valid[s], [g for o, g in chain.items() if o != s], rate, cs
            )
            if hi > st.end
        ]
        for s in grid.sensors
    }
    marks = {s: [x for lo, hi, _ in ev for x in (lo, hi)] for s, ev in by_gyro.items()}
    # Lost data, bridged or not, may hide a slip (bridging turns the gyro's burst into a line).
    received = {s: grid.received(s) for s in grid.sensors}
    up = {s: unit(st.pose_mean(grid.acc_mps2[s])) for s in grid.sensors}
    in_gaps = gap_slips(
        grid.acc_mps2, received, st.still, st.end, rate, cs, marks, up, grid.bridged
    )
    return {s: sorted(by_gyro[s] + in_gaps[s], key=lambda x: x[0]) for s in grid.sensors}


def unslipped(
    grid: GridData, st: Stance, vert: Mapping[str, FloatArray], slips: Mapping[str, list[Slip]]
) -> AxisInput:
    """What the axes are fitted on: every sensor's data in its mounting before its first slip.

    After a slip the sensor sits differently on the body. A limb sensor's
    slip seen in the gyro is a measured rotation: the data after it is
    turned back by it (the rotation rate and the vertical, into the
    sensor's frame before the slip), so the movement after the slip still
    shows the axis (a walk after the set, the thigh's best axis). A trunk
    sensor's axis shows in every rep before the slip, and a slip during a
    rep is measured less well (on the harsh preset, turning its data back
    made hip flexion 0.2° worse): from its first slip on its data is left
    out, as is a limb's from a slip in lost data (its turn about the
    vertical is unknown).
    """
    use = {s: grid.valid[s][: st.axis_end].copy() for s in grid.sensors}
    for u in use.values():
        u[: st.axis_start] = False
    out = dict(vert)
    gyr = dict(grid.gyr_dps)
    for s, found in slips.items():
        if not found:
            continue
        out[s], g, turned = vert[s].copy(), gyr[s].copy(), np.eye(3)
        free = g - st.bias_dps[s]  # the bias is the hardware's: the same after a slip
        for k, (lo, hi, q) in enumerate(found):
            # In lost data its turn about the vertical is unknown; a trunk
            # sensor's reps show its axis before the slip well enough.
            if not grid.received(s)[lo] or s in TRUNK_SENSORS:
                use[s][lo:] = False
                out[s][lo:] = np.nan
                break
            use[s][lo:hi] = False
            out[s][lo:hi] = np.nan
            # Body-fixed vectors seen from the sensor after it: q @ before.
            turned = q @ turned
            nxt = found[k + 1][0] if k + 1 < len(found) else g.shape[0]
            g[hi:nxt] = free[hi:nxt] @ turned + st.bias_dps[s]
            end = min(nxt, out[s].shape[0])
            if hi < end:
                out[s][hi:end] = out[s][hi:end] @ turned
        gyr[s] = g
    return AxisInput(replace(grid, gyr_dps=gyr), st, out, use)


def slip_mountings(
    grid: GridData,
    st: Stance,
    frames: Mapping[str, FloatArray],
    slips: Mapping[str, list[Slip]],
    tilt: FloatArray | None,
    cs: CalibrationSettings,
) -> tuple[dict[str, tuple[tuple[float, float, tuple[float, ...]], ...]], tuple[str, ...]]:
    """Stage 6: each sensor's mounting from each slip on, and a message per slip."""
    rate, end = grid.rate_hz, st.axis_end
    out: dict[str, tuple[tuple[float, float, tuple[float, ...]], ...]] = {}
    msgs: list[str] = []
    for s in grid.sensors:
        after: list[tuple[float, float, tuple[float, ...]]] = []
        r = frames[s]
        found = slips[s]
        for k, (lo, hi, q) in enumerate(found):
            # The sensor turned while the segment did not: the segment frame
            # seen from the sensor turns back by the same rotation.
            r = q @ r
            how = "mounting re-estimated from then on"
            # A slip found in lost data starts on a lost sample; a gyro-found one never does.
            in_gap = not grid.received(s)[lo]
            if in_gap:
                # Gravity across the gap cannot show a turn about the vertical
                # (for the thigh that turn reads as knee cave): fit the
                # flexion axis again on the movement after the slip.
                nxt = found[k + 1][0] if k + 1 < len(found) else end
                stop = max(hi, min(nxt, end))
                refit = refit_after_slip(
                    r,
                    grid.gyr_dps[s][hi:stop] - st.bias_dps[s],
                    grid.valid[s][hi:stop],
                    None if tilt is None else tilt[hi - st.axis_start : stop - st.axis_start],
                    s not in TRUNK_SENSORS,
                    rate,
                    cs,
                )
                if refit is None:
                    how += ", but not its turn about the vertical (too little movement after it)"
                else:
                    r = refit
                    how += " (flexion axis refitted on the movement after it)"
            q_new = tuple(float(x) for x in matrix_to_quat(r))
            after.append((grid.t_s(lo), grid.t_s(hi), q_new))
            deg = float(np.degrees(np.arccos(np.clip((np.trace(q) - 1.0) / 2.0, -1.0, 1.0))))
            where = "during lost data " if in_gap else ""
            msgs.append(f"{s}: strap slipped {where}at {grid.t_s(lo):.1f} s ({deg:.0f}°); {how}")
        if after:
            out[s] = tuple(after)
    return out, tuple(msgs)
