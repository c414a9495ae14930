"""Ideal sensor signals from the body's motion, by physics (SIMULATED data).

For each sensor: orientation ``R_E_S = R_E_B · R_B_S(t)`` (segment
orientation times the mounting, which may change through soft-tissue motion
and a strap slip) and the position of its site on the segment. Then

* gyro = angular velocity of the sensor in its own frame, from the relative
  rotation between ``t − h`` and ``t + h`` (Richardson-extrapolated with
  ``2h``; h = 1 ms, i.e. a 1 kHz internal rate),
* accelerometer = specific force in its own frame: ``R_E_Sᵀ (a_E + g ẑ)``
  with ``a_E`` the 5-point second difference of the site position.

Everything is evaluated only around the requested sample instants, in
chunks, so an hour-long session needs no dense 1 kHz array.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from hinge_imu.conventions import GRAVITY_MPS2
from hinge_imu.sim.body import BodyModel
from hinge_imu.sim.tracks import min_jerk

FloatArray = npt.NDArray[np.float64]

#: Internal differentiation step, s (1 kHz).
H_S = 1e-3
#: Samples per chunk (bounds memory on long sessions).
CHUNK = 50_000
#: Which joint angle moves the skin under each sensor, and about which
#: segment axis the sensor then rolls (unit vector in the segment frame).
TISSUE_DRIVER = {
    "thigh": ("hip_flexion", (0.0, 0.6, 0.8)),
    "pelvis": ("hip_flexion", (0.0, 1.0, 0.0)),
    "upper_back": ("lumbar_flexion", (0.287, 0.958, 0.0)),
    "head": ("head_extension", (1.0, 0.0, 0.0)),
    "shank": ("knee_flexion", (0.0, 1.0, 0.0)),
    "foot": ("knee_flexion", (0.0, 1.0, 0.0)),
}
#: The ``skin`` model: per sensor, the angle that moves the skin under it,
#: that angle at "full flexion" (deg), and the range the sensor's turn on the
#: skin at full flexion is drawn from (deg). The turn is about a mostly
#: sagittal axis (segment y) with some frontal (x) and axial (z) part.
SKIN_MODEL: dict[str, tuple[str, float, tuple[float, float]]] = {
    "thigh": ("hip_knee_flexion", 90.0, (3.0, 8.0)),
    "pelvis": ("hip_flexion", 90.0, (2.0, 5.0)),
    "upper_back": ("lumbar_flexion", 60.0, (2.0, 4.0)),
    "head": ("head_extension", 45.0, (1.0, 3.0)),
    "shank": ("knee_flexion", 90.0, (1.0, 3.0)),
    "foot": ("knee_flexion", 90.0, (0.0, 0.5)),
}
#: Largest frontal and axial part of the skin model's turn axis (sagittal = 1).
SKIN_OFF_AXIS = 0.35
#: Duration of a strap slip, s.
SLIP_S = 0.08


@dataclass(frozen=True)
class SensorMount:
    """How one sensor sits on its segment.

    Attributes:
        site: segment name (``thigh`` …).
        q_B_S: mounting, scalar-first quaternion, sensor → segment frame.
        soft_tissue: deg of skin rotation per deg of the driving joint angle.
        slip_t_s: when the strap slips (None: never), s.
        slip_rotvec_B_deg: the slip as a rotation vector in the segment frame, deg.
        tissue_axis_B: unit axis of the skin's turn, segment frame (None:
            the site's ``TISSUE_DRIVER`` axis).
        tissue_driver: the angle that moves the skin (None: ``TISSUE_DRIVER``).
    """

    site: str
    q_B_S: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    soft_tissue: float = 0.0
    slip_t_s: float | None = None
    slip_rotvec_B_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    tissue_axis_B: tuple[float, float, float] | None = None
    tissue_driver: str | None = None

    @property
    def driver(self) -> str:
        return self.tissue_driver or TISSUE_DRIVER[self.site][0]

    @property
    def axis_B(self) -> tuple[float, float, float]:
        return self.tissue_axis_B or TISSUE_DRIVER[self.site][1]

    def q_B_S_after_slip(self) -> tuple[float, ...]:
        slip = Rotation.from_rotvec(np.deg2rad(self.slip_rotvec_B_deg))
        q = (slip * Rotation.from_quat(self.q_B_S, scalar_first=True)).as_quat(scalar_first=True)
        return tuple(float(x) for x in q)


def tissue_rotation(mount: SensorMount, driver_deg: FloatArray) -> FloatArray:
    """The skin's turn under the sensor, ``R_B_K`` (N,3,3), segment frame."""
    axis = np.asarray(mount.axis_B)
    rv = np.deg2rad(mount.soft_tissue * driver_deg)[:, None] * axis[None, :]
    return np.asarray(Rotation.from_rotvec(rv).as_matrix())


