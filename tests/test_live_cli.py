"""``hinge-imu live --replay`` end to end, on a SIMULATED recording file, with no sound card."""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.cli import main
from hinge_imu.events import read_events
from hinge_imu.live.feedback import read_wav
from hinge_imu.live.sources import ReplaySource
from hinge_imu.recording import read_recording, write_recording
from hinge_imu.sim.config import SimConfig
from hinge_imu.sim.generate import simulate
from tests.live_helpers import tone_onsets_s


@pytest.fixture(scope="module")
def rec_file(tmp_path_factory):
    sim = simulate(
        SimConfig.preset(
            "typical",
            reps=4,
            seed=11,
            mistakes=[{}, {"back_rounded": None}, {}, {"back_arched": None}],
        )
    )
    path = tmp_path_factory.mktemp("rec") / "sim.csv"
    write_recording(path, sim.recording)
    return path, sim.truth


def test_replay_writes_recording_events_and_wav(rec_file, tmp_path, capsys) -> None:
    path, truth = rec_file
    out = tmp_path / "live.csv"
    rc = main(
        [
            "live",
            "--replay",
            str(path),
            "--speed",
            "0",
            "-o",
            str(out),
            "--audio-file",
            str(tmp_path / "o.wav"),
            "--events",
            str(tmp_path / "e.jsonl"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr()
    assert "rep 2" in text.out and "back_rounded" in text.out
    # the replayed samples are recorded, header kept (still labelled simulated)
    original, again = read_recording(path), read_recording(out)
    assert again.is_simulated and again.header["live_replay_of"] == str(path)
    for name, s in original.sensors.items():
        np.testing.assert_allclose(again.sensors[name].t_s, s.t_s, atol=1e-6)
        np.testing.assert_allclose(again.sensors[name].gyr_dps, s.gyr_dps, rtol=1e-5, atol=1e-3)
    events = read_events(tmp_path / "e.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session" and kinds[-1] == "session_end"
    for k in ("connected", "calibrated", "rep", "feedback", "set_end", "health", "disconnected"):
        assert k in kinds, k
    assert "no audio output" in next(e["message"] for e in events if e["event"] == "warning")
    reps = [e for e in events if e["event"] == "rep"]
    assert [r["mistakes"] for r in reps] == [[], ["back_rounded"], [], ["back_arched"]]
    assert all(r["latency_ms"] < 200 for r in reps)
    x, fs = read_wav(tmp_path / "o.wav")
    warn, buzz = tone_onsets_s(x, fs, 1320.0), tone_onsets_s(x, fs, 220.0)
    assert warn == [pytest.approx(truth["reps"][1]["t_violation_s"]["back_rounded"], abs=0.15)]
    assert len(buzz) == 1 and truth["reps"][3]["t_end"] < buzz[0] < truth["reps"][3]["t_end"] + 1


def test_events_on_stdout_are_pure_json(rec_file, tmp_path, capsys) -> None:
    path, _ = rec_file
    rc = main(
        [
            "live",
            "--replay",
            str(path),
            "--speed",
            "0",
            "--mute",
            "--schedule",
            "none",
            "--events",
            "-",
            "-o",
            str(tmp_path / "r.csv"),
        ]
    )
    assert rc == 0
    import json

    lines = capsys.readouterr().out.splitlines()
    kinds = [json.loads(line)["event"] for line in lines]  # every line is JSON
    assert kinds[0] == "session" and kinds[-1] == "session_end"
    assert "rep" in kinds and "feedback" not in kinds


def test_ctrl_c_still_writes_the_wav_and_the_recording(rec_file, tmp_path, monkeypatch) -> None:
    path, truth = rec_file
    real_iter = ReplaySource.__iter__
    stop_at = truth["reps"][1]["t_end"] + 1.0  # after the in-rep warning of rep 2

    def interrupted(self):  # the user presses Ctrl-C in the middle of the session
        for item in real_iter(self):
            if (
                getattr(item, "t_s", None) is not None
                and np.ndim(item.t_s)
                and item.t_s[0] > stop_at
            ):
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(ReplaySource, "__iter__", interrupted)
    wav, rec = tmp_path / "o.wav", tmp_path / "r.csv"
    rc = main(
        ["live", "--replay", str(path), "--speed", "0", "-o", str(rec), "--audio-file", str(wav)]
    )
    assert rc == 130
    x, fs = read_wav(wav)
    assert len(tone_onsets_s(x, fs, 1320.0)) == 1
    assert read_recording(rec).duration_s == pytest.approx(stop_at, abs=0.1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["live"], "nothing to coach"),
        (["live", "--replay", "nope.csv"], "nope.csv"),
        (["live", "--replay", "x.csv", "--pelvis", "AA"], "either --replay or sensors"),
        (["live", "--thigh", "T1"], "pelvis sensor is required"),
        (["live", "--replay", "x.csv", "-o", "/no/such/dir/r.csv"], "does not exist"),
        (["live", "--replay", "x.csv", "-o", "r.txt"], ".csv"),
        (["live", "--replay", "x.csv", "-o", "x.csv"], "exists already"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("t,sensor\n")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not list(tmp_path.glob("live-*.csv")) and not list(tmp_path.glob("r.*"))
    assert (tmp_path / "x.csv").read_text() == "t,sensor\n"  # never overwritten


def test_piped_stdout_gets_the_events_without_events_option(rec_file, tmp_path) -> None:
    """docs/live.md (event stream): events go "to stdout"; piped, stdout is pure JSON Lines."""
    import json
    import subprocess
    import sys

    path, _ = rec_file
    argv = ["live", "--replay", str(path), "--speed", "0", "--mute", "-o", str(tmp_path / "r.csv")]
    done = subprocess.run(
        [sys.executable, "-m", "hinge_imu", *argv],
        capture_output=True,  # stdout is a pipe, as for `hinge-imu live … | program`
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]  # every line is JSON
    assert events[0]["event"] == "session" and events[-1]["event"] == "session_end"
    reps = [e for e in events if e["event"] == "rep"]
    assert [r["rep"] for r in reps] == [1, 2, 3, 4]
    for r in reps:  # the contract's keys (docs/live.md (event stream))
        assert {"event", "rep", "t_end", "score", "mistakes", "latency_ms"} <= set(r)
    assert reps[1]["mistakes"] == ["back_rounded"]
    for kind in ("connected", "calibrated", "disconnected"):
        assert kind in {e["event"] for e in events}, kind
    # the human-readable lines went to stderr
    assert "rep 2" in done.stderr and "recorded to" in done.stderr


def test_on_a_terminal_events_only_when_asked(tmp_path) -> None:
    import os

    from hinge_imu.live.run import events_target

    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty, open(tmp_path / "log", "w") as log:
        assert events_target(None, tty) is None  # the view is for the person
        assert events_target("-", tty) == "-"
        assert events_target("e.jsonl", tty) == "e.jsonl"
        assert events_target(None, log) == "-"  # not a terminal: events on stdout
    os.close(master)


def test_a_replay_writes_no_copy_unless_asked(rec_file, tmp_path) -> None:
    """Replaying a recording leaves the current folder as it was; ``-o`` asks for a copy."""
    import subprocess
    import sys

    path, _ = rec_file
    base = [sys.executable, "-m", "hinge_imu", "live", "--replay", str(path), "--speed", "0"]
    argv = [*base, "--mute", "--plain", "--duration", "8", "--events", "-"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []  # no live-*.csv, no sessions/
    assert "recorded to" not in done.stderr
    done = subprocess.run(
        [*argv, "-o", "copy.csv"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["copy.csv"]
    assert len(read_recording(tmp_path / "copy.csv").sensors["pelvis"]) > 0
