"""Live coaching on BLE sensors: the BLE layer's session feeding a :class:`LiveSession`.

Finding the devices, connecting, decoding and reconnecting is the BLE
layer's job (``hinge_imu.sensors``); this module only picks the devices the
user named (as ``hinge-imu record`` does), and pumps the session's sample
blocks and link events into the live session on the asyncio loop. The
notification callbacks only timestamp and queue (BLE layer), so the
analysis never runs inside a callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hinge_imu.errors import HingeImuError
from hinge_imu.samples import LinkEvent, SampleBlock


@dataclass(frozen=True)
class BleSetup:
    """The chosen devices, the recording header and the nominal rates (Hz)."""

    targets: tuple[Any, ...]
    header: dict[str, str]
    rates_hz: dict[str, float]


async def find_sensors(
    devices: Mapping[str, str], scan_timeout_s: float, side: str = "right"
) -> BleSetup:
    """Scan for the named devices (``sensor → name or address``); HingeImuError if missing."""
    from hinge_imu.sensors.ble import scan
    from hinge_imu.sensors.ble_drivers import driver_for, match_advertisement
    from hinge_imu.sensors.ble_session import SensorTarget
    from hinge_imu.sensors.record import recording_header

    found = await scan(match_advertisement, scan_timeout_s, wanted=list(devices.values()))
    targets = []
    for sensor, dev in devices.items():
        hit = [f for f in found if dev.upper() in (f.address.upper(), f.name.upper())]
        if not hit:
            raise HingeImuError(
                f"{sensor}: no supported sensor '{dev}' found within {scan_timeout_s:g} s"
                " (switched on? connected to another app? try `hinge-imu scan`)"
            )
        targets.append(SensorTarget(sensor, hit[0].address, driver_for(hit[0].profile)))
    header = recording_header(targets, {"side": side, "note": "live coaching session"})
    rates = {t.sensor: float(t.driver.rate_hz) for t in targets}
    return BleSetup(tuple(targets), header, rates)


async def pump(
    setup: BleSetup,
    handle: Callable[[SampleBlock | LinkEvent], None],
    stop: asyncio.Event,
    duration_s: float | None = None,
    scan_timeout_s: float = 10.0,
) -> str:
    """Connect, pass every block and link event to ``handle`` until ``stop`` or ``duration_s``.

    Returns why it stopped: ``interrupt``, ``duration`` or ``end``.
    """
    from hinge_imu.sensors.ble_session import BleSession

    async with BleSession(list(setup.targets), scan_timeout_s=scan_timeout_s) as ble:
        start_s = ble.now_s()
        while True:
            if stop.is_set():
                return "interrupt"
            if duration_s is not None and ble.now_s() - start_s >= duration_s:
                return "duration"
            # Everything already queued first, so a burst is processed at once.
            item: SampleBlock | LinkEvent | None = ble.get_nowait()
            if item is None:
                try:
                    item = await asyncio.wait_for(ble.__anext__(), 0.1)
                except asyncio.TimeoutError:
                    continue
                except StopAsyncIteration:
                    return "end"
            handle(item)
