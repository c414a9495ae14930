"""BLE throughput and notification latency over the BlueZ stand-in (SIMULATED sensors).

Three simulated hinge-v1 sensors stream at 200 Hz in real time through a
private dbus-daemon, the real bleak library and :class:`BleSession`. For
every notification it measures, on one clock (``time.perf_counter``):

* send → callback: the stand-in putting the PropertiesChanged signal on the
  bus → bleak calling our notification callback;
* send → decoded: → the consumer handing out the decoded, clocked block.

The stand-in runs in a thread of this process, so it competes for the GIL
with bleak: the numbers are an upper bound of what D-Bus + bleak add, not a
radio measurement. Run from the repository root::

    .venv/bin/python benchmarks/ble_throughput.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hinge_imu.samples import SampleBlock
from hinge_imu.sensors.ble_drivers import driver_for
from hinge_imu.sensors.ble_session import BleSession, SensorTarget
from tests.ble.bluez_standin import BlueZStandIn, start_private_bus
from tests.ble.profile_devices import ProfileDevice

SENSORS = ("pelvis", "thigh", "upper_back")
RATE_HZ = 200


def _stream():
    from hinge_imu.sim import SimConfig, simulate

    return simulate(SimConfig.preset("clean", reps=3, seed=1)).recording


async def _measure(
    standin: BlueZStandIn, devs: dict[str, ProfileDevice], seconds: float
) -> dict[str, object]:
    targets = [
        SensorTarget(s, devs[s].address, driver_for("custom", rate_hz=RATE_HZ)) for s in SENSORS
    ]
    got: dict[str, list[tuple[float, float, int, int]]] = {s: [] for s in SENSORS}
    async with BleSession(targets) as session:
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            try:
                item = await asyncio.wait_for(session.__anext__(), 0.5)
            except asyncio.TimeoutError:
                continue
            if isinstance(item, SampleBlock) and item.seq is not None:
                got[item.sensor].append(
                    (item.arrival_s, time.perf_counter(), len(item), int(item.seq[0]))
                )
        health = session.health()
    return {"got": got, "health": health}


def run_case(address: str, samples_per_packet: int, seconds: float) -> dict[str, float]:
    rec = _stream()
    with BlueZStandIn(address, speed=1.0, tick_s=0.005) as standin:
        devs = {}
        for i, s in enumerate(SENSORS):
            devs[s] = ProfileDevice(
                f"D4:CA:6E:00:02:0{i}",
                f"HingeIMU-{i}",
                "custom",
                rec.sensors[s],
                samples_per_packet=samples_per_packet,
            )
            standin.add_device(devs[s])
        res = asyncio.run(_measure(standin, devs, seconds))
        sent = list(standin.sent)
    got = res["got"]
    health = res["health"]
    to_cb, to_dec = [], []
    n_notif = n_samples = 0
    span = 0.0
    for s in SENSORS:
        addr = devs[s].address
        # hinge-v1 sample packets carry the first sample's counter in bytes 2-3.
        sent_at = {
            int.from_bytes(p.data[2:4], "little"): p.sent_perf_s
            for p in sent
            if p.address == addr and len(p.data) > 11
        }
        rows = got[s]
        for arr, dec, _n, seq0 in rows:
            to_cb.append(arr - sent_at[seq0])
            to_dec.append(dec - sent_at[seq0])
        n_notif += len(rows)
        n_samples += sum(r[2] for r in rows)
        if rows:
            span = max(span, rows[-1][0] - rows[0][0])
    cb = np.array(to_cb) * 1e3
    dc = np.array(to_dec) * 1e3
    lost = sum(h.lost for h in health.values())  # type: ignore[attr-defined]
    return {
        "spp": samples_per_packet,
        "notif_per_s": n_notif / span,
        "samples_per_s": n_samples / span,
        "lost": lost,
        "cb_med": float(np.median(cb)),
        "cb_p95": float(np.percentile(cb, 95)),
        "cb_max": float(cb.max()),
        "dec_med": float(np.median(dc)),
        "dec_p95": float(np.percentile(dc, 95)),
        "dec_max": float(dc.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    exe = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
    with tempfile.TemporaryDirectory() as d:
        proc, address = start_private_bus(exe, Path(d))
        import os

        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
        try:
            rows = [run_case(address, spp, args.seconds) for spp in (10, 4, 1)]
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"3 SIMULATED hinge-v1 sensors at {RATE_HZ} Hz, {args.seconds:g} s each, real time")
    print("latency in ms, from the stand-in sending the D-Bus signal")
    head = (
        f"{'samples/pkt':>11} {'notif/s':>8} {'samples/s':>10} {'lost':>5} "
        f"{'cb med':>7} {'cb p95':>7} {'cb max':>7} {'dec med':>8} {'dec p95':>8} {'dec max':>8}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['spp']:>11} {r['notif_per_s']:>8.0f} {r['samples_per_s']:>10.0f} {r['lost']:>5} "
            f"{r['cb_med']:>7.2f} {r['cb_p95']:>7.2f} {r['cb_max']:>7.2f} "
            f"{r['dec_med']:>8.2f} {r['dec_p95']:>8.2f} {r['dec_max']:>8.2f}"
        )


if __name__ == "__main__":
    main()
