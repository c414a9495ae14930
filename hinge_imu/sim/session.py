"""The plan of a whole session: stance, sets, rests, walks (SIMULATED data).

:func:`script_session` turns a :class:`~hinge_imu.sim.config.SimConfig` into
a :class:`~hinge_imu.sim.motion.SessionScript`. The stance kinds and tempos
are described in docs/simulator.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hinge_imu.sim.config import STANCE_DRAW_S, SimConfig
from hinge_imu.sim.motion import SessionScript
from hinge_imu.sim.tracks import Track

#: Postural sway while standing and moving, deg (natural variation).
SWAY_DEG = 0.3
#: Sway amplitude of a ``swaying`` calibration stance, deg.
STANCE_SWAY_DEG = 1.5
#: First still stand after the opening walk when the stance is ``missing``, s.
LATE_STANCE_S = 1.5
#: ``walk_in``: standing on the spot after walking in, before the bar (low, high), s.
WALK_IN_STAND_S = (0.3, 0.8)
#: ``end_only``: fidgeting before the first set (low, high), s.
END_ONLY_OPENING_S = (1.0, 2.0)
#: Restless rest after a set (``fidgets``), (low, high), s.
FIDGET_REST_S = (2.0, 4.0)
#: Tempos a ``mixed`` set draws each rep from.
MIXED_TEMPOS = ("fast", "normal", "slow")


def _stance_s(cfg: SimConfig, kind: str, rng: np.random.Generator) -> float:
    if cfg.stance_s is not None:
        return cfg.stance_s
    return float(rng.uniform(*STANCE_DRAW_S[kind]))


def _impatient(cfg: SimConfig) -> bool:
    """After a short stance or a walk-in, a restless person (``fidgets``)
    starts the first set at once and fidgets while picking up the bar."""
    return cfg.imperfections.fidgets and cfg.stance_kind in ("swaying", "walk_in")


def _walk(sc: SessionScript, cfg: SimConfig, back: bool = True) -> None:
    lo, hi = cfg.imperfections.walk_steps
    sc.walk(int(sc.rng.integers(lo, hi + 1)) if hi else None, back)


def _opening(sc: SessionScript, cfg: SimConfig) -> dict[str, Any]:
    """The start of the recording up to the first set; the stance's truth."""
    kind, rng = cfg.stance_kind, sc.rng
    if kind == "missing":
        sc.walk()
        t0 = sc.t
        sc.stance(LATE_STANCE_S)
        stance: dict[str, Any] = {"kind": kind, "t_start_s": None, "t_end_s": None}
        stance["first_still_s"] = [round(t0, 4), round(sc.t, 4)]
    elif kind == "walk_in":
        _walk(sc, cfg, back=False)
        stance = {
            "kind": kind,
            "t_start_s": None,
            "t_end_s": None,
            "walk_in_s": [0.0, round(sc.t, 4)],
        }
        sc.rest(float(rng.uniform(*WALK_IN_STAND_S)))
        return stance
    elif kind == "end_only":
        sc.restless = True
        sc.fidget(float(rng.uniform(*END_ONLY_OPENING_S)))
        return {"kind": kind}
    elif kind == "none":
        sc.restless = True
        return {"kind": kind, "t_start_s": None, "t_end_s": None}
    else:
        sway = STANCE_SWAY_DEG if kind == "swaying" else 0.0
        sc.stance(_stance_s(cfg, kind, rng), sway)
        stance = {"kind": kind, "t_start_s": 0.0, "t_end_s": round(sc.t, 4)}
        stance["sway_deg"] = sway
        if _impatient(cfg):
            return stance
    if sc.restless:
        sc.fidget(2.8)
    else:
        sc.weight_shift()
    sc.rest(1.0)
    return stance


def _set(sc: SessionScript, cfg: SimConfig, set_no: int, rep_index: int) -> int:
    """One set from picking up the bar to putting it down; the next rep index."""
    rng = sc.rng
    t_set = sc.t
    if not (cfg.stance_kind == "none" and set_no == 1):  # none: bar in hand at t = 0
        sc.handling_s.append(t_set + 0.3)  # picking up the bar
        if set_no == 1 and _impatient(cfg):
            sc.fidget(1.0)
        else:
            sc.rest(1.0)
    first = rep_index + 1
    for i in range(cfg.reps):
        mist = cfg.mistakes_for(rep_index)
        rep_index += 1
        tempo = cfg.tempo if cfg.tempo != "mixed" else str(rng.choice(MIXED_TEMPOS))
        sc.rep(rep_index, set_no, mist, tempo)
        if "ribs_flared" in mist:
            sc.relax_lumbar()
        elif i < cfg.reps - 1 and tempo != "fast" and rng.uniform() > 0.3:
            sc.rest(float(rng.uniform(0.4, 2.0)))
    sc.rest(0.6)
    sc.return_to_neutral(1.0)
    sc.handling_s.append(sc.t + 0.2)  # putting the bar down
    sc.sets.append(
        {
            "set": set_no,
            "t_start_s": round(t_set, 4),
            "t_end_s": round(sc.t, 4),
            "reps": list(range(first, rep_index + 1)),
        }
    )
    return rep_index


def script_session(
    cfg: SimConfig, rng: np.random.Generator
) -> tuple[SessionScript, dict[str, Any]]:
    """The whole session; extra truth: ``stance`` and ``rests_after_sets_s``."""
    imp = cfg.imperfections
    sc = SessionScript(rng)
    sc.motion.tracks["heading"] = Track(start_value=float(rng.uniform(0.0, 360.0)))
    sc.add_sway(SWAY_DEG)
    stance = _opening(sc, cfg)
    rep_index, set_no = 0, 0
    rests: list[tuple[float, float]] = []
    min_s = 60.0 * cfg.duration_min if cfg.duration_min else 0.0
    while True:
        set_no += 1
        rep_index = _set(sc, cfg, set_no, rep_index)
        done = set_no >= cfg.sets and sc.t >= min_s
        t_rest = sc.t
        sc.rest(1.5)
        if imp.fidgets and not sc.restless:
            sc.fidget(float(rng.uniform(*FIDGET_REST_S)))
        rests.append((t_rest, sc.t))
        sc.bow()
        sc.rest(1.0)
        if not done:
            if imp.walking:
                _walk(sc, cfg)
            if sc.restless:
                sc.fidget(2.8)
            else:
                sc.weight_shift()
        sc.rest(1.5)
        if done:
            break
    if cfg.stance_kind == "end_only":
        sc.restless = False
        t0 = sc.t
        sc.stance(_stance_s(cfg, "end_only", rng))
        stance.update(t_start_s=round(t0, 4), t_end_s=round(sc.t, 4))
    return sc, {"stance": stance, "rests_after_sets_s": rests}
