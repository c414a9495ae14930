"""``hinge-imu live`` on (stand-in) BLE sensors streaming a SIMULATED session.

The BlueZ stand-in of the BLE tests plays three SIMULATED devices; the live
session connects through the real BLE layer, calibrates, coaches and
records. The stand-in runs in real time here: the BLE layer stamps samples
on the host clock, and calibration needs a real second of stillness.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hinge_imu.cli import main
from hinge_imu.events import read_events
from hinge_imu.recording import read_recording
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.conftest import dbus_address  # noqa: F401 - fixture
from tests.ble.helpers import sim_stream
from tests.ble.profile_devices import ProfileDevice

pytestmark = [pytest.mark.ble, pytest.mark.slow]

PELVIS, THIGH, BACK = "D4:CA:6E:00:00:21", "D4:CA:6E:00:00:22", "0C:8C:DC:00:00:23"


@pytest.fixture
def realtime_standin(dbus_address: str):  # noqa: F811
    with BlueZStandIn(dbus_address, speed=1.0) as s:
        yield s


def test_live_on_ble_sensors(
    realtime_standin: BlueZStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standin = realtime_standin
    standin.add_device(ProfileDevice(PELVIS, "HingeIMU-P", "custom", sim_stream("pelvis")))
    standin.add_device(ProfileDevice(THIGH, "HingeIMU-T", "custom", sim_stream("thigh")))
    # All three at the SIMULATED data's own rate (100 Hz), so the streams stay in step.
    standin.add_device(ProfileDevice(BACK, "HingeIMU-U", "custom", sim_stream("upper_back")))
    truth_reps = 2  # the SIMULATED session: reps end at 10.2 and 14.3 s, the third at 17.9 s
    rec, events = tmp_path / "s.csv", tmp_path / "e.jsonl"
    # Issue 13 item 7: a malformed packet from the thigh half-way is counted, the session goes on.
    thigh_data = ProfileDevice(THIGH, "x", "custom", sim_stream("thigh")).profile.gatt.data[0]
    spoil = threading.Timer(6.0, standin.inject, (THIGH, thigh_data, b"\x01\x00\x07"))
    spoil.start()
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
    assert [(e["sensor"], e["count"]) for e in bad] == [("thigh", 1)]
    # … and shown in the view (plain lines here: stdout is no terminal), the session going on
    view = capsys.readouterr().out.splitlines()
    (shown,) = [i for i, ln in enumerate(view) if ln.startswith("thigh: bad_packet ")]
    assert any(ln.startswith("rep ") for ln in view[shown:])
    kinds = [e["event"] for e in ev]
    assert kinds.count("connected") >= 3 and "calibrated" in kinds
    reps = [e for e in ev if e["event"] == "rep"]
    assert len(reps) == truth_reps and all(r["judged"] and r["score"] == 100 for r in reps)
    health = [e for e in ev if e["event"] == "health"][-1]["sensors"]
    assert set(health) == {"pelvis", "thigh", "upper_back"}
    assert health["pelvis"]["battery_pct"] == 77
    assert health["thigh"]["bad_packets"] == 1 and health["pelvis"]["bad_packets"] == 0
    written = read_recording(rec)
    assert set(written.sensors) == {"pelvis", "thigh", "upper_back"}
    assert written.header["device.upper_back"] == f"custom {BACK}"
    last_event_t = ev[-1]["t"]
    for s in written.sensors.values():
        assert s.t_s[-1] == pytest.approx(last_event_t, abs=0.5)
