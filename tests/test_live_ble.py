"""``hinge-imu live`` on (stand-in) BLE sensors streaming a SIMULATED session.

The BlueZ stand-in of the BLE tests plays three SIMULATED devices; the live
session connects through the real BLE layer, calibrates, coaches and
records. The stand-in runs in real time here: the BLE layer stamps samples
on the host clock, and calibration needs a real second of stillness.
"""

from __future__ import annotations

import io
import re
import sys
import threading
from pathlib import Path

import pytest

from hinge_imu.cli import main
from hinge_imu.events import read_events
from hinge_imu.recording import read_recording
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.helpers import sim_stream
from tests.ble.profile_devices import ProfileDevice, send_malformed

pytestmark = [pytest.mark.ble, pytest.mark.slow]

PELVIS, THIGH, BACK = "D4:CA:6E:00:00:21", "D4:CA:6E:00:00:22", "0C:8C:DC:00:00:23"


class _Terminal(io.StringIO):
    """Captures what is written, and says it is a terminal (the live view draws its panel)."""

    def isatty(self) -> bool:
        return True


def test_live_on_ble_sensors(
    realtime_standin: BlueZStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = realtime_standin
    standin.add_device(ProfileDevice(PELVIS, "HingeIMU-P", "custom", sim_stream("pelvis")))
    thigh = ProfileDevice(THIGH, "HingeIMU-T", "custom", sim_stream("thigh"))
    standin.add_device(thigh)
    # All three at the SIMULATED data's own rate (100 Hz), so the streams stay in step.
    standin.add_device(ProfileDevice(BACK, "HingeIMU-U", "custom", sim_stream("upper_back")))
    truth_reps = 2  # the SIMULATED session: reps end at 10.2 and 14.3 s, the third at 17.9 s
    rec, events = tmp_path / "s.csv", tmp_path / "e.jsonl"
    # Issue 13 item 7: malformed packets from the thigh half-way (wrong length, unknown
    # header, a counter that goes back) are counted and shown; the session goes on.
    spoil = threading.Timer(6.0, send_malformed, (standin, thigh))
    spoil.start()
    # The terminal view, without colours or cursor moves: its last panel is printed at the end.
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "dumb")
    rc = main(
        [
            "live",
            "--pelvis", PELVIS,
            "--thigh", "HingeIMU-T",
            "--upper-back", BACK,
            "--duration", "16.5",
            "--mute",
            "-o", str(rec),
            "--events", str(events),
        ]
    )  # fmt: skip
    spoil.join()
    assert rc == 0
    ev = read_events(events)
    bad = [e for e in ev if e["event"] == "bad_packet"]
    # The first at once, the other two a second later (at most one event a second).
    assert [(e["sensor"], e["count"]) for e in bad] == [("thigh", 1), ("thigh", 3)]
    assert "expected 11 + 12·n" in bad[0]["message"]  # the one cut short
    # … and shown in the view, the session going on
    view = terminal.getvalue().splitlines()
    (shown, _) = [i for i, ln in enumerate(view) if ln.startswith("thigh: bad_packet ")]
    assert any(ln.startswith("rep ") for ln in view[shown:])
    assert any(re.search(r"┃ +lost +┃ +bad packets +┃ +battery +┃", ln) for ln in view)
    (row,) = [ln for ln in view if re.match(r"│ *│ thigh ", ln)]
    assert re.search(r"│ thigh +│ +ok +│ +\d+ +│ +0\.0 % +│ +3 +│ +77 % +│", row), row
    kinds = [e["event"] for e in ev]
    assert kinds.count("connected") >= 3 and "calibrated" in kinds
    reps = [e for e in ev if e["event"] == "rep"]
    assert len(reps) == truth_reps and all(r["judged"] and r["score"] == 100 for r in reps)
    health = [e for e in ev if e["event"] == "health"][-1]["sensors"]
    assert set(health) == {"pelvis", "thigh", "upper_back"}
    assert health["pelvis"]["battery_pct"] == 77
    assert health["thigh"]["bad_packets"] == 3 and health["pelvis"]["bad_packets"] == 0
    written = read_recording(rec)
    assert set(written.sensors) == {"pelvis", "thigh", "upper_back"}
    assert written.header["device.upper_back"] == f"custom {BACK}"
    last_event_t = ev[-1]["t"]
    for s in written.sensors.values():
        assert s.t_s[-1] == pytest.approx(last_event_t, abs=0.5)
