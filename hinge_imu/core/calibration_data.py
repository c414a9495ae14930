"""What the calibration stages read and hand on, and what they produce (``Calibration``).

Part of the calibration (``calibration.py``): frozen data only, so each
stage is a function of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.core.acc_fit import AccCorrection
from hinge_imu.core.angles import quat_to_matrix
from hinge_imu.core.rest_bias import BiasTrack
from hinge_imu.core.results import SensorCalibration

__all__ = ["TRUNK_SENSORS", "Axes", "AxisInput", "Calibration", "GridData", "Slip", "Stance"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Calibration:
    """The calibration of every sensor plus the stance it came from.

    Attributes:
        sensors: sensor → its calibration (``q_S_B`` is the mounting).
        stance_start_s, stance_end_s: the stance used, s.
        messages: what the user should know, one line each.
    """

    sensors: Mapping[str, SensorCalibration]
    stance_start_s: float
    stance_end_s: float
    messages: tuple[str, ...] = ()
    #: sensor → strap slips found: (start s, end s, mounting ``q_S_B`` from the
    #: end on); the sensor's angles are unknown (NaN) while it slips.
    slips: Mapping[str, tuple[tuple[float, float, tuple[float, ...]], ...]] = field(
        default_factory=dict
    )
    #: sensor → its gyro bias over the data calibrated on, tracked at every
    #: rest (``offline_bias.track_bias``); a sensor missing here: ``gyro_bias_dps``.
    bias: Mapping[str, BiasTrack] = field(default_factory=dict)
    #: How long the standing pose was seen: the stance (or short stance), or
    #: without either the upright moments between reps added up, s.
    pose_s: float = 0.0
    #: The gyro biases come from whole rep cycles since the data's opening
    #: (no stance at all and scarce steady moments: ``opening_cycles.opening_to_lockout_bias``).
    opening_cycles: bool = False
    #: sensor → its accelerometer fit (``acc_fit.py``); where ``applied`` the
    #: later calibration stages read the accelerometer corrected, as do the
    #: stages built on this calibration (``chain.SensorChain``).
    acc: Mapping[str, AccCorrection] = field(default_factory=dict)

    def correct_acc(self, sensor: str, acc_mps2: FloatArray) -> FloatArray:
        """The sensor's accelerometer readings (N, 3) m/s² as the calibration read them."""
        fit = self.acc.get(sensor)
        return acc_mps2 if fit is None else fit.apply(acc_mps2)

    def bias_track(self, sensor: str) -> BiasTrack:
        """The sensor's gyro bias over time (constant when not tracked)."""
        if sensor in self.bias:
            return self.bias[sensor]
        return BiasTrack.constant(np.asarray(self.sensors[sensor].gyro_bias_dps))

    @property
    def kind(self) -> str:
        """How the sensors were calibrated: ``stance``, ``short_stance`` or ``upright``
        (``SensorCalibration``)."""
        return next((c.kind for c in self.sensors.values()), "stance")

    def R_S_B(self, sensor: str) -> FloatArray:
        return quat_to_matrix(np.asarray(self.sensors[sensor].q_S_B))

    def mountings(self, sensor: str) -> list[tuple[float, FloatArray]]:
        """The sensor's mounting over time: [(from_s, R_S_B), …], first from −inf."""
        out = [(-np.inf, self.R_S_B(sensor))]
        for _, t_end, q in self.slips.get(sensor, ()):
            out.append((t_end, quat_to_matrix(np.asarray(q))))
        return out

    def slipping(self, sensor: str) -> list[tuple[float, float]]:
        """When the sensor was slipping on its strap: [(start_s, end_s)]."""
        return [(t0, t1) for t0, t1, _ in self.slips.get(sensor, ())]


@dataclass(frozen=True)
class GridData:
    """Every sensor on the analysis grid, as the calibration stages read it.

    Attributes:
        acc_mps2, gyr_dps: sensor → (N, 3) samples, the same N for every sensor.
        valid: sensor → (N,) False in long gaps (no data).
        rate_hz: the grid rate, Hz.
        k0: grid index of the first sample (its time is ``k0 / rate_hz``).
        bridged: sensor → (N,) True in bridged gaps that could hide a strap
            slip (``GridChunk.bridged``; a sensor missing: none known).
    """

    acc_mps2: Mapping[str, FloatArray]
    gyr_dps: Mapping[str, FloatArray]
    valid: Mapping[str, BoolArray]
    rate_hz: float
    k0: int = 0
    bridged: Mapping[str, BoolArray] = field(default_factory=dict)

    def received(self, sensor: str) -> BoolArray:
        """(N,) True where the sensor's own samples were received (no gap, bridged or not)."""
        b = self.bridged.get(sensor)
        return self.valid[sensor] if b is None else self.valid[sensor] & ~b

    @property
    def sensors(self) -> tuple[str, ...]:
        return tuple(self.acc_mps2)

    def t_s(self, i: int) -> float:
        """Time of array index ``i``, s."""
        return (self.k0 + i) / self.rate_hz


@dataclass(frozen=True)
class Stance:
    """Stage 1: the stance [start, end) (array indices) and what it gives.

    Attributes:
        still: (N,) every sensor still.
        bias_dps: sensor → gyro bias (3,), deg/s.
        axis_start, axis_end: the data the axes are fitted on, [start, end)
            indices: up to ``axis_window_s`` either side of the stance
            (offline looks at the whole recording, before the stance too).
    """

    start: int
    end: int
    still: BoolArray
    bias_dps: Mapping[str, FloatArray]
    axis_start: int
    axis_end: int
    messages: tuple[str, ...]
    #: ``stance`` (a still standing stance), ``short_stance`` (none of
    #: ``min_stance_s``: the reference pose from a shorter quiet stance, the
    #: gyro bias from the upright moments between reps) or ``upright`` (the
    #: upright moments between reps, ``pose``, give both).
    kind: str = "stance"
    #: With ``upright``: the samples (N,) the standing pose is taken from.
    pose: BoolArray | None = None
    #: The gyro biases come from whole rep cycles since the data's opening.
    opening_cycles: bool = False

    def pose_mean(self, x: FloatArray) -> FloatArray:
        """Mean of per-sample rows of ``x`` (N', 3) over the standing pose."""
        if self.pose is None:
            return np.asarray(x[self.start : self.end].mean(axis=0))
        m = self.pose[: x.shape[0]]
        return np.asarray(np.nanmean(x[: m.shape[0]][m], axis=0))


@dataclass(frozen=True)
class Axes:
    """Stages 4–5: per sensor its frame ``R_S_B``, sagittal angle (axis window), confidence."""

    frames: dict[str, FloatArray]
    sagittal_deg: dict[str, FloatArray]
    confidence: dict[str, float]
    messages: tuple[str, ...] = ()


#: A strap slip as (first index, end index, Q): the mounting turns by Q
#: (R_S_B ← Q · R_S_B) from the end of the slip on.
Slip = tuple[int, int, FloatArray]

#: Sensors fitted as the trunk (one clear axis; they tilt forward, far), in order.
TRUNK_SENSORS = ("pelvis", "upper_back", "head")


@dataclass(frozen=True)
class AxisInput:
    """What the axis stages fit on: the grid, the stance, and per sensor its
    vertical (N', 3) from the first sample up to ``stance.axis_end`` and the
    samples to use (N',), False before ``stance.axis_start`` and from the
    sensor's first strap slip on."""

    grid: GridData
    stance: Stance
    vertical: Mapping[str, FloatArray]
    use: Mapping[str, BoolArray]