def _mount_rotation(mount: SensorMount, t_s: FloatArray, driver_deg: FloatArray) -> FloatArray:
    """``R_B_S(t)`` (N,3,3): tissue · slip · mounting."""
    r = Rotation.from_quat(mount.q_B_S, scalar_first=True).as_matrix()
    out = np.broadcast_to(r, (t_s.shape[0], 3, 3))
    if mount.slip_t_s is not None:
        frac = min_jerk((t_s - mount.slip_t_s) / SLIP_S)
        rv = frac[:, None] * np.deg2rad(np.asarray(mount.slip_rotvec_B_deg))[None, :]
        out = Rotation.from_rotvec(rv).as_matrix() @ out
    if mount.soft_tissue:
        out = tissue_rotation(mount, driver_deg) @ out
    return np.asarray(out)


def skin_rotations(
    body: BodyModel, mounts: Mapping[str, SensorMount], t_s: FloatArray
) -> dict[str, FloatArray]:
    """``R_E_K`` (N,3,3) of each segment as a perfect sensor glued to the
    skin over it would see it: the bone turned by the soft tissue (no
    mounting, no slip). Segments without a sensor give the bone."""
    ch = body.channels(t_s)
    rot = body.rotations_from(ch)
    ang = body.angles_from(ch)
    out = dict(rot)
    for site, m in mounts.items():
        if m.soft_tissue:
            out[site] = rot[site] @ tissue_rotation(m, ang[m.driver])
    return out


def _pose_from(
    mount: SensorMount,
    t_s: FloatArray,
    ang: dict[str, FloatArray],
    rot: dict[str, FloatArray],
    pos: dict[str, FloatArray],
    sel: npt.NDArray[np.bool_] | slice,
) -> tuple[FloatArray, FloatArray]:
    """``R_E_S`` and position of one sensor from body quantities (rows ``sel``)."""
    r_e_b = rot[mount.site][sel]
    p = pos[mount.site][sel]
    driver = ang[mount.driver][sel]
    if mount.soft_tissue:
        # the sensor slides along the segment: 1 mm per 10° at soft_tissue 0.05
        slide = 0.002 * mount.soft_tissue * driver
        off = np.stack([np.zeros_like(slide), np.zeros_like(slide), -slide], axis=1)
        p = p + np.einsum("nij,nj->ni", r_e_b, off)
    return r_e_b @ _mount_rotation(mount, t_s[sel], driver), p


def sensor_pose(
    body: BodyModel, mount: SensorMount, t_s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """True ``R_E_S`` (N,3,3) and earth position (N,3, m) of a sensor."""
    ch = body.channels(t_s)
    rot = body.rotations_from(ch)
    pos = body.positions_from(ch, rot)
    return _pose_from(mount, t_s, body.angles_from(ch), rot, pos, slice(None))


def true_orientation(body: BodyModel, mount: SensorMount, t_s: FloatArray) -> FloatArray:
    """True ``q_E_S`` (N,4), scalar first."""
    r, _ = sensor_pose(body, mount, np.asarray(t_s, float))
    return np.asarray(Rotation.from_matrix(r).as_quat(scalar_first=True))


def _rate(r0: FloatArray, r1: FloatArray, dt: float) -> FloatArray:
    return np.asarray(Rotation.from_matrix(np.swapaxes(r0, 1, 2) @ r1).as_rotvec()) / dt


def ideal_signals(
    body: BodyModel, mounts: Mapping[str, SensorMount], times_s: Mapping[str, FloatArray]
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Ideal specific force (N,3, m/s²) and angular rate (N,3, deg/s) of each
    sensor at its own sample times, in its own frame.

    All sensors' instants are evaluated together, so the body is computed
    once per instant whatever the number of sensors.
    """
    names = list(times_s)
    all_t = np.concatenate([times_s[n] for n in names])
    owner = np.concatenate([np.full(times_s[n].shape[0], i) for i, n in enumerate(names)])
    out = {
        n: (np.empty((times_s[n].shape[0], 3)), np.empty((times_s[n].shape[0], 3))) for n in names
    }
    filled = dict.fromkeys(names, 0)
    offsets = np.array([-2, -1, 0, 1, 2]) * H_S
    g_up = np.array([0.0, 0.0, GRAVITY_MPS2])
    for a in range(0, all_t.shape[0], CHUNK):
        t = all_t[a : a + CHUNK]
        own = owner[a : a + CHUNK]
        tt = (t[None, :] + offsets[:, None]).reshape(-1)
        ch = body.channels(tt)
        rot = body.rotations_from(ch)
        pos = body.positions_from(ch, rot)
        ang = body.angles_from(ch)
        for i, n in enumerate(names):
            sel = own == i
            m = int(sel.sum())
            if not m:
                continue
            r, p = _pose_from(mounts[n], tt, ang, rot, pos, np.tile(sel, 5))
            r = r.reshape(5, m, 3, 3)
            p = p.reshape(5, m, 3)
            acc_e = (-p[4] + 16 * p[3] - 30 * p[2] + 16 * p[1] - p[0]) / (12 * H_S**2)
            w1 = _rate(r[1], r[3], 2 * H_S)
            w2 = _rate(r[0], r[4], 4 * H_S)
            k = filled[n]
            out[n][0][k : k + m] = np.einsum("nji,nj->ni", r[2], acc_e + g_up)
            out[n][1][k : k + m] = np.rad2deg((4 * w1 - w2) / 3)
            filled[n] = k + m
    return out
