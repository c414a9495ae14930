"""Ground truth of the simulator: mistakes fire their rules, good reps are
clearly good, non-rep movements are not reps, seeds are deterministic.
All data here is SIMULATED."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hinge_imu.core.rep_metrics import RepMetrics
from hinge_imu.core.rules import load_rules
from hinge_imu.errors import HingeImuError
from hinge_imu.sim import MISTAKES, SimConfig, simulate
from hinge_imu.sim.mistakes import INCOMPATIBLE

RULES = load_rules()
#: The truth does not depend on sensor rates; low rates keep sweeps fast.
LOW_RATES = {"thigh": 20.0, "pelvis": 20.0, "upper_back": 20.0, "head": 20.0}
#: The metric each mistake's magnitude sets (docs/simulator.md).
MAGNITUDE_METRIC = {
    "back_rounded": "lumbar_flexion_max",
    "back_arched": "lumbar_flexion_min_descent",
    "no_lockout": "hip_flexion_lockout",
    "knees_locked": "thigh_inclination_bottom",
    "knees_forward": "thigh_inclination_at_hip20",
    "knees_caving": "knee_cave",
    "shallow_hinge": "hip_flexion_peak",
    "ribs_flared": "lumbar_flexion_lockout",
    "neck_extended": "head_extension_max",
    "squatting": "thigh_inclination_bottom",
}


def _metrics(rep: dict) -> RepMetrics:
    return RepMetrics(**{k: rep[k] for k in RepMetrics.__dataclass_fields__})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_good_reps_are_clearly_good(seed: int) -> None:
    sim = simulate(SimConfig.preset("clean", reps=10, seed=seed, head=True))
    reps = sim.truth["reps"]
    assert len(reps) == 10
    for rep in reps:
        assert rep["mistakes"] == [] and rep["score"] == 100.0
        m = _metrics(rep)
        for rule in RULES.rules:
            if not rule.observable:
                assert rep["rules"][rule.rule_id] is None
                continue
            guard = all(c.holds(m.get(c.metric) or 0.0) for c in rule.only_if)
            for c in rule.fires_when if guard else ():
                # at least ~5° short of every threshold
                assert c.excess(m.get(c.metric) or 0.0) <= -5.0, (rep["rep"], str(c))


@pytest.mark.parametrize("rule_id", sorted(MISTAKES))
def test_each_mistake_fires_its_rule_alone_at_its_magnitude(rule_id: str) -> None:
    sim = simulate(SimConfig.preset("clean", reps=4, seed=11, head=True, mistakes={rule_id: None}))
    spec = MISTAKES[rule_id]
    for rep in sim.truth["reps"]:
        assert rep["mistakes"] == [rule_id]
        assert rep["injected"] == {rule_id: spec.default_deg}
        value = rep[MAGNITUDE_METRIC[rule_id]]
        tol = 3.0 if rule_id == "knees_forward" else 1.5
        assert abs(value - spec.default_deg) < tol, (rep["rep"], value)
        t_v = rep["t_violation_s"][rule_id]
        assert rep["t_start"] <= t_v <= rep["t_end"]


def test_magnitude_is_adjustable_and_mistakes_combine() -> None:
    mistakes = [{}, {"back_rounded": 26.0, "knees_caving": 11.0}, {}, {"squatting": 50.0}]
    sim = simulate(SimConfig.preset("clean", reps=5, seed=4, mistakes=mistakes))
    reps = sim.truth["reps"]
    assert [sorted(r["mistakes"]) for r in reps] == [
        [],
        ["back_rounded", "knees_caving"],
        [],
        ["squatting"],
        [],
    ]
    assert abs(reps[1]["lumbar_flexion_max"] - 26.0) < 1.5
    assert abs(reps[1]["knee_cave"] - 11.0) < 1.5
    assert abs(reps[3]["thigh_inclination_bottom"] - 50.0) < 1.5
    assert reps[1]["score"] == 60.0 and reps[1]["bad"]


def test_violation_time_is_the_first_crossing() -> None:
    sim = simulate(SimConfig.preset("clean", reps=3, seed=2, mistakes={"back_rounded": None}))
    ang = sim.truth_angles
    t, lumbar = ang["t"].to_numpy(), ang["lumbar_flexion"].to_numpy()
    for rep in sim.truth["reps"]:
        i = int(np.searchsorted(t, rep["t_violation_s"]["back_rounded"] - 1e-9))
        assert lumbar[i] > 20.0 >= lumbar[i - 1]
        # lockout rules are violated at the lockout
    sim = simulate(SimConfig.preset("clean", reps=2, seed=2, mistakes={"no_lockout": None}))
    for rep in sim.truth["reps"]:
        assert rep["t_violation_s"]["no_lockout"] == rep["t_end"]


def test_sets_and_non_rep_movements_are_not_reps() -> None:
    sim = simulate(SimConfig.preset("typical", reps=4, sets=3, seed=9))
    truth = sim.truth
    assert [s["reps"] for s in truth["sets"]] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    ang = sim.truth_angles
    t = ang["t"].to_numpy()
    kinds = {m["kind"] for m in truth["non_rep_movements"]}
    assert {"bow", "weight_shift", "walk"} <= kinds
    for mov in truth["non_rep_movements"]:
        w = (t >= mov["t_start_s"]) & (t <= mov["t_end_s"])
        if mov["kind"] == "walk":
            # the thigh swings, but pelvis and trunk do not tilt forward
            assert ang["thigh_inclination"][w].max() > 10.0
            assert ang["pelvic_tilt"][w].abs().max() < 15.0
            assert ang["trunk_inclination"][w].abs().max() < 15.0
        else:
            assert ang["hip_flexion"][w].max() < 20.0, mov
    # outside the reps nothing looks like a rep
    in_rep = np.zeros(t.size, bool)
    for rep in truth["reps"]:
        in_rep |= (t >= rep["t_start"] - 1.0) & (t <= rep["t_end"])
    looks_like_rep = (ang["hip_flexion"] >= 20.0) & (
        (ang["pelvic_tilt"] >= 15.0) | (ang["trunk_inclination"] >= 15.0)
    )
    assert not (looks_like_rep.to_numpy() & ~in_rep).any()


def test_deterministic_by_seed() -> None:
    cfg = SimConfig.preset("harsh", reps=3, seed=21, mounting="arbitrary")
    a, b = simulate(cfg), simulate(cfg)
    c = simulate(SimConfig.preset("harsh", reps=3, seed=22, mounting="arbitrary"))
    assert a.truth == b.truth
    for name, st in a.recording.sensors.items():
        np.testing.assert_array_equal(st.t_s, b.recording.sensors[name].t_s)
        np.testing.assert_array_equal(st.acc_mps2, b.recording.sensors[name].acc_mps2)
        np.testing.assert_array_equal(st.gyr_dps, b.recording.sensors[name].gyr_dps)
    assert (
        a.truth["sensors"]["pelvis"]["mount_q_B_S"] != c.truth["sensors"]["pelvis"]["mount_q_B_S"]
    )
    assert not np.array_equal(
        a.recording.sensors["pelvis"].acc_mps2[:100], c.recording.sensors["pelvis"].acc_mps2[:100]
    )


def test_same_movement_under_clean_and_typical_sensors() -> None:
    a = simulate(SimConfig.preset("clean", reps=3, seed=5))
    b = simulate(SimConfig.preset("typical", reps=3, seed=5, mounting="arbitrary"))
    np.testing.assert_array_equal(a.truth_angles.to_numpy(), b.truth_angles.to_numpy())


@pytest.mark.parametrize(
    ("mistakes", "head", "message"),
    [
        ({"bogus": None}, False, "unknown mistake"),
        ({"tripod_foot": None}, False, "cannot be simulated"),
        ({"neck_extended": None}, False, "needs a head sensor"),
        ({"knees_locked": None, "squatting": None}, False, "cannot be combined"),
        ({"back_rounded": 500.0}, False, "out of range"),
    ],
)
def test_bad_mistakes_are_one_line_errors(mistakes: dict, head: bool, message: str) -> None:
    with pytest.raises(HingeImuError, match=message) as err:
        SimConfig.preset("clean", mistakes=mistakes, head=head)
    assert "\n" not in str(err.value)


def test_every_compatible_pair_of_mistakes_fires_both_and_nothing_else() -> None:
    for a, b in itertools.combinations(sorted(MISTAKES), 2):
        if frozenset({a, b}) in INCOMPATIBLE:
            continue
        cfg = SimConfig.preset(
            "clean", reps=1, seed=5, head=True, mistakes={a: None, b: None}, rates_hz=LOW_RATES
        )
        (rep,) = simulate(cfg).truth["reps"]
        assert sorted(rep["mistakes"]) == sorted([a, b])


def test_duration_keeps_doing_sets() -> None:
    sim = simulate(SimConfig.preset("clean", reps=3, seed=1, duration_min=1.0))
    truth = sim.truth
    assert truth["duration_s"] >= 60.0
    assert len(truth["sets"]) >= 3
    assert len(truth["reps"]) == 3 * len(truth["sets"])
    assert all(r["mistakes"] == [] for r in truth["reps"])
