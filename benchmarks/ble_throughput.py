"""BLE streaming under a busy host, over the BlueZ stand-in (SIMULATED sensors).

Three simulated hinge-v1 sensors stream at 200 Hz in real time through a
private dbus-daemon, the real bleak library and :class:`BleSession`, with
``--load N`` CPU-bound processes (``while True: pass``) running beside it.
At the end the sensors are told to stop (``BleSession.stop_streaming``) and
the queue is drained, so every sample sent must have been received. Prints,
per load:

* samples sent by the stand-in, received, and lost (sent − received);
* clock error: recorded host time − the instant the sample was due at the
  stand-in (sample k at device time (k + 1) / rate: the stand-in's sending
  time base, on the same ``time.perf_counter`` clock, which no packet can
  beat), median and 99th percentile of |error|, ms, after the first
  ``--settle`` s. The median includes the smallest D-Bus delay, which no
  clock can see;
* notification latency: stand-in sending the D-Bus signal → bleak calling
  our callback (median / p99 / max, ms).

The stand-in runs in a thread of this process, so it competes for the CPU
and the GIL with bleak; a busy host delays its sending as well (it never
sends early). Run from the repository root, niced on a shared machine::

    nice -n 10 .venv/bin/python benchmarks/ble_throughput.py --load 0 1 2 [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
#: hinge-v1 sample packets carry the first sample's 16-bit counter in bytes 2-3.
SEQ_MODULUS = 1 << 16


@dataclass(frozen=True)
class Result:
    load: int
    sent: int
    received: int
    clock_lost: int
    err_median_ms: float
    err_p99_ms: float
    err_max_ms: float
    lat_median_ms: float
    lat_p99_ms: float
    lat_max_ms: float


def _stream():  # type: ignore[no-untyped-def]
    from hinge_imu.sim import SimConfig, simulate

    return simulate(SimConfig.preset("clean", reps=3, seed=1)).recording


async def _collect(
    devs: dict[str, ProfileDevice], seconds: float
) -> tuple[list[SampleBlock], float, int]:
    targets = [
        SensorTarget(s, devs[s].address, driver_for("custom", rate_hz=RATE_HZ)) for s in SENSORS
    ]
    blocks: list[SampleBlock] = []
    async with BleSession(targets) as session:
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            item = session.get_nowait()
            if item is None:
                try:
                    item = await asyncio.wait_for(session.__anext__(), 0.5)
                except asyncio.TimeoutError:
                    continue
            if isinstance(item, SampleBlock):
                blocks.append(item)
        await session.stop_streaming()
        while (item := session.get_nowait()) is not None:
            if isinstance(item, SampleBlock):
                blocks.append(item)
        lost = sum(h.lost for h in session.health().values())
        return blocks, session.start_perf_s, lost


def run_case(load: int, seconds: float, settle_s: float) -> Result:
    rec = _stream()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(load)]
    try:
        with BlueZStandIn(os.environ["DBUS_SYSTEM_BUS_ADDRESS"], speed=1.0) as standin:
            devs = {}
            for i, s in enumerate(SENSORS):
                devs[s] = ProfileDevice(
                    f"D4:CA:6E:00:02:0{i}", f"HingeIMU-{i}", "custom", rec.sensors[s]
                )
                standin.add_device(devs[s])
            blocks, start_perf_s, clock_lost = asyncio.run(_collect(devs, seconds))
            sent_packets = list(standin.sent)
            t0 = standin.t0_perf_s
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert t0 is not None
    sent = sum(len(d.sent_index) for d in devs.values())
    errors, latencies = [], []
    for s in SENSORS:
        dev = devs[s]
        mine = [b for b in blocks if b.sensor == s]
        sent_at = {
            int.from_bytes(p.data[2:4], "little"): p.sent_perf_s
            for p in sent_packets
            if p.address == dev.address and len(p.data) > 11
        }
        got_t = np.concatenate([b.t_s for b in mine]) + start_perf_s
        got_seq = np.concatenate([b.seq for b in mine if b.seq is not None])
        idx = np.asarray(dev.sent_index[: len(got_t)])
        # The device counts from 0 when started; the stand-in's index places it in time.
        if len(got_t) != len(dev.sent_index) or not np.array_equal(
            got_seq, np.arange(len(got_seq)) % SEQ_MODULUS
        ):
            raise SystemExit(
                f"{s}: received {len(got_seq)} samples, sent {len(dev.sent_index)}, not in order"
            )
        # Sample k is due (complete, sendable) at device time (k + 1) / rate.
        true_t = t0 + (idx + 1) / RATE_HZ
        keep = true_t - t0 >= settle_s
        errors.append(np.abs(got_t - true_t)[keep])
        for b in mine:
            if b.seq is not None and int(b.seq[0]) in sent_at:
                latencies.append(b.arrival_s - sent_at[int(b.seq[0])])
    err = np.concatenate(errors) * 1e3
    lat = np.asarray(latencies) * 1e3
    return Result(
        load,
        sent,
        sum(len(b) for b in blocks),
        clock_lost,
        float(np.median(err)),
        float(np.percentile(err, 99)),
        float(err.max()),
        float(np.median(lat)),
        float(np.percentile(lat, 99)),
        float(lat.max()),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--load", type=int, nargs="+", default=[0], help="CPU-bound processes beside")
    ap.add_argument("--seconds", type=float, default=20.0, help="streaming time per load, s")
    ap.add_argument("--settle", type=float, default=5.0, help="clock error counted after, s")
    args = ap.parse_args()
    exe = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
    with tempfile.TemporaryDirectory() as d:
        proc, address = start_private_bus(exe, Path(d))
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
        try:
            rows = [run_case(n, args.seconds, args.settle) for n in args.load]
        finally:
            proc.terminate()
            proc.wait(10)
    print(
        f"3 SIMULATED hinge-v1 sensors at {RATE_HZ} Hz, {args.seconds:g} s each, real time;"
        f" clock error after the first {args.settle:g} s; ms"
    )
    print(
        f"{'load':>4} {'sent':>6} {'recv':>6} {'lost':>5} {'clk lost':>8}"
        f" {'err med':>8} {'err p99':>8} {'err max':>8}"
        f" {'lat med':>8} {'lat p99':>8} {'lat max':>8}"
    )
    for r in rows:
        print(
            f"{r.load:>4} {r.sent:>6} {r.received:>6} {r.sent - r.received:>5} {r.clock_lost:>8}"
            f" {r.err_median_ms:>8.2f} {r.err_p99_ms:>8.2f} {r.err_max_ms:>8.2f}"
            f" {r.lat_median_ms:>8.2f} {r.lat_p99_ms:>8.2f} {r.lat_max_ms:>8.2f}"
        )


if __name__ == "__main__":
    main()
