"""Segment and joint angles: signs and identities of docs/conventions.md."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hinge_imu.core.angles import (
    angle_between_deg,
    joint_angles_deg,
    quat_to_matrix,
    segment_angles_deg,
    vertical_in_sensor,
)


def _q_E_S(r_e_b: Rotation, r_s_b: Rotation) -> np.ndarray:
    # R_E_S = R_E_B · R_B_S
    return (r_e_b * r_s_b.inv()).as_quat(scalar_first=True)


@pytest.mark.parametrize("heading_deg", [0.0, 73.0, -140.0])
def test_forward_tilt_is_positive_sagittal_and_heading_free(heading_deg: float) -> None:
    r_s_b = Rotation.from_euler("xyz", [30, -50, 110], degrees=True)  # arbitrary mounting
    sag_true = np.array([0.0, 20.0, 60.0, 85.0, -10.0])
    fro_true = np.array([0.0, 0.0, 5.0, -7.0, 3.0])
    r_e_b = Rotation.from_euler("z", heading_deg, degrees=True) * Rotation.from_euler(
        "YX", np.stack([sag_true, fro_true], axis=1), degrees=True
    )
    q = _q_E_S(r_e_b, r_s_b)
    sag, fro = segment_angles_deg(vertical_in_sensor(q), r_s_b.as_matrix())
    np.testing.assert_allclose(sag, sag_true, atol=1e-9)
    np.testing.assert_allclose(fro, fro_true, atol=1e-9)


def test_a_segment_past_horizontal_reads_past_90_with_a_small_frontal_angle() -> None:
    # A thigh in a deep squat tips 100–125° (past horizontal), never far sideways.
    # Read with |sagittal| ≤ 90°, 110° came out as 70° with a frontal angle of
    # 180° (a deep squat read as two reps, knee cave as ~90°).
    r_s_b = Rotation.from_euler("xyz", [-20, 35, 80], degrees=True)
    sag_true = np.array([80.0, 95.0, 110.0, 125.0, -100.0])
    fro_true = np.array([4.0, -6.0, 5.0, 2.0, -3.0])
    r_e_b = Rotation.from_euler("z", 40.0, degrees=True) * Rotation.from_euler(
        "YX", np.stack([sag_true, fro_true], axis=1), degrees=True
    )
    sag, fro = segment_angles_deg(vertical_in_sensor(_q_E_S(r_e_b, r_s_b)), r_s_b.as_matrix())
    np.testing.assert_allclose(sag, sag_true, atol=1e-9)
    np.testing.assert_allclose(fro, fro_true, atol=1e-9)


def test_quat_to_matrix_matches_scipy() -> None:
    r = Rotation.random(5, rng=1)
    np.testing.assert_allclose(
        quat_to_matrix(r.as_quat(scalar_first=True)), r.as_matrix(), atol=1e-12
    )


def test_joint_angle_identities_and_signs() -> None:
    n = 3
    segs = {
        "pelvis": (np.array([0.0, 30.0, 50.0]), np.zeros(n)),
        "upper_back": (np.array([0.0, 55.0, 40.0]), np.zeros(n)),
        # the knee forward = the thigh's superior axis tipping back (negative)
        "thigh": (np.array([0.0, -15.0, -25.0]), np.array([0.0, 4.0, 9.0])),
    }
    a = joint_angles_deg(segs, n, side="right")
    np.testing.assert_allclose(a["thigh_inclination"], [0, 15, 25])
    np.testing.assert_allclose(a["hip_flexion"], [0, 45, 75])
    np.testing.assert_allclose(a["lumbar_flexion"], [0, 25, -10])
    np.testing.assert_allclose(a["knee_cave"], [0, 4, 9])
    left = joint_angles_deg(segs, n, side="left")
    np.testing.assert_allclose(left["knee_cave"], [0, -4, -9])
    assert np.isnan(a["head_extension"]).all()


def test_missing_sensor_gives_nan_angles_that_need_it() -> None:
    n = 4
    a = joint_angles_deg({"pelvis": (np.ones(n), np.zeros(n))}, n)
    assert np.isfinite(a["pelvic_tilt"]).all()
    for name in ("hip_flexion", "thigh_inclination", "knee_cave", "lumbar_flexion"):
        assert np.isnan(a[name]).all()


def test_knee_cave_is_not_read_while_the_thigh_is_near_horizontal() -> None:
    # A horizontal thigh hardly changes its vertical as the knee moves in:
    # its frontal angle there is an axis error magnified (real deep squats
    # read ±85°), so knee cave is not measured beyond 60° of inclination.
    thigh_sag = np.array([-30.0, -59.0, -75.0, -90.0, -110.0])
    segs = {
        "pelvis": (np.zeros(5), np.zeros(5)),
        "thigh": (thigh_sag, np.array([6.0, 9.0, 40.0, 85.0, -30.0])),
    }
    a = joint_angles_deg(segs, 5, side="right")
    np.testing.assert_allclose(a["knee_cave"][:2], [6.0, 9.0])
    assert np.isnan(a["knee_cave"][2:]).all()
    np.testing.assert_allclose(a["thigh_inclination"], -thigh_sag)  # still read


def test_angle_between_one_pair_is_the_number_of_the_same_pair_in_rows() -> None:
    # One pair takes a shortcut past numpy (thousands of calls a session):
    # the same degrees bit for bit as the pair given as rows, near 0° and 180° too.
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2000, 3)) * rng.choice([1e-6, 1.0, 9.81, 1e3], size=(2000, 1))
    b = np.concatenate((a[:500] + 1e-7 * rng.normal(size=(500, 3)), -a[500:1000], a[1000:] + 1))
    rows = angle_between_deg(a, b)
    one = np.array([angle_between_deg(x, y) for x, y in zip(a, b, strict=True)])
    assert np.array_equal(one, rows)
    assert angle_between_deg([0.0, 0.0, 0.0], [0.0, 0.0, 1.0]) == 90.0  # no direction: 90°, as rows
