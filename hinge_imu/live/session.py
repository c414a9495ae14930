"""A live coaching session: source → streaming analysis → gate → schedule → sound, events, view.

One :class:`LiveSession` per session. ``run(source)`` consumes blocks of
samples (from sensors or a replay), writes them to the recording, feeds the
streaming analysis, warns during a rep through the in-rep monitor, judges
each completed rep (after the data-quality gate), lets the schedule decide
which sounds to play, and reports everything as events and on the display.

Latency is measured on the wall clock: from the moment the block holding
the deciding sample was delivered (``SampleBlock.arrival_s``) to the moment the
sound was handed to the player (or, with no sound due, the event written).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from hinge_imu.core.calibration import Calibration
from hinge_imu.core.live import LiveAnalyser
from hinge_imu.core.results import RepResult, saturation_reason
from hinge_imu.core.rules import RuleSet, judge_rep
from hinge_imu.core.step import AnalysisStep
from hinge_imu.events import EventWriter
from hinge_imu.live.display import LiveDisplay, LiveState, rep_line
from hinge_imu.live.feedback import AudioPlayer, WavRenderer
from hinge_imu.live.health import HealthTracker
from hinge_imu.live.inrep import InRepFinding, InRepMonitor
from hinge_imu.live.quality_gate import QualityGate
from hinge_imu.live.schedules import Cue, FeedbackSchedule, SetSummary
from hinge_imu.samples import LinkEvent, SampleBlock

#: How many of the latest reps, sounds and sets a session keeps in memory.
KEEP_LAST = 1000
#: How often a ``health`` event is written, s of session time.
HEALTH_EVERY_S = 10.0


@dataclass
class SessionOutputs:
    """Where a session's results go (all optional)."""

    events: EventWriter = field(default_factory=lambda: EventWriter(None))
    player: AudioPlayer | None = None
    wav: WavRenderer | None = None
    display: LiveDisplay | None = None
    #: Called with each block after it is processed (the recording writer).
    record: Callable[[SampleBlock], None] | None = None


@dataclass(frozen=True)
class IssuedCue:
    """A sound that was issued: the cue, and when (wall clock, ``perf_counter`` s)."""

    cue: Cue
    wall_s: float
    latency_ms: float


