"""Live session end to end on SIMULATED recordings with known truth.

Parity with the offline analysis, sounds heard in the rendered WAV at the
right time and frequency, schedules, and the data-quality gate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hinge_imu import analyse
from hinge_imu.core.live import LiveAnalyser
from hinge_imu.core.rules import load_rules
from hinge_imu.events import EventWriter
from hinge_imu.live.feedback import WavRenderer, read_wav
from hinge_imu.live.schedules import FeedbackSchedule
from hinge_imu.live.session import LiveSession, SessionOutputs
from hinge_imu.live.sources import ReplaySource
from hinge_imu.samples import Recording, SensorStream
from hinge_imu.sim.config import SimConfig
from hinge_imu.sim.generate import simulate
from tests.live_helpers import tone_onsets_s

MISTAKES = [
    {},
    {"back_rounded": None},
    {"squatting": None},
    {},
    {"back_arched": None},
    {"knees_caving": None},
    {"no_lockout": None},
    {},
]


@pytest.fixture(scope="module")
def sim():
    """A SIMULATED set: arbitrary sensor mounting, typical sensor imperfections."""
    return simulate(
        SimConfig.preset(
            "typical", reps=len(MISTAKES), seed=7, mistakes=MISTAKES, mounting="arbitrary"
        )
    )


def run_session(rec: Recording, tmp_path, schedule="every", block_sizes=None, name="s"):
    rules = load_rules()
    events = EventWriter(None, keep_history=True)
    wav = WavRenderer(tmp_path / f"{name}.wav", sample_rate_hz=16000)
    session = LiveSession(
        LiveAnalyser(rec.ordered_sensor_names(), rules, side=rec.side),
        rules,
        FeedbackSchedule(schedule, set_pause_s=5.0),
        outputs=SessionOutputs(events=events, wav=wav),
    )
    session.run(ReplaySource(rec, speed=0, block_sizes=block_sizes))
    x, fs = read_wav(wav.path)
    return session, events.history, x, fs


def near_threshold(off_rep, live_rep, margin_deg=2.0) -> set[str]:
    """Rules within ``margin_deg`` of their threshold in either analysis."""
    out = set()
    for rep in (off_rep, live_rep):
        for v in rep.judgement.verdicts:
            if v.excess_deg is not None and abs(v.excess_deg) < margin_deg:
                out.add(v.rule_id)
    return out


def test_replay_in_random_chunks_gives_the_offline_reps_and_verdicts(sim, tmp_path) -> None:
    offline = analyse(sim.recording)
    assert len(offline.reps) == len(MISTAKES)
    rng = np.random.default_rng(3)
    sizes = iter(rng.integers(1, 40, size=100_000).tolist())
    session, _, _, _ = run_session(sim.recording, tmp_path, block_sizes=sizes)
    assert len(session.reps) == len(offline.reps)
    for off, live in zip(offline.reps, session.reps, strict=True):
        assert live.metrics.t_start == pytest.approx(off.metrics.t_start, abs=0.02)
        assert live.metrics.t_end == pytest.approx(off.metrics.t_end, abs=0.02)
        assert live.judged == off.judged
        skip = near_threshold(off, live)
        for v_off, v_live in zip(off.judgement.verdicts, live.judgement.verdicts, strict=True):
            if v_off.rule_id not in skip:
                assert v_live.fired == v_off.fired, (off.rep, v_off.rule_id)


def test_wav_has_each_sound_at_the_right_time(sim, tmp_path) -> None:
    _session, events, x, fs = run_session(sim.recording, tmp_path)
    truth = sim.truth["reps"]
    warn = tone_onsets_s(x, fs, 1320.0)
    buzz = tone_onsets_s(x, fs, 220.0)
    # in-rep warnings: back_rounded (rep 2) and squatting (rep 3), soon after the truth
    t_round = truth[1]["t_violation_s"]["back_rounded"]
    t_squat = truth[2]["t_violation_s"]["squatting"]
    assert len(warn) == 2
    assert t_round - 0.05 <= warn[0] <= t_round + 0.15
    assert truth[2]["t_start"] < warn[1] <= t_squat + 0.15
    # back_arched (rep 5) is judged at lockout: one buzz, shortly after the rep's end
    assert len(buzz) == 1
    assert truth[4]["t_end"] <= buzz[0] <= truth[4]["t_end"] + 1.0
    # no double buzz: the warned reps got no lockout buzz; light mistakes are silent
    assert tone_onsets_s(x, fs, 523.25) == []  # a set with bad reps: no good-set chime
    reps = [e for e in events if e["event"] == "rep"]
    assert [r["feedback"] for r in reps] == [[], [], [], [], ["bad_rep"], [], [], []]
    assert [r["in_rep_warnings"] for r in reps][1:3] == [["back_rounded"], ["squatting"]]
    for r in reps:
        assert r["latency_ms"] >= 0 and r["t_decided"] >= r["t_end"]


def test_summary_none_and_good_set(sim, tmp_path) -> None:
    _, events, x, fs = run_session(sim.recording, tmp_path, schedule="summary", name="sum")
    assert tone_onsets_s(x, fs, 1320.0) == [] and tone_onsets_s(x, fs, 220.0) == []
    power_pulses = tone_onsets_s(x, fs, 440.0, min_gap_s=0.05)
    set_end = next(e for e in events if e["event"] == "set_end")
    assert set_end["bad_reps"] == 3  # back_rounded, squatting, back_arched
    assert len(power_pulses) == 3
    assert power_pulses[0] >= set_end["t_end"] + 5.0 - 0.05

    _, events, x, _ = run_session(sim.recording, tmp_path, schedule="none", name="none")
    assert np.abs(x).max() == 0.0
    assert len([e for e in events if e["event"] == "rep"]) == len(MISTAKES)

    good = simulate(SimConfig.preset("clean", reps=3, seed=2))
    _, events, x, fs = run_session(good.recording, tmp_path, name="good")
    assert [e["sound"] for e in events if e["event"] == "feedback"] == ["good_set"]
    assert len(tone_onsets_s(x, fs, 523.25)) == 1


def cut(rec: Recording, sensor: str, t0: float, t1: float) -> Recording:
    """The recording with ``sensor``'s samples in [t0, t1) removed (lost packets)."""
    s = rec.sensors[sensor]
    keep = (s.t_s < t0) | (s.t_s >= t1)
    cut_s = SensorStream(
        s.t_s[keep],
        s.acc_mps2[keep],
        s.gyr_dps[keep],
        None,
        None if s.seq is None else s.seq[keep],
        s.rate_hz,
    )
    return replace(rec, sensors={**rec.sensors, sensor: cut_s})


