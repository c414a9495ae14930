"""Replay source (order, block sizes, pacing) and the terminal view."""

from __future__ import annotations

import io
import itertools
import time

import numpy as np

from hinge_imu.live.display import LiveDisplay, LiveState
from hinge_imu.live.sources import ReplaySource
from hinge_imu.samples import LinkEvent, Recording, SampleBlock, SensorHealth, SensorStream


def small_recording(duration_s: float = 2.0) -> Recording:
    def stream(rate: float, phase: float) -> SensorStream:
        t = np.arange(phase, duration_s, 1.0 / rate)
        acc = np.tile([0.0, 0.0, 9.81], (len(t), 1))
        return SensorStream(t, acc, np.zeros((len(t), 3)), seq=np.arange(len(t)), rate_hz=rate)

    return Recording({"pelvis": stream(100.0, 0.0), "thigh": stream(200.0, 0.002)}, {"note": "x"})


def test_replay_delivers_every_sample_once_in_arrival_order() -> None:
    rec = small_recording()
    items = list(ReplaySource(rec, speed=0, block_s=0.03))
    links = [i for i in items if isinstance(i, LinkEvent)]
    blocks = [i for i in items if isinstance(i, SampleBlock)]
    assert [(lk.sensor, lk.kind) for lk in links[:2]] == [
        ("thigh", "connected"),
        ("pelvis", "connected"),
    ]
    assert links[-1].kind == "disconnected"
    for name, s in rec.sensors.items():
        got = np.concatenate([b.t_s for b in blocks if b.sensor == name])
        np.testing.assert_array_equal(got, s.t_s)
    last = [float(b.t_s[-1]) for b in blocks]
    assert last == sorted(last)  # a block arrives when its last sample exists
    assert max(float(b.t_s[-1] - b.t_s[0]) for b in blocks) <= 0.03 + 1e-9


def test_replay_random_block_sizes() -> None:
    rec = small_recording()
    sizes = itertools.cycle([1, 7, 3, 50])
    blocks = [
        b for b in ReplaySource(rec, speed=0, block_sizes=sizes) if isinstance(b, SampleBlock)
    ]
    assert {len(b) for b in blocks} >= {1, 7, 3}
    assert sum(len(b) for b in blocks) == sum(len(s) for s in rec.sensors.values())


def test_replay_paces_to_the_recording_clock() -> None:
    rec = small_recording(duration_s=0.6)
    t0 = time.perf_counter()
    blocks = [b for b in ReplaySource(rec, speed=2.0) if isinstance(b, SampleBlock)]
    took = time.perf_counter() - t0
    assert 0.25 < took < 0.6  # 0.6 s at twice real time
    b = blocks[len(blocks) // 2]
    assert b.arrival_s - t0 >= float(b.t_s[-1]) / 2.0 - 0.01


def test_plain_view_prints_rep_lines() -> None:
    buf = io.StringIO()
    d = LiveDisplay(buf)  # StringIO is not a TTY: plain lines
    assert not d.rich_view
    st = LiveState(
        source="replay", t_s=12.3, last_rep=4, last_score=70.0, last_mistakes=("back_rounded",)
    )
    d.start(st)
    from hinge_imu.live.display import rep_line

    d.line(rep_line(st))
    d.refresh(st)
    d.stop(st)
    assert buf.getvalue() == "rep 4 at 12.30 s: score 70, mistakes: back_rounded\n"


def test_rich_view_shows_angles_health_and_last_rep() -> None:
    from rich.console import Console

    st = LiveState(source="replay", reps=3, bad_reps=1, last_rep=3, last_not_judged="pelvis stale")
    st.angles_deg = {"hip_flexion": 42.4, "lumbar_flexion": -3.2}
    st.health["thigh"] = SensorHealth(
        "thigh", rate_hz=199.6, received=988, lost=12, battery_pct=81, bad_packets=7
    )
    buf = io.StringIO()
    Console(file=buf, width=120).print(LiveDisplay(buf, rich_view=True).render(st))
    text = buf.getvalue()
    for expected in ("+42", "-3", "200", "1.2 %", "81 %", "not judged (pelvis stale)", "reps 3"):
        assert expected in text, expected
    assert "bad packets" in text and " 7 " in text
