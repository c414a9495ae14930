"""The session script: stance, sets of hinge reps, rests, non-rep movements,
walking (SIMULATED data).

:class:`SessionScript` writes knots into a :class:`~hinge_imu.sim.body.Motion`
one phase after another and records what it did (rep design times, injected
mistakes, non-rep movements, sets, walking) for the truth file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hinge_imu.sim.body import Motion
from hinge_imu.sim.tracks import Oscillations, Sway, Track

#: Channels that make up a posture (degrees).
POSE_CHANNELS = (
    "pelvic_tilt",
    "trunk_inclination",
    "thigh_inclination",
    "knee_cave",
    "head_extension",
    "shank_inclination",
)
#: The upper body moves on one timing, so lumbar flexion (trunk − pelvis)
#: only interpolates between its knot values and never overshoots.
UPPER = ("pelvic_tilt", "trunk_inclination", "head_extension", "knee_cave")
LOWER = ("thigh_inclination", "shank_inclination")
#: Shins tilt forward a little as the knees soften: shank = this × thigh.
SHANK_PER_THIGH = 0.3
#: Rep phase durations by tempo: (descent, pause at the bottom, ascent) as
#: (scale, added s) applied to the normal draws (1.2–2.4, 0–0.4, 0.8–1.6 s).
#: ``fast``: ~1.2 s reps, no pause; ``slow``: ~6 s reps.
TEMPO_PHASES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "normal": ((1.0, 0.0), (1.0, 0.0), (1.0, 0.0)),
    "fast": ((0.35, 0.0), (0.0, 0.0), (0.5, 0.0)),
    "slow": ((2.0, 0.0), (1.0, 0.3), (1.8, 0.0)),
}
#: A restless person turns every rest at least this long into a fidget, s.
FIDGET_MIN_S = 0.3
#: Fidget knots come every this long (low, high), s; shifts of this size, deg.
FIDGET_STEP_S = (0.35, 0.7)
FIDGET_DEG = (1.5, 4.0)
#: Walking: one step per half stride; step length, m; a 180° turn, s.
STEP_LENGTH_M = 0.6
TURN_S = 1.5
#: The foot's pitch swing while walking, deg.
FOOT_SWING_DEG = 20.0

Pose = dict[str, float]


def neutral_pose() -> Pose:
    return {c: 0.0 for c in POSE_CHANNELS}


@dataclass
class RepDesign:
    """What was planned for one rep (times in s on the recording clock)."""

    rep: int
    set: int
    t_descent_s: float
    t_bottom_s: float
    t_end_s: float
    injected: dict[str, float]
    level_before_deg: float
    tempo: str = "normal"


@dataclass
class SessionScript:
    """Builds the motion phase by phase; ``t`` is the current end of the script."""

    rng: np.random.Generator
    motion: Motion = field(default_factory=Motion)
    t: float = 0.0
    pose: Pose = field(default_factory=neutral_pose)
    reps: list[RepDesign] = field(default_factory=list)
    non_rep: list[dict[str, Any]] = field(default_factory=list)
    walks: list[dict[str, float]] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    oscillations: dict[str, Oscillations] = field(default_factory=dict)
    #: rests become fidgets (``FIDGET_MIN_S``): never a still second
    restless: bool = False
    #: heel strike times while walking, s
    heel_strikes_s: list[float] = field(default_factory=list)
    #: times the bar is picked up or put down, s
    handling_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        for ch in (
            "body_lean",
            "pelvic_tilt",
            "trunk_inclination",
            "thigh_inclination",
            "shank_inclination",
            "foot_pitch",
        ):
            self.oscillations[ch] = Oscillations()
            self.motion.extras[ch].append(self.oscillations[ch].evaluate)

    # --- low-level knot writing ------------------------------------------------
    def _tr(self, ch: str) -> Track:
        return self.motion.tracks[ch]

    def hold_all(self, t_end: float) -> None:
        for tr in self.motion.tracks.values():
            tr.hold(max(t_end, tr.last_t_s))
        self.t = t_end

    def move(self, chans: tuple[str, ...], t0: float, t1: float, target: Pose) -> None:
        """Move ``chans`` from their value at ``t0`` to ``target`` by ``t1``."""
        for c in chans:
            tr = self._tr(c)
            tr.hold(max(t0, tr.last_t_s)).to(t1, target[c])
            self.pose[c] = target[c]

    def add_sway(self, amplitude_deg: float) -> None:
        for ch, k in (
            ("pelvic_tilt", 0.6),
            ("trunk_inclination", 0.8),
            ("thigh_inclination", 0.5),
            ("knee_cave", 0.3),
            ("head_extension", 1.0),
            ("body_lean", 0.6),
        ):
            self.motion.extras[ch].append(Sway.random(self.rng, k * amplitude_deg).evaluate)

    # --- phases ------------------------------------------------------------------
    def stance(self, duration_s: float, swaying_deg: float = 0.0) -> None:
        """Stand tall; with ``swaying_deg`` > 0 the stance is not still."""
        t0 = self.t
        self.hold_all(t0 + duration_s)
        if swaying_deg > 0:
            for ch, f in (("body_lean", 0.7), ("pelvic_tilt", 0.5), ("trunk_inclination", 0.9)):
                fr = f * float(self.rng.uniform(0.8, 1.2))
                self.oscillations[ch].add(t0, t0 + duration_s, swaying_deg, fr, 0.0, 0.3)

    def rest(self, duration_s: float) -> None:
        """Hold the pose (a restless person fidgets instead)."""
        if self.restless and duration_s >= FIDGET_MIN_S:
            self.fidget(duration_s)
        else:
            self.hold_all(self.t + duration_s)

    def fidget(self, duration_s: float) -> None:
        """Small restless shifts (lean, pelvis, trunk, head, thigh) that end
        where they began: never still for long, never near a rep (hip
        flexion stays within a few degrees)."""
        t0, t_end = self.t, self.t + duration_s
        start = dict(self.pose)
        chans = ("body_lean", "pelvic_tilt", "trunk_inclination", "head_extension")
        n = max(1, round(duration_s / np.mean(FIDGET_STEP_S)) - 1)  # shifts before the return
        seg_s = duration_s / (n + 1)
        # shorter shifts are smaller, so a short fidget is not a jerk
        size = min(1.0, seg_s / FIDGET_STEP_S[0])
        bounds = t0 + seg_s * (np.arange(1, n + 1) + self.rng.uniform(-0.25, 0.25, n))
        for t_k in [*bounds, t_end]:
            d = size * self.rng.uniform(*FIDGET_DEG, 4) * self.rng.choice([-1.0, 1.0], 4)
            for ch, dv, k in zip(chans, d, (1.0, 0.6, 0.8, 1.0), strict=True):
                base = 0.0 if ch == "body_lean" else start[ch]
                target = base if t_k == t_end else base + k * float(dv)
                self._tr(ch).hold(max(self.t, self._tr(ch).last_t_s)).to(float(t_k), target)
            self.t = float(t_k)
        self.hold_all(t_end)
        self.non_rep.append({"kind": "fidget", "t_start_s": t0, "t_end_s": t_end})

    def return_to_neutral(self, duration_s: float = 1.0) -> None:
        """Stand tall again (a restless person quicker, then fidgets)."""
        t0 = self.t
        move_s = duration_s / 2 if self.restless else duration_s
        self.move(POSE_CHANNELS, t0, t0 + move_s, neutral_pose())
        self.hold_all(t0 + move_s)
        if self.restless:
            self.fidget(duration_s - move_s)

    def weight_shift(self) -> None:
        """Lean sideways a few degrees, hold, come back (not a rep)."""
        t0 = self.t
        lean = float(self.rng.choice([-1.0, 1.0]) * self.rng.uniform(2.0, 4.0))
        lt = self._tr("body_lean")
        lt.hold(t0).to(t0 + 0.8, lean).hold(t0 + 2.0).to(t0 + 2.8, 0.0)
        self.hold_all(t0 + 2.8)
        self.non_rep.append(
            {"kind": "weight_shift", "t_start_s": t0, "t_end_s": t0 + 2.8, "lean_deg": lean}
        )

    def bow(self) -> None:
        """A small bow, hip flexion well under 20° (not a rep)."""
        t0 = self.t
        p = float(self.rng.uniform(5.0, 9.0))
        target = dict(self.pose)
        target.update(
            pelvic_tilt=p,
            trunk_inclination=p + float(self.rng.uniform(3.0, 7.0)),
            thigh_inclination=float(self.rng.uniform(0.5, 3.0)),
            head_extension=-5.0,
        )
        target["shank_inclination"] = SHANK_PER_THIGH * target["thigh_inclination"]
        self.move(POSE_CHANNELS, t0, t0 + 0.9, target)
        self.hold_all(t0 + 1.4)
        self.return_to_neutral(0.9)
        hip = target["pelvic_tilt"] + target["thigh_inclination"]
        self.non_rep.append(
            {"kind": "bow", "t_start_s": t0, "t_end_s": self.t, "hip_flexion_peak_deg": hip}
        )

    def walk(self, steps: int | None = None, back: bool = True) -> None:
        """Walk away, turn round, walk back, turn round again (not a rep).

        Without ``steps``: the classic 2.5 s legs (~2 m). With ``steps``: that
        many steps in all (a heel strike each), split between the legs; with
        ``back=False`` one leg and one turn (walking in to the spot).
        """
        t0 = self.t
        f = float(self.rng.uniform(0.8, 1.0))
        step_s = 0.5 / f
        legs: tuple[float, ...]
        if steps is None:
            legs = (2.5, 2.5) if back else (2.5,)
        elif back:
            n_out = (steps + 1) // 2
            legs = (n_out * step_s, max(1, steps - n_out) * step_s)
        else:
            legs = (steps * step_s,)
        speed = 0.8 if steps is None else STEP_LENGTH_M / step_s
        t_end = t0 + sum(legs) + len(legs) * TURN_S
        swings = (
            ("thigh_inclination", 18.0, f, 0.0),
            ("shank_inclination", 12.0, f, -1.2),
            ("pelvic_tilt", 2.0, 2 * f, 0.5),
            ("trunk_inclination", 1.5, 2 * f, 0.8),
            ("foot_pitch", FOOT_SWING_DEG, f, -0.6),
        )
        for ch, amp, fr, ph in swings:
            self.oscillations[ch].add(t0, t_end, amp, fr, ph)
        head = self._tr("heading")
        bx, by = self._tr("base_x_m"), self._tr("base_y_m")
        psi = np.deg2rad(head.last_value)
        x0, y0 = bx.last_value, by.last_value
        t = t0
        strikes: list[float] = []
        for i, leg_s in enumerate(legs):
            sign = 1.0 if i == 0 else 0.0  # out, then back to the start
            bx.hold(t).to(t + leg_s, x0 + sign * speed * legs[0] * np.cos(psi))
            by.hold(t).to(t + leg_s, y0 + sign * speed * legs[0] * np.sin(psi))
            if steps is not None:
                strikes += [t + (k + 0.5) * step_s for k in range(round(leg_s / step_s))]
            t += leg_s
            head.hold(t).to(t + TURN_S, head.last_value + 180.0)
            t += TURN_S
        self.hold_all(t)
        self.heel_strikes_s += strikes
        walk: dict[str, Any] = {"t_start_s": t0, "t_end_s": self.t}
        if steps is not None:
            walk.update(steps=len(strikes), heel_strikes_s=[round(x, 4) for x in strikes])
        self.walks.append(walk)

    # --- reps ----------------------------------------------------------------------
    def _bottom_and_lockout(self, mist: Mapping[str, float]) -> tuple[Pose, Pose]:
        r = self.rng.uniform
        hip = float(r(60.0, 85.0))
        thigh = float(r(14.0, 30.0))
        lumbar = float(r(0.0, 10.0))
        if "knees_locked" in mist:
            thigh = mist["knees_locked"]
        if "squatting" in mist:
            thigh = mist["squatting"]
            hip = thigh + float(r(30.0, 40.0))
        if "shallow_hinge" in mist:
            hip = mist["shallow_hinge"]
            thigh = min(thigh, float(r(7.0, 10.0)))
        if "knees_forward" in mist and "squatting" not in mist:
            thigh = mist["knees_forward"] + 2.0
        if "shallow_hinge" in mist:
            # keep the pelvis tilting ≥ 15° so the short hinge is still a rep
            thigh = min(thigh, hip - 18.0)
        lumbar = mist.get("back_rounded", mist.get("back_arched", lumbar))
        pelvis = hip - thigh
        bottom = {
            "pelvic_tilt": pelvis,
            "trunk_inclination": pelvis + lumbar,
            "thigh_inclination": thigh,
            "knee_cave": mist.get("knees_caving", float(r(0.0, 2.5))),
            "head_extension": mist.get("neck_extended", float(r(-5.0, 5.0))),
            "shank_inclination": SHANK_PER_THIGH * thigh,
        }
        if "no_lockout" in mist:
            m = mist["no_lockout"]
            p_l, th_l = 0.6 * m, 0.4 * m
        else:
            p_l, th_l = float(r(-4.0, -1.5)), float(r(0.0, 2.0))
        lum_l = mist.get("ribs_flared", float(r(-2.0, 3.0)))
        lockout = {
            "pelvic_tilt": p_l,
            "trunk_inclination": p_l + lum_l,
            "thigh_inclination": th_l,
            "knee_cave": 0.0,
            "head_extension": float(r(-3.0, 3.0)),
            "shank_inclination": SHANK_PER_THIGH * th_l,
        }
        return bottom, lockout

    def rep(
        self, number: int, set_no: int, mist: Mapping[str, float], tempo: str = "normal"
    ) -> None:
        """One hinge rep from the current pose, ending held at its lockout."""
        r = self.rng.uniform
        bottom, lockout = self._bottom_and_lockout(mist)
        t0 = self.t
        level = self.pose["pelvic_tilt"] + self.pose["thigh_inclination"]
        drawn = (float(r(1.2, 2.4)), float(r(0.0, 0.4)), float(r(0.8, 1.6)))
        td, tbh, ta = (k * x + c for x, (k, c) in zip(drawn, TEMPO_PHASES[tempo], strict=True))
        t_b = t0 + td
        if "knees_forward" in mist:
            # The knees go first; the hips follow late.
            mid = dict(self.pose)
            mid["thigh_inclination"] = mist["knees_forward"]
            mid["shank_inclination"] = SHANK_PER_THIGH * mid["thigh_inclination"]
            self.move(LOWER, t0, t0 + 0.4 * td, mid)
            self.move(LOWER, t0 + 0.4 * td, t_b, bottom)
            self.move(UPPER, t0 + 0.35 * td, t_b, bottom)
        else:
            # Hips back first, the knees soften late.
            self.move(UPPER, t0, t_b, bottom)
            self.move(LOWER, t0 + float(r(0.4, 0.5)) * td, t_b, bottom)
        self.hold_all(t_b + tbh)
        t_end = t_b + tbh + ta
        self.move(POSE_CHANNELS, t_b + tbh, t_end, lockout)
        self.hold_all(t_end)
        self.reps.append(RepDesign(number, set_no, t0, t_b, t_end, dict(mist), level, tempo))

    def relax_lumbar(self) -> None:
        """After a flared lockout: hold briefly, then bring the ribs down."""
        t0 = self.t
        target = dict(self.pose)
        target["trunk_inclination"] = self.pose["pelvic_tilt"] + float(self.rng.uniform(-2.0, 3.0))
        self.move(("trunk_inclination",), t0 + 0.4, t0 + 0.9, target)
        self.hold_all(t0 + 0.9)
