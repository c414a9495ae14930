"""Segment and joint angles of docs/rules.md from orientations (pure functions).

A segment's angles come from one thing only: where the earth's vertical
points in the segment frame B (x anterior, y left, z superior). With
``v_B = R_S_B^T · R_E_S^T · [0, 0, 1]`` and the segment orientation written
as heading · sagittal · frontal (``R_E_B = Rz(heading) · Ry(sagittal) ·
Rx(frontal)``, so ``v_B = (−sin s, cos s · sin f, cos s · cos f)``):

* sagittal angle ``s = atan2(−v_B.x, ±hypot(v_B.y, v_B.z))``: + when the
  segment tilts forward (its superior axis towards anterior, a rotation
  about +y); the sign is that of ``v_B.z``, so ``s`` runs to ±180°;
* frontal angle ``f = atan2(±v_B.y, |v_B.z|)``, within ±90°: + when the
  superior axis tips to the right (a rotation about +x).

Every ``v_B`` has two such decompositions, ``(s, f)`` and ``(180° − s, f +
180°)``. A body segment may tilt past horizontal in the sagittal plane (a
thigh in a deep squat, 100–125°; a trunk touching the toes) but never
sideways, so the one with ``|f| ≤ 90°`` is taken: with ``|s| ≤ 90°``
instead, a thigh at 110° read 70° with a knee cave of 180° (a deep squat
looked like two reps, and knee cave averaged 90°).

The arbitrary, drifting heading of a 6D filter never enters. The frontal
part is innermost, so a sideways tilt does not change the sagittal angle
(the simulator's body model uses the same order). Because B is defined at
the calibration stance with z along the vertical, both angles are 0 there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_NAMES

FloatArray = npt.NDArray[np.float64]

#: Knee cave is not measured while the thigh is inclined further than this,
#: deg. It comes from the thigh's vertical alone, and a thigh near horizontal
#: barely changes its vertical when the knee moves in: an error ε in its
#: flexion axis reads as a cave of atan(tan(inclination) · sin ε) — 1.7 ε at
#: 60°, 5.7 ε at 80°, anything at 90° (real deep squats read ±85° there).
KNEE_CAVE_MAX_THIGH_DEG = 60.0


def quat_to_matrix(q: FloatArray) -> FloatArray:
    """Rotation matrices (..., 3, 3) of unit quaternions (..., 4), scalar first."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty((*q.shape[:-1], 3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - w * z)
    m[..., 0, 2] = 2 * (x * z + w * y)
    m[..., 1, 0] = 2 * (x * y + w * z)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - w * x)
    m[..., 2, 0] = 2 * (x * z - w * y)
    m[..., 2, 1] = 2 * (y * z + w * x)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrix_to_quat(m: FloatArray) -> FloatArray:
    """Unit quaternion [w, x, y, z] of one rotation matrix (3, 3)."""
    # Shepperd's method: divide by the largest of the four candidates.
    m = np.asarray(m, dtype=np.float64)
    tr = float(np.trace(m))
    cands = [tr, m[0, 0], m[1, 1], m[2, 2]]
    k = int(np.argmax(cands))
    if k == 0:
        r = np.sqrt(1.0 + tr) * 2.0
        q = [0.25 * r, (m[2, 1] - m[1, 2]) / r, (m[0, 2] - m[2, 0]) / r, (m[1, 0] - m[0, 1]) / r]
    elif k == 1:
        r = np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2.0
        q = [(m[2, 1] - m[1, 2]) / r, 0.25 * r, (m[0, 1] + m[1, 0]) / r, (m[0, 2] + m[2, 0]) / r]
    elif k == 2:
        r = np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2.0
        q = [(m[0, 2] - m[2, 0]) / r, (m[0, 1] + m[1, 0]) / r, 0.25 * r, (m[1, 2] + m[2, 1]) / r]
    else:
        r = np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2.0
        q = [(m[1, 0] - m[0, 1]) / r, (m[0, 2] + m[2, 0]) / r, (m[1, 2] + m[2, 1]) / r, 0.25 * r]
    out = np.asarray(q, dtype=np.float64)
    out /= np.linalg.norm(out)
    return out if out[0] >= 0 else -out


def rotvec_to_matrix(rotvec_deg: FloatArray) -> FloatArray:
    """Rotation matrix (3, 3) of a rotation vector in degrees (Rodrigues)."""
    v = np.deg2rad(np.asarray(rotvec_deg, dtype=np.float64))
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.eye(3)
    k = v / angle
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(angle) * kx + (1.0 - np.cos(angle)) * (kx @ kx)


def vertical_in_sensor(q_E_S: FloatArray) -> FloatArray:
    """Earth up expressed in the sensor frame, (N, 3): the third row of R_E_S."""
    q = np.asarray(q_E_S, dtype=np.float64)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), axis=1)


