"""The live analyser: sample blocks in, angle rows and judged reps out, calibrating as it goes.

:class:`LiveAnalyser` is the live form of the offline analysis: every block
goes through the sensor's :class:`~hinge_imu.core.timegrid.GridResampler`
once. Until it is calibrated the analyser keeps those grid ticks and, every
``retry_every_s`` of data, tries the same ``calibrate_grid`` the offline
analysis runs on the ticks so far. A calibration is taken once it has a
still standing stance and enough hinge movement after it to show every
flexion axis (docs/analysis.md, "Live"), or without any stance on the
upright moments between reps once the first rep is back up at its
lockout (in the pose the data opens in, a rep between the moments); the
kept ticks then go through the same
:class:`~hinge_imu.core.stream.AnalysisStages` as offline, and every later
block straight through. So the first rep is judged a moment after
calibration, every later rep as it happens. Once more reps are seen it
calibrates again on everything kept, between reps, and carries on with
new stages (``recalibrate_after_reps``; when, and what the swap tells:
:mod:`~hinge_imu.core.live_again`). Every block also goes, from
the first, through the sensor's :class:`~hinge_imu.saturation.SaturationDetector`
(the reader's): a rep touching a saturated stretch is not judged, as offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hinge_imu.core.calibration import Calibration, NoStanceError, calibrate_grid
from hinge_imu.core.live_again import AgainSchedule, again_warnings, told_from
from hinge_imu.core.live_ready import (
    CalibrationTry,
    in_opening_pose,
    movement_after_stance_s,
    reads_clear,
    reads_not_ok,
    rep_seen,
    taken_again,
)
from hinge_imu.core.live_settings import LiveSettings
from hinge_imu.core.live_ticks import GridBuffer, from_tick
from hinge_imu.core.results import RepResult
from hinge_imu.core.rules import RuleSet
from hinge_imu.core.short_stance import BIAS_FROM_STOPS
from hinge_imu.core.step import AnalysisStep, merge_steps
from hinge_imu.core.stream import AnalysisSettings, AnalysisStages, missing_sensor_warnings
from hinge_imu.core.timegrid import GridChunk, GridResampler
from hinge_imu.samples import SampleBlock
from hinge_imu.saturation import Saturation, SaturationDetector

__all__ = ["LiveAnalyser", "LiveSettings"]

FloatArray = npt.NDArray[np.float64]


class LiveAnalyser:
    """Calibrate live, then analyse: ``update(block)`` per block, ``finish()``, ``reset()``.

    Args:
        sensors: the sensors of the session (``pelvis`` required).
        rules: the rules reps are judged by.
        settings: analysis settings (the offline analysis' defaults if None).
        side: which thigh carries the thigh sensor.
        live: when a calibration is taken.
    """

    def __init__(
        self,
        sensors: Sequence[str],
        rules: RuleSet,
        settings: AnalysisSettings | None = None,
        side: str = "right",
        live: LiveSettings | None = None,
    ) -> None:
        self.sensors = tuple(sensors)
        self.rules = rules
        self.settings = settings or AnalysisSettings()
        self.side = side
        self.live = live or LiveSettings()
        self.reset()

    def reset(self) -> None:
        self.calibration: Calibration | None = None
        self._stages: AnalysisStages | None = None
        self._grid = {s: GridResampler(self.settings.grid) for s in self.sensors}
        self._saturation = {s: SaturationDetector() for s in self.sensors}
        self._kept = {s: GridBuffer() for s in self.sensors}
        self._newest_s = 0.0
        self._first_s: float | None = None
        self._next_try_s = 0.0
        self._nagged = False
        #: The newest try of the first calibration (None: none yet; the taken one once calibrated).
        self.last_try: CalibrationTry | None = None
        #: When to calibrate again (reps, rests, movements seen since).
        self._again = AgainSchedule(self.live, self.settings.grid.rate_hz)
        #: Ticks kept (to calibrate again on) until ``again_within_s``.
        self._keeping = True
        #: The data's first ticks are no longer kept (waited over ``keep_max_s``).
        self._opening_dropped = False
        self._reps_seen = 0
        #: Grid index of the next angle row, and of the last rep's end.
        self._next_row_k = 0
        self._last_end_k = 0
        #: Grid index of the next row when the rep detector entered the movement
        #: it is in (None: not in one).
        self._rep_from_k: int | None = None

    @property
    def calibrated(self) -> bool:
        return self._stages is not None

    def _waiting(self) -> str:
        """Why not calibrated yet, in words ("" calibrated, or not tried yet)."""
        return "" if self._stages is not None or self.last_try is None else self.last_try.words

    @property
    def in_rep(self) -> bool:
        """The rep detector is inside a movement (False before the calibration)."""
        return self._stages is not None and self._stages.in_rep

    @property
    def saturated_s(self) -> dict[str, tuple[Saturation, ...]]:
        """Sensor → its saturated stretches found so far (final ones), in time order."""
        return {s: tuple(d.found) for s, d in self._saturation.items()}

    def saturated_during(self, t_from_s: float, t_to_s: float) -> list[str]:
        """The sensors held at their range limit at some moment of ``[t_from_s, t_to_s]``, s."""
        return [s for s, d in self._saturation.items() if d.touching(t_from_s, t_to_s)]

    def bias_tracking(self) -> dict[str, tuple[int, FloatArray]]:
        """Per sensor: (rests that measured its gyro bias so far, the newest bias (3,) deg/s).

        Empty before the calibration. The bias is measured again at every
        rest after it (docs/analysis.md, "Drift").
        """
        return {} if self._stages is None else self._stages.bias_tracking()

    def update(self, block: SampleBlock) -> AnalysisStep:
        """The next samples of one sensor (a sensor not of the session is ignored)."""
        if block.sensor not in self._grid:
            return AnalysisStep(
                calibrated=self.calibrated, in_rep=self.in_rep, waiting=self._waiting()
            )
        found = self._saturation[block.sensor].update(block.t_s, block.acc_mps2, block.gyr_dps)
        return self._unless_saturated(
            self._analyse_block(block), [(block.sensor, x) for x in found]
        )

    def _analyse_block(self, block: SampleBlock) -> AnalysisStep:
        chunk = self._grid[block.sensor].update(block.t_s, block.acc_mps2, block.gyr_dps)
        if self._keeping:
            self._kept[block.sensor].append(chunk)
        if len(block):
            self._newest_s = max(self._newest_s, float(block.t_s[-1]))
        if len(block) and self._first_s is None:
            self._first_s = float(block.t_s[0])
        data_s = self._newest_s - (self._first_s or 0.0)
        if self._keeping and self._stages is not None and data_s > self.live.again_within_s:
            self._keeping = False
            self._kept = {s: GridBuffer() for s in self.sensors}
        if self._stages is not None:
            step = self._stages.update(block.sensor, chunk)
            if self._keeping and step.reps and reads_not_ok(self.calibration):
                step = self._judge_again(step)
            else:
                step = self._counted(step)
            self._track_rep(step)
            # Not in the step that tells a rep: its feedback must not wait for this.
            if self._keeping and not step.reps and (due := self._again_due(step)):
                again = self._calibrate_again(due)
                if again.calibration is not None:  # new stages: in a rep or not as they see it
                    step = merge_steps([step, again])
                    self._track_rep(step)
            return step
        if self._newest_s < self._next_try_s:
            return AnalysisStep(waiting=self._waiting())
        self._next_try_s = self._newest_s + self.live.retry_every_s
        self._drop_old_ticks()
        return self._try_calibrate(final=False)

    def _judge_again(self, told: AnalysisStep) -> AnalysisStep:
        """A step telling reps left unjudged (a sensor not ok): calibrate on them first, and
        new stages that see the sensor ok judge them (docs/analysis.md, "Live")."""
        row_k = self._next_row_k
        again = self._calibrate_again("axis")
        if again.calibration is None:
            return self._counted(told)
        # The held reps are seen now: a re-calibration due at their count is this one.
        self._again.seen(self._reps_seen)
        # The rep's end, told by the stages that followed it; the new stages' events from here.
        ended = tuple(e for e in told.events if e.index < row_k)
        return replace(
            again,
            events=(*ended, *again.events),
            warnings=(*told.warnings, *again.warnings),
        )

    def _drop_old_ticks(self) -> None:
        rate = self.settings.grid.rate_hz
        keep_from = int((self._newest_s - self.live.keep_max_s) * rate)
        if self._first_s is not None and keep_from > round(self._first_s * rate):
            self._opening_dropped = True
        for kept in self._kept.values():
            kept.drop_before(keep_from)

    def _counted(self, step: AnalysisStep) -> AnalysisStep:
        """The stages' step with its reps numbered in the session (stages restart at 1)."""
        if len(step.t_s):
            self._next_row_k = round(float(step.t_s[-1]) * self.settings.grid.rate_hz) + 1
        # Stages new since a rep was told can see it again, longer (it was under way at
        # the swap): its bottom is before the last told rep's end (SIMULATED, blocks
        # of 1–5 samples: 2 of 8 sessions told a rep twice).
        fresh = [r for r in step.reps if r.bounds.bottom > self._last_end_k]
        if len(fresh) < len(step.reps):
            step = replace(step, reps=tuple(fresh))
        if not step.reps:
            return step
        reps = tuple(replace(r, rep=self._reps_seen + i + 1) for i, r in enumerate(step.reps))
        self._reps_seen += len(reps)
        self._last_end_k = reps[-1].bounds.end
        return replace(step, reps=reps)

    def _track_rep(self, step: AnalysisStep) -> None:
        if not step.in_rep:
            self._rep_from_k = None
        elif self._rep_from_k is None:
            self._rep_from_k = self._next_row_k

    def _again_due(self, step: AnalysisStep) -> str:
        """Why to calibrate again now ("" if not): :meth:`AgainSchedule.due`."""
        return self._again.due(
            step,
            self.calibration,
            self._reps_seen,
            self._next_row_k,
            self._rep_from_k,
            self._last_end_k,
        )

    def _calibrate_again(self, due: str = "reps") -> AnalysisStep:
        """Calibrate again on every tick kept, between reps; new stages from the next row.

        One rep gives a rough flexion axis and, without a still stance,
        brief stops for the bias (docs/analysis.md, "Live"): with more reps
        seen the calibration is what offline would take on the same data.
        The new stages start where the angle rows stand, led in from the
        last rep's lockout (standing), so no rep is cut or seen twice.
        """
        self._again.taking(due, self._reps_seen, self._next_row_k)
        chunks = self._kept_chunks()
        try:
            cal = self._calibrate(chunks)
        except NoStanceError:
            return AnalysisStep(calibrated=True)
        old = self.calibration
        taken = cal if old is None else taken_again(old, cal, due, self.live)
        if taken is None:
            return AnalysisStep(calibrated=True)
        cal = taken
        rate = self.settings.grid.rate_hz
        row_k = self._next_row_k
        first_k = max(
            min(c.k0 for c in chunks.values()), row_k - round(self.live.again_lead_s * rate)
        )
        stages, step = self._stages_on(cal, chunks, first_k)
        self.calibration, self._stages = cal, stages
        step = told_from(step, row_k, rate, slip=due == "slip")
        step = self._counted(step)  # a rep held for this (``_judge_again``) counts as seen
        said = again_warnings(old, cal, self._newest_s, self._reps_seen)
        return replace(step, calibration=cal, warnings=(*said, *step.warnings))

    def _kept_chunks(self) -> dict[str, GridChunk]:
        """Every sensor's kept ticks, each as one chunk (sensors with none left out)."""
        return {s: c for s, c in ((s, k.joined()) for s, k in self._kept.items()) if c}

    def _calibrate(self, chunks: dict[str, GridChunk]) -> Calibration:
        st, cs = self.settings, self.settings.calibration
        if self._opening_dropped:
            # The rep cycles are counted from the data's opening (a set starts
            # standing): the first tick kept is no opening.
            cs = replace(cs, cycle_opening_max_steady_s=0.0)
        fit = st.acc_fit  # each accelerometer fitted on the rests kept (offline: on all)
        return calibrate_grid(chunks, st.grid.rate_hz, cs, st.orientation(), st.rest_bias, fit)

    def _stages_on(
        self, cal: Calibration, chunks: dict[str, GridChunk], first_k: int
    ) -> tuple[AnalysisStages, AnalysisStep]:
        """New stages on ``cal`` from grid index ``first_k``, fed the kept ticks from there."""
        stages = AnalysisStages(cal, self.rules, self.settings, self.side, first_k)
        kept = {s: from_tick(chunks[s], first_k) for s in self.sensors if s in chunks}
        for s, c in kept.items():
            # The kept ticks are in hand: settle each filter backward over them.
            stages.lead_in(s, c)
        return stages, merge_steps([stages.update(s, c) for s, c in kept.items()])

    def finish(self) -> AnalysisStep:
        """End of data: calibrate on what there is if not yet, then flush the stages."""
        found = [(s, x) for s, d in self._saturation.items() for x in d.finish()]
        return self._unless_saturated(self._finish_stages(), found)

    def _unless_saturated(
        self, step: AnalysisStep, found: list[tuple[str, Saturation]]
    ) -> AnalysisStep:
        """The step's reps not judged where a sensor was saturated; a warning per new stretch."""
        if not (step.reps or found):
            return step
        reps = tuple(self._rep_unless_saturated(r) for r in step.reps)
        news = tuple(
            f"{s} saturated (held at its range limit) {x.describe()}; reps touching it not judged"
            for s, x in found
        )
        return replace(step, reps=reps, warnings=(*step.warnings, *news))

    def _rep_unless_saturated(self, rep: RepResult) -> RepResult:
        hit = self.saturated_during(rep.metrics.t_start, rep.metrics.t_end)
        return rep.unless_saturated(hit, self.rules)

    def _finish_stages(self) -> AnalysisStep:
        if self._stages is None:
            step = self._try_calibrate(final=True)
            if self._stages is None:
                return step
            return merge_steps([step, self._counted(self._stages.finish())])
        return self._counted(self._stages.finish())

    def _try_calibrate(self, final: bool) -> AnalysisStep:
        """Calibrate on the ticks kept if they support it; :attr:`last_try` says why not."""
        rate = self.settings.grid.rate_hz
        chunks = self._kept_chunks()
        need = self.settings.calibration.min_stance_s + self.live.stance_margin_s
        data_s = min((float((~c.gap).sum()) / rate for c in chunks.values()), default=0.0)
        t = CalibrationTry(self._newest_s, data_s=data_s)
        if "pelvis" not in chunks:
            return self._wait(replace(t, reason="no_pelvis"), final)
        if data_s < min(need, self.live.cycles_min_data_s):
            return self._wait(replace(t, reason="data"), final)  # not a rep's worth of data yet
        try:
            cal = self._calibrate(chunks)
        except NoStanceError:
            return self._wait(replace(t, reason="no_stance"), final)
        t = replace(t, calibration=cal)
        cycles = cal.opening_cycles
        if data_s < need and not cycles:
            return self._wait(replace(t, reason="stance_data"), final)  # nor a stance's worth
        early = data_s < self.live.upright_wait_s
        cs = self.settings.calibration
        posed = cycles or cal.pose_s >= self.live.upright_min_pose_s
        if posed:
            opening_s = cs.cycle_opening_s if cycles else self.live.upright_opening_s
            orient = self.settings.orientation()
            t = replace(t, opening=in_opening_pose(chunks, cal, opening_s, rate, cs, orient))
        # A short stance is taken as upright moments are (its gyro bias is theirs): taken
        # at once, during the first rep, a swaying stance's pelvis read 10° off.
        stops = cal.kind in BIAS_FROM_STOPS
        if stops and not final and early and not (posed and t.opening):
            # Upright moments from the data so far, but no rep back up to them yet.
            return self._wait(replace(t, reason="not_opening" if posed else "pose_short"), final)
        axes_clear = reads_clear(cal)
        moved_s = movement_after_stance_s(chunks["pelvis"], cal, rate, cs)
        t = replace(t, moved_s=moved_s, axes_clear=axes_clear)
        enough = (
            (moved_s >= self.live.min_axis_movement_s and axes_clear)
            or moved_s >= self.live.max_axis_wait_s
            # Upright moments lie between reps: the movement is around them, not after.
            or cal.kind == "upright"
        )
        if not (final or enough):
            return self._wait(replace(t, reason="axes"), final)
        # Every sensor from the same tick on (a sensor that started late: lost data before).
        stages, merged = self._stages_on(cal, chunks, min(c.k0 for c in chunks.values()))
        if stops and not final and early:
            seen = rep_seen(merged, cal, axes_clear, cycles)
            t = replace(t, reps=len(merged.reps), rep_seen=seen)
            if not seen:
                # A walk or a fidget before the first rep shows no flexion axis,
                # and read on a wrong reference it can pass for a rep: wait for a
                # rep between two upright moments (the stop or turning point before
                # it and its lockout), or after them with every axis clear.
                return self._wait(replace(t, reason="no_rep"), final)
        self.last_try = t
        self.calibration = cal
        self._stages = stages
        merged = self._counted(merged)
        self._again.calibrated(self._reps_seen)
        warnings = (*cal.messages, *missing_sensor_warnings(self.sensors), *merged.warnings)
        return replace(merged, calibrated=True, calibration=cal, warnings=warnings)

    def _wait(self, tried: CalibrationTry, final: bool) -> AnalysisStep:
        """Not calibrated: why (``tried``), and once after ``nag_after_s`` what is needed."""
        self.last_try = tried
        stance_s = self.settings.calibration.min_stance_s
        if final:
            why = f"no calibration: no still standing stance of {stance_s:g} s followed by a hinge"
            return AnalysisStep(warnings=(why,), waiting=tried.words)
        if not self._nagged and self._newest_s > self.live.nag_after_s:
            self._nagged = True
            do = "stand tall and still for 2 s, then do a hip hinge"
            why = f"not calibrated yet ({tried.words}): {do}"
            return AnalysisStep(warnings=(why,), waiting=tried.words)
        return AnalysisStep(waiting=tried.words)
