"""Ground truth of a simulated session: true angles, reps, verdicts (SIMULATED).

The rep quantities are measured with ``compute_rep_metrics`` on the TRUE
angle series and judged with ``judge_rep``, exactly as the analysis measures
its estimates, so truth and estimate differ only by estimation error. The
same quantities on the *skin* angles (what perfect sensors glued to the skin
would read) give the soft-tissue floor of every error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial.transform import Rotation

from hinge_imu.conventions import ANGLE_NAMES
from hinge_imu.core.rep_metrics import (
    HIP_FLEXION_KNEES_FORWARD_DEG,
    RepBounds,
    RepMetrics,
    compute_rep_metrics,
)
from hinge_imu.core.rules import RuleSet, judge_rep, load_rules
from hinge_imu.sim.body import BodyModel
from hinge_imu.sim.motion import RepDesign
from hinge_imu.sim.signals import SensorMount, skin_rotations

FloatArray = npt.NDArray[np.float64]
#: A rep starts when hip flexion rises this far above its level before it, deg.
REP_START_RISE_DEG = 5.0
#: Rules decided by a value at the bottom: first known at t_bottom.
_AT_BOTTOM = ("knees_locked", "shallow_hinge", "squatting")


def truth_angles(body: BodyModel, duration_s: float, rate_hz: float, head: bool) -> pd.DataFrame:
    """True angles on a regular grid: columns ``t`` + ANGLE_NAMES, degrees.

    Without a head sensor ``head_extension`` is NaN (not measurable).
    """
    n = int(np.floor(duration_s * rate_hz)) + 1
    t = np.arange(n) / rate_hz
    ang = body.angles_deg(t)
    cols: dict[str, FloatArray] = {"t": t}
    for name in ANGLE_NAMES:
        cols[name] = ang[name] if (head or name != "head_extension") else np.full(n, np.nan)
    return pd.DataFrame(cols)


def _sagittal_deg(z: FloatArray) -> FloatArray:
    """Tilt of a superior axis (heading frame) towards anterior, deg."""
    return np.asarray(np.rad2deg(np.arctan2(z[:, 0], z[:, 2])))


def skin_angles(
    body: BodyModel, mounts: dict[str, SensorMount], t_s: FloatArray, head: bool
) -> pd.DataFrame:
    """The angles of docs/rules.md from the skin frames (:func:`skin_rotations`),
    measured as docs/conventions.md says (sagittal projections in the
    person's heading frame): ``t`` + ANGLE_NAMES, degrees. Without soft
    tissue they equal :func:`truth_angles`."""
    rot = skin_rotations(body, mounts, t_s)
    heading = body.motion.channel("heading", t_s)[:, None]
    yaw = Rotation.from_euler("z", -heading, degrees=True).as_matrix()

    def up(seg: str) -> FloatArray:  # the segment's superior axis, heading frame
        return np.asarray(np.einsum("nij,nj->ni", yaw, rot[seg][:, :, 2]))

    pelvis, trunk = _sagittal_deg(up("pelvis")), _sagittal_deg(up("upper_back"))
    thigh_up = up("thigh")
    thigh = -_sagittal_deg(thigh_up)
    medial = 1.0 if body.side == "right" else -1.0  # +y is medial for a right thigh
    cols: dict[str, FloatArray] = {
        "t": t_s,
        "hip_flexion": pelvis + thigh,
        "trunk_inclination": trunk,
        "pelvic_tilt": pelvis,
        "lumbar_flexion": trunk - pelvis,
        "thigh_inclination": thigh,
        "knee_cave": np.rad2deg(np.arcsin(np.clip(-medial * thigh_up[:, 1], -1.0, 1.0))),
        "head_extension": trunk - _sagittal_deg(up("head")) if head else np.full(t_s.size, np.nan),
    }
    return pd.DataFrame({k: cols[k] for k in ("t", *ANGLE_NAMES)})


def rep_bounds(t_s: FloatArray, hip_deg: FloatArray, design: RepDesign) -> RepBounds:
    """Bounds of a designed rep by the words of docs/rules.md, on the grid ``t_s``."""
    i0 = int(np.searchsorted(t_s, design.t_descent_s))
    i_end = min(int(np.searchsorted(t_s, design.t_end_s)), t_s.size - 1)
    above = np.nonzero(hip_deg[i0 : i_end + 1] >= design.level_before_deg + REP_START_RISE_DEG)[0]
    start = i0 + int(above[0]) if above.size else i0
    bottom = start + int(np.argmax(hip_deg[start : i_end + 1]))
    return RepBounds(start, bottom, i_end + 1)


def violation_times(
    t_s: FloatArray,
    ang: dict[str, FloatArray],
    b: RepBounds,
    m: RepMetrics,
    fired: list[str],
    rules: RuleSet,
) -> dict[str, float]:
    """True time each fired rule was first violated, s (see docs/simulator.md)."""
    out: dict[str, float] = {}
    rep = slice(b.start, b.end)

    def first(mask: npt.NDArray[np.bool_], offset: int) -> float:
        idx = np.nonzero(mask)[0]
        return float(t_s[offset + int(idx[0])]) if idx.size else float(t_s[b.end - 1])

    for rid in fired:
        cond = rules[rid].fires_when[0]
        if rid == "back_rounded":
            out[rid] = first(ang["lumbar_flexion"][rep] > cond.threshold, b.start)
        elif rid == "back_arched":
            out[rid] = first(ang["lumbar_flexion"][rep] < cond.threshold, b.start)
        elif rid == "knees_caving":
            out[rid] = first(ang["knee_cave"][rep] > cond.threshold, b.start)
        elif rid == "neck_extended":
            out[rid] = first(ang["head_extension"][rep] > cond.threshold, b.start)
        elif rid == "knees_forward":
            hip = ang["hip_flexion"][b.start : b.bottom + 1]
            out[rid] = first(hip >= HIP_FLEXION_KNEES_FORWARD_DEG, b.start)
        elif rid in _AT_BOTTOM:
            out[rid] = m.t_bottom
        elif rid == "ribs_flared":
            start_cond = rules[rid].fires_when[0]
            v = m.get(start_cond.metric)
            out[rid] = m.t_start if v is not None and start_cond.holds(v) else m.t_end
        else:  # lockout rules (no_lockout)
            out[rid] = m.t_end
    return out


def _num(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def rep_truth(
    angles: pd.DataFrame,
    designs: list[RepDesign],
    rules: RuleSet | None = None,
    skin: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Per rep: bounds, every rep-report quantity, every verdict, injections;
    with ``skin`` angles, the same quantities on them (same bounds)."""
    rules = load_rules() if rules is None else rules
    t = angles["t"].to_numpy()
    ang = {n: angles[n].to_numpy() for n in ANGLE_NAMES}
    skin_ang = None if skin is None else {n: skin[n].to_numpy() for n in ANGLE_NAMES}
    out = []
    for d in designs:
        b = rep_bounds(t, ang["hip_flexion"], d)
        m = compute_rep_metrics(t, ang, b)
        j = judge_rep(m, rules)
        fired = list(j.mistakes)
        extra: dict[str, Any] = {"tempo": d.tempo} if d.tempo != "normal" else {}
        if skin_ang is not None:
            sm = compute_rep_metrics(t, skin_ang, b)
            extra["skin"] = {k: _num(v) for k, v in sm.as_dict().items() if not k.startswith("t_")}
        out.append(
            {
                "rep": d.rep,
                "set": d.set,
                **{k: _num(v) for k, v in m.as_dict().items()},
                "score": j.score,
                "bad": j.bad,
                "mistakes": fired,
                "rules": {v.rule_id: v.fired for v in j.verdicts},
                "injected": d.injected,
                "t_violation_s": {
                    k: round(v, 4) for k, v in violation_times(t, ang, b, m, fired, rules).items()
                },
                "design": {
                    "t_descent_s": round(d.t_descent_s, 4),
                    "t_bottom_s": round(d.t_bottom_s, 4),
                    "t_end_s": round(d.t_end_s, 4),
                },
                **extra,
            }
        )
    return out
