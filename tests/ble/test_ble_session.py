"""Streaming through real bleak and D-Bus against the BlueZ stand-in (SIMULATED sensors)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from hinge_imu.errors import HingeImuError
from hinge_imu.events import events_path_for, read_events
from hinge_imu.recording import read_recording
from hinge_imu.samples import LinkEvent, SampleBlock
from hinge_imu.sensors.ble_drivers import driver_for
from hinge_imu.sensors.ble_session import BleSession, SensorTarget
from hinge_imu.sensors.record import record_session, recording_header
from tests.ble.bluez_standin import BlueZStandIn
from tests.ble.helpers import rows_of, sim_stream
from tests.ble.toy_protocol import CONTROL, DATA, ToyDevice, ToyDriver, quantise

pytestmark = pytest.mark.ble

ADDRS = {
    "pelvis": "C0:FF:EE:00:00:01",
    "thigh": "C0:FF:EE:00:00:02",
    "upper_back": "C0:FF:EE:00:00:03",
}


def _toy_devices(standin: BlueZStandIn) -> dict[str, ToyDevice]:
    devs = {}
    for i, (sensor, addr) in enumerate(ADDRS.items()):
        # 10 samples a notification: at 10× speed that is 100 notifications/s each.
        devs[sensor] = ToyDevice(
            addr, f"TOY-{i}", sim_stream(sensor), samples_per_packet=10, battery_pct=80 + i
        )
        standin.add_device(devs[sensor])
    return devs


def _check_file_matches_sent(rec_sensor: tuple, dev: ToyDevice) -> None:
    """Every recorded sample is the sample the device sent under that counter."""
    _t, acc, gyr, seq = rec_sensor
    sent = np.asarray(dev.sent_index)
    assert np.all(np.diff(seq) > 0)
    assert set(seq.tolist()) <= set(sent.tolist())
    # Anything sent but not recorded came after the recording stopped.
    missing = np.setdiff1d(sent, seq)
    assert missing.size == 0 or missing.min() > seq.max()
    idx = seq % len(dev.stream)
    want_acc, want_gyr = quantise(dev.stream.acc_mps2[idx], dev.stream.gyr_dps[idx])
    np.testing.assert_allclose(acc, want_acc, atol=1e-6 + 1e-6 * np.abs(want_acc).max())
    np.testing.assert_allclose(gyr, want_gyr, atol=1e-4)


def test_three_sensors_stream_30_s_at_100_hz_nothing_lost(standin: BlueZStandIn, tmp_path):
    devs = _toy_devices(standin)
    targets = [SensorTarget(s, a, ToyDriver(100)) for s, a in ADDRS.items()]
    out = tmp_path / "rec.csv"
    # The stand-in runs device time 10× real time: 3.6 s of wall clock ≈ 36 s of data.
    summary = asyncio.run(
        record_session(
            BleSession(targets, scan_timeout_s=5),
            out,
            recording_header(targets, {"side": "right", "note": "SIMULATED sensors"}),
            duration_s=3.6,
        )
    )
    rec = read_recording(out)
    assert rec.header["device.pelvis"] == f"toy {ADDRS['pelvis']}"
    assert rec.header["rate_hz.thigh"] == "100"
    for sensor, dev in devs.items():
        h = summary.health[sensor]
        assert h.lost == 0 and h.drops == 0
        assert h.battery_pct == dev.service_battery_pct
        t, _, _, seq = rows_of(rec, sensor)
        assert len(t) >= 3000, f"{sensor}: only {len(t)} samples in 30 s at 100 Hz"
        assert np.all(np.diff(seq) == 1), "no sample may be lost"
        assert np.all(np.diff(t) > 0)
        _check_file_matches_sent(rows_of(rec, sensor), dev)
    kinds = [e.kind for e in summary.events]
    assert kinds.count("connected") == 3 and kinds.count("battery") == 3


def test_configuration_is_written_and_answered(realtime_standin: BlueZStandIn):
    standin = realtime_standin
    dev = ToyDevice(ADDRS["pelvis"], "TOY-0", sim_stream("pelvis"))
    standin.add_device(dev)

    async def go() -> tuple[list[SampleBlock | LinkEvent], float]:
        items: list[SampleBlock | LinkEvent] = []
        async with BleSession([SensorTarget("pelvis", "TOY-0", ToyDriver(200))]) as s:
            async for item in s:
                items.append(item)
                if sum(len(i) for i in items if isinstance(i, SampleBlock)) >= 200:
                    break
        return items, s.start_perf_s

    items, s_start = asyncio.run(go())
    writes = [w for a, u, w in standin.writes if u == CONTROL]
    assert writes[:2] == [bytes([0x01, 200, 0]), b"\x02"]  # rate 200 Hz, then start
    assert dev.rate_hz == 200
    blocks = [i for i in items if isinstance(i, SampleBlock)]
    assert all(b.sensor == "pelvis" for b in blocks)
    t = np.concatenate([b.t_s for b in blocks])
    assert np.all(np.diff(t) > 0)
    # Real time: 200 Hz on average (the clock fit may shift single packets by ms).
    assert (t[-1] - t[0]) / (len(t) - 1) == pytest.approx(1 / 200, rel=0.03)
    arrivals = np.concatenate([np.full(len(b), b.arrival_s) for b in blocks])
    assert np.all(t <= arrivals - s_start + 1e-9), "no sample placed after it arrived"


def test_refused_configuration_is_reported(standin: BlueZStandIn, tmp_path):
    standin.add_device(ToyDevice(ADDRS["pelvis"], "TOY-0", sim_stream("pelvis")))
    targets = [SensorTarget("pelvis", ADDRS["pelvis"], ToyDriver(120))]  # 120 Hz: unsupported
    out = tmp_path / "rec.csv"
    with pytest.raises(HingeImuError, match=r"pelvis \(toy C0:FF:EE:00:00:01\).*refused"):
        asyncio.run(record_session(BleSession(targets), out, {}, duration_s=1))
    assert not out.exists(), "a failed setup must not leave a file"
    assert not standin.is_connected(ADDRS["pelvis"]), "the refused sensor must be let go"


def test_missing_sensor_is_reported(standin: BlueZStandIn):
    standin.add_device(ToyDevice(ADDRS["pelvis"], "TOY-0", sim_stream("pelvis")))
    targets = [
        SensorTarget("pelvis", "TOY-0", ToyDriver()),
        SensorTarget("thigh", "TOY-9", ToyDriver()),
    ]

    async def go() -> None:
        async with BleSession(targets, scan_timeout_s=1.0):
            pass

    with pytest.raises(HingeImuError, match=r"thigh: no supported sensor 'TOY-9' found within 1 s"):
        asyncio.run(go())


def test_dropped_sensor_reconnects_and_the_gap_is_recorded(
    realtime_standin: BlueZStandIn, tmp_path
):
    standin = realtime_standin
    devs = _toy_devices(standin)
    targets = [SensorTarget(s, a, ToyDriver(100)) for s, a in ADDRS.items()]
    out = tmp_path / "rec.csv"

    async def go():
        stop = asyncio.Event()

        async def drop_later() -> None:
            await asyncio.sleep(1.0)
            # out of range for 0.6 s
            await asyncio.to_thread(standin.drop, ADDRS["thigh"], 0.6)
            # Generous: on a loaded 2-core CI machine a reconnect (scan, connect,
            # resolve services, configure) has been seen to take over a second.
            await asyncio.sleep(4.0)
            stop.set()

        task = asyncio.create_task(drop_later())
        session = BleSession(targets, reconnect_interval_s=0.2)
        summary = await record_session(session, out, {"side": "left"}, stop=stop)
        await task
        return summary

    summary = asyncio.run(go())
    kinds = [(e.sensor, e.kind) for e in summary.events if e.kind != "battery"]
    thigh = [k for s, k in kinds if s == "thigh"]
    assert thigh == ["connected", "disconnected", "reconnected"]
    assert summary.health["thigh"].drops == 1
    assert summary.health["pelvis"].drops == 0
    events_text = events_path_for(out).read_text()
    assert '"reconnected": true' in events_text and "gap" in events_text

    rec = read_recording(out)
    t, _, _, seq = rows_of(rec, "thigh")
    jumps = np.flatnonzero(np.diff(seq) > 1)
    assert jumps.size == 1, "exactly one gap, where the link was down"
    j = jumps[0]
    gap_samples = int(seq[j + 1] - seq[j] - 1)
    assert gap_samples >= 60  # down ≥ 0.6 s at 100 Hz
    assert summary.health["thigh"].lost == gap_samples
    # The gap in time matches the samples missed (the counter carried time over).
    assert t[j + 1] - t[j] == pytest.approx((gap_samples + 1) / 100, abs=2e-3)
    assert t[-1] > t[j + 1] + 1  # streaming went on after the reconnect
    for sensor, dev in devs.items():
        _check_file_matches_sent(rows_of(rec, sensor), dev)
    for sensor in ("pelvis", "upper_back"):
        assert np.all(np.diff(rows_of(rec, sensor)[3]) == 1)


def test_battery_changes_are_reported(standin: BlueZStandIn):
    dev = ToyDevice(ADDRS["pelvis"], "TOY-0", sim_stream("pelvis"), battery_pct=90)
    standin.add_device(dev)

    async def go() -> list[LinkEvent]:
        events: list[LinkEvent] = []
        target = SensorTarget("pelvis", "TOY-0", ToyDriver(100))
        async with BleSession([target], battery_interval_s=0.2) as s:
            await asyncio.sleep(0.3)
            dev.service_battery_pct = 41
            t_end = asyncio.get_running_loop().time() + 1.0
            async for item in s:
                if isinstance(item, LinkEvent):
                    events.append(item)
                if asyncio.get_running_loop().time() > t_end:
                    break
        return events

    batteries = [e.battery_pct for e in asyncio.run(go()) if e.kind == "battery"]
    assert batteries == [90.0, 41.0]


def test_malformed_packets_are_counted_and_the_recording_goes_on(standin: BlueZStandIn, tmp_path):
    """Issue 13 item 7: wrong length, unknown header, a counter or time that goes back."""
    from tests.ble.profile_devices import ProfileDevice

    toy = ToyDevice(ADDRS["pelvis"], "TOY-0", sim_stream("pelvis"))
    custom = ProfileDevice("D4:CA:6E:00:00:09", "HingeIMU-9", "custom", sim_stream("thigh"))
    standin.add_device(toy)
    standin.add_device(custom)
    targets = [
        SensorTarget("pelvis", "TOY-0", ToyDriver(100)),
        SensorTarget("thigh", "HingeIMU-9", driver_for("custom", rate_hz=100)),
    ]
    custom_data = custom.profile.gatt.data[0]
    out = tmp_path / "bad.csv"

    sent_before: dict[str, int] = {}

    async def go():
        stop = asyncio.Event()

        async def spoil() -> None:
            await asyncio.sleep(0.5)  # 5 s of device time at 10× speed
            old_toy = next(
                p.data for p in standin.sent if p.address == toy.address and len(p.data) > 5
            )
            old_custom = next(
                p.data for p in standin.sent if p.address == custom.address and len(p.data) > 11
            )
            for addr, uuid, data in (
                (toy.address, DATA, b"\x07"),  # wrong length
                (toy.address, DATA, old_toy),  # its counter goes back
                (custom.address, custom_data, b"\x09" + old_custom[1:]),  # unknown version
                (custom.address, custom_data, old_custom),  # its time stamp goes back
            ):
                await asyncio.to_thread(standin.inject, addr, uuid, data)
            sent_before.update(pelvis=len(toy.sent_index), thigh=len(custom.sent_index))
            await asyncio.sleep(0.5)
            stop.set()

        task = asyncio.create_task(spoil())
        summary = await record_session(BleSession(targets), out, {"side": "left"}, stop=stop)
        await task
        return summary

    summary = asyncio.run(go())
    assert summary.health["pelvis"].bad_packets == 2
    assert summary.health["thigh"].bad_packets == 2
    events = read_events(events_path_for(out))
    bad = [e for e in events if e["event"] == "bad_packet"]
    assert {e["sensor"] for e in bad} == {"pelvis", "thigh"}
    # One event a second per sensor at most; the second one of each (here at
    # the stop, within the second) brings the count up to date.
    for sensor in ("pelvis", "thigh"):
        assert [e["count"] for e in bad if e["sensor"] == sensor] == [1, 2]
    assert "(1 bytes 07)" in bad[0]["message"]  # what arrived, and why it is bad
    # Nothing but the bad packets is missing: the file is what the devices sent.
    rec = read_recording(out)
    assert rec.sensors["pelvis"].seq is not None
    np.testing.assert_array_equal(
        rec.sensors["pelvis"].seq, toy.sent_index[: len(rec.sensors["pelvis"])]
    )
    assert len(rec.sensors["thigh"]) == len(custom.sent_index)
    assert summary.health["pelvis"].lost == summary.health["thigh"].lost == 0
    for sensor in ("pelvis", "thigh"):  # streaming went on after them
        assert len(rec.sensors[sensor]) > sent_before[sensor] + 100
