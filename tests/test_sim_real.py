"""The ``real`` preset's effects do what the truth says, by physics.
All data here is SIMULATED."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hinge_imu.cli import main
from hinge_imu.recording import read_recording
from hinge_imu.samples import Recording
from hinge_imu.sim import Imperfections, SimConfig, Simulation, simulate
from hinge_imu.sim.config import STANCE_KINDS, TEMPOS, without

CLEAN = Imperfections()


def _pair(imp: Imperfections, **kw: object) -> tuple[Simulation, Simulation]:
    """The same movement simulated clean (no bad board) and with ``imp`` and ``kw``."""
    common: dict[str, object] = {"reps": 2, "seed": 4, "mounting": "arbitrary"}
    if "stance_s" in kw:
        common["stance_s"] = kw.pop("stance_s")
    clean = simulate(SimConfig.preset("clean", **common))
    return clean, simulate(SimConfig.preset("clean", **common, **kw, imperfections=imp))


def _integrate_gyro(q0: Rotation, t_s: np.ndarray, gyr_dps: np.ndarray) -> Rotation:
    w = np.deg2rad(gyr_dps)
    steps = Rotation.from_rotvec(0.5 * (w[1:] + w[:-1]) * np.diff(t_s)[:, None])
    out = [q0]
    for k in range(len(steps)):
        out.append(out[-1] * steps[k])
    return Rotation.concatenate(out)


def test_warmup_drift_is_the_model_and_integrates_as_modelled() -> None:
    imp = Imperfections(gyr_warmup_dps=(0.5, 1.5), gyr_warmup_s=30.0)
    clean, warm = _pair(imp, stance_s=30.0)
    for name, st in warm.recording.sensors.items():
        err = warm.truth["sensors"][name]["errors"]
        w = np.asarray(err["gyr_warmup_dps"])
        tau = err["gyr_warmup_tau_s"]
        assert tau == pytest.approx(10.0)
        assert np.all((np.abs(w) >= 0.5) & (np.abs(w) <= 1.5))
        t = st.t_s
        model = w[None, :] * (1.0 - np.exp(-t / tau))[:, None]
        np.testing.assert_allclose(
            st.gyr_dps - clean.recording.sensors[name].gyr_dps, model, atol=1e-9
        )
        # integrating the gyro over the 30 s stance drifts off the true
        # orientation by the integral of W (1 − exp(−t/τ)) about the sensor axes
        still = t < 29.0
        ts = t[still]
        true = Rotation.from_quat(warm.true_q_E_S(name, ts), scalar_first=True)
        est = _integrate_gyro(true[0], ts, st.gyr_dps[still])
        drift_deg = np.rad2deg((true[-1].inv() * est[-1]).as_rotvec())

        rise = ts[-1] - ts[0] + tau * (np.exp(-ts[-1] / tau) - np.exp(-ts[0] / tau))
        expected = w * rise
        assert np.linalg.norm(expected) > 5.0
        np.testing.assert_allclose(drift_deg, expected, rtol=0.02, atol=0.05)


def test_accelerometer_offsets_scales_and_gyro_bias_are_what_the_truth_says() -> None:
    imp = Imperfections(
        acc_offset_max_mps2=0.5, acc_scale_max=0.10, gyr_bias_max_dps=3.0, bad_board_scale_max=0.4
    )
    clean, bad = _pair(imp, bad_board="thigh")
    worst = 0.0
    for name, st in bad.recording.sensors.items():
        err = bad.truth["sensors"][name]["errors"]
        scale = err["acc_gain"] * np.asarray(err["acc_axis_scale"])
        offset = np.asarray(err["acc_offset_mps2"])
        bias = np.asarray(err["gyr_bias_dps"])
        ref = clean.recording.sensors[name]
        np.testing.assert_allclose(st.acc_mps2, ref.acc_mps2 * scale + offset, atol=1e-9)
        np.testing.assert_allclose(st.gyr_dps, ref.gyr_dps + bias, atol=1e-9)
        assert np.all(np.abs(offset) <= 0.5) and np.all(np.abs(bias) <= 3.0)
        limit = 0.4 if name == "thigh" else 0.10
        assert err["bad_board"] == (name == "thigh")
        assert np.all(np.abs(scale - 1.0) <= limit)
        if name != "thigh":
            worst = max(worst, float(np.abs(offset).max()))
    assert worst > 0.2  # the offsets are not all tiny
    err = bad.truth["sensors"]["thigh"]["errors"]
    assert np.abs(np.asarray(err["acc_axis_scale"]) - 1.0).max() > 0.1  # the bad board is bad


def test_soft_tissue_turns_the_sensor_by_the_modelled_amount() -> None:
    cfg = SimConfig.preset(
        "clean",
        reps=3,
        seed=2,
        mounting="arbitrary",
        head=True,
        imperfections=Imperfections(skin=True),
        mistakes={"back_rounded": 35.0, "neck_extended": 30.0},
    )
    sim = simulate(cfg)
    t = sim.truth_angles["t"].to_numpy()
    bone = sim.body.segment_rotations(t)
    drivers = sim.body.angles_deg(t)
    for name, mount in sim.mounts.items():
        tissue = sim.truth["sensors"][name]["soft_tissue"]
        lo, hi = {"thigh": (3, 8), "pelvis": (2, 5), "upper_back": (2, 4), "head": (1, 3)}[name]
        assert lo <= tissue["deg_at_full_flexion"] <= hi
        r_e_s = Rotation.from_quat(sim.true_q_E_S(name, t), scalar_first=True)
        m = Rotation.from_quat(mount.q_B_S, scalar_first=True)
        turn = Rotation.from_matrix(bone[name]).inv() * r_e_s * m.inv()  # skin turn, segment frame
        per_deg = tissue["deg_at_full_flexion"] / tissue["full_flexion_deg"]
        modelled = per_deg * drivers[tissue["driver"]][:, None] * np.asarray(tissue["axis_B"])
        np.testing.assert_allclose(np.rad2deg(turn.as_rotvec()), modelled, atol=1e-6)
    # the skin angles of the truth differ from the bone's by that turn's sagittal part
    skin, ang = sim.skin_angles, sim.truth_angles
    for angle, sensor, sign in (
        ("thigh_inclination", "thigh", -1.0),
        ("pelvic_tilt", "pelvis", 1.0),
    ):
        tissue = sim.truth["sensors"][sensor]["soft_tissue"]
        per_deg = tissue["deg_at_full_flexion"] / tissue["full_flexion_deg"]
        expected = sign * per_deg * drivers[tissue["driver"]] * tissue["axis_B"][1]
        diff = (skin[angle] - ang[angle]).to_numpy()
        assert np.abs(expected).max() > 1.0
        np.testing.assert_allclose(diff, expected, atol=0.05 + 0.1 * np.abs(expected).max())
    rep = sim.truth["reps"][1]
    assert rep["skin"]["thigh_inclination_bottom"] != pytest.approx(
        rep["thigh_inclination_bottom"], abs=0.5
    )


def _still_windows(rec: Recording, win_s: float = 1.0, gyr_std_dps: float = 1.0) -> list[float]:
    """Starts of 1 s windows where every sensor is still: each gyro axis varies
    by less than ``gyr_std_dps`` (std; the noise is 0.3) — a measure of its own,
    not the analysis'."""
    sensors = rec.sensors.values()
    end = min(float(s.t_s[-1]) for s in sensors) - win_s
    out = []
    for a in np.arange(0.0, end, 0.1):
        if all(
            s.gyr_dps[(s.t_s >= a) & (s.t_s < a + win_s)].std(axis=0).max() < gyr_std_dps
            for s in sensors
        ):
            out.append(float(a))
    return out


