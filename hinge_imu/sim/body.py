"""Kinematic chain of the simulated body (SIMULATED data).

Ankle (on the ground, moved only while walking) → shank → thigh → hip joint
→ pelvis → lumbosacral joint → upper back → C7 → head. The chain is driven
by *segment* angles (pelvic tilt, trunk inclination, thigh inclination,
knee cave, head extension, shank inclination, a frontal body lean for weight
shifts, the heading), and everything else — joint angles, positions,
orientations — is derived, so the angle identities of docs/rules.md hold exactly.

Frames follow docs/conventions.md: earth z up; segment frame x anterior,
y left, z superior; at the calibration stance every segment frame equals the
body heading frame, so all angles are 0 there. Orientation of a segment in
the heading frame: ``R_H_B = Ry(sagittal) · Rx(frontal)`` (the frontal part
innermost, so the projected sagittal angle is exactly the driving angle).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.sim.tracks import Track

FloatArray = npt.NDArray[np.float64]

#: Driving channels: degrees, except ``base_x_m``/``base_y_m`` (earth, m).
CHANNELS = (
    "pelvic_tilt",
    "trunk_inclination",
    "thigh_inclination",
    "knee_cave",
    "head_extension",
    "shank_inclination",
    "body_lean",
    "foot_pitch",
    "heading",
    "base_x_m",
    "base_y_m",
)

#: Segments with a sensor site, in report order.
SITES = ("thigh", "pelvis", "upper_back", "head", "shank", "foot")


CosSin = tuple[FloatArray, FloatArray]


def cos_sin(a_rad: FloatArray) -> CosSin:
    return np.cos(a_rad), np.sin(a_rad)


def rot_zyx(yaw: CosSin, pitch: CosSin, roll: CosSin) -> FloatArray:
    """``Rz(yaw) · Ry(pitch) · Rx(roll)`` (N,3,3) in closed form, from the
    angles' (cos, sin) so that shared angles are evaluated once."""
    cz, sz = yaw
    cy, sy = pitch
    cx, sx = roll
    r = np.empty((*np.shape(cz), 3, 3))
    r[..., 0, 0] = cz * cy
    r[..., 0, 1] = cz * sy * sx - sz * cx
    r[..., 0, 2] = cz * sy * cx + sz * sx
    r[..., 1, 0] = sz * cy
    r[..., 1, 1] = sz * sy * sx + cz * cx
    r[..., 1, 2] = sz * sy * cx - cz * sx
    r[..., 2, 0] = -sy
    r[..., 2, 1] = cy * sx
    r[..., 2, 2] = cy * cx
    return r