def angle_between_deg(a: FloatArray, b: FloatArray) -> FloatArray:
    """Angle between vectors ``a`` and ``b`` (..., 3), deg; neither need be unit length."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape == b.shape == (3,):
        # One pair (most calls, thousands a session): numpy's operations on
        # three numbers in numpy's order (its sums of three run left to
        # right), so the same number bit for bit, at a fifth of the cost.
        x0, x1, x2 = a.tolist()
        y0, y1, y2 = b.tolist()
        n2 = math.sqrt((x0 * x0 + x1 * x1) + x2 * x2) * math.sqrt((y0 * y0 + y1 * y1) + y2 * y2)
        c = ((x0 * y0 + x1 * y1) + x2 * y2) / max(n2, 1e-12)
        return np.degrees(np.arccos(np.float64(min(max(c, -1.0), 1.0))))
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(norms, 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def segment_angles_deg(vertical_s: FloatArray, R_S_B: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sagittal and frontal angle of a segment, deg, from the vertical in its sensor frame.

    Args:
        vertical_s: earth up in the sensor frame (N, 3) (see ``vertical_in_sensor``).
        R_S_B: the segment frame in the sensor frame (3, 3); columns x, y, z of B.
    """
    vx, vy, vz, up = _in_segment(vertical_s, R_S_B)
    frontal = np.degrees(np.arctan2(up * vy, np.abs(vz)))
    return _sagittal(vx, vy, vz, up), frontal


def sagittal_angle_deg(vertical_s: FloatArray, R_S_B: FloatArray) -> FloatArray:
    """The sagittal angle of ``segment_angles_deg`` alone (the same numbers), deg."""
    return _sagittal(*_in_segment(vertical_s, R_S_B))


def _in_segment(
    vertical_s: FloatArray, R_S_B: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """v_B's components and the sign of v_B.z (+1 at or above horizontal, else −1)."""
    v = np.asarray(vertical_s, dtype=np.float64)
    r = np.asarray(R_S_B, dtype=np.float64)
    # v_B = R_S_B^T · v_S, one component at a time (much faster than an
    # (N,3)·(3,3) matmul, which numpy does not vectorise well).
    vx, vy, vz = (v[:, 0] * r[0, j] + v[:, 1] * r[1, j] + v[:, 2] * r[2, j] for j in range(3))
    # Past horizontal (v_B.z < 0) the sagittal angle goes on beyond 90° and
    # the frontal angle stays small (the module docstring).
    return vx, vy, vz, np.where(vz >= 0.0, 1.0, -1.0)


def _sagittal(vx: FloatArray, vy: FloatArray, vz: FloatArray, up: FloatArray) -> FloatArray:
    return np.asarray(np.degrees(np.arctan2(-vx, up * np.hypot(vy, vz))), dtype=np.float64)


def joint_angles_deg(
    segments: Mapping[str, tuple[FloatArray, FloatArray]],
    n: int,
    side: str = "right",
    cave_max_thigh_deg: float = KNEE_CAVE_MAX_THIGH_DEG,
) -> dict[str, FloatArray]:
    """The angles of docs/rules.md from segment angles (pure).

    Args:
        segments: sensor name → (sagittal_deg, frontal_deg) arrays (n,), NaN where unknown.
        n: number of samples (for the all-NaN series of missing sensors).
        side: which thigh carries the thigh sensor (``left``/``right``).
        cave_max_thigh_deg: knee cave is NaN (not measured) where the thigh
            is inclined further than this either way, deg.

    Returns: angle name (every ``conventions.ANGLE_NAMES``) → (n,) deg, NaN
    where a needed sensor is missing.
    """
    nan = np.full(n, np.nan)

    def sag(name: str) -> FloatArray:
        return segments[name][0] if name in segments else nan

    pelvic = sag("pelvis")
    trunk = sag("upper_back")
    # Knee forward of the hip is a negative rotation of the thigh's superior axis.
    thigh = -sag("thigh")
    cave_sign = 1.0 if side != "left" else -1.0
    knee_cave = cave_sign * segments["thigh"][1] if "thigh" in segments else nan
    with np.errstate(invalid="ignore"):
        knee_cave = np.where(np.abs(thigh) > cave_max_thigh_deg, np.nan, knee_cave)
    # Chin up is a backward (negative) rotation of the head on the upper back.
    head_ext = -(sag("head") - trunk)
    out = {
        "hip_flexion": pelvic + thigh,
        "trunk_inclination": trunk,
        "pelvic_tilt": pelvic,
        "lumbar_flexion": trunk - pelvic,
        "thigh_inclination": thigh,
        "knee_cave": knee_cave,
        "head_extension": head_ext,
    }
    return {a: np.asarray(out[a], dtype=np.float64) for a in ANGLE_NAMES}
