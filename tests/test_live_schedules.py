"""Feedback schedules: every, fading, summary, none — and no double buzz."""

from __future__ import annotations

import pytest

from hinge_imu.live.schedules import FeedbackSchedule, fading_share


def run_set(schedule: FeedbackSchedule, bad: list[bool], t0: float = 0.0, judged=None):
    """Feed one set of reps (4 s apart), then a long pause; returns (cues, summary)."""
    cues = []
    for i, b in enumerate(bad):
        t_end = t0 + 4.0 * (i + 1)
        j = True if judged is None else judged[i]
        cues += schedule.on_rep(i + 1, t_end, judged=j, bad=b, t_s=t_end + 0.2)
        more, summary = schedule.update(t_end + 1.0, in_rep=False)
        assert summary is None and not more
    more, summary = schedule.update(t0 + 4.0 * len(bad) + 20.0, in_rep=False)
    return cues + more, summary


def test_every_buzzes_each_bad_rep_and_chimes_a_good_set() -> None:
    s = FeedbackSchedule("every", set_pause_s=8.0)
    cues, summary = run_set(s, [False, True, False, True, True])
    assert [c.rep for c in cues if c.sound == "bad_rep"] == [2, 4, 5]
    assert summary is not None and summary.bad_reps == 3 and summary.reps == 5
    assert not [c for c in cues if c.sound == "good_set"]
    cues, summary = run_set(s, [False, False, False], t0=100.0)
    assert [c.sound for c in cues] == ["good_set"]
    assert summary is not None and summary.set_number == 2


def test_fading_gives_feedback_on_fewer_bad_reps_as_the_set_goes_on() -> None:
    s = FeedbackSchedule("fading")
    cues, summary = run_set(s, [True] * 16)
    buzzed = [c.rep for c in cues if c.sound == "bad_rep"]
    # reps 1-4: all, 5-8: every second, 9-16: every fourth
    assert buzzed == [1, 2, 3, 4, 6, 8, 12, 16]
    assert summary is not None and summary.bad_reps == 16
    assert [fading_share(r) for r in (1, 4, 5, 8, 9, 30)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    # deterministic, and a new set starts over at 100 %
    cues2, _ = run_set(s, [True] * 16, t0=200.0)
    assert [c.rep for c in cues2 if c.sound == "bad_rep"] == buzzed


def test_summary_is_silent_during_the_set_and_counts_at_the_end() -> None:
    s = FeedbackSchedule("summary", set_pause_s=8.0)
    cues, _summary = run_set(s, [True, False, True])
    assert [(c.sound, c.count) for c in cues] == [("set_bad_count", 2)]
    assert cues[0].t_s == pytest.approx(12.0 + 20.0)
    cues, _ = run_set(s, [False, False], t0=100.0)
    assert [c.sound for c in cues] == ["good_set"]


def test_set_does_not_end_during_a_rep_or_a_short_pause() -> None:
    s = FeedbackSchedule("summary", set_pause_s=8.0)
    s.on_rep(1, 4.0, judged=True, bad=True, t_s=4.1)
    assert s.update(11.9, in_rep=False) == ([], None)
    assert s.update(30.0, in_rep=True) == ([], None)
    cues, summary = s.update(30.0, in_rep=False)
    assert summary is not None and cues[0].count == 1


def test_none_is_silent_but_still_summarises() -> None:
    s = FeedbackSchedule("none")
    cues, summary = run_set(s, [True, True, False])
    assert cues == []
    assert summary is not None and summary.bad_reps == 2
    assert s.on_in_rep_warning(1, "back_rounded", True, 1.0) == []


def test_unjudged_reps_are_never_buzzed_nor_counted() -> None:
    s = FeedbackSchedule("every")
    cues, summary = run_set(s, [True, True], judged=[False, True])
    assert [c.rep for c in cues if c.sound == "bad_rep"] == [2]
    assert summary is not None and summary.bad_reps == 1 and summary.judged_reps == 1
    # a set of unjudged reps earns no good-set chime either
    cues, _ = run_set(s, [False], t0=100.0, judged=[False])
    assert cues == []


def test_no_double_buzz_in_rep_warning_then_lockout() -> None:
    s = FeedbackSchedule("every")
    first = s.on_in_rep_warning(7, "back_rounded", True, 2.0)
    again = s.on_in_rep_warning(7, "back_rounded", True, 2.1)
    other = s.on_in_rep_warning(7, "squatting", True, 2.5)
    light = s.on_in_rep_warning(7, "knees_caving", False, 2.6)
    assert [c.sound for c in first] == ["in_rep_warning"]
    assert again == [] and light == []
    assert [c.reason for c in other] == ["squatting"]  # another rule may warn once
    at_lockout = s.on_rep(1, 4.0, judged=True, bad=True, t_s=4.2, candidates=(7,))
    assert at_lockout == []  # already warned: no bad-rep buzz on top
    _, summary = s.finish(10.0)
    assert summary is not None and summary.bad_reps == 1


def test_in_rep_count_taken_back_when_rep_turns_out_not_bad() -> None:
    s = FeedbackSchedule("summary")
    assert s.on_in_rep_warning(1, "squatting", True, 2.0) == []
    s.on_rep(1, 4.0, judged=True, bad=False, t_s=4.2, candidates=(1,))
    cues, summary = s.finish(20.0)
    assert summary is not None and summary.bad_reps == 0
    assert [c.sound for c in cues] == ["good_set"]


def test_unknown_schedule_rejected() -> None:
    with pytest.raises(ValueError):
        FeedbackSchedule("sometimes")


def test_session_ending_inside_a_warned_rep_does_not_count_it() -> None:
    s = FeedbackSchedule("summary")
    s.on_rep(1, 4.0, judged=True, bad=False, t_s=4.2)
    s.on_in_rep_warning(9, "back_rounded", True, 6.0)  # rep 2 starts badly, session ends
    cues, summary = s.finish(6.5)
    assert summary is not None and summary.reps == 1 and summary.bad_reps == 0
    assert [c.sound for c in cues] == ["good_set"]
