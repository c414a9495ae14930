"""Kinematic chain of the simulated body (SIMULATED data).

Ankle (on the ground, moved only while walking) → shank → thigh → hip joint
→ pelvis → lumbosacral joint → upper back → C7 → head. The chain is driven
by *segment* angles (pelvic tilt, trunk inclination, thigh inclination,
knee cave, head extension, shank inclination, a frontal body lean for weight
shifts, the heading), and everything else — joint angles, positions,
orientations — is derived, so the angle identities of rules.md hold exactly.

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
    "heading",
    "base_x_m",
    "base_y_m",
)

#: Segments with a sensor site, in report order.
SITES = ("thigh", "pelvis", "upper_back", "head")


def rot_x(a_rad: FloatArray) -> FloatArray:
    c, s = np.cos(a_rad), np.sin(a_rad)
    o, z = np.ones_like(a_rad), np.zeros_like(a_rad)
    return np.stack([o, z, z, z, c, -s, z, s, c], axis=-1).reshape(*np.shape(a_rad), 3, 3)


def rot_y(a_rad: FloatArray) -> FloatArray:
    c, s = np.cos(a_rad), np.sin(a_rad)
    o, z = np.ones_like(a_rad), np.zeros_like(a_rad)
    return np.stack([c, z, s, z, o, z, -s, z, c], axis=-1).reshape(*np.shape(a_rad), 3, 3)


def rot_z(a_rad: FloatArray) -> FloatArray:
    c, s = np.cos(a_rad), np.sin(a_rad)
    o, z = np.ones_like(a_rad), np.zeros_like(a_rad)
    return np.stack([c, -s, z, s, c, z, z, z, o], axis=-1).reshape(*np.shape(a_rad), 3, 3)


def apply(r: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate vectors: (N,3,3) · (3,) or (N,3) → (N,3)."""
    return np.einsum("nij,...j->ni", r, v) if v.ndim == 1 else np.einsum("nij,nj->ni", r, v)


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
    """The body: motion + anthropometry + which thigh carries the sensor."""

    motion: Motion
    side: str = "right"
    anthropometry: Anthropometry = Anthropometry()

    @property
    def _lat(self) -> float:
        # +1 for a right thigh: its lateral direction is −y, its medial +y.
        return 1.0 if self.side == "right" else -1.0

    def angles_deg(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """True angles of rules.md at ``t_s``, degrees (derived identities exact)."""
        ch = self.motion.channel
        pelvis, trunk = ch("pelvic_tilt", t_s), ch("trunk_inclination", t_s)
        thigh = ch("thigh_inclination", t_s)
        # Frontal rotation of the thigh about +x; knee cave is its medial part.
        frontal = self._thigh_frontal_deg(t_s)
        return {
            "hip_flexion": pelvis + thigh,
            "trunk_inclination": trunk,
            "pelvic_tilt": pelvis,
            "lumbar_flexion": trunk - pelvis,
            "thigh_inclination": thigh,
            "knee_cave": self._lat * frontal,
            "head_extension": ch("head_extension", t_s),
        }

    def _thigh_frontal_deg(self, t_s: FloatArray) -> FloatArray:
        ch = self.motion.channel
        return self._lat * ch("knee_cave", t_s) + ch("body_lean", t_s)

    def segment_rotations(self, t_s: FloatArray) -> dict[str, FloatArray]:
        """``R_E_B`` (N,3,3) of shank, thigh, pelvis, upper_back, head."""
        ch = self.motion.channel
        d = np.deg2rad
        yaw = rot_z(d(ch("heading", t_s)))
        lean = d(ch("body_lean", t_s))
        trunk = ch("trunk_inclination", t_s)
        r = {
            "shank": rot_y(-d(ch("shank_inclination", t_s))) @ rot_x(lean),
            "thigh": rot_y(-d(ch("thigh_inclination", t_s)))
            @ rot_x(d(self._thigh_frontal_deg(t_s))),
            "pelvis": rot_y(d(ch("pelvic_tilt", t_s))) @ rot_x(lean),
            "upper_back": rot_y(d(trunk)) @ rot_x(lean),
            # head extension = chin up = negative flexion of the head on the trunk
            "head": rot_y(d(trunk - ch("head_extension", t_s))) @ rot_x(lean),
        }
        return {k: yaw @ v for k, v in r.items()}

    def site_positions(
        self, t_s: FloatArray, rotations: Mapping[str, FloatArray] | None = None
    ) -> dict[str, FloatArray]:
        """Earth positions (N,3), m, of each segment's sensor site."""
        rot = self.segment_rotations(t_s) if rotations is None else rotations
        a = self.anthropometry
        lat = self._lat
        ch = self.motion.channel
        n = np.shape(t_s)[0]
        ankle = np.stack([ch("base_x_m", t_s), ch("base_y_m", t_s), np.full(n, 0.08)], axis=1)
        knee = ankle + apply(rot["shank"], np.array([0.0, 0.0, a.shank_m]))
        hip = knee + apply(rot["thigh"], np.array([0.0, 0.0, a.thigh_m]))
        pelvis_c = hip + apply(rot["pelvis"], np.array([0.0, lat * a.half_hip_width_m, 0.0]))
        l5s1 = pelvis_c + apply(rot["pelvis"], np.array([-0.04, 0.0, a.lumbar_m]))
        c7 = l5s1 + apply(rot["upper_back"], np.array([-0.03, 0.0, a.trunk_m]))
        return {
            # lateral mid-thigh
            "thigh": knee + apply(rot["thigh"], np.array([0.0, -lat * 0.08, 0.55 * a.thigh_m])),
            # over the sacrum
            "pelvis": pelvis_c + apply(rot["pelvis"], np.array([-0.11, 0.0, 0.06])),
            # between the shoulder blades
            "upper_back": l5s1 + apply(rot["upper_back"], np.array([-0.10, 0.0, 0.7 * a.trunk_m])),
            # on a headband at the back of the head
            "head": c7 + apply(rot["head"], np.array([-0.08, 0.0, 0.15])),
        }