@pytest.mark.parametrize("kind", STANCE_KINDS)
def test_every_stance_kind(kind: str) -> None:
    sim = simulate(
        SimConfig.preset(
            "real", reps=3, sets=2, seed=11, stance_kind=kind, mistakes=[{}, {"back_rounded": None}]
        )
    )
    truth = sim.truth
    assert truth["calibration_stance"]["kind"] == kind
    assert [r["mistakes"] for r in truth["reps"]][:2] == [[], ["back_rounded"]]
    assert len(truth["reps"]) == 6
    still = _still_windows(sim.recording)
    first_rep = truth["reps"][0]["design"]["t_descent_s"]
    if kind == "still":
        assert still and still[0] < 0.5
    if kind in ("swaying", "walk_in", "missing", "end_only", "none"):
        assert not still or still[0] > 0.5  # not still at the start
    if kind in ("end_only", "none"):
        # no still second before the end (end_only: its stance is the last thing)
        t_end_stance = truth["calibration_stance"].get("t_start_s") or truth["duration_s"]
        assert all(a > t_end_stance - 0.3 for a in still), still
    if kind == "end_only":
        assert still and still[-1] > truth["duration_s"] - 2.5
    if kind == "none":
        assert first_rep == 0.0
    walking_in = [
        w for w in truth["non_rep_movements"] if w["kind"] == "walk" and not w["t_start_s"]
    ]
    assert bool(walking_in) == (kind in ("walk_in", "missing"))


@pytest.mark.parametrize("kind", ["walk_in", "end_only", "none"])
def test_new_stance_kinds_work_with_the_classic_presets(kind: str) -> None:
    sim = simulate(SimConfig.preset("typical", reps=2, sets=2, seed=3, stance_kind=kind))
    assert len(sim.truth["reps"]) == 4
    walks = [w for w in sim.truth["non_rep_movements"] if w["kind"] == "walk"]
    # walking in (one leg and one turn), then between the sets (there and back)
    starts = [w["t_start_s"] == 0.0 for w in walks]
    assert starts == ([True, False] if kind == "walk_in" else [False])
    if kind == "walk_in":
        heading = sim.body.motion.channel("heading", np.array([0.0, walks[0]["t_end_s"]]))
        assert heading[1] - heading[0] == pytest.approx(180.0)
    assert _still_windows(sim.recording)[:1] != [0.0]


