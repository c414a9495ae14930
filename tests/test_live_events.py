"""The JSON Lines event stream of docs/live.md (event stream)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from hinge_imu.live.events import EventWriter, event_line, read_events


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
