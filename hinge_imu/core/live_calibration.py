"""Live calibration from the opening stance and the first reps, and a live analyser.

* :class:`LiveCalibrator` buffers the raw samples of a session until they
  hold a still standing stance (≥ 1 s) and enough hinge movement to show
  every sensor's flexion axis, then returns the :class:`Calibration` (the
  same ``calibrate`` the offline analysis uses, on the data so far).
* :class:`LiveAnalyser` is the one object a live session needs: it
  calibrates with a ``LiveCalibrator``, then replays the buffered samples
  through a :class:`~hinge_imu.core.stream.StreamingAnalyser` and passes
  every later block straight through — so the first reps are not lost and
  the reps equal those of the offline analysis of the same data, given the
  same calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hinge_imu.core.calibration import Calibration, NoStanceError, calibrate
from hinge_imu.core.rules import RuleSet
from hinge_imu.core.stream import AnalysisSettings, StreamingAnalyser, StreamStep
from hinge_imu.core.timegrid import GridResampler

FloatArray = npt.NDArray[np.float64]


class LiveCalibrator:
    """Calibrates from the data seen so far, as soon as it can.

    Args:
        sensors: the sensors of the session (``pelvis`` required).
        settings: analysis settings.
        retry_every_s: how often (data time) a calibration is attempted, s.
        min_axis_confidence: every sensor's axis must be at least this clear.
    """

    def __init__(
        self,
        sensors: Sequence[str],
        settings: AnalysisSettings | None = None,
        retry_every_s: float = 1.0,
        min_axis_confidence: float = 0.8,
    ) -> None:
        self.sensors = tuple(sensors)
        self.settings = settings or AnalysisSettings()
        self.retry_every_s = retry_every_s
        self.min_axis_confidence = min_axis_confidence
        self.reset()

    def reset(self) -> None:
        self._t: dict[str, list[FloatArray]] = {s: [] for s in self.sensors}
        self._acc: dict[str, list[FloatArray]] = {s: [] for s in self.sensors}
        self._gyr: dict[str, list[FloatArray]] = {s: [] for s in self.sensors}
        self._next_try_s = 0.0
        self.calibration: Calibration | None = None

    def update(
        self, sensor: str, t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray
    ) -> Calibration | None:
        """Add samples of one sensor; return the calibration once it is ready (else None)."""
        if sensor not in self._t or len(t_s) == 0:
            return None
        self._t[sensor].append(np.asarray(t_s, dtype=np.float64))
        self._acc[sensor].append(np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3))
        self._gyr[sensor].append(np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3))
        if self.calibration is not None:
            return None
        if any(not self._t[s] for s in self.sensors):
            return None
        t_now = min(float(self._t[s][-1][-1]) for s in self.sensors)
        if t_now < self._next_try_s:
            return None
        self._next_try_s = t_now + self.retry_every_s
        cal = self._attempt()
        if cal is not None:
            self.calibration = cal
        return cal

    def buffered(self) -> dict[str, tuple[FloatArray, FloatArray, FloatArray]]:
        """Every sample seen so far: sensor → (t_s, acc_mps2, gyr_dps)."""
        out = {}
        for s in self.sensors:
            if self._t[s]:
                out[s] = (
                    np.concatenate(self._t[s]),
                    np.vstack(self._acc[s]),
                    np.vstack(self._gyr[s]),
                )
        return out

    def _attempt(self) -> Calibration | None:
        grid = self.settings.grid
        acc, gyr, valid = {}, {}, {}
        for s, (t, a, g) in self.buffered().items():
            chunk = GridResampler(grid).update(t, a, g)
            acc[s], gyr[s], valid[s] = chunk.acc_mps2, chunk.gyr_dps, ~chunk.gap
        n = min(x.shape[0] for x in acc.values())
        acc = {s: x[:n] for s, x in acc.items()}
        gyr = {s: x[:n] for s, x in gyr.items()}
        valid = {s: x[:n] for s, x in valid.items()}
        try:
            cal = calibrate(
                acc,
                gyr,
                valid,
                grid.rate_hz,
                self.settings.calibration,
                self.settings.orientation(),
            )
        except NoStanceError:
            return None
        trunk = [c for s, c in cal.sensors.items() if s != "thigh"]
        if all(c.ok and c.axis_confidence >= self.min_axis_confidence for c in trunk) and all(
            c.ok for c in cal.sensors.values()
        ):
            return cal
        return None


@dataclass(frozen=True)
class LiveStep:
    """What one block produced live: the stream step, plus the calibration when it happened."""

    step: StreamStep = field(default_factory=StreamStep)
    calibration: Calibration | None = None


class LiveAnalyser:
    """Calibrate live, then analyse: ``update(sensor, t_s, acc_mps2, gyr_dps) -> LiveStep``."""

    def __init__(
        self,
        sensors: Sequence[str],
        rules: RuleSet,
        settings: AnalysisSettings | None = None,
        side: str = "right",
    ) -> None:
        self.sensors = tuple(sensors)
        self.rules = rules
        self.settings = settings or AnalysisSettings()
        self.side = side
        self.reset()

    def reset(self) -> None:
        self.calibrator = LiveCalibrator(self.sensors, self.settings)
        self.analyser: StreamingAnalyser | None = None

    @property
    def calibrated(self) -> bool:
        return self.analyser is not None

    def update(
        self, sensor: str, t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray
    ) -> LiveStep:
        if self.analyser is not None:
            return LiveStep(self.analyser.update(sensor, t_s, acc_mps2, gyr_dps))
        cal = self.calibrator.update(sensor, t_s, acc_mps2, gyr_dps)
        if cal is None:
            return LiveStep()
        self.analyser = StreamingAnalyser(cal, self.rules, self.settings, self.side)
        steps = [self.analyser.update(s, *data) for s, data in self.calibrator.buffered().items()]
        return LiveStep(merge_steps(steps), cal)

    def finish(self) -> LiveStep:
        if self.analyser is None:
            return LiveStep()
        return LiveStep(self.analyser.finish())


def merge_steps(steps: Sequence[StreamStep]) -> StreamStep:
    """Several consecutive stream steps as one."""
    steps = [s for s in steps if s.t_s.size or s.events]
    if not steps:
        return StreamStep()
    if len(steps) == 1:
        return steps[0]
    names = next((list(s.angles_deg) for s in steps if s.angles_deg), [])
    t = np.concatenate([s.t_s for s in steps])
    angles = {a: np.concatenate([s.angles_deg[a] for s in steps if s.angles_deg]) for a in names}
    events = tuple(e for s in steps for e in s.events)
    reps = tuple(r for s in steps for r in s.reps)
    return StreamStep(t, angles, events, reps)
