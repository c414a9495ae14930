"""``hinge-imu record`` end to end against the stand-in (SIMULATED sensors)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hinge_imu.cli import main
from hinge_imu.events import events_path_for, read_events
from hinge_imu.recording import read_recording
from hinge_imu.sensors.assignments import load_assignments
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.helpers import sim_stream
from tests.ble.profile_devices import ProfileDevice, send_malformed

pytestmark = pytest.mark.ble

PELVIS, THIGH, BACK = "D4:CA:6E:00:00:11", "D4:CA:6E:00:00:12", "0C:8C:DC:00:00:13"


def _three(standin: BlueZStandIn) -> dict[str, ProfileDevice]:
    devs = {
        "pelvis": ProfileDevice(PELVIS, "HingeIMU-P", "custom", sim_stream("pelvis")),
        "thigh": ProfileDevice(THIGH, "HingeIMU-T", "custom", sim_stream("thigh")),
        "upper_back": ProfileDevice(
            BACK, "Movesense 2134A1", "movesense", sim_stream("upper_back")
        ),
    }
    for dev in devs.values():
        standin.add_device(dev)
    return devs


def test_record_saves_and_reuses_an_assignment(
    standin: BlueZStandIn, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.setenv("HINGE_IMU_CONFIG_DIR", str(tmp_path / "cfg"))
    _three(standin)
    first = tmp_path / "a.csv"
    args = ["record", "--pelvis", PELVIS, "--thigh", "HingeIMU-T", "--upper-back", BACK]
    rc = main(
        [*args, "--side", "left", "--save-assignment", "gym", "--duration", "1", "-o", str(first)]
    )
    assert rc == 0
    saved = load_assignments()
    assert saved["gym"] == {
        "pelvis": PELVIS,
        "thigh": "HingeIMU-T",
        "upper_back": BACK,
        "side": "left",
    }
    second = tmp_path / "b.csv"
    assert (
        main(
            [
                "record",
                "--assignment",
                "gym",
                "--duration",
                "1",
                "--note",
                "SIMULATED",
                "-o",
                str(second),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "duration reached" in out
    rec = read_recording(second)
    assert rec.side == "left"
    assert set(rec.sensors) == {"pelvis", "thigh", "upper_back"}
    assert rec.header["device.upper_back"] == f"movesense {BACK}"
    assert rec.header["note"] == "SIMULATED"
    for s in rec.sensors.values():
        assert len(s) > 0.8 * 10 * 100  # 1 s wall ≈ 10 s of device time at ~100 Hz


def test_record_refuses_bad_requests(standin: BlueZStandIn, tmp_path: Path, capsys):
    existing = tmp_path / "x.csv"
    existing.write_text("keep me")
    assert main(["record", "--pelvis", PELVIS, "-o", str(existing)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert existing.read_text() == "keep me"
    assert main(["record", "--thigh", THIGH, "-o", str(tmp_path / "y.csv")]) == 2
    assert "pelvis sensor is required" in capsys.readouterr().err
    # Nobody is advertising: a one-line error, no file.
    out = tmp_path / "z.csv"
    assert main(["record", "--pelvis", PELVIS, "--scan-timeout", "0.5", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pelvis: no supported sensor '{PELVIS}' found" in err[0]
    assert not out.exists()


def test_ctrl_c_leaves_a_readable_recording(standin: BlueZStandIn, tmp_path: Path):
    _three(standin)
    out = tmp_path / "live.csv"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hinge_imu",
            "record",
            "--pelvis",
            "HingeIMU-P",
            "--thigh",
            THIGH,
            "--upper-back",
            "Movesense 2134A1",
            "-o",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if sum("connected" in x for x in lines) == 3:
            break
    assert sum(": connected" in x for x in lines) == 3, "".join(lines)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped by Ctrl-C" in rest
    assert "Traceback" not in err
    rec = read_recording(out)
    for sensor in ("pelvis", "thigh", "upper_back"):
        s = rec.sensors[sensor]
        assert len(s) > 500
        assert np.all(np.diff(s.t_s) > 0)
    # The stand-in handles the disconnects on its own thread: give a busy host time.
    deadline = time.monotonic() + 10
    while standin.is_connected(PELVIS) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not standin.is_connected(PELVIS), "sensors are let go on exit"


def test_record_counts_malformed_packets_and_goes_on(
    standin: BlueZStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13 item 7: wrong length, unknown header, a counter that goes back."""
    thigh = _three(standin)["thigh"]
    before: list[int] = []

    def spoil() -> None:  # once the thigh streams (0.3 s ≈ 3 s of device time)
        deadline = time.monotonic() + 20
        while len(thigh.sent_index) < 300 and time.monotonic() < deadline:
            time.sleep(0.02)
        before.append(send_malformed(standin, thigh))

    spoiler = threading.Thread(target=spoil)
    spoiler.start()
    out = tmp_path / "bad.csv"
    argv = ["record", "--pelvis", PELVIS, "--thigh", THIGH, "--upper-back", BACK]
    rc = main([*argv, "--duration", "1.5", "-o", str(out)])
    spoiler.join()
    assert rc == 0
    printed = capsys.readouterr().out
    # The event as it happened, and all three in the summary at the end.
    assert re.search(r"thigh: bad_packet \(bad packet \(\d+ bytes [0-9a-f]+\): ", printed)
    assert re.search(r"\n  thigh +\d+ samples, 0 lost \(0\.0 %\), 0 drops, 3 bad packets", printed)
    assert re.search(r"\n  pelvis +\d+ samples, .* 0 bad packets", printed)
    bad = [e for e in read_events(events_path_for(out)) if e["event"] == "bad_packet"]
    assert {e["sensor"] for e in bad} == {"thigh"}
    assert bad[-1]["count"] == 3, "every bad packet reaches the events file"
    # The file holds exactly the good samples the thigh sent, and it went on after the bad ones.
    rec = read_recording(out)
    seq = rec.sensors["thigh"].seq
    assert seq is not None
    # (hinge-v1's counter counts the samples sent since the start command)
    np.testing.assert_array_equal(seq, np.arange(len(thigh.sent_index)) % 65536)
    assert len(seq) > before[0] + 500
