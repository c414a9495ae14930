"""The rules of docs/rules.md as data: defaults, judging, scores, a physio's own file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.cli import main
from hinge_imu.conventions import RULE_IDS
from hinge_imu.core.rep_metrics import RepBounds, RepMetrics, compute_rep_metrics
from hinge_imu.core.rules import default_rules_text, judge_rep, load_rules
from hinge_imu.errors import RulesError

GOOD = RepMetrics(
    t_start=1.0,
    t_bottom=2.0,
    t_end=3.0,
    hip_flexion_peak=70.0,
    trunk_inclination_peak=55.0,
    lumbar_flexion_max=8.0,
    lumbar_flexion_min=-2.0,
    pelvic_tilt_lockout=0.0,
    hip_flexion_lockout=1.0,
    thigh_inclination_bottom=20.0,
    knee_cave=2.0,
    head_extension_max=None,
    lumbar_flexion_min_descent=-2.0,
    thigh_inclination_at_hip20=4.0,
    lumbar_flexion_start=0.0,
    lumbar_flexion_lockout=-1.0,
)

# rule id → (a change to GOOD that makes exactly that rule fire)
MISTAKES = {
    "back_rounded": {"lumbar_flexion_max": 25.0},
    "back_arched": {"lumbar_flexion_min_descent": -15.0, "lumbar_flexion_min": -15.0},
    "no_lockout": {"hip_flexion_lockout": 15.0},
    "knees_locked": {"thigh_inclination_bottom": 2.0},
    "knees_forward": {"thigh_inclination_at_hip20": 14.0},
    "knees_caving": {"knee_cave": 12.0},
    "shallow_hinge": {"hip_flexion_peak": 35.0},
    "ribs_flared": {"lumbar_flexion_lockout": -12.0},
    "neck_extended": {"head_extension_max": 25.0},
    "squatting": {"thigh_inclination_bottom": 50.0},
}


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def test_defaults_follow_rules_md(rules):
    assert rules.ids == RULE_IDS
    weights = {r.rule_id: r.weight for r in rules.rules}
    assert weights["back_rounded"] == 30
    assert weights["back_arched"] == 20
    assert weights["squatting"] == 25
    assert weights["no_lockout"] == 15
    assert all(
        weights[r] == 10
        for r in RULE_IDS
        if r not in {"back_rounded", "back_arched", "squatting", "no_lockout"}
    )
    assert rules.bad_rep_min_weight == 20


def test_good_rep_scores_100_and_unobservable_rules_are_not_assessed(rules):
    j = judge_rep(GOOD, rules)
    assert j.score == 100 and j.mistakes == () and not j.bad
    assert j["tripod_foot"].fired is None  # never "passed"
    assert j["neck_extended"].fired is None  # no head sensor
    assert all(
        v.fired is False for v in j.verdicts if v.rule_id not in {"tripod_foot", "neck_extended"}
    )


@pytest.mark.parametrize("rule_id", sorted(MISTAKES))
def test_each_rule_fires_alone_with_value_and_excess(rules, rule_id):
    j = judge_rep(dataclasses.replace(GOOD, **MISTAKES[rule_id]), rules)
    assert j.mistakes == (rule_id,)
    v = j[rule_id]
    assert v.fired is True and v.excess_deg is not None and v.excess_deg > 0
    assert v.threshold is not None and v.value is not None
    weight = rules[rule_id].weight
    assert j.score == 100 - weight
    assert j.bad == (weight >= 20)


def test_knees_locked_needs_a_deep_hinge(rules):
    shallow_locked = dataclasses.replace(GOOD, thigh_inclination_bottom=2.0, hip_flexion_peak=40.0)
    j = judge_rep(shallow_locked, rules)
    assert j["knees_locked"].fired is False
    assert "guard" in j["knees_locked"].reason
    assert j["shallow_hinge"].fired is True


def test_score_sums_weights_and_never_goes_below_zero(rules):
    worst = dataclasses.replace(
        GOOD, **{k: v for change in MISTAKES.values() for k, v in change.items()}
    )
    j = judge_rep(worst, rules)
    assert j.score == 0
    assert j.bad
    two = dataclasses.replace(GOOD, lumbar_flexion_max=30.0, knee_cave=10.0)
    assert judge_rep(two, rules).score == 100 - 30 - 10


def test_missing_sensor_leaves_its_rules_not_assessed(rules):
    no_thigh = dataclasses.replace(
        GOOD,
        thigh_inclination_bottom=None,
        knee_cave=None,
        thigh_inclination_at_hip20=None,
        hip_flexion_peak=None,
        hip_flexion_lockout=None,
    )
    j = judge_rep(no_thigh, rules)
    for rid in (
        "knees_locked",
        "knees_forward",
        "knees_caving",
        "shallow_hinge",
        "squatting",
        "no_lockout",
    ):
        assert j[rid].fired is None, rid
    assert j["back_rounded"].fired is False


def test_unjudgeable_rep_has_no_score_and_no_verdicts(rules):
    j = judge_rep(dataclasses.replace(GOOD, lumbar_flexion_max=40.0), rules, "lost data")
    assert np.isnan(j.score) and not j.bad and j.mistakes == ()
    assert all(v.fired is None and v.reason == "lost data" for v in j.verdicts)


def test_edited_threshold_file_changes_the_verdict(tmp_path: Path, rules):
    text = default_rules_text().replace(
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 20.0 }',
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 5.0 }',
    )
    f = tmp_path / "strict.toml"
    f.write_text(text, "utf-8")
    strict = load_rules(f)
    assert judge_rep(GOOD, rules)["back_rounded"].fired is False
    assert judge_rep(GOOD, strict)["back_rounded"].fired is True
    assert rules.with_threshold("back_rounded", 5.0)["back_rounded"].fires_when[0].threshold == 5.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("threshold = 20.0", 'threshold = "x"'), "threshold must be a number"),
        (('metric = "lumbar_flexion_max"', 'metric = "spine"'), "unknown metric 'spine'"),
        (('op = ">", threshold = 20.0', 'op = "=>", threshold = 20.0'), "op must be one of"),
        (("[rules.squatting]", "[rules.squating]"), "unknown rule id(s): squating"),
        (("weight = 30", "weight = -3"), "weight must be a number"),
    ],
)
def test_bad_rules_file_is_one_line_through_the_cli(tmp_path, capsys, change, message):
    f = tmp_path / "bad.toml"
    f.write_text(default_rules_text().replace(*change, 1), "utf-8")
    with pytest.raises(RulesError):
        load_rules(f)
    assert main(["rules", "--check", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(f) in err and message in err
    assert "Traceback" not in err


def test_rules_command_prints_a_file_that_loads(tmp_path, capsys):
    assert main(["rules"]) == 0
    f = tmp_path / "copy.toml"
    f.write_text(capsys.readouterr().out, "utf-8")
    assert load_rules(f).ids == RULE_IDS


def test_rep_metrics_read_the_rules_md_moments():
    t = np.arange(0, 4, 0.01)
    hip = 60 * np.sin(np.pi * t / 4) ** 2
    lumbar = np.where(t < 2.0, -12 * np.sin(np.pi * t / 2) ** 2, 0.0)  # arching on the way down
    lumbar[-1] = -9.0  # ribs flared at lockout
    thigh = 0.3 * hip
    angles = {
        "hip_flexion": hip,
        "thigh_inclination": thigh,
        "pelvic_tilt": hip - thigh,
        "lumbar_flexion": lumbar,
        "trunk_inclination": lumbar + hip - thigh,
    }
    m = compute_rep_metrics(t, angles, RepBounds(0, 200, len(t)))
    assert m.hip_flexion_peak == pytest.approx(60.0)
    assert m.t_bottom == pytest.approx(2.0)
    assert m.lumbar_flexion_min_descent == pytest.approx(-12.0, abs=0.01)
    assert m.lumbar_flexion_lockout == pytest.approx(-9.0)
    i20 = int(np.argmax(hip >= 20))
    assert m.thigh_inclination_at_hip20 == pytest.approx(thigh[i20])
    assert m.knee_cave is None and m.head_extension_max is None
