"""The analysis core's streaming stages behind the live session's small interface.

Live, calibration cannot look at the whole recording. :class:`CoreAnalyser`
keeps the raw samples from the start until the calibration can be made —
the opening still stance (≥ 1 s) *and* the first hinge movement after it
(the flexion axis is found from the movement itself, docs/analysis.md) —
then calibrates with the core's own ``calibrate`` on that data, feeds the
kept samples through the core's :class:`~hinge_imu.core.stream.StreamingAnalyser`
to catch up, and from then on passes every block straight through. So the
first rep is judged a moment after calibration; every later rep as it
happens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_NAMES
from hinge_imu.core.calibration import Calibration
from hinge_imu.core.pipeline import calibrate_recording
from hinge_imu.core.rules import RuleSet
from hinge_imu.core.stream import AnalysisSettings, StreamingAnalyser, StreamStep
from hinge_imu.errors import RecordingError
from hinge_imu.live.analyser import AnalysisStep
from hinge_imu.samples import Recording, SampleBlock, SensorStream

FloatArray = npt.NDArray[np.float64]

#: Movement after the stance (pelvis gyro above the calibration's moving rate)
#: needed before the flexion axis is trusted, s.
MIN_AXIS_MOVEMENT_S = 1.0
#: With this much movement after the stance, calibrate even if a sensor (a thigh
#: that hardly moves in a perfect hinge) has not shown its axis clearly, s.
MAX_AXIS_WAIT_S = 6.0
#: How often a calibration is attempted while waiting for one, s of data.
RETRY_EVERY_S = 0.25
#: Longest stretch of raw samples kept while waiting for a calibration, s.
KEEP_MAX_S = 60.0
#: After this long without a calibration, the user is told what is needed, s.
NAG_AFTER_S = 20.0


class CoreAnalyser:
    """Live calibration, then the core's streaming analysis.

    Args:
        header: the recording header (``side`` is read from it).
        rules: the rules reps are judged by.
        sensors: the sensors of the session.
        settings: analysis settings (the core's defaults if None).
    """

    def __init__(
        self,
        header: Mapping[str, str],
        rules: RuleSet,
        sensors: Sequence[str],
        settings: AnalysisSettings | None = None,
    ) -> None:
        self.header = dict(header)
        self.rules = rules
        self.sensors = tuple(sensors)
        self.settings = settings or AnalysisSettings()
        self.side = self.header.get("side", "right").strip().lower() or "right"
        self.reset()

    def reset(self) -> None:
        self.calibration: Calibration | None = None
        self.stream: StreamingAnalyser | None = None
        self._kept: dict[str, list[tuple[FloatArray, FloatArray, FloatArray]]] = {
            s: [] for s in self.sensors
        }
        self._newest_s = 0.0
        self._next_try_s = 0.0
        self._nagged = False

    @property
    def calibrated(self) -> bool:
        return self.stream is not None

    def update(self, block: SampleBlock) -> AnalysisStep:
        if self.stream is not None:
            return _convert(
                self.stream.update(block.sensor, block.t_s, block.acc_mps2, block.gyr_dps),
                self.stream,
            )
        if block.sensor not in self._kept:
            return AnalysisStep()
        kept = self._kept[block.sensor]
        kept.append((block.t_s, block.acc_mps2, block.gyr_dps))
        self._newest_s = max(self._newest_s, float(block.t_s[-1]))
        while kept and float(kept[0][0][-1]) < self._newest_s - KEEP_MAX_S:
            kept.pop(0)
        if self._newest_s < self._next_try_s:
            return AnalysisStep()
        self._next_try_s = self._newest_s + RETRY_EVERY_S
        return self._try_calibrate(final=False)

    def finish(self) -> AnalysisStep:
        if self.stream is None:
            step = self._try_calibrate(final=True)
            if self.stream is None:
                return step
            return _merge([step, _convert(self.stream.finish(), self.stream)])
        return _convert(self.stream.finish(), self.stream)

    def _recording(self) -> Recording:
        streams = {}
        for s, parts in self._kept.items():
            if not parts:
                continue
            t = np.concatenate([p[0] for p in parts])
            acc = np.concatenate([p[1] for p in parts])
            gyr = np.concatenate([p[2] for p in parts])
            streams[s] = SensorStream(t, acc, gyr)
        return Recording(streams, self.header, source="live")

    def _movement_after_stance_s(self, rec: Recording, cal: Calibration) -> float:
        s = rec.sensors["pelvis"]
        after = s.t_s > cal.stance_end_s
        bias = np.asarray(cal.sensors["pelvis"].gyro_bias_dps)
        rate = np.linalg.norm(s.gyr_dps[after] - bias, axis=1)
        moving = rate > self.settings.calibration.moving_gyro_dps
        return float(moving.sum() / (s.rate_hz or s.estimated_rate_hz or 100.0))

    def _try_calibrate(self, final: bool) -> AnalysisStep:
        rec = self._recording()
        need_s = self.settings.calibration.min_stance_s + 0.5
        if any(len(s) < 2 or s.t_s[-1] - s.t_s[0] < need_s for s in rec.sensors.values()):
            return self._nag(final)  # not even a stance's worth of data yet
        try:
            cal = calibrate_recording(rec, self.settings)
        except (RecordingError, ValueError):
            # No stance yet (or data the calibration cannot use yet): keep waiting.
            return self._nag(final)
        moved_s = self._movement_after_stance_s(rec, cal)
        clear = all(c.ok and not c.messages for c in cal.sensors.values())
        if not final and not (
            (moved_s >= MIN_AXIS_MOVEMENT_S and clear) or moved_s >= MAX_AXIS_WAIT_S
        ):
            return self._nag(final)
        self.calibration = cal
        self.stream = StreamingAnalyser(cal, self.rules, self.settings, side=self.side)
        steps = []
        for s in rec.ordered_sensor_names():
            st = rec.sensors[s]
            steps.append(
                _convert(self.stream.update(s, st.t_s, st.acc_mps2, st.gyr_dps), self.stream)
            )
        self._kept = {s: [] for s in self.sensors}
        merged = _merge(steps)
        missing = [
            f"no {s} sensor: the rules that need it are not assessed"
            for s in ("thigh", "upper_back")
            if s not in self.sensors
        ]
        return replace(
            merged, calibrated=cal.sensors, warnings=(*cal.messages, *missing, *merged.warnings)
        )

    def _nag(self, final: bool) -> AnalysisStep:
        if final:
            return AnalysisStep(
                warnings=("no calibration: no still standing stance of 1 s followed by a hinge",)
            )
        if not self._nagged and self._newest_s > NAG_AFTER_S:
            self._nagged = True
            return AnalysisStep(
                warnings=("not calibrated yet: stand tall and still for 2 s, then do a hip hinge",)
            )
        return AnalysisStep()


def _convert(step: StreamStep, stream: StreamingAnalyser) -> AnalysisStep:
    return AnalysisStep(
        t_s=step.t_s,
        angles_deg=step.angles_deg,
        reps=step.reps,
        in_rep=bool(stream.detector.in_rep),
    )


def _merge(steps: Sequence[AnalysisStep]) -> AnalysisStep:
    """Several steps as one (angles concatenated in time order)."""
    steps = [s for s in steps if len(s.t_s) or s.reps or s.warnings or s.calibrated]
    if not steps:
        return AnalysisStep()
    if len(steps) == 1:
        return steps[0]
    with_rows = [s for s in steps if len(s.t_s)]
    t = np.concatenate([s.t_s for s in with_rows]) if with_rows else np.zeros(0)
    angles = {
        a: np.concatenate([np.asarray(s.angles_deg[a]) for s in with_rows])
        for a in ANGLE_NAMES
        if with_rows and all(a in s.angles_deg for s in with_rows)
    }
    cal = next((s.calibrated for s in steps if s.calibrated is not None), None)
    return AnalysisStep(
        t_s=t,
        angles_deg=angles,
        reps=tuple(r for s in steps for r in s.reps),
        calibrated=cal,
        in_rep=steps[-1].in_rep,
        warnings=tuple(w for s in steps for w in s.warnings),
    )
