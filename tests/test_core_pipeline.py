"""The whole analysis on SIMULATED recordings: reps, angles, verdicts, hard cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from core_sim_helpers import matched, sim

from hinge_imu.core.pipeline import analyse, calibrate_recording
from hinge_imu.core.rules import load_rules
from hinge_imu.core.stream import AnalysisStages
from hinge_imu.core.timegrid import GridResampler
from hinge_imu.errors import RecordingError
from hinge_imu.samples import Recording, SensorStream

MISTAKES = (
    "back_rounded",
    "back_arched",
    "no_lockout",
    "knees_locked",
    "knees_forward",
    "knees_caving",
    "shallow_hinge",
    "ribs_flared",
    "neck_extended",
    "squatting",
)


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_rule_fires_on_its_mistake_only(mistake: str) -> None:
    s = sim(
        "typical",
        reps=3,
        seed=11,
        mounting="arbitrary",
        head=mistake == "neck_extended",
        mistakes=[{}, {mistake: None}, {}],
    )
    session = analyse(s.recording)
    assert len(session.reps) == 3
    fired = [r.judgement[mistake].fired for r in session.reps]
    assert fired == [False, True, False], [r.judgement.mistakes for r in session.reps]
    assert session.reps[1].judgement.score < 100
    assert session.reps[1].judgement["tripod_foot"].fired is None  # never observable


def test_angles_table_and_good_reps_match_truth() -> None:
    s = sim("typical", reps=4, seed=12, mounting="arbitrary")
    session = analyse(s.recording)
    cols = list(session.angles.columns)
    assert cols[0] == "t_s" and len(cols) == 8
    pairs = matched(session, s.truth["reps"])
    assert len(pairs) == 4
    for est, tr in pairs:
        assert est.judgement.mistakes == ()
        assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 3.0
        assert abs(est.metrics.t_end - tr["t_end"]) < 0.3


def test_without_thigh_thigh_rules_not_assessed_rest_judged() -> None:
    s = sim(
        "typical", reps=3, seed=13, mounting="arbitrary", mistakes=[{}, {"back_rounded": None}, {}]
    )
    rec = s.recording
    no_thigh = Recording({k: v for k, v in rec.sensors.items() if k != "thigh"}, rec.header, "x")
    session = analyse(no_thigh)
    assert len(session.reps) == 3
    assert "thigh" in session.missing_sensors
    assert any("no thigh sensor" in w for w in session.warnings)
    for r in session.reps:
        for rid in ("knees_locked", "knees_forward", "knees_caving", "squatting", "shallow_hinge"):
            assert r.judgement[rid].fired is None
        assert r.judgement["back_rounded"].fired is not None
    assert [r.judgement["back_rounded"].fired for r in session.reps] == [False, True, False]


def test_without_upper_back_back_rules_not_assessed() -> None:
    s = sim(
        "typical", reps=3, seed=14, mounting="arbitrary", mistakes=[{}, {"squatting": None}, {}]
    )
    rec = s.recording
    partial = Recording({k: v for k, v in rec.sensors.items() if k != "upper_back"}, rec.header)
    session = analyse(partial)
    assert len(session.reps) == 3
    for r in session.reps:
        for rid in ("back_rounded", "back_arched", "ribs_flared"):
            assert r.judgement[rid].fired is None
    assert [r.judgement["squatting"].fired for r in session.reps] == [False, True, False]


def test_short_opening_stance_and_missing_stance_are_announced() -> None:
    for kw in ({"stance_s": 0.6, "stance_kind": "still"}, {"stance_kind": "missing"}):
        s = sim("typical", reps=4, seed=3, mounting="arbitrary", **kw)
        session = analyse(s.recording)
        assert len(session.reps) == 4, kw
        assert any("does not start with a still stance" in w for w in session.warnings)
        cal = session.calibration["pelvis"]
        assert cal.stance_start_s > 0.5 and cal.stance_s >= 1.0
        for est, tr in matched(session, s.truth["reps"]):
            assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 4.0


def test_not_a_single_stop_anywhere_is_a_one_line_recording_error() -> None:
    t = np.arange(0, 20, 0.01)
    # A sensor tumbling about its y axis the whole time: not even a brief stop.
    rate_dps = 60 + 50 * np.sin(20 * t)
    theta = np.deg2rad(np.cumsum(rate_dps) * 0.01)
    gyr = np.stack([np.zeros_like(t), rate_dps, np.zeros_like(t)], axis=1)
    acc = 9.81 * np.stack([np.sin(theta), np.zeros_like(t), np.cos(theta)], axis=1)
    rec = Recording({"pelvis": SensorStream(t, acc, gyr)}, {}, "moving.csv")
    with pytest.raises(RecordingError) as err:
        analyse(rec)
    assert str(err.value).startswith("moving.csv: nothing to calibrate on")
    assert "\n" not in str(err.value)


def test_accelerometers_30_percent_off() -> None:
    s = sim(
        "clean",
        imperfections={"acc_gain_error": 0.3, "acc_axis_scale_error": 0.03},
        reps=4,
        seed=15,
        mounting="arbitrary",
    )
    session = analyse(s.recording)
    pairs = matched(session, s.truth["reps"])
    assert len(session.reps) == 4 and len(pairs) == 4
    for est, tr in pairs:
        assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 3.0
        assert abs(est.metrics.lumbar_flexion_max - tr["lumbar_flexion_max"]) < 3.0


def test_hip_lockout_reads_the_thigh_at_rest_despite_accelerometer_errors() -> None:
    """The ``real`` preset's accelerometers (per-axis offsets ±0.5 m/s², scale
    errors ±10 %), a swaying stance: the orientation filter still carries the
    rep's tilt at the lockout (hip flexion there 3.3° off on these sessions,
    SIMULATED); with the thigh read on the settled pose from its
    accelerometer, 2.4° (docs/analysis.md, "Lockout")."""
    errors = []
    for seed in (1, 2, 3):
        s = sim(
            "real",
            imperfections={"strap_slip_deg": 0.0},
            reps=8,
            sets=1,
            seed=seed,
            mounting="arbitrary",
            stance_kind="swaying",
        )
        pairs = matched(analyse(s.recording), s.truth["reps"])
        assert len(pairs) == 8
        errors += [
            abs(est.metrics.hip_flexion_lockout - tr["hip_flexion_lockout"]) for est, tr in pairs
        ]
    assert float(np.mean(errors)) < 2.8


def test_slipped_strap_is_found_and_the_mounting_re_estimated() -> None:
    s = sim("clean", imperfections={"strap_slip_deg": 20.0}, reps=6, seed=16, mounting="arbitrary")
    slipped = next(k for k, v in s.truth["sensors"].items() if v["slip"])
    t_slip = s.truth["sensors"][slipped]["slip"]["t_s"]
    session = analyse(s.recording)
    assert any(f"{slipped}: strap slipped" in w for w in session.warnings)
    after = [(e, t) for e, t in matched(session, s.truth["reps"]) if t["t_start"] > t_slip + 0.5]
    assert after
    for est, tr in after:
        for m in ("hip_flexion_peak", "pelvic_tilt_lockout", "lumbar_flexion_max"):
            assert abs(est.metrics.get(m) - tr[m]) < 3.0, (m, est.metrics.get(m), tr[m])


def test_walking_between_sets_is_not_a_rep() -> None:
    s = sim("typical", reps=3, sets=2, seed=17, mounting="arbitrary")
    assert s.truth["sets"][1]["t_start_s"] > 0
    session = analyse(s.recording)
    assert len(session.reps) == len(s.truth["reps"]) == 6


def test_five_percent_packet_loss_and_different_rates() -> None:
    s = sim(
        "typical",
        imperfections={"loss_fraction": 0.05, "loss_burst_samples": 3.0},
        rates_hz={"thigh": 52.0, "pelvis": 104.0, "upper_back": 208.0},
        reps=5,
        seed=18,
        mounting="arbitrary",
    )
    session = analyse(s.recording)
    assert len(session.reps) == 5
    assert session.quality["pelvis"].lost_share > 0.02
    pairs = matched(session, s.truth["reps"])
    judged = [(e, t) for e, t in pairs if e.judged]
    assert len(judged) >= 4
    for est, tr in judged:
        assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 3.0


def test_long_gap_inside_a_rep_makes_it_not_judged() -> None:
    s = sim("clean", reps=3, seed=19, mounting="arbitrary")
    rec = s.recording
    tr = s.truth["reps"][1]
    p = rec.sensors["pelvis"]
    keep = (p.t_s < tr["t_bottom"] - 0.3) | (p.t_s > tr["t_bottom"] + 0.5)
    cut = replace(p, t_s=p.t_s[keep], acc_mps2=p.acc_mps2[keep], gyr_dps=p.gyr_dps[keep])
    session = analyse(Recording({**rec.sensors, "pelvis": cut}, rec.header))
    assert len(session.quality["pelvis"].long_gaps_s) == 1
    assert "data lost" in session.reps[1].not_judged_reason
    assert np.isnan(session.reps[1].judgement.score)
    assert session.reps[0].judged and session.reps[2].judged
    t = session.angles["t_s"].to_numpy()
    in_gap = (t > tr["t_bottom"] - 0.2) & (t < tr["t_bottom"] + 0.4)
    assert session.angles["pelvic_tilt_deg"][in_gap].isna().all()


def test_the_stages_in_random_chunks_give_the_reps_of_analyse() -> None:
    s = sim("typical", reps=4, seed=20, mounting="arbitrary", mistakes=[{}, {"no_lockout": None}])
    rec = s.recording
    offline = analyse(rec)
    stream = AnalysisStages(calibrate_recording(rec), load_rules(), side=rec.side)
    grid = {name: GridResampler() for name in rec.sensors}
    rng = np.random.default_rng(5)
    pos = dict.fromkeys(rec.sensors, 0)
    reps = []
    while any(pos[k] < len(v) for k, v in rec.sensors.items()):
        name = str(rng.choice(list(rec.sensors)))
        st = rec.sensors[name]
        n = int(rng.integers(0, 60))
        sl = slice(pos[name], pos[name] + n)
        chunk = grid[name].update(st.t_s[sl], st.acc_mps2[sl], st.gyr_dps[sl])
        reps += stream.update(name, chunk).reps
        pos[name] += n
    reps += stream.finish().reps
    assert [r.bounds for r in reps] == [r.bounds for r in offline.reps]
    assert [r.judgement.mistakes for r in reps] == [r.judgement.mistakes for r in offline.reps]


def test_strap_slip_hidden_in_lost_data_is_found_from_the_rests_around_it() -> None:
    s = sim("clean", imperfections={"strap_slip_deg": 20.0}, reps=6, seed=16, mounting="arbitrary")
    slipped = next(k for k, v in s.truth["sensors"].items() if v["slip"])
    t_slip = s.truth["sensors"][slipped]["slip"]["t_s"]
    rec = s.recording
    st = rec.sensors[slipped]
    keep = (st.t_s < t_slip - 0.2) | (st.t_s > t_slip + 0.3)  # the slip falls in a gap
    cut = replace(st, t_s=st.t_s[keep], acc_mps2=st.acc_mps2[keep], gyr_dps=st.gyr_dps[keep])
    session = analyse(Recording({**rec.sensors, slipped: cut}, rec.header))
    assert any(f"{slipped}: strap slipped during lost data" in w for w in session.warnings)
    after = [(e, t) for e, t in matched(session, s.truth["reps"]) if t["t_start"] > t_slip + 0.5]
    assert after
    for est, tr in after:
        assert est.judged
        assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 4.0


@pytest.mark.parametrize("seed", [42, 10])
def test_thigh_slip_hidden_in_lost_data_keeps_knee_cave_right(seed: int) -> None:
    # The simulated slip turns the thigh sensor about the thigh's long axis as
    # well as about a horizontal one; gravity across the gap shows only the
    # latter. The turn about the vertical would read as knee cave unless the
    # flexion axis is fitted again on the movement after the slip.
    s = sim(
        "clean", imperfections={"strap_slip_deg": 20.0}, reps=6, seed=seed, mounting="arbitrary"
    )
    slip = s.truth["sensors"]["thigh"]["slip"]
    assert abs(slip["rotvec_B_deg"][2]) > 10.0  # a real turn about the long axis
    rec = s.recording
    st = rec.sensors["thigh"]
    keep = (st.t_s < slip["t_s"] - 0.2) | (st.t_s > slip["t_s"] + 0.3)
    cut = replace(st, t_s=st.t_s[keep], acc_mps2=st.acc_mps2[keep], gyr_dps=st.gyr_dps[keep])
    session = analyse(Recording({**rec.sensors, "thigh": cut}, rec.header))
    assert any(
        "thigh: strap slipped during lost data" in w and "refitted" in w for w in session.warnings
    )
    after = [
        (e, t) for e, t in matched(session, s.truth["reps"]) if t["t_start"] > slip["t_s"] + 0.5
    ]
    assert len(after) >= 2
    for est, tr in after:
        assert est.judged
        assert abs(est.metrics.knee_cave - tr["knee_cave"]) < 2.5
        assert abs(est.metrics.thigh_inclination_bottom - tr["thigh_inclination_bottom"]) < 2.0


def test_thigh_axis_and_sign_with_mostly_knees_locked_reps() -> None:
    # The thigh hardly moves (and tilts back a little) in a knees-locked hinge:
    # with one soft-knee rep among them, its axis and sign must still come out
    # right (arbitrary mounting, no walking to help). See docs/analysis.md
    # "Limits" for a session where every rep is knees-locked.
    locked = {"knees_locked": None}
    s = sim("clean", reps=4, seed=22, mounting="arbitrary", mistakes=[{}, locked, locked, locked])
    session = analyse(s.recording)
    assert len(session.reps) == 4
    assert session.calibration["thigh"].ok
    for i, (est, tr) in enumerate(matched(session, s.truth["reps"])):
        assert est.judgement["knees_locked"].fired is (i > 0)
        assert abs(est.metrics.thigh_inclination_bottom - tr["thigh_inclination_bottom"]) < 2.0
        assert abs(est.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 2.0


def test_knee_cave_in_every_rep_is_measured_with_a_weight_shift_to_calibrate_on() -> None:
    # Every rep caves: the reps alone cannot tell cave from the flexion axis;
    # the sideways weight shift after the stance (simulated) can.
    s = sim("typical", reps=4, seed=401, mounting="arbitrary", mistakes={"knees_caving": None})
    assert any(m["kind"] == "weight_shift" for m in s.truth["non_rep_movements"])
    session = analyse(s.recording)
    assert not any("flexion axis from the reps" in w for w in session.warnings)
    for est, tr in matched(session, s.truth["reps"]):
        assert est.judgement["knees_caving"].fired is True
        assert abs(est.metrics.knee_cave - tr["knee_cave"]) < 2.5
