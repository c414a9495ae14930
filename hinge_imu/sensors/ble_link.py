"""One sensor's BLE link: which device, finding it (one scan), connecting, configuring.

:func:`find_targets` is the one BLE session setup of ``hinge-imu record``
and ``hinge-imu live``: one scan for every device the user named, each
found device matched to its profile and driver, and bleak's ``BLEDevice``
kept so connecting does not scan again. :class:`Link` holds one sensor's
connection state for :class:`~hinge_imu.sensors.ble_session.BleSession`,
which connects the links one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hinge_imu.samples import LinkEvent
from hinge_imu.sensors.ble import BATTERY_LEVEL_UUID, BleError, FoundDevice, SensorDriver, scan
from hinge_imu.sensors.clock import SensorClock

#: The span a sensor's received rate is counted over (health), s: each link
#: keeps its packet arrivals this long.
RATE_WINDOW_S = 2.0


@dataclass(frozen=True)
class SensorTarget:
    """Which device to use for one segment.

    Attributes:
        sensor: segment name.
        device: address or advertised name.
        driver: how to talk to it.
        ble_device: bleak's ``BLEDevice`` from a scan (:func:`find_targets`),
            or None to look for ``device`` when the session starts.
    """

    sensor: str
    device: str
    driver: SensorDriver
    ble_device: Any = field(default=None, compare=False, repr=False)


def not_found(sensor: str, device: str, timeout_s: float) -> BleError:
    return BleError(
        f"{sensor}: no supported sensor '{device}' found within {timeout_s:g} s"
        " (switched on, charged, not connected to another app? try `hinge-imu scan`)"
    )


async def find_targets(
    devices: Mapping[str, str],
    scan_timeout_s: float,
    rate_hz: float | None = None,
) -> list[SensorTarget]:
    """One scan for ``devices`` (segment → address or name); a target for each.

    Raises :class:`BleError` naming the first device not found.
    """
    from hinge_imu.sensors.ble_drivers import driver_for, match_advertisement

    found = await scan(match_advertisement, scan_timeout_s, wanted=list(devices.values()))
    targets = []
    for sensor, dev in devices.items():
        hit = next((f for f in found if f.is_(dev)), None)
        if hit is None:
            raise not_found(sensor, dev, scan_timeout_s)
        driver = driver_for(hit.profile, rate_hz=rate_hz)
        targets.append(SensorTarget(sensor, hit.address, driver, hit.ble_device))
    return targets


async def locate(links: list[Link], scan_timeout_s: float) -> None:
    """Find the bleak devices of links that have none yet (one scan for all)."""
    missing = [ln for ln in links if ln.ble_device is None]
    if not missing:
        return
    found: list[FoundDevice] = await scan(
        None, scan_timeout_s, wanted=[ln.target.device for ln in missing]
    )
    for ln in missing:
        hit = next((f for f in found if f.is_(ln.target.device)), None)
        if hit is None:
            raise not_found(ln.sensor, ln.target.device, scan_timeout_s)
        ln.ble_device = hit.ble_device


@dataclass
class Link:
    """One sensor's connection state during a session (the session's own bookkeeping)."""

    target: SensorTarget
    ble_device: Any = None
    client: Any = None
    connected: bool = False
    configuring: bool = False
    responses: asyncio.Queue[tuple[float, bytes]] = field(default_factory=asyncio.Queue)
    clock: SensorClock | None = None
    last_t_s: float = -np.inf
    received: int = 0
    lost: int = 0
    drops: int = 0
    bad_packets: int = 0
    bad_reported: int = 0  # the count the last bad_packet event gave
    bad_reported_s: float = -np.inf
    battery_pct: float | None = None
    #: (arrival s, samples) of the packets of the last ``RATE_WINDOW_S``.
    arrivals: deque[tuple[float, int]] = field(default_factory=deque)
    reconnect_task: asyncio.Task[None] | None = None
    down_since_s: float | None = None
    stopped: bool = False
    #: Blocks held while the clock warms up: (block, device times, arrival s).
    held: list[tuple[Any, Any, float]] = field(default_factory=list)
    warm: bool = False

    def __post_init__(self) -> None:
        if self.ble_device is None:
            self.ble_device = self.target.ble_device

    @property
    def sensor(self) -> str:
        return self.target.sensor

    @property
    def label(self) -> str:
        return f"{self.target.sensor} ({self.target.driver.profile} {self.target.device})"

    def bad_packet(
        self, t_s: float, data: bytes, err: Exception, every_s: float
    ) -> LinkEvent | None:
        """Count a malformed packet (arrived at ``t_s``, session s); its event if one is due."""
        self.bad_packets += 1
        return self.report_bad_packets(
            t_s, f"bad packet ({len(data)} bytes {data[:8].hex()}): {err}", every_s
        )

    def report_bad_packets(
        self, t_s: float, what: str = "", every_s: float = 0.0
    ) -> LinkEvent | None:
        """A ``bad_packet`` event with the count so far, if it grew since the last one and
        that one is at least ``every_s`` s old (the events stay few, the count exact)."""
        if self.bad_packets == self.bad_reported or t_s - self.bad_reported_s < every_s:
            return None
        if not what:
            what = f"{self.bad_packets - self.bad_reported} more bad packets since the last report"
        self.bad_reported, self.bad_reported_s = self.bad_packets, t_s
        return LinkEvent(self.sensor, "bad_packet", t_s, None, what, self.bad_packets)


#: ``(link, characteristic uuid, arrival perf_counter s, bytes)``: a sample
#: notification for the session's queue.
DataSink = Callable[[Link, str, float, bytes], None]


async def configure(link: Link, response_timeout_s: float, data: DataSink) -> None:
    """Write the driver's start commands, each checked against the device's answer.

    Sample packets that come on a shared response/data characteristic while
    configuring are data, not answers: they go to ``data``.
    """
    drv = link.target.driver
    drv.reset()
    link.configuring = True
    try:
        while not link.responses.empty():
            link.responses.get_nowait()
        for cmd in drv.commands():
            await _command(link, cmd, response_timeout_s, data)
    finally:
        link.configuring = False
    while not link.responses.empty():
        arrival, payload = link.responses.get_nowait()
        if drv.response_uuid in drv.data_uuids:
            data(link, drv.response_uuid, arrival, payload)
    char = link.client.services.get_characteristic(BATTERY_LEVEL_UUID)
    if char is not None and "read" in char.properties:
        raw = await link.client.read_gatt_char(char)
        if raw:
            link.battery_pct = float(raw[0])


async def _command(link: Link, cmd: bytes, timeout_s: float, data: DataSink) -> None:
    drv = link.target.driver
    if drv.control_uuid is None:
        return
    await link.client.write_gatt_char(drv.control_uuid, cmd, response=True)
    if drv.response_uuid is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            arrival, resp = await asyncio.wait_for(
                link.responses.get(), max(deadline - loop.time(), 0.0)
            )
        except asyncio.TimeoutError:
            raise BleError(
                f"{link.label}: no answer to command {cmd.hex()} within {timeout_s:g} s"
            ) from None
        if drv.is_response(resp):
            break
        data(link, drv.response_uuid, arrival, resp)  # a sample packet on a shared char
    problem = drv.check_response(cmd, resp)
    if problem is not None:
        raise BleError(f"{link.label}: configuration refused: {problem}")


async def write_stop(link: Link, client: Any, timeout_s: float) -> None:
    """Tell the device to stop streaming (saves its battery); best effort, it may be gone."""
    drv = link.target.driver
    with contextlib.suppress(Exception):
        if drv.control_uuid is not None and client.is_connected:
            for cmd in drv.stop_commands():
                await asyncio.wait_for(
                    client.write_gatt_char(drv.control_uuid, cmd, response=True), timeout_s
                )