def test_gap_inside_a_bad_rep_means_not_judged_and_silent(sim, tmp_path) -> None:
    rep2 = sim.truth["reps"][1]  # back_rounded
    t0 = rep2["t_start"] + 0.2  # lost data on the way down, before the back rounds
    rec = cut(sim.recording, "upper_back", t0, t0 + 0.3)
    _, events, x, fs = run_session(rec, tmp_path, name="gap")
    reps = [e for e in events if e["event"] == "rep"]
    bad = next(r for r in reps if abs(r["t_start"] - rep2["t_start"]) < 0.3)
    assert bad["judged"] is False and bad["score"] is None and bad["feedback"] == []
    assert "upper_back" in bad["not_judged_reason"]
    warn = tone_onsets_s(x, fs, 1320.0)
    assert all(not (rep2["t_start"] <= t <= rep2["t_end"] + 1.0) for t in warn)
    assert tone_onsets_s(x, fs, 220.0) == [pytest.approx(sim.truth["reps"][4]["t_end"], abs=1.0)]
    # the other reps are still judged, and the squatting rep still warns
    assert sum(r["judged"] for r in reps) == len(MISTAKES) - 1
    assert len(warn) == 1


def test_fading_on_a_whole_set_of_bad_reps(tmp_path) -> None:
    bad_set = simulate(SimConfig.preset("clean", reps=10, seed=4, mistakes={"back_rounded": None}))
    _, events, x, fs = run_session(bad_set.recording, tmp_path, schedule="fading", name="fade")
    reps = [e for e in events if e["event"] == "rep"]
    assert len(reps) == 10 and all(r["bad"] for r in reps)
    warned = [e for e in events if e["event"] == "in_rep_warning" and e["sounded"]]

    def got_sound(r) -> bool:  # a lockout buzz, or an in-rep warning inside the rep
        return bool(r["feedback"]) or any(
            r["t_start"] - 0.5 <= w["t_sample"] <= r["t_end"] for w in warned
        )

    sounded = [r["rep"] for r in reps if got_sound(r)]
    assert sounded == [1, 2, 3, 4, 6, 8]  # 100 % → 50 % → 25 % of the bad reps
    heard = tone_onsets_s(x, fs, 1320.0) + tone_onsets_s(x, fs, 220.0)
    assert len(heard) == 6


def test_a_calibration_taken_again_is_announced(sim, tmp_path) -> None:
    # Live calibrates again between reps (once reps 3 and 6 are back up, and
    # at rests): each is a `calibrated` event saying so and how many reps
    # came before it (judged on the earlier calibration).
    _, history, _, _ = run_session(sim.recording, tmp_path)
    cals = [e for e in history if e["event"] == "calibrated"]
    assert cals[0]["method"] == "stance" and "recalibrated" not in cals[0]
    assert len(cals) >= 2
    for e in cals[1:]:
        assert e["recalibrated"] is True and e["reps_before"] >= 1
        reps_then = [r for r in history[: history.index(e)] if r["event"] == "rep"]
        assert len(reps_then) == e["reps_before"]
    said = [e for e in history if e["event"] == "warning" and "calibrated again" in e["message"]]
    assert len(said) == len(cals) - 1