@pytest.mark.parametrize("tempo", TEMPOS)
def test_every_tempo(tempo: str) -> None:
    sim = simulate(SimConfig.preset("real", reps=6, seed=12, stance_kind="still", tempo=tempo))
    reps = sim.truth["reps"]
    length = [r["design"]["t_end_s"] - r["design"]["t_descent_s"] for r in reps]
    gaps = [
        b["design"]["t_descent_s"] - a["design"]["t_end_s"] for a, b in itertools.pairwise(reps)
    ]
    if tempo == "fast":
        assert all(0.8 <= x <= 1.7 for x in length) and max(gaps) == 0.0
        assert 1.0 < float(np.mean(length)) < 1.4
    elif tempo == "slow":
        assert all(4.0 <= x <= 8.5 for x in length)
    elif tempo == "normal":
        assert all(2.0 <= x <= 4.4 for x in length)
    else:
        kinds = {r.get("tempo", "normal") for r in reps}
        assert len(kinds) >= 2
    assert all(not r["mistakes"] for r in reps)  # good reps stay good at any tempo


def test_walks_turns_heel_strikes_slips_and_extra_sensors() -> None:
    imp = without(SimConfig.preset("real").imperfections, ["loss", "jitter"])
    cfg = SimConfig.preset(
        "real",
        imperfections=imp,
        reps=3,
        sets=3,
        seed=13,
        extras=("shank", "foot"),
        slip_sensor="pelvis",
        upper_back=False,
    )
    sim = simulate(cfg)
    truth = sim.truth
    assert set(sim.recording.sensors) == {"thigh", "pelvis", "shank", "foot"}
    walks = [w for w in truth["non_rep_movements"] if w["kind"] == "walk"]
    assert len(walks) == 2 and all(3 <= w["steps"] <= 13 for w in walks)
    # two 180° turns per walk
    heading = sim.body.motion.channel("heading", np.array([w["t_end_s"] for w in walks]))
    np.testing.assert_allclose(np.diff(heading), 360.0)
    foot = sim.recording.sensors["foot"]
    strikes = truth["sensors"]["foot"]["heel_strikes"]
    assert len(strikes) == sum(w["steps"] for w in walks)
    for k in strikes:
        near = (foot.t_s >= k["t_s"]) & (foot.t_s <= k["t_s"] + 0.02)
        assert 0.2 * 9.8 <= k["peak_mps2"] <= 2.0 * 9.81
        assert np.linalg.norm(foot.acc_mps2[near], axis=1).max() > 9.81 + 0.3 * k["peak_mps2"]
    slips = {n: s["slip"] for n, s in truth["sensors"].items() if s["slip"]}
    assert list(slips) == ["pelvis"]
    size = np.linalg.norm(slips["pelvis"]["rotvec_B_deg"])
    assert 8.0 <= size <= 15.0
    t_slip = slips["pelvis"]["t_s"]
    assert any(s["t_end_s"] < t_slip < n["t_start_s"] for s, n in itertools.pairwise(truth["sets"]))
    assert sim.recording.header["note"].startswith("SIMULATED")
    assert "extra sensors shank,foot" in sim.recording.header["simulated"]


def test_effects_switch_off_one_by_one() -> None:
    real = SimConfig.preset("real").imperfections
    quiet = without(real, ["warmup", "soft_tissue", "heel_strikes"])
    assert quiet.gyr_warmup_dps == (0.0, 0.0) and not quiet.skin and quiet.soft_tissue == 0
    assert quiet.heel_strike_g == (0.0, 0.0)
    assert quiet.gyr_bias_max_dps == real.gyr_bias_max_dps and quiet.fidgets


def test_cli_real_none_fast_is_valid_and_never_still(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "x.csv"
    args = ["--sensors", "real", "--stance", "none", "--tempo", "fast", "--sets", "2"]
    assert main(["simulate", *args, "--reps", "8", "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    assert "ok" in capsys.readouterr().out
    rec = read_recording(out)
    assert rec.is_simulated and "stance none, tempo fast" in rec.header["simulated"]
    truth = json.loads((tmp_path / "x.truth.json").read_text())
    assert len(truth["reps"]) == 16 and truth["calibration_stance"]["kind"] == "none"
    assert _still_windows(rec) == []
    # the measure does see a still stance where there is one
    still = tmp_path / "still.csv"
    assert main(["simulate", "--sensors", "real", "--stance", "still", "-o", str(still)]) == 0
    assert _still_windows(read_recording(still))[:1] == [0.0]


def test_cli_bad_effect_is_one_line_and_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "x.csv"
    assert main(["simulate", "--sensors", "real", "--off", "warmup,bogus", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bogus" in err
    assert not list(tmp_path.iterdir())