def apply(r: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate one constant vector by each matrix: (N,3,3) · (3,) → (N,3)."""
    return r[..., 0] * v[0] + r[..., 1] * v[1] + r[..., 2] * v[2]


@dataclass
class Motion:
    """All driving channels: a knot :class:`Track` per channel plus additive
    smooth components (sway, gait swings), each a function of time."""

    tracks: dict[str, Track] = field(default_factory=lambda: {c: Track() for c in CHANNELS})
    extras: dict[str, list[Callable[[FloatArray], FloatArray]]] = field(
        default_factory=lambda: {c: [] for c in CHANNELS}
    )

    def channel(self, name: str, t_s: FloatArray) -> FloatArray:
        out = self.tracks[name].evaluate(t_s)
        for f in self.extras[name]:
            out = out + f(t_s)
        return out

    def end_t_s(self) -> float:
        return max(tr.last_t_s for tr in self.tracks.values())


@dataclass(frozen=True)
class Anthropometry:
    """Segment lengths from body height (Winter's proportions), m."""

    height_m: float = 1.75

    @property
    def shank_m(self) -> float:
        return 0.246 * self.height_m

    @property
    def thigh_m(self) -> float:
        return 0.245 * self.height_m

    @property
    def half_hip_width_m(self) -> float:
        return 0.05 * self.height_m

    @property
    def lumbar_m(self) -> float:
        # hip-joint centre line to the lumbosacral joint
        return 0.06 * self.height_m

    @property
    def trunk_m(self) -> float:
        # lumbosacral joint to C7
        return 0.28 * self.height_m


@dataclass(frozen=True)
class BodyModel:
    """The body: motion + anthropometry + which thigh carries the sensor.

    ``extras``: the extra sites worn (``shank``, ``foot``); the others are
    not computed, so the classic sessions cost what they always did.
    """

    motion: Motion
    side: str = "right"
    anthropometry: Anthropometry = Anthropometry()
    extras: tuple[str, ...] = ()

    @property
    def _lat(self) -> float:
        # +1 for a right thigh: its lateral direction is −y, its medial +y.
        return 1.0 if self.side == "right" else -1.0

    def channels(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """Every driving channel at ``t_s`` (evaluate once, derive the rest)."""
        return {
            c: self.motion.channel(c, t_s)
            for c in CHANNELS
            if c != "foot_pitch" or "foot" in self.extras
        }

    def angles_deg(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """True angles of docs/rules.md at ``t_s``, degrees (derived identities exact)."""
        return self.angles_from(self.channels(t_s))

    def angles_from(self, ch: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
        pelvis, trunk = ch["pelvic_tilt"], ch["trunk_inclination"]
        thigh = ch["thigh_inclination"]
        return {
            "hip_flexion": pelvis + thigh,
            "trunk_inclination": trunk,
            "pelvic_tilt": pelvis,
            "lumbar_flexion": trunk - pelvis,
            "thigh_inclination": thigh,
            # the medial part of the thigh's frontal rotation
            "knee_cave": self._lat * self._thigh_frontal_deg(ch),
            "head_extension": ch["head_extension"],
            # not rule angles: what moves the skin over the thigh and shank
            "knee_flexion": thigh - ch["shank_inclination"],
            "hip_knee_flexion": 0.5 * (pelvis + 2.0 * thigh - ch["shank_inclination"]),
        }

    def _thigh_frontal_deg(self, ch: Mapping[str, FloatArray]) -> FloatArray:
        """Rotation of the thigh about +x, deg (knee cave plus whole-body lean)."""
        return self._lat * ch["knee_cave"] + ch["body_lean"]

    def segment_rotations(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """``R_E_B`` (N,3,3) of foot, shank, thigh, pelvis, upper_back, head."""
        return self.rotations_from(self.channels(t_s))

    def rotations_from(self, ch: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
        d = np.deg2rad
        yaw = cos_sin(d(ch["heading"]))
        lean = cos_sin(d(ch["body_lean"]))
        trunk = ch["trunk_inclination"]
        thigh_frontal = cos_sin(d(self._thigh_frontal_deg(ch)))
        out = {
            "shank": rot_zyx(yaw, cos_sin(-d(ch["shank_inclination"])), lean),
            "thigh": rot_zyx(yaw, cos_sin(-d(ch["thigh_inclination"])), thigh_frontal),
            "pelvis": rot_zyx(yaw, cos_sin(d(ch["pelvic_tilt"])), lean),
            "upper_back": rot_zyx(yaw, cos_sin(d(trunk)), lean),
            # head extension = chin up = negative flexion of the head on the trunk
            "head": rot_zyx(yaw, cos_sin(d(trunk - ch["head_extension"])), lean),
        }
        if "foot" in self.extras:
            # the foot stays flat on the ground except while walking
            flat = cos_sin(np.zeros_like(ch["foot_pitch"]))
            out["foot"] = rot_zyx(yaw, cos_sin(d(ch["foot_pitch"])), flat)
        return out

    def site_positions(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """Earth positions (N,3), m, of each segment's sensor site."""
        ch = self.channels(t_s)
        return self.positions_from(ch, self.rotations_from(ch))

    def positions_from(
        self, ch: Mapping[str, FloatArray], rot: Mapping[str, FloatArray]
    ) -> dict[str, FloatArray]:
        a = self.anthropometry
        lat = self._lat
        n = ch["base_x_m"].shape[0]
        ankle = np.stack([ch["base_x_m"], ch["base_y_m"], np.full(n, 0.08)], axis=1)
        knee = ankle + apply(rot["shank"], np.array([0.0, 0.0, a.shank_m]))
        hip = knee + apply(rot["thigh"], np.array([0.0, 0.0, a.thigh_m]))
        pelvis_c = hip + apply(rot["pelvis"], np.array([0.0, lat * a.half_hip_width_m, 0.0]))
        l5s1 = pelvis_c + apply(rot["pelvis"], np.array([-0.04, 0.0, a.lumbar_m]))
        c7 = l5s1 + apply(rot["upper_back"], np.array([-0.03, 0.0, a.trunk_m]))
        out = {
            # lateral mid-thigh
            "thigh": knee + apply(rot["thigh"], np.array([0.0, -lat * 0.08, 0.55 * a.thigh_m])),
            # over the sacrum
            "pelvis": pelvis_c + apply(rot["pelvis"], np.array([-0.11, 0.0, 0.06])),
            # between the shoulder blades
            "upper_back": l5s1 + apply(rot["upper_back"], np.array([-0.10, 0.0, 0.7 * a.trunk_m])),
            # on a headband at the back of the head
            "head": c7 + apply(rot["head"], np.array([-0.08, 0.0, 0.15])),
        }
        if "shank" in self.extras:  # lateral mid-shank
            out["shank"] = ankle + apply(
                rot["shank"], np.array([0.0, -lat * 0.05, 0.5 * a.shank_m])
            )
        if "foot" in self.extras:  # on the laces
            out["foot"] = ankle + apply(rot["foot"], np.array([0.07, 0.0, -0.02]))
        return out
