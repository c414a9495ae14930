"""Done-criterion of issue 4: a BLE recording that ``hinge-imu analyse`` judges correctly.

A SIMULATED session with known mistakes is streamed in real time by three
simulated hinge-v1 sensors through bleak and the BlueZ stand-in, recorded by
``hinge-imu record``, then analysed; the verdicts must match the simulator's
truth.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from hinge_imu.cli import main
from hinge_imu.core.pipeline import analyse
from hinge_imu.recording import read_recording
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.profile_devices import ProfileDevice

pytestmark = [pytest.mark.ble, pytest.mark.slow]

ADDRS = {
    "pelvis": "D4:CA:6E:00:01:01",
    "thigh": "D4:CA:6E:00:01:02",
    "upper_back": "D4:CA:6E:00:01:03",
}


@functools.lru_cache(maxsize=1)
def _simulation():
    from hinge_imu.sim import SimConfig, simulate

    return simulate(
        SimConfig.preset("clean", reps=2, seed=11, mistakes=[{"back_rounded": None}, {}])
    )


def test_recorded_session_is_judged_like_the_truth(dbus_address: str, tmp_path: Path, capsys):
    sim = _simulation()
    truth = [sorted(r["mistakes"]) for r in sim.truth["reps"]]
    assert truth == [["back_rounded"], []]
    out = tmp_path / "session.csv"
    # Real time: every sensor's clock must agree with the host's, as on a body.
    with BlueZStandIn(dbus_address, speed=1.0) as standin:
        for sensor, addr in ADDRS.items():
            stream = sim.recording.sensors[sensor]
            standin.add_device(ProfileDevice(addr, f"HingeIMU-{sensor}", "custom", stream))
        rc = main(
            [
                "record",
                "--pelvis",
                ADDRS["pelvis"],
                "--thigh",
                ADDRS["thigh"],
                "--upper-back",
                ADDRS["upper_back"],
                "--side",
                sim.recording.side,
                "--note",
                "SIMULATED session over the BlueZ stand-in",
                "--duration",
                f"{sim.recording.duration_s - 1.0:.1f}",
                "-o",
                str(out),
            ]
        )
    assert rc == 0
    rec = read_recording(out)
    assert min(len(s) for s in rec.sensors.values()) > 0.9 * (sim.recording.duration_s - 1) * 100
    got = analyse(rec)
    assert [sorted(r.judgement.mistakes) for r in got.reps] == truth
    capsys.readouterr()
    assert main(["analyse", str(out)]) == 0
    assert "back_rounded" in capsys.readouterr().out
