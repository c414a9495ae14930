"""The mistake rules of docs/rules.md as data (a TOML file) and pure functions.

``load_rules()`` reads the shipped defaults or a physio's own file;
``judge_rep()`` turns one rep's metrics into verdicts and a score. Every
verdict keeps the measured value and the threshold, so a report can say why
a rule fired and by how much.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from importlib import resources
from pathlib import Path

from hinge_imu.conventions import RULE_IDS
from hinge_imu.core.rep_metrics import RepMetrics
from hinge_imu.errors import RulesError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RULES_FORMAT = "hinge-imu rules v1"
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_METRICS = frozenset(f.name for f in fields(RepMetrics)) - {"t_start", "t_bottom", "t_end"}


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``, e.g. ``lumbar_flexion_max > 20`` (degrees)."""

    metric: str
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def excess(self, value: float) -> float:
        """How far ``value`` is past the threshold in the firing direction, deg
        (positive: the condition holds by that much; negative: short of it)."""
        return value - self.threshold if self.op.startswith(">") else self.threshold - value

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """``metric op threshold`` as written in a verdict (made once: every rep shows it)."""
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Rule:
    """One mistake rule: fires when any ``fires_when`` holds and all ``only_if`` hold."""

    rule_id: str
    weight: float
    coaching: str = ""
    fires_when: tuple[Condition, ...] = ()
    only_if: tuple[Condition, ...] = ()
    observable: bool = True

    @cached_property
    def metrics(self) -> tuple[str, ...]:
        return tuple(c.metric for c in (*self.fires_when, *self.only_if))

    @cached_property
    def guard_text(self) -> str:
        """Why the rule was not applied when a guard does not hold."""
        return "guard not met: " + " and ".join(map(str, self.only_if))


@dataclass(frozen=True)
class RuleSet:
    """All rules, in docs/rules.md order, plus what makes a rep "bad"."""

    rules: tuple[Rule, ...]
    bad_rep_min_weight: float = 20.0
    source: str = "default"

    def __getitem__(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.rules)

    def with_threshold(self, rule_id: str, threshold: float, index: int = 0) -> RuleSet:
        """A copy with one condition's threshold changed (for notebooks)."""
        from dataclasses import replace

        new = []
        for r in self.rules:
            if r.rule_id == rule_id:
                conds = list(r.fires_when)
                conds[index] = replace(conds[index], threshold=float(threshold))
                r = replace(r, fires_when=tuple(conds))
            new.append(r)
        return replace(self, rules=tuple(new), source=f"{self.source} (edited)")


@dataclass(frozen=True)
class Verdict:
    """One rule on one rep.

    ``fired`` is None when the rule could not be assessed (``reason`` says
    why). ``value``/``threshold``/``excess_deg`` describe the deciding
    condition: the one that fired, or the closest to firing.
    """

    rule_id: str
    fired: bool | None
    weight: float
    value: float | None = None
    threshold: float | None = None
    condition: str = ""
    excess_deg: float | None = None
    reason: str = ""

    @property
    def assessed(self) -> bool:
        return self.fired is not None


@dataclass(frozen=True)
class Judgement:
    """All verdicts on one rep, its score (0–100) and whether it is bad."""

    verdicts: tuple[Verdict, ...]
    score: float
    bad: bool
    mistakes: tuple[str, ...] = field(default=())

    def __getitem__(self, rule_id: str) -> Verdict:
        for v in self.verdicts:
            if v.rule_id == rule_id:
                return v
        raise KeyError(rule_id)


def _conditions(raw: object, where: str, path: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RulesError(f"{where} must be a list of {{metric, op, threshold}}", path)
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"metric", "op", "threshold"}:
            raise RulesError(f"{where}: each condition needs exactly metric, op, threshold", path)
        metric, op, thr = item["metric"], item["op"], item["threshold"]
        if metric not in _METRICS:
            known = ", ".join(sorted(_METRICS))
            raise RulesError(f"{where}: unknown metric {metric!r} (known: {known})", path)
        if op not in _OPS:
            raise RulesError(f"{where}: op must be one of {' '.join(_OPS)}, not {op!r}", path)
        if isinstance(thr, bool) or not isinstance(thr, int | float):
            raise RulesError(f"{where}: threshold must be a number, not {thr!r}", path)
        out.append(Condition(metric, op, float(thr)))
    return tuple(out)


