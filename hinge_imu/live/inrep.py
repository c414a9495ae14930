"""In-rep monitor: the rules that can fire DURING a rep, as soon as the data shows them.

``back_rounded``, ``knees_caving``, ``knees_forward`` and ``squatting`` read
quantities that are known before lockout, so the user can be warned while
still in the movement. The monitor uses the same thresholds as the RuleSet
(a physio's rules file changes both), reading each one the way
``compute_rep_metrics`` does:

* ``back_rounded`` / ``knees_caving``: the running maximum of lumbar flexion /
  knee cave passes the threshold (the rep's maximum can only grow).
* ``knees_forward``: thigh inclination at the sample where hip flexion first
  reaches 20°.
* ``squatting``: thigh inclination passes the threshold while hip flexion is
  still rising or within the bottom band (5°) of its running peak — an early
  reading of "thigh inclination at the bottom" (on the way down the thigh
  only tilts further), never read on the way up.

A movement is watched from the moment hip flexion rises 5° above its standing
level (docs/rules.md's rep start) until it comes back down below it. Warnings are
issued only once the movement already qualifies as a rep (hip flexion ≥ 20°
and pelvic tilt or trunk inclination ≥ 15°), so a bow or a step never warns.
The verdict at lockout (``judge_rep``) stays the authority for the rep report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hinge_imu.core.rep_metrics import BOTTOM_BAND_DEG, HIP_FLEXION_KNEES_FORWARD_DEG
from hinge_imu.core.rules import Condition, RuleSet

FloatArray = npt.NDArray[np.float64]

IN_REP_RULES: Final = ("back_rounded", "knees_caving", "knees_forward", "squatting")
#: Which angle and running statistic stands in for each rule's metric.
_METRIC_ANGLE: Final = {
    "lumbar_flexion_max": "lumbar_flexion",
    "knee_cave": "knee_cave",
    "thigh_inclination_at_hip20": "thigh_inclination",
    "thigh_inclination_bottom": "thigh_inclination",
}
REP_START_RISE_DEG: Final = 5.0
REP_MIN_HIP_FLEXION_DEG: Final = 20.0
REP_MIN_TILT_DEG: Final = 15.0
#: How fast the standing level follows hip flexion between reps (time constant, s).
_STANDING_TAU_S: Final = 1.0


@dataclass(frozen=True)
class InRepFinding:
    """An in-rep rule fired at session time ``t_s`` in movement ``candidate``."""

    rule_id: str
    candidate: int
    t_s: float
    value_deg: float
    threshold_deg: float
    makes_rep_bad: bool
    #: Index of the sample (in the chunk passed to ``update``) that showed it.
    index: int
    #: When the movement started (hip flexion 5° above standing), s.
    movement_start_s: float


class InRepMonitor:
    """Watches angles sample by sample and reports in-rep rule violations.

    Args:
        rules: the RuleSet whose thresholds apply; rules it cannot assess
            (missing sensors) are skipped by passing NaN angles.
    """

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._conds: dict[str, tuple[Condition, ...]] = {}
        for rid in IN_REP_RULES:
            rule = rules[rid]
            conds = tuple(c for c in rule.fires_when if c.metric in _METRIC_ANGLE)
            if rule.observable and conds and not rule.only_if:
                self._conds[rid] = conds
        self._bad = {rid: rules[rid].weight >= rules.bad_rep_min_weight for rid in self._conds}
        self.reset()

    def reset(self) -> None:
        self.candidate = 0
        self.movement_start_s = float("nan")
        self.in_movement = False
        self._standing_deg = 0.0
        self._last_t_s: float | None = None
        self._fired: set[str] = set()
        self._peak_hip = -math.inf
        self._peak_tilt = -math.inf
        self._hip20_seen = False
        self._pending: dict[str, float] = {}

    @property
    def active_rules(self) -> tuple[str, ...]:
        return tuple(self._conds)

    def _start(self, t_s: float) -> None:
        self.candidate += 1
        self.movement_start_s = t_s
        self.in_movement = True
        self._fired = set()
        self._peak_hip = -math.inf
        self._peak_tilt = -math.inf
        self._hip20_seen = False
        self._pending = {}

    def update(self, t_s: FloatArray, angles_deg: Mapping[str, FloatArray]) -> list[InRepFinding]:
        """Process a chunk of angle samples (grid times ``t_s``; NaN = not measurable)."""
        n = len(t_s)
        nan = np.full(n, np.nan)
        hip = np.asarray(angles_deg.get("hip_flexion", nan), dtype=float)
        # Without a thigh sensor the movement is followed on the trunk (or the
        # pelvis), as the core's rep detector does (``stream.driver_angle``).
        for fallback in ("trunk_inclination", "pelvic_tilt"):
            alt = np.asarray(angles_deg.get(fallback, nan), dtype=float)
            hip = np.where(np.isfinite(hip), hip, alt)
        a = {k: np.asarray(angles_deg.get(k, nan), dtype=float) for k in _METRIC_ANGLE.values()}
        tilt = np.fmax(
            np.asarray(angles_deg.get("pelvic_tilt", nan), dtype=float),
            np.asarray(angles_deg.get("trunk_inclination", nan), dtype=float),
        )
        out: list[InRepFinding] = []
        for i in range(n):
            t = float(t_s[i])
            h = float(hip[i])
            dt = 0.0 if self._last_t_s is None else max(0.0, t - self._last_t_s)
            self._last_t_s = t
            if not math.isfinite(h):
                continue
            if not self.in_movement:
                if h > self._standing_deg + REP_START_RISE_DEG:
                    self._start(t)
                else:
                    # Follow slow drifts of the standing pose, not the movement.
                    alpha = min(1.0, dt / _STANDING_TAU_S)
                    self._standing_deg += alpha * (
                        min(h, self._standing_deg + 1.0) - self._standing_deg
                    )
                    continue
            elif (
                h < self._standing_deg + REP_START_RISE_DEG
                and self._peak_hip >= REP_MIN_HIP_FLEXION_DEG
            ):
                self.in_movement = False
                continue
            self._peak_hip = max(self._peak_hip, h)
            if math.isfinite(tilt[i]):
                self._peak_tilt = max(self._peak_tilt, float(tilt[i]))
            values = self._merge(self._values(i, h, a))
            if self._peak_hip < REP_MIN_HIP_FLEXION_DEG or self._peak_tilt < REP_MIN_TILT_DEG:
                # Not yet a rep: remember what was seen, warn once it qualifies.
                self._pending = {k: v for k, v in values.items() if k != "thigh_inclination_bottom"}
                continue
            self._pending = {}
            for rid, conds in self._conds.items():
                if rid in self._fired:
                    continue
                for c in conds:
                    v = values.get(c.metric)
                    if v is not None and c.holds(v):
                        self._fired.add(rid)
                        out.append(
                            InRepFinding(
                                rid,
                                self.candidate,
                                t,
                                v,
                                c.threshold,
                                self._bad[rid],
                                i,
                                self.movement_start_s,
                            )
                        )
                        break
        return out

    def _values(self, i: int, h: float, a: Mapping[str, FloatArray]) -> dict[str, float]:
        """The rule metrics this sample shows (only those it can show)."""
        v: dict[str, float] = {}
        lf, kc, th = (float(a[k][i]) for k in ("lumbar_flexion", "knee_cave", "thigh_inclination"))
        if math.isfinite(lf):
            v["lumbar_flexion_max"] = lf
        if math.isfinite(kc):
            v["knee_cave"] = kc
        if math.isfinite(th):
            if not self._hip20_seen and h >= HIP_FLEXION_KNEES_FORWARD_DEG:
                self._hip20_seen = True
                v["thigh_inclination_at_hip20"] = th
            if h >= self._peak_hip - BOTTOM_BAND_DEG:
                v["thigh_inclination_bottom"] = th
        return v

    def _merge(self, values: dict[str, float]) -> dict[str, float]:
        """Carry what was seen before the movement qualified (running max / first value)."""
        out = dict(values)
        for k, pv in self._pending.items():
            if k in ("lumbar_flexion_max", "knee_cave"):
                out[k] = max(pv, out.get(k, -math.inf))
            elif k == "thigh_inclination_at_hip20":
                out[k] = pv
        return out
