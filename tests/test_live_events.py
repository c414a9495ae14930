"""The one JSON Lines event stream and its vocabulary (docs/live.md, Event stream)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.events import EVENT_KINDS, EventWriter, event_line, events_path_for, read_events
from hinge_imu.samples import LINK_KINDS, LinkEvent, count_lost


def test_rep_event_matches_the_contract_example() -> None:
    line = event_line(
        "rep", rep=3, t_end=41.82, score=70.0, mistakes=["back_rounded"], latency_ms=38.5
    )
    obj = json.loads(line)
    assert next(iter(obj)) == "event"
    assert obj == {
        "event": "rep",
        "rep": 3,
        "t_end": 41.82,
        "score": 70.0,
        "mistakes": ["back_rounded"],
        "latency_ms": 38.5,
    }


def test_nan_and_numpy_values_become_valid_json() -> None:
    obj = json.loads(event_line("rep", score=math.nan, t_end=np.float64(1.23456789), n=np.int64(4)))
    assert obj["score"] is None and obj["t_end"] == 1.2346 and obj["n"] == 4


def test_writer_flushes_each_line_to_file_and_keeps_history(tmp_path) -> None:
    path = tmp_path / "ev.jsonl"
    w = EventWriter(path, keep_history=True)
    w.emit("connected", sensor="pelvis", t=0.0)
    # a follower reads the file while the session is still running
    assert read_events(path) == [{"event": "connected", "sensor": "pelvis", "t": 0.0}]
    w.emit("warning", message="thigh battery 10 %", t=3.0)
    w.close()
    assert [e["event"] for e in read_events(path)] == ["connected", "warning"]
    assert len(w.history) == 2


def test_writer_to_stream_and_unknown_kind() -> None:
    buf = io.StringIO()
    w = EventWriter(buf)
    w.emit("calibrated", t=2.0, sensors=["pelvis"])
    assert buf.getvalue().endswith("\n") and '"calibrated"' in buf.getvalue()
    with pytest.raises(ValueError):
        w.emit("explosion")


def test_every_link_event_is_written_in_the_one_vocabulary() -> None:
    buf = io.StringIO()
    w = EventWriter(buf)
    w.link(LinkEvent("thigh", "connected", 0.4))
    w.link(LinkEvent("thigh", "battery", 0.4, battery_pct=80.0))
    w.link(LinkEvent("thigh", "disconnected", 41.2, message="link lost"))
    w.link(LinkEvent("thigh", "reconnected", 43.9, message="link was down 2.7 s"))
    w.link(LinkEvent("thigh", "bad_packet", 44.0, message="wrong length", count=3))
    w.link(LinkEvent("thigh", "warning", 45.0, message="weak signal"))
    got = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert got == [
        {"event": "connected", "t": 0.4, "sensor": "thigh"},
        {"event": "battery", "t": 0.4, "sensor": "thigh", "battery_pct": 80.0},
        {"event": "disconnected", "t": 41.2, "sensor": "thigh", "message": "link lost"},
        {
            "event": "connected",
            "t": 43.9,
            "sensor": "thigh",
            "reconnected": True,
            "message": "link was down 2.7 s",
        },
        {
            "event": "bad_packet",
            "t": 44.0,
            "sensor": "thigh",
            "count": 3,
            "message": "wrong length",
        },
        {"event": "warning", "t": 45.0, "sensor": "thigh", "message": "weak signal"},
    ]
    assert {LinkEvent("s", k, 0.0).kind for k in LINK_KINDS} == set(LINK_KINDS)


def test_docs_list_every_event_kind_with_its_fields() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "live.md").read_text("utf-8")
    section = doc.split("\n## Event stream\n", 1)[1].split("\n## ", 1)[0]
    for kind in EVENT_KINDS:
        assert f"| `{kind}`" in section or f"/ `{kind}`" in section, kind
    for key in ("latency_ms", "--events", "stdout", "bad_packets", "reconnected"):
        assert key in section, key


def test_events_file_sits_next_to_the_recording() -> None:
    assert events_path_for("/d/s1.csv.gz") == Path("/d/s1.events.jsonl")
    assert events_path_for("s1.csv") == Path("s1.events.jsonl")


def test_one_lost_sample_count_by_counter_or_by_time() -> None:
    by_seq = count_lost(np.array([0, 1, 2, 5, 6, 0, 1]), np.zeros(7), 100.0)
    assert (by_seq.n_gaps, by_seq.n_lost, by_seq.source) == (1, 2, "seq")  # wrap: no loss
    # block by block: the jump from the previous block counts too
    assert count_lost(np.array([10, 11]), np.zeros(2), None, previous_seq=7).n_lost == 2
    t = np.array([0.0, 0.01, 0.02, 0.05, 0.06])
    by_t = count_lost(None, t, 100.0)
    assert (by_t.n_gaps, by_t.n_lost, by_t.source) == (1, 2, "t")
    assert count_lost(None, t, None).source == "none"
