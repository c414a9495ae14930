"""BLE sensors through bleak: data types, the driver interface, and scanning.

The streaming session is in :mod:`hinge_imu.sensors.ble_session`. What a
device says and how to talk to it (commands, packet layout) comes from a
*driver*: any object with the :class:`SensorDriver` attributes; the profiles
in ``firmware_config/`` provide them (see
:mod:`hinge_imu.sensors.ble_drivers`).

Everything a session hands out is a frozen dataclass of
:mod:`hinge_imu.samples`: :class:`~hinge_imu.samples.SampleBlock` (decoded
samples of one sensor on the session clock),
:class:`~hinge_imu.samples.LinkEvent` (connected, disconnected,
reconnected, battery, bad_packet, warning) and
:class:`~hinge_imu.samples.SensorHealth` (rate, loss, battery, bad packets).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hinge_imu.errors import HingeImuError
from hinge_imu.sensors.clock import SensorClock
from hinge_imu.sensors.codec import DecodedPacket

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class BleError(HingeImuError):
    """No adapter, a sensor not found, a configuration refused, …"""


class SensorDriver(Protocol):
    """How to talk to one device model at one configuration.

    ``commands`` are written in order to ``control_uuid`` after connecting
    (``stop_commands`` before a deliberate disconnect);
    each gets a notification on ``response_uuid`` that ``check_response``
    judges (``None`` = accepted, otherwise why not); ``is_response`` tells
    answers from sample packets where both share a characteristic. ``decode`` turns one
    notification of a ``data_uuids`` characteristic into samples (an empty
    packet, or None, for packets without samples; a malformed one raises
    ``PacketError``); ``make_clock`` gives the clock that puts them on the
    host clock, and ``clock_input`` what it places a packet by (the device
    time of the first sample, s, or its counter; None for neither).
    """

    profile: str
    rate_hz: float
    data_uuids: tuple[str, ...]
    control_uuid: str | None
    response_uuid: str | None

    def commands(self) -> list[bytes]: ...

    def stop_commands(self) -> list[bytes]: ...

    def is_response(self, data: bytes) -> bool: ...

    def check_response(self, command: bytes, response: bytes) -> str | None: ...

    def decode(self, char_uuid: str, data: bytes) -> DecodedPacket | None: ...

    def clock_input(self, packet: DecodedPacket) -> float | int | None: ...

    def reset(self) -> None: ...

    def make_clock(self) -> SensorClock: ...


@dataclass(frozen=True)
class FoundDevice:
    """One device seen during a scan.

    Attributes:
        profile: its profile's name ("" when scanning for any device).
        ble_device: bleak's ``BLEDevice``, handed to ``BleakClient`` so a
            connection needs no second scan.
    """

    address: str
    name: str
    profile: str
    rssi_dbm: int
    battery_pct: float | None = None
    ble_device: Any = field(default=None, compare=False, repr=False)

    def is_(self, wanted: str) -> bool:
        """Whether ``wanted`` (an address or an advertised name) names this device."""
        return wanted.upper() in (self.address.upper(), self.name.upper())


#: Returns the profile name of an advertisement, or None if unsupported:
#: ``(name, service_uuids, manufacturer_data, service_data) -> str | None``.
ProfileMatcher = Callable[[str, Sequence[str], dict[int, bytes], dict[str, bytes]], str | None]


def battery_from_service_data(service_data: dict[str, bytes]) -> float | None:
    """Battery % from advertised Battery Service data (0x180F), if present."""
    raw = service_data.get(BATTERY_SERVICE_UUID)
    if raw and 0 <= raw[0] <= 100:
        return float(raw[0])
    return None


async def scan(
    matcher: ProfileMatcher | None,
    timeout_s: float = 5.0,
    read_battery: bool = False,
    wanted: Sequence[str] = (),
) -> list[FoundDevice]:
    """Scan for ``timeout_s`` s and list the supported devices, strongest first.

    ``matcher`` None lists every device (profile ""). With ``wanted``
    (addresses or names), the scan ends as soon as all of
    them were seen. With ``read_battery``, devices whose advertisement gives
    no battery level are connected briefly to read the Battery Service
    (0x180F / 0x2A19).
    """
    from bleak import BleakScanner
    from bleak.exc import BleakError

    seen: dict[str, FoundDevice] = {}
    keys = {w.upper() for w in wanted}
    done = asyncio.Event()

    def on_adv(device: Any, adv: Any) -> None:
        name = adv.local_name or device.name or ""
        service_data = {k: bytes(v) for k, v in adv.service_data.items()}
        profile = (
            ""
            if matcher is None
            else matcher(name, list(adv.service_uuids), dict(adv.manufacturer_data), service_data)
        )
        if profile is None:
            return
        battery = battery_from_service_data(service_data)
        seen[device.address] = FoundDevice(
            device.address, name, profile, int(adv.rssi), battery, device
        )
        got = {k.upper() for d in seen.values() for k in (d.address, d.name)}
        if keys and keys <= got:
            done.set()

    try:
        async with BleakScanner(detection_callback=on_adv):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), timeout_s)
    except (BleakError, OSError) as err:
        raise BleError(f"cannot scan for Bluetooth devices: {err}") from err
    found = list(seen.values())
    if read_battery:
        for i, d in enumerate(found):
            if d.battery_pct is None:
                battery = await read_battery_level(d.ble_device)
                found[i] = dataclasses.replace(d, battery_pct=battery)
    return sorted(found, key=lambda d: -d.rssi_dbm)


async def read_battery_level(device: object, timeout_s: float = 10.0) -> float | None:
    """Connect, read 0x2A19, disconnect. None if the device has no battery service."""
    from bleak import BleakClient
    from bleak.exc import BleakError

    async def read() -> float | None:
        async with BleakClient(device) as client:  # type: ignore[arg-type]
            char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
            if char is None:
                return None
            raw = await client.read_gatt_char(char)
            return float(raw[0]) if raw else None

    try:
        return await asyncio.wait_for(read(), timeout_s)
    except (BleakError, OSError, asyncio.TimeoutError):
        return None
