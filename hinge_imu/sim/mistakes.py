"""The mistakes the simulator can inject, their magnitudes and how (SIMULATED).

A magnitude is the value, in degrees, of the quantity the rule of docs/rules.md
reads (its deciding metric), e.g. ``back_rounded=30`` makes the lumbar
flexion peak at 30°. Defaults sit clearly past the default thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hinge_imu.errors import HingeImuError


@dataclass(frozen=True)
class MistakeSpec:
    """One injectable mistake: default magnitude, allowed range, what it sets."""

    rule_id: str
    default_deg: float
    low_deg: float
    high_deg: float
    sets: str


MISTAKES: dict[str, MistakeSpec] = {
    m.rule_id: m
    for m in (
        MistakeSpec("back_rounded", 32.0, -5.0, 60.0, "lumbar flexion at the bottom"),
        MistakeSpec("back_arched", -18.0, -35.0, 5.0, "lumbar flexion at the bottom (− = arch)"),
        MistakeSpec("no_lockout", 20.0, -5.0, 40.0, "hip flexion of the final (settled) pose"),
        MistakeSpec("knees_locked", -2.0, -10.0, 12.0, "thigh inclination at the bottom"),
        MistakeSpec("knees_forward", 18.0, 0.0, 19.0, "thigh inclination when hip flexion is 20°"),
        MistakeSpec("knees_caving", 14.0, 0.0, 30.0, "knee cave at the bottom"),
        MistakeSpec("shallow_hinge", 34.0, 26.0, 60.0, "peak hip flexion"),
        MistakeSpec("ribs_flared", -14.0, -30.0, 0.0, "lumbar flexion at the lockout"),
        MistakeSpec("neck_extended", 25.0, -10.0, 45.0, "head extension at the bottom"),
        MistakeSpec("squatting", 55.0, 30.0, 75.0, "thigh inclination at the bottom"),
    )
}

#: Pairs that contradict each other within one rep.
INCOMPATIBLE = (
    frozenset({"back_rounded", "back_arched"}),
    frozenset({"knees_locked", "squatting"}),
    frozenset({"knees_locked", "shallow_hinge"}),
    frozenset({"knees_locked", "knees_forward"}),
    frozenset({"shallow_hinge", "squatting"}),
)


def normalise_mistakes(raw: Mapping[str, float | None], head: bool) -> dict[str, float]:
    """Check one rep's mistakes; fill default magnitudes; HingeImuError if wrong."""
    out: dict[str, float] = {}
    for rid, mag in raw.items():
        if rid == "tripod_foot":
            raise HingeImuError(
                "mistake tripod_foot cannot be simulated: body-worn IMUs cannot observe it"
            )
        spec = MISTAKES.get(rid)
        if spec is None:
            known = ", ".join(MISTAKES)
            raise HingeImuError(f"unknown mistake {rid!r} (known: {known})")
        value = spec.default_deg if mag is None else float(mag)
        if not spec.low_deg <= value <= spec.high_deg:
            raise HingeImuError(
                f"mistake {rid}={value:g} out of range [{spec.low_deg:g}, {spec.high_deg:g}] "
                f"(degrees of {spec.sets})"
            )
        out[rid] = value
    if "neck_extended" in out and not head:
        raise HingeImuError("mistake neck_extended needs a head sensor (--head)")
    for pair in INCOMPATIBLE:
        if pair <= set(out):
            a, b = sorted(pair)
            raise HingeImuError(f"mistakes {a} and {b} cannot be combined in one rep")
    return out


def parse_mistake_arg(text: str) -> tuple[str, float | None]:
    """``"back_rounded"`` or ``"back_rounded=30"`` → (id, magnitude or None)."""
    rid, sep, mag = text.partition("=")
    rid = rid.strip()
    if not sep:
        return rid, None
    try:
        return rid, float(mag)
    except ValueError:
        raise HingeImuError(f"--mistake {text!r}: magnitude must be a number of degrees") from None
