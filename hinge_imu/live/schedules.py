"""Feedback schedules: which bad reps earn a sound (docs/live.md, "Schedules").

Motor learning works best when feedback does not become a crutch, so a
physiotherapist picks how often the user hears it:

* ``every`` (default): every bad rep.
* ``fading``: fewer bad reps as the set goes on — all bad reps among the set's
  reps 1–4, half of them among reps 5–8, a quarter from rep 9 on
  (deterministic: a credit adds the share per bad rep and a sound plays
  whenever the credit reaches 1).
* ``summary``: silent during the set; when the set ends (no rep for
  ``set_pause_s``), the good-set chime or one pulse per bad rep.
* ``none``: a retention set — no sound at all; events are still written.

In ``every`` and ``fading`` a set without a bad rep also ends with the
good-set chime. A rep that could not be judged never earns a sound and does
not count as bad.

No double buzz: each in-rep rule warns at most once per rep, and a rep that
already had an in-rep warning sound gets no bad-rep buzz at lockout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

SCHEDULES: Final = ("every", "fading", "summary", "none")
#: (first rep number in the set, share of bad reps that get feedback) for ``fading``.
FADING_STEPS: Final = ((1, 1.0), (5, 0.5), (9, 0.25))
DEFAULT_SET_PAUSE_S: Final = 8.0


@dataclass(frozen=True)
class Cue:
    """A sound to play now: ``sound`` (a feedback.SOUND_KINDS name) at session time ``t_s``."""

    sound: str
    t_s: float
    reason: str
    rep: int | None = None
    count: int = 0


@dataclass(frozen=True)
class SetSummary:
    """One finished set: its reps, how many were judged and how many were bad."""

    set_number: int
    t_start_s: float
    t_end_s: float
    reps: int
    judged_reps: int
    bad_reps: int


def fading_share(rep_in_set: int) -> float:
    """Share of bad reps that get feedback at this rep number within the set."""
    share = 1.0
    for first, s in FADING_STEPS:
        if rep_in_set >= first:
            share = s
    return share


@dataclass
class _SetState:
    number: int
    t_start_s: float
    reps: int = 0
    judged: int = 0
    bad: int = 0
    credit: float = 0.0
    last_rep_end_s: float = 0.0


@dataclass
class _Candidate:
    """What the schedule decided about one movement the in-rep monitor is watching."""

    counted: bool = False
    selected: bool = False
    sounded_rules: set[str] = field(default_factory=set)


class FeedbackSchedule:
    """Decides which sounds to play, one call per event.

    Args:
        schedule: one of :data:`SCHEDULES`.
        set_pause_s: a set ends after this long without a rep, s.
    """

    def __init__(self, schedule: str = "every", set_pause_s: float = DEFAULT_SET_PAUSE_S) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}")
        self.schedule = schedule
        self.set_pause_s = float(set_pause_s)
        self.reset()

    def reset(self) -> None:
        self._set: _SetState | None = None
        self._sets_done = 0
        self._candidates: dict[int, _Candidate] = {}

    @property
    def per_rep(self) -> bool:
        return self.schedule in ("every", "fading")

    def _open_set(self, t_s: float) -> _SetState:
        if self._set is None:
            self._set = _SetState(number=self._sets_done + 1, t_start_s=t_s, last_rep_end_s=t_s)
        return self._set

    def _select(self, st: _SetState, rep_in_set: int) -> bool:
        """Count one more bad rep in the set; True if it earns feedback."""
        st.bad += 1
        if self.schedule == "every":
            return True
        if self.schedule != "fading":
            return False
        st.credit += fading_share(rep_in_set)
        if st.credit >= 1.0 - 1e-9:
            st.credit -= 1.0
            return True
        return False

    def on_in_rep_warning(
        self, candidate: int, rule_id: str, makes_rep_bad: bool, t_s: float
    ) -> list[Cue]:
        """An in-rep rule fired in the movement ``candidate`` (the monitor's counter).

        Only rules heavy enough to make the rep bad sound (docs/rules.md: a bad rep
        "earns the live buzz"); the others are events only.
        """
        cand = self._candidates.setdefault(candidate, _Candidate())
        if not makes_rep_bad or rule_id in cand.sounded_rules:
            return []
        st = self._open_set(t_s)
        if not cand.counted:
            cand.counted = True
            cand.selected = self._select(st, st.reps + 1)
        if not cand.selected:
            return []
        cand.sounded_rules.add(rule_id)
        return [Cue("in_rep_warning", t_s, reason=rule_id)]

    def on_rep(
        self,
        rep: int,
        t_end_s: float,
        judged: bool,
        bad: bool,
        t_s: float,
        candidates: tuple[int, ...] = (),
    ) -> list[Cue]:
        """A rep was completed (``t_end_s`` its lockout) and judged at session time ``t_s``.

        ``candidates`` are the in-rep monitor's movements inside this rep, so
        that a bad rep is counted once and warned once.
        """
        st = self._open_set(t_end_s)
        st.reps += 1
        st.last_rep_end_s = max(st.last_rep_end_s, t_end_s)
        cands = [self._candidates.pop(c) for c in candidates if c in self._candidates]
        counted = any(c.counted for c in cands)
        sounded = any(c.sounded_rules for c in cands)
        if counted and not (judged and bad):
            # The in-rep warning counted it, but the full rep is not bad (or was
            # not judged after all): take the count back.
            st.bad -= 1
        if not judged:
            return []
        st.judged += 1
        if not bad:
            return []
        selected = any(c.selected for c in cands) if counted else self._select(st, st.reps)
        if selected and not sounded and self.per_rep:
            return [Cue("bad_rep", t_s, reason="bad rep", rep=rep)]
        return []

    def update(self, t_s: float, in_rep: bool) -> tuple[list[Cue], SetSummary | None]:
        """Time has reached ``t_s``; ends the set after a pause without reps."""
        st = self._set
        if st is None or in_rep or st.reps == 0:
            return [], None
        if t_s - st.last_rep_end_s < self.set_pause_s:
            return [], None
        return self._end_set(t_s)

    def finish(self, t_s: float) -> tuple[list[Cue], SetSummary | None]:
        """The session ends: end the open set, if it has reps."""
        if self._set is None or self._set.reps == 0:
            self._set = None
            return [], None
        return self._end_set(t_s)

    def _end_set(self, t_s: float) -> tuple[list[Cue], SetSummary | None]:
        st = self._set
        assert st is not None
        self._set = None
        self._sets_done += 1
        # A movement warned in-rep but never completed as a rep (the session
        # ended in it) is not a bad rep of the set.
        open_bad = sum(1 for c in self._candidates.values() if c.counted)
        self._candidates.clear()
        st.bad -= open_bad
        summary = SetSummary(st.number, st.t_start_s, st.last_rep_end_s, st.reps, st.judged, st.bad)
        cues: list[Cue] = []
        if self.schedule != "none" and st.judged > 0:
            if st.bad == 0:
                cues.append(Cue("good_set", t_s, reason=f"set {st.number}: no bad rep"))
            elif self.schedule == "summary":
                cues.append(
                    Cue(
                        "set_bad_count",
                        t_s,
                        reason=f"set {st.number}: {st.bad} bad rep(s)",
                        count=st.bad,
                    )
                )
        return cues, summary
