"""Sensor imperfections of the simulator do what the presets promise.
All data here is SIMULATED."""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sim import Imperfections, SimConfig, Simulation, simulate


@pytest.fixture(scope="module")
def harsh() -> Simulation:
    return simulate(SimConfig.preset("harsh", reps=6, sets=2, seed=3, mounting="arbitrary"))


def test_harsh_rates_losses_and_jitter(harsh: Simulation) -> None:
    rec, truth = harsh.recording, harsh.truth
    rates = {n: round(s.estimated_rate_hz) for n, s in rec.sensors.items()}
    assert rates == {"thigh": 52, "pelvis": 104, "upper_back": 208}
    for name, st in rec.sensors.items():
        assert np.all(np.diff(st.t_s) > 0)
        assert st.seq is not None
        gaps = np.diff(st.seq) - 1
        # lost packets show as gaps in seq, in bursts, and match the truth
        assert gaps.sum() == truth["sensors"][name]["lost_samples"] > 0
        assert gaps.max() > 1
        # timestamps jitter around the nominal period
        period = np.diff(st.t_s)[np.diff(st.seq) == 1]
        assert period.std() > 0.0005
        assert abs(np.median(period) - 1 / st.rate_hz) < 1e-3


def test_harsh_strap_slip_is_in_truth_and_in_the_gyro(harsh: Simulation) -> None:
    slipped = {n: s["slip"] for n, s in harsh.truth["sensors"].items() if s["slip"]}
    assert len(slipped) == 1
    name, slip = next(iter(slipped.items()))
    assert 0.3 * harsh.truth["duration_s"] < slip["t_s"] < 0.7 * harsh.truth["duration_s"]
    st = harsh.recording.sensors[name]
    q = harsh.true_q_E_S(name, np.array([slip["t_s"] - 0.05, slip["t_s"] + 0.15]))
    # the sensor turned on the segment by the slip (plus a little body motion)
    angle = np.rad2deg(2 * np.arccos(min(1.0, abs(float(np.dot(q[0], q[1]))))))
    assert angle > 10.0
    near = np.abs(st.t_s - slip["t_s"] - 0.04) < 0.06
    assert np.linalg.norm(st.gyr_dps[near], axis=1).max() > 100.0


def test_accelerometer_gain_error_up_to_30_percent() -> None:
    imp = Imperfections(acc_gain_error=0.3)
    gains = []
    for seed in range(3):
        sim = simulate(SimConfig.preset("clean", reps=1, seed=seed, imperfections=imp))
        for name, st in sim.recording.sensors.items():
            gain = sim.truth["sensors"][name]["errors"]["acc_gain"]
            rest = np.linalg.norm(st.acc_mps2[st.t_s < 1.5], axis=1)
            assert abs(rest.mean() / GRAVITY_MPS2 - gain) < 0.01
            gains.append(gain)
    assert all(0.7 <= g <= 1.3 for g in gains)
    assert max(abs(g - 1) for g in gains) > 0.1


def test_noise_and_gyro_bias_at_rest() -> None:
    imp = Imperfections(gyr_bias_dps=2.0, gyr_noise_dps=0.5, acc_noise_mps2=0.05)
    sim = simulate(SimConfig.preset("clean", reps=1, seed=8, imperfections=imp))
    st = sim.recording.sensors["pelvis"]
    rest = st.t_s < 1.5
    bias = np.asarray(sim.truth["sensors"]["pelvis"]["errors"]["gyr_bias_dps"])
    np.testing.assert_allclose(st.gyr_dps[rest].mean(axis=0), bias, atol=0.4)
    assert 0.3 < st.gyr_dps[rest].std(axis=0).mean() < 0.8


def test_knocks_are_short_spikes_at_the_logged_times() -> None:
    sim = simulate(SimConfig.preset("typical", reps=2, seed=6))
    st = sim.recording.sensors["thigh"]
    knocks = sim.truth["sensors"]["thigh"]["knocks"]
    assert len(knocks) == 2  # picking the bar up, putting it down
    for k in knocks:
        near = (st.t_s >= k["t_s"]) & (st.t_s <= k["t_s"] + 0.02)
        dev = np.abs(np.linalg.norm(st.acc_mps2[near], axis=1) - GRAVITY_MPS2)
        assert dev.max() > 0.3 * k["peak_mps2"]


def test_arbitrary_mounting_and_nominal() -> None:
    nominal = simulate(SimConfig.preset("clean", reps=1, seed=1))
    arbitrary = simulate(SimConfig.preset("clean", reps=1, seed=1, mounting="arbitrary"))
    for name in ("thigh", "pelvis", "upper_back"):
        assert nominal.truth["sensors"][name]["mount_q_B_S"] == [1.0, 0.0, 0.0, 0.0]
        q = arbitrary.truth["sensors"][name]["mount_q_B_S"]
        assert abs(abs(q[0]) - 1.0) > 1e-3
        # nominal: standing tall, the sensor's z axis points up
        acc = nominal.recording.sensors[name].acc_mps2[:50].mean(axis=0)
        assert acc[2] > 9.7


@pytest.mark.parametrize("kind", ["swaying", "missing"])
def test_poor_calibration_stance(kind: str) -> None:
    sim = simulate(SimConfig.preset("clean", reps=1, seed=2, stance_kind=kind, stance_s=0.8))
    stance = sim.truth["calibration_stance"]
    assert stance["kind"] == kind
    gyr = sim.recording.sensors["upper_back"]
    first = gyr.t_s < 0.8
    moving = np.linalg.norm(gyr.gyr_dps[first], axis=1).max()
    assert moving > 2.0  # not still at the start
    if kind == "missing":
        a, b = stance["first_still_s"]
        still = (gyr.t_s > a + 0.2) & (gyr.t_s < b - 0.1)
        assert np.linalg.norm(gyr.gyr_dps[still], axis=1).max() < 1.0


def test_header_says_simulated() -> None:
    sim = simulate(SimConfig.preset("typical", reps=1, seed=0, head=True))
    rec = sim.recording
    assert rec.is_simulated
    assert rec.header["subject"] == "simulated"
    assert rec.header["note"].startswith("SIMULATED")
    assert all("simulated" in rec.header[f"device.{s}"] for s in rec.sensors)
    assert sim.truth["simulated"] is True
    assert set(rec.sensors) == {"thigh", "pelvis", "upper_back", "head"}