def parse_rules(doc: Mapping[str, object], path: str = "<rules>") -> RuleSet:
    """Build a RuleSet from a parsed TOML document; RulesError on any mistake."""
    if doc.get("format", RULES_FORMAT) != RULES_FORMAT:
        raise RulesError(f"format must be {RULES_FORMAT!r}", path)
    table = doc.get("rules")
    if not isinstance(table, dict):
        raise RulesError("missing [rules.<rule_id>] tables", path)
    unknown = set(table) - set(RULE_IDS)
    if unknown:
        raise RulesError(f"unknown rule id(s): {', '.join(sorted(unknown))}", path)
    rules = []
    for rid in RULE_IDS:
        spec = table.get(rid)
        if spec is None:
            raise RulesError(
                f"rule {rid!r} is missing (every rule of docs/rules.md must be listed)", path
            )
        where = f"[rules.{rid}]"
        weight = spec.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise RulesError(f"{where}: weight must be a number ≥ 0", path)
        observable = bool(spec.get("observable", True))
        fires = _conditions(spec.get("fires_when"), f"{where} fires_when", path)
        if observable and not fires:
            raise RulesError(f"{where}: fires_when is empty", path)
        rules.append(
            Rule(
                rule_id=rid,
                weight=float(weight),
                coaching=str(spec.get("coaching", "")),
                fires_when=fires,
                only_if=_conditions(spec.get("only_if"), f"{where} only_if", path),
                observable=observable,
            )
        )
    bad = doc.get("bad_rep_min_weight", 20)
    if isinstance(bad, bool) or not isinstance(bad, int | float):
        raise RulesError("bad_rep_min_weight must be a number", path)
    return RuleSet(tuple(rules), float(bad), source=path)


def default_rules_text() -> str:
    """The shipped default rules file, as text."""
    return (resources.files("hinge_imu") / "data" / "default_rules.toml").read_text("utf-8")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rules TOML file, or the defaults of docs/rules.md when ``path`` is None."""
    if path is None:
        return parse_rules(tomllib.loads(default_rules_text()), "default rules")
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as err:
        raise RulesError(f"cannot read rules file: {err.strerror}", p) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RulesError(f"not valid TOML: {err}", p) from None
    return parse_rules(doc, str(p))


def judge_rep(metrics: RepMetrics, rules: RuleSet, unjudgeable: str = "") -> Judgement:
    """Verdicts of every rule on one rep (pure).

    Args:
        metrics: the rep's quantities; None values make the rules that read
            them "not assessed" (missing sensor).
        rules: the rule set.
        unjudgeable: if not empty, the rep cannot be judged at all (lost
            data, poor calibration): every rule is not assessed for this
            reason and the score is nan.
    """
    verdicts = []
    for rule in rules.rules:
        if unjudgeable:
            verdicts.append(Verdict(rule.rule_id, None, rule.weight, reason=unjudgeable))
            continue
        if not rule.observable:
            verdicts.append(
                Verdict(rule.rule_id, None, rule.weight, reason="not observable by body-worn IMUs")
            )
            continue
        # Each metric read once per rule (a rep is judged by every rule).
        names = rule.metrics
        value = {m: metrics.get(m) for m in names}
        missing = [m for m in names if value[m] is None]
        if missing:
            verdicts.append(
                Verdict(
                    rule.rule_id, None, rule.weight, reason=f"no value for {', '.join(missing)}"
                )
            )
            continue
        guard_ok = all(c.holds(value[c.metric] or 0.0) for c in rule.only_if)
        # The deciding condition: the one that fires by the most (the first
        # of equals), else the nearest miss.
        cond = rule.fires_when[0]
        excess = cond.excess(value[cond.metric] or 0.0)
        for c in rule.fires_when[1:]:
            e = c.excess(value[c.metric] or 0.0)
            if e > excess:
                excess, cond = e, c
        fired = guard_ok and any(c.holds(value[c.metric] or 0.0) for c in rule.fires_when)
        verdicts.append(
            Verdict(
                rule.rule_id,
                fired,
                rule.weight,
                value=value[cond.metric],
                threshold=cond.threshold,
                condition=cond.text,
                excess_deg=excess,
                reason="" if guard_ok else rule.guard_text,
            )
        )
    if unjudgeable:
        return Judgement(tuple(verdicts), float("nan"), False)
    fired_rules = [v for v in verdicts if v.fired]
    score = max(0.0, 100.0 - sum(v.weight for v in fired_rules))
    bad = any(v.weight >= rules.bad_rep_min_weight for v in fired_rules)
    return Judgement(tuple(verdicts), score, bad, tuple(v.rule_id for v in fired_rules))
