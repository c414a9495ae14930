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

A movement is the rep detector's: it is watched from the detector's
``started`` event (docs/rules.md's rep start) to its ``finished`` or
``rejected`` event, as the analysis step reports them. Warnings are issued
only once the movement already qualifies as a rep by the detector's own
``RepSettings`` (hip flexion ≥ ``min_peak_deg`` and ``reps.tilt_angle_deg`` —
trunk inclination, without it pelvic tilt — ≥ ``min_tilt_deg``), so a bow or
a step never warns. The verdict at lockout (``judge_rep``) stays the authority for the rep report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hinge_imu.core.rep_events import RepEvent, RepSettings, tilt_angle_deg
from hinge_imu.core.rep_metrics import BOTTOM_BAND_DEG, HIP_FLEXION_KNEES_FORWARD_DEG
from hinge_imu.core.rules import Condition, RuleSet
from hinge_imu.core.step import AnalysisStep

FloatArray = npt.NDArray[np.float64]

IN_REP_RULES: Final = ("back_rounded", "knees_caving", "knees_forward", "squatting")
#: Which angle and running statistic stands in for each rule's metric.
_METRIC_ANGLE: Final = {
    "lumbar_flexion_max": "lumbar_flexion",
    "knee_cave": "knee_cave",
    "thigh_inclination_at_hip20": "thigh_inclination",
    "thigh_inclination_bottom": "thigh_inclination",
}


@dataclass(frozen=True)
class InRepFinding:
    """An in-rep rule fired at session time ``t_s`` in movement ``candidate``."""

    rule_id: str
    candidate: int
    t_s: float
    value_deg: float
    threshold_deg: float
    makes_rep_bad: bool
    #: Index of the sample (in the step passed to ``update``) that showed it.
    index: int
    #: When the movement started (the rep detector's ``started`` event), s.
    movement_start_s: float


class InRepMonitor:
    """Watches angles sample by sample and reports in-rep rule violations.

    Args:
        rules: the RuleSet whose thresholds apply; rules it cannot assess
            (missing sensors) are skipped by passing NaN angles.
        reps: the rep detector's settings (when a movement qualifies as a rep).
        rate_hz: the analysis grid rate (event indices are grid indices), Hz.
    """

    def __init__(self, rules: RuleSet, reps: RepSettings, rate_hz: float) -> None:
        self.rules = rules
        self.reps = reps
        self.rate_hz = rate_hz
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

    def update(self, step: AnalysisStep) -> list[InRepFinding]:
        """Process the angle rows of one analysis step (NaN = not measurable)."""
        t_s = step.t_s
        angles_deg = step.angles_deg
        n = len(t_s)
        nan = np.full(n, np.nan)
        hip = np.asarray(angles_deg.get("hip_flexion", nan), dtype=float)
        # Without a thigh sensor the movement is followed on the trunk (or the
        # pelvis), as the core's rep detector does (``stream.driver_angle``).
        for fallback in ("trunk_inclination", "pelvic_tilt"):
            alt = np.asarray(angles_deg.get(fallback, nan), dtype=float)
            hip = np.where(np.isfinite(hip), hip, alt)
        a = {k: np.asarray(angles_deg.get(k, nan), dtype=float) for k in _METRIC_ANGLE.values()}
        tilt = tilt_angle_deg(
            {k: angles_deg.get(k, nan) for k in ("pelvic_tilt", "trunk_inclination")}
        )
        marks = _movement_marks(step.events, t_s, self.rate_hz)
        out: list[InRepFinding] = []
        for i in range(n + 1):
            # Movement starts and ends before row i (at i == n: the rest, e.g. at the end of data).
            while marks and (marks[0][0] <= i or i == n):
                ev = marks.pop(0)[1]
                if ev.kind == "started":
                    self._start(ev.t_s)
                else:
                    self.in_movement = False
            if i == n or not self.in_movement or not math.isfinite(hip[i]):
                continue
            out += self._sample(i, float(t_s[i]), float(hip[i]), float(tilt[i]), a)
        return out

    def _sample(
        self, i: int, t: float, h: float, tilt: float, a: Mapping[str, FloatArray]
    ) -> list[InRepFinding]:
        """One sample inside a movement: what fires now."""
        self._peak_hip = max(self._peak_hip, h)
        if math.isfinite(tilt):
            self._peak_tilt = max(self._peak_tilt, tilt)
        values = self._merge(self._values(i, h, a))
        if self._peak_hip < self.reps.min_peak_deg or self._peak_tilt < self.reps.min_tilt_deg:
            # Not yet a rep: remember what was seen, warn once it qualifies.
            self._pending = {k: v for k, v in values.items() if k != "thigh_inclination_bottom"}
            return []
        self._pending = {}
        out = []
        for rid, conds in self._conds.items():
            if rid in self._fired:
                continue
            for c in conds:
                v = values.get(c.metric)
                if v is not None and c.holds(v):
                    self._fired.add(rid)
                    bad = self._bad[rid]
                    out.append(
                        InRepFinding(
                            rid, self.candidate, t, v, c.threshold, bad, i, self.movement_start_s
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


def _movement_marks(
    events: tuple[RepEvent, ...], t_s: FloatArray, rate_hz: float
) -> list[tuple[int, RepEvent]]:
    """(row, event) where a movement starts or ends, in the order the detector told them.

    A start is at its own sample; a rep ends after its last sample (the
    lockout); a movement rejected without bounds ends at once.
    """
    out = []
    for ev in events:
        if ev.kind == "bottom":
            continue
        if ev.kind == "started":
            k = ev.index
        elif ev.bounds is not None:
            k = ev.bounds.end
        else:
            out.append((0, ev))
            continue
        out.append((int(np.searchsorted(t_s, k / rate_hz - 1e-9)), ev))
    return out
