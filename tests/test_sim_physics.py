"""Physics of the simulator: the sensor signals are what the body's motion
implies (gyro integrates to the true orientation, accelerometer = gravity +
the second derivative of the true position), and the truth angles are the
segment rotations the sensors carry. All data here is SIMULATED."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sim import Imperfections, SimConfig, Simulation, simulate

RATES_200 = {"thigh": 200.0, "pelvis": 200.0, "upper_back": 200.0, "head": 200.0}


@pytest.fixture(scope="module")
def moving_sim() -> Simulation:
    """Arbitrary mounting, soft tissue and a strap slip, but no noise or bias."""
    imp = Imperfections(soft_tissue=0.1, strap_slip_deg=20.0)
    cfg = SimConfig.preset(
        "clean",
        reps=3,
        seed=3,
        mounting="arbitrary",
        rates_hz=RATES_200,
        imperfections=imp,
        head=True,
    )
    return simulate(cfg)


def _integrate_gyro(q0: Rotation, t_s: np.ndarray, gyr_dps: np.ndarray) -> Rotation:
    w = np.deg2rad(gyr_dps)
    steps = Rotation.from_rotvec(0.5 * (w[1:] + w[:-1]) * np.diff(t_s)[:, None])
    out = [q0]
    for k in range(len(steps)):
        out.append(out[-1] * steps[k])
    return Rotation.concatenate(out)


def test_integrated_gyro_reproduces_true_orientation(moving_sim: Simulation) -> None:
    assert any(s["slip"] for s in moving_sim.truth["sensors"].values())
    for name, st in moving_sim.recording.sensors.items():
        true = Rotation.from_quat(moving_sim.true_q_E_S(name, st.t_s), scalar_first=True)
        est = _integrate_gyro(true[0], st.t_s, st.gyr_dps)
        err_deg = np.rad2deg((est.inv() * true).magnitude())
        # the segment really turns (≥ 20°), the integrated gyro stays within 0.1°
        turned = np.rad2deg((true[0].inv() * true).magnitude()).max()
        assert turned > 20.0, name
        assert err_deg.max() < 0.1, (name, err_deg.max())


def test_accelerometer_at_rest_reads_gravity_upwards() -> None:
    sim = simulate(SimConfig.preset("clean", reps=1, seed=5, mounting="arbitrary"))
    for name, st in sim.recording.sensors.items():
        still = st.t_s < 1.5  # inside the 2 s calibration stance
        acc = st.acc_mps2[still]
        norm = np.linalg.norm(acc, axis=1)
        assert np.all(np.abs(norm - GRAVITY_MPS2) < 0.01), name
        # direction: earth "up" seen in the sensor frame
        r = Rotation.from_quat(sim.true_q_E_S(name, st.t_s[still]), scalar_first=True)
        up_s = r.inv().apply([0.0, 0.0, 1.0])
        cos = np.sum(up_s * acc / norm[:, None], axis=1)
        assert np.rad2deg(np.arccos(np.clip(cos, -1, 1))).max() < 0.1, name


def test_accelerometer_is_gravity_plus_true_linear_acceleration(moving_sim: Simulation) -> None:
    for name, st in moving_sim.recording.sensors.items():
        t0, t1 = 6.0, float(st.t_s[-1]) - 1.0
        grid = np.arange(t0 - 0.05, t1 + 0.05, 1e-3)  # independent 1 kHz differentiation
        p = moving_sim.true_position_m(name, grid)
        a_e = np.gradient(np.gradient(p, grid, axis=0), grid, axis=0)
        sel = (st.t_s > t0) & (st.t_s < t1)
        ts = st.t_s[sel]
        a_at = np.stack([np.interp(ts, grid, a_e[:, i]) for i in range(3)], axis=1)
        r = Rotation.from_quat(moving_sim.true_q_E_S(name, ts), scalar_first=True)
        expected = r.inv().apply(a_at + np.array([0.0, 0.0, GRAVITY_MPS2]))
        err = np.linalg.norm(st.acc_mps2[sel] - expected, axis=1)
        assert np.linalg.norm(a_at, axis=1).max() > 0.5, name  # real motion, not rest
        assert err.max() < 0.05, (name, err.max())


def _heading_frame(sim: Simulation, name: str, t_s: np.ndarray) -> np.ndarray:
    """Segment axes in the body heading frame, from the true sensor orientation."""
    q = Rotation.from_quat(sim.true_q_E_S(name, t_s), scalar_first=True)
    mount = sim.mounts[name]
    # soft tissue is off in this sim, so R_B_S is the (possibly slipped) mounting
    r_e_b = q * Rotation.from_quat(mount.q_B_S, scalar_first=True).inv()
    yaw = Rotation.from_euler("z", sim.body.motion.channel("heading", t_s)[:, None], degrees=True)
    return (yaw.inv() * r_e_b).as_matrix()


@pytest.mark.parametrize("side", ["right", "left"])
def test_truth_angles_are_the_segment_rotations(side: str) -> None:
    cfg = SimConfig.preset(
        "clean",
        reps=2,
        seed=7,
        side=side,
        mounting="arbitrary",
        head=True,
        mistakes={"knees_caving": 12.0, "neck_extended": 25.0},
    )
    sim = simulate(cfg)
    ang = sim.truth_angles
    t = ang["t"].to_numpy()
    # identities of docs/rules.md hold exactly
    np.testing.assert_allclose(
        ang["lumbar_flexion"], ang["trunk_inclination"] - ang["pelvic_tilt"], atol=1e-9
    )
    np.testing.assert_allclose(
        ang["hip_flexion"], ang["pelvic_tilt"] + ang["thigh_inclination"], atol=1e-9
    )

    def sagittal(z: np.ndarray) -> np.ndarray:  # superior axis tilt towards anterior
        return np.rad2deg(np.arctan2(z[:, 0], z[:, 2]))

    pelvis = _heading_frame(sim, "pelvis", t)[:, :, 2]
    trunk = _heading_frame(sim, "upper_back", t)[:, :, 2]
    thigh = _heading_frame(sim, "thigh", t)[:, :, 2]
    head = _heading_frame(sim, "head", t)[:, :, 2]
    np.testing.assert_allclose(sagittal(pelvis), ang["pelvic_tilt"], atol=1e-6)
    np.testing.assert_allclose(sagittal(trunk), ang["trunk_inclination"], atol=1e-6)
    np.testing.assert_allclose(-sagittal(thigh), ang["thigh_inclination"], atol=1e-6)
    np.testing.assert_allclose(sagittal(trunk) - sagittal(head), ang["head_extension"], atol=1e-6)
    medial = 1.0 if side == "right" else -1.0  # +y is medial for a right thigh
    cave = np.rad2deg(np.arcsin(-medial * thigh[:, 1]))
    np.testing.assert_allclose(cave, ang["knee_cave"], atol=1e-6)
    assert ang["knee_cave"].max() > 10.0
    assert ang["head_extension"].max() > 20.0
