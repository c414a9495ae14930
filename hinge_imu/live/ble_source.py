"""Live coaching on BLE sensors: the BLE layer's session feeding a :class:`LiveSession`.

Finding the devices, connecting, decoding and reconnecting is the BLE
layer's job (``hinge_imu.sensors``): the devices the user named are found
by the same one-scan setup ``hinge-imu record`` uses
(:func:`hinge_imu.sensors.ble_link.find_targets`); this module pumps the
session's sample blocks and link events into the live session on the
asyncio loop. The
notification callbacks only timestamp and queue (BLE layer), so the
analysis never runs inside a callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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
    """Scan once for the named devices (``sensor → name or address``); HingeImuError if missing."""
    from hinge_imu.sensors.ble_link import find_targets
    from hinge_imu.sensors.record import recording_header

    targets = await find_targets(devices, scan_timeout_s)
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
        why = "end"
        while True:
            if stop.is_set():
                why = "interrupt"
                break
            if duration_s is not None and ble.now_s() - start_s >= duration_s:
                why = "duration"
                break
            # Everything already queued first, so a burst is processed at once.
            item: SampleBlock | LinkEvent | None = ble.get_nowait()
            if item is None:
                try:
                    item = await asyncio.wait_for(ble.__anext__(), 0.1)
                except asyncio.TimeoutError:
                    continue
                except StopAsyncIteration:
                    break
            handle(item)
        # What the sensors sent before they were told to stop is analysed too.
        await ble.stop_streaming()
        while (item := ble.get_nowait()) is not None:
            handle(item)
        return why