class LiveSession:
    """Runs one coaching session.

    Args:
        analyser: the live analysis (calibration → angles → reps).
        rules: the rules (thresholds for the in-rep monitor and the verdicts).
        schedule: the feedback schedule.
        gate: the data-quality gate.
        outputs: sound, WAV, events, display, recording.
        source_name: shown on the display and in the ``session`` event.
    """

    def __init__(
        self,
        analyser: LiveAnalyser,
        rules: RuleSet,
        schedule: FeedbackSchedule,
        gate: QualityGate | None = None,
        outputs: SessionOutputs | None = None,
        source_name: str = "",
    ) -> None:
        self.analyser = analyser
        self.rules = rules
        self.schedule = schedule
        self.gate = gate if gate is not None else QualityGate()
        self.out = outputs if outputs is not None else SessionOutputs()
        self.monitor = InRepMonitor(rules, analyser.settings.reps, analyser.settings.grid.rate_hz)
        self.state = LiveState(source=source_name, schedule=schedule.schedule)
        self.source_name = source_name
        #: Warnings known before the session starts (e.g. no sound device).
        self.pending_warnings: list[str] = []
        self.reset()

    def reset(self) -> None:
        self.analyser.reset()
        self.schedule.reset()
        self.gate.reset()
        self.monitor.reset()
        # The latest reps, sounds and sets (bounded: memory stays flat over
        # long sessions); the counters below count all of them.
        self.reps: deque[RepResult] = deque(maxlen=KEEP_LAST)
        self.issued: deque[IssuedCue] = deque(maxlen=KEEP_LAST)
        self.sets: deque[SetSummary] = deque(maxlen=KEEP_LAST)
        self.counts = {"reps": 0, "judged": 0, "bad": 0, "sounds": 0}
        #: In-rep findings not yet attached to a completed rep: (finding, sounded).
        self._findings: list[InRepFinding] = []
        self.t_s = 0.0
        self._next_health_s = HEALTH_EVERY_S
        self._next_view_health_s = 1.0
        self.health = HealthTracker(self.gate)

    # ---- the loop -------------------------------------------------------------------------

    def run(self, source: Iterable[SampleBlock | LinkEvent]) -> None:
        """Consume the whole source; on Ctrl-C, finish cleanly and re-raise."""
        self.start()
        try:
            for item in source:
                self.handle(item)
        finally:
            self.finish()

    def start(self) -> None:
        """Announce the session (first event) and show the view."""
        self.out.events.emit(
            "session", t=0.0, source=self.source_name, schedule=self.schedule.schedule
        )
        if self.out.display is not None:
            self.out.display.start(self.state)
        for message in self.pending_warnings:
            self.warn(message)
        self.pending_warnings = []

    def handle(self, item: SampleBlock | LinkEvent) -> None:
        """One item from a source."""
        if isinstance(item, LinkEvent):
            self._on_link(item)
        else:
            self.process(item)

    def process(self, block: SampleBlock) -> None:
        """One block of samples: gate, analyse, warn, judge, schedule, then record."""
        if len(block) == 0:
            return
        self.gate.update(block.sensor, block.t_s)
        self.health.count(block, self.state.health)
        self.t_s = max(self.t_s, float(block.t_s[-1]))
        step = self.analyser.update(block)
        self._on_step(step, block.arrival_s)
        cues, summary = self.schedule.update(self.t_s, in_rep=step.in_rep)
        self._play(cues, block.arrival_s)
        if summary is not None:
            self._on_set_end(summary)
        # Recording (which may fsync) and the view come after the feedback,
        # so they never delay a sound.
        if self.out.record is not None:
            self.out.record(block)
        if self.t_s >= self._next_health_s:
            self._next_health_s = self.t_s + HEALTH_EVERY_S
            self._emit_health()
        elif self.t_s >= self._next_view_health_s:
            self._next_view_health_s = self.t_s + 1.0
            self.health.refresh(self.state.health)
        if self.out.display is not None:
            self.out.display.refresh(self.state)

    def finish(self) -> None:
        """End of session: flush the analysis, close the set, write the WAV."""
        now = time.perf_counter()
        try:
            self._on_step(self.analyser.finish(), now)
            cues, summary = self.schedule.finish(self.t_s)
            self._play(cues, now)
            if summary is not None:
                self._on_set_end(summary)
        finally:
            self._emit_health()
            c = self.counts
            self.out.events.emit(
                "session_end",
                t=self.t_s,
                reps=c["reps"],
                judged_reps=c["judged"],
                bad_reps=c["bad"],
                sounds=c["sounds"],
            )
            if self.out.wav is not None:
                self.out.wav.extend_to(self.t_s + 1.0)
                self.out.wav.write()
            if self.out.player is not None:
                self.out.player.close()
            if self.out.display is not None:
                self.out.display.stop(self.state)

    # ---- steps ----------------------------------------------------------------------------

    def _on_step(self, step: AnalysisStep, arrival_s: float) -> None:
        for msg in step.warnings:
            self.warn(msg)
        again = self.state.calibrated
        self.state.waiting = step.waiting
        if step.calibration is not None and not again:
            self._on_calibrated(step.calibration, again)
        if len(step.t_s):
            self.state.angles_deg = {
                k: float(v[-1]) for k, v in step.angles_deg.items() if len(v) and np.isfinite(v[-1])
            }
            self.state.t_s = self.t_s
        if len(step.t_s) or step.events:
            for f in self.monitor.update(step):
                self._on_finding(f, arrival_s)
        for rep in step.reps:
            self._on_rep(rep, arrival_s)
        if step.calibration is not None and again:
            # Taken again after the step's reps (judged on the earlier one).
            self._on_calibrated(step.calibration, again)

    def _on_calibrated(self, calibration: Calibration, again: bool) -> None:
        self.state.calibrated = True
        cal = calibration.sensors
        self.out.events.emit(
            "calibrated",
            t=self.t_s,
            sensors=sorted(cal),
            ok={s: c.ok for s, c in cal.items()},
            stance_s={s: c.stance_s for s, c in cal.items()},
            messages=[m for c in cal.values() for m in c.messages],
            method=calibration.kind,
            **({"recalibrated": True, "reps_before": self.counts["reps"]} if again else {}),
        )
        if self.out.display is not None:
            word = "calibrated again" if again else "calibrated"
            self.out.display.line(f"{word} at {self.t_s:.2f} s ({calibration.kind})")

    def _on_finding(self, f: InRepFinding, arrival_s: float) -> None:
        doubt = (
            self.gate.check_span(f.movement_start_s - 1.0, f.t_s)
            or ", ".join(f"{s} stale" for s in self.gate.stale_sensors())
            # A rep touching clipped readings is not judged (as offline): no warning either.
            or saturation_reason(self.analyser.saturated_during(f.movement_start_s, f.t_s))
        )
        cues = (
            []
            if doubt
            else self.schedule.on_in_rep_warning(f.candidate, f.rule_id, f.makes_rep_bad, self.t_s)
        )
        issued = self._play(cues, arrival_s)
        self._findings.append(f)
        self.out.events.emit(
            "in_rep_warning",
            t=self.t_s,
            t_sample=f.t_s,
            rule=f.rule_id,
            value=f.value_deg,
            threshold=f.threshold_deg,
            sounded=bool(issued),
            suppressed=doubt,
            latency_ms=(issued[0].wall_s - arrival_s) * 1e3
            if issued
            else (time.perf_counter() - arrival_s) * 1e3,
        )

    def _on_rep(self, rep: RepResult, arrival_s: float) -> None:
        m = rep.metrics
        doubt = rep.not_judged_reason or self.gate.check_span(m.t_start, m.t_end)
        if doubt and rep.judged:
            rep = replace(rep, not_judged_reason=doubt, judgement=judge_rep(m, self.rules, doubt))
        elif not rep.judged and rep.judgement.score == rep.judgement.score:
            rep = replace(rep, judgement=judge_rep(m, self.rules, rep.not_judged_reason))
        self.counts["reps"] += 1
        rep = replace(rep, rep=self.counts["reps"])
        self.reps.append(rep)
        mine = [f for f in self._findings if m.t_start - 0.5 <= f.t_s <= m.t_end + 0.05]
        self._findings = [f for f in self._findings if f.t_s > m.t_end + 0.05]
        cands = tuple(sorted({f.candidate for f in mine}))
        bad = rep.judged and rep.judgement.bad
        self.counts["judged"] += int(rep.judged)
        self.counts["bad"] += int(bad)
        cues = self.schedule.on_rep(rep.rep, m.t_end, rep.judged, bad, self.t_s, cands)
        issued = self._play(cues, arrival_s)
        latency_ms = (
            issued[0].wall_s - arrival_s if issued else time.perf_counter() - arrival_s
        ) * 1e3
        self.out.events.emit(
            "rep",
            rep=rep.rep,
            t_start=m.t_start,
            t_bottom=m.t_bottom,
            t_end=m.t_end,
            score=rep.judgement.score if rep.judged else None,
            mistakes=list(rep.judgement.mistakes),
            latency_ms=latency_ms,
            judged=rep.judged,
            not_judged_reason=rep.not_judged_reason,
            bad=bad,
            in_rep_warnings=sorted({f.rule_id for f in mine}),
            feedback=[i.cue.sound for i in issued],
            t_decided=self.t_s,
        )
        st = self.state
        st.reps, st.last_rep = self.counts["reps"], rep.rep
        st.bad_reps += int(bad)
        st.last_score = rep.judgement.score if rep.judged else None
        st.last_mistakes = tuple(rep.judgement.mistakes)
        st.last_not_judged = rep.not_judged_reason
        if self.out.display is not None:
            self.out.display.line(rep_line(st))

    def _on_set_end(self, s: SetSummary) -> None:
        self.sets.append(s)
        self.out.events.emit(
            "set_end",
            t=self.t_s,
            set=s.set_number,
            t_start=s.t_start_s,
            t_end=s.t_end_s,
            reps=s.reps,
            judged_reps=s.judged_reps,
            bad_reps=s.bad_reps,
        )
        if self.out.display is not None:
            self.out.display.line(
                f"set {s.set_number} done: {s.reps} reps, {s.bad_reps} bad"
                + (f", {s.reps - s.judged_reps} not judged" if s.judged_reps < s.reps else "")
            )

    # ---- outputs --------------------------------------------------------------------------

    def _play(self, cues: list[Cue], arrival_s: float) -> list[IssuedCue]:
        out = []
        for cue in cues:
            if self.out.player is not None:
                wall = self.out.player.play(cue.sound, cue.count)
            else:
                wall = time.perf_counter()
            if self.out.wav is not None:
                self.out.wav.add(self.t_s, cue.sound, cue.count)
            issued = IssuedCue(cue, wall, (wall - arrival_s) * 1e3)
            self.issued.append(issued)
            self.counts["sounds"] += 1
            out.append(issued)
            self.out.events.emit(
                "feedback",
                t=self.t_s,
                sound=cue.sound,
                reason=cue.reason,
                rep=cue.rep,
                count=cue.count,
                latency_ms=issued.latency_ms,
            )
            self.state.last_feedback = f"{cue.sound.replace('_', ' ')}: {cue.reason}"
            self.state.last_feedback_wall_s = wall
            if self.out.display is not None:
                self.out.display.line(f"♪ {self.state.last_feedback} at {self.t_s:.2f} s")
        return out

    def warn(self, message: str) -> None:
        self.out.events.emit("warning", t=self.t_s, message=message)
        self.state.messages.append(message)
        if self.out.display is not None:
            self.out.display.line(f"warning: {message}")

    def _on_link(self, link: LinkEvent) -> None:
        self.health.link(link, self.state.health)
        if link.kind == "warning":
            self.warn(f"{link.sensor}: {link.message}")
            return
        if link.kind in ("connected", "reconnected"):
            self.gate.add_sensor(link.sensor)
        self.out.events.link(link)
        if self.out.display is not None and link.kind not in ("connected", "battery"):
            self.out.display.line(f"{link.sensor}: {link.kind} {link.message}".rstrip())

    def _emit_health(self) -> None:
        sensors = self.health.refresh(self.state.health)
        self.out.events.emit("health", t=self.t_s, sensors=sensors)
