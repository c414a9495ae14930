"""Per-rep quantities of the rep report, from angle time series (pure).

Used on estimated angles by the analysis and on true angles by the
simulator, so that truth and estimate are measured the same way.
How the contract's words are read here is written in docs/rules.md
("How the rules are read").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

#: Hip flexion at which `knees_forward` looks at the thigh, deg (docs/rules.md #4).
HIP_FLEXION_KNEES_FORWARD_DEG = 20.0
#: The "bottom" of a rep lasts while hip flexion stays within this of its peak, deg.
BOTTOM_BAND_DEG = 5.0


@dataclass(frozen=True)
class RepBounds:
    """Where a rep lies on an angle time grid: samples ``[start, end)``.

    ``start`` is the start of descent, ``bottom`` the peak hip flexion and
    ``end - 1`` the lockout sample (the last sample of the rep).
    """

    start: int
    bottom: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.bottom < self.end):
            raise ValueError(f"bad rep bounds {self}")


@dataclass(frozen=True)
class RepMetrics:
    """Quantities of one rep, degrees and seconds; None where not measurable.

    The first fields are the contract columns of docs/outputs.md; the rest are
    the extra quantities some rules read.
    """

    t_start: float
    t_bottom: float
    t_end: float
    hip_flexion_peak: float | None
    trunk_inclination_peak: float | None
    lumbar_flexion_max: float | None
    lumbar_flexion_min: float | None
    pelvic_tilt_lockout: float | None
    hip_flexion_lockout: float | None
    thigh_inclination_bottom: float | None
    knee_cave: float | None
    head_extension_max: float | None
    # --- extra quantities used by rules (docs/outputs.md allows more columns) ---
    lumbar_flexion_min_descent: float | None
    thigh_inclination_at_hip20: float | None
    lumbar_flexion_start: float | None
    lumbar_flexion_lockout: float | None

    def get(self, metric: str) -> float | None:
        value = getattr(self, metric)
        return None if value is None else float(value)

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def _finite(a: npt.NDArray[np.float64] | None) -> bool:
    return a is not None and bool(np.isfinite(a).any())


def _f(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def compute_rep_metrics(
    t_s: npt.NDArray[np.float64],
    angles_deg: Mapping[str, npt.NDArray[np.float64] | None],
    bounds: RepBounds,
) -> RepMetrics:
    """Measure one rep.

    Args:
        t_s: time grid (N,), s.
        angles_deg: angle name (conventions.ANGLE_NAMES) → series (N,), deg;
            a missing or all-NaN series gives None for what needs it.
        bounds: the rep on that grid.
    """
    s, b, e = bounds.start, bounds.bottom, bounds.end
    rep = slice(s, e)
    last = e - 1

    known: dict[str, npt.NDArray[np.float64] | None] = {}

    def series(name: str) -> npt.NDArray[np.float64] | None:
        if name not in known:  # each series is checked once per rep
            a = angles_deg.get(name)
            known[name] = a if _finite(a) else None
        return known[name]

    def agg(name: str, fn: str, sl: slice = rep) -> float | None:
        a = series(name)
        if a is None:
            return None
        seg = a[sl]
        if seg.size == 0:
            return None
        # fmax/fmin skip NaN (what np.nanmax does inside), NaN only if all are.
        v = float(np.fmax.reduce(seg) if fn == "max" else np.fmin.reduce(seg))
        return None if math.isnan(v) else _f(v)

    def at(name: str, i: int) -> float | None:
        a = series(name)
        return None if a is None else _f(float(a[i]))

    hip = series("hip_flexion")
    # Descent and bottom: from the start until hip flexion leaves the band
    # around its peak on the way up (so the lockout is not in it).
    descent_end = b + 1
    thigh_at_hip20: float | None = None
    if hip is not None:
        peak = hip[b]
        while descent_end < e and hip[descent_end] >= peak - BOTTOM_BAND_DEG:
            descent_end += 1
        above = np.nonzero(hip[s : b + 1] >= HIP_FLEXION_KNEES_FORWARD_DEG)[0]
        if above.size:
            thigh_at_hip20 = at("thigh_inclination", s + int(above[0]))

    return RepMetrics(
        t_start=float(t_s[s]),
        t_bottom=float(t_s[b]),
        t_end=float(t_s[last]),
        hip_flexion_peak=at("hip_flexion", b),
        trunk_inclination_peak=agg("trunk_inclination", "max"),
        lumbar_flexion_max=agg("lumbar_flexion", "max"),
        lumbar_flexion_min=agg("lumbar_flexion", "min"),
        pelvic_tilt_lockout=at("pelvic_tilt", last),
        hip_flexion_lockout=at("hip_flexion", last),
        thigh_inclination_bottom=at("thigh_inclination", b),
        knee_cave=agg("knee_cave", "max"),
        head_extension_max=agg("head_extension", "max"),
        lumbar_flexion_min_descent=agg("lumbar_flexion", "min", slice(s, descent_end)),
        thigh_inclination_at_hip20=thigh_at_hip20,
        lumbar_flexion_start=at("lumbar_flexion", s),
        lumbar_flexion_lockout=at("lumbar_flexion", last),
    )
