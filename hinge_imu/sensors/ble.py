"""BLE sensors through bleak: data types, the driver interface, and scanning.

The streaming session is in :mod:`hinge_imu.sensors.ble_session`. What a
device says and how to talk to it (commands, packet layout) comes from a
*driver*: any object with the :class:`SensorDriver` attributes; the profiles
in ``firmware_config/`` provide them (see
:mod:`hinge_imu.sensors.ble_drivers`).

Everything a session hands out is a frozen dataclass: :class:`SampleBlock`
(decoded samples of one sensor on the session clock), :class:`LinkEvent`
(connected, disconnected, reconnected, battery, warning) and
:class:`SensorHealth` (rate, loss, battery).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hinge_imu.errors import HingeImuError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class BleError(HingeImuError):
    """No adapter, a sensor not found, a configuration refused, …"""


@dataclass(frozen=True)
class Decoded:
    """Samples decoded from one notification (units of docs/recording-format.md).

    Attributes:
        acc_mps2: (N, 3) m/s², sensor frame.
        gyr_dps: (N, 3) deg/s, sensor frame.
        seq: (N,) the device's sample counter as sent (may wrap), or None;
            this is what the recording's ``seq`` column gets.
        clock_value: what the driver's clock places the packet by: the
            device time of the first sample (s, as sent) or its counter;
            None for devices that send neither.
    """

    acc_mps2: FloatArray
    gyr_dps: FloatArray
    seq: IntArray | None = None
    clock_value: float | int | None = None


class Clocked(Protocol):
    """Host times of one packet's samples (see ``hinge_imu.sensors.clock``)."""

    @property
    def t_s(self) -> FloatArray: ...

    @property
    def lost(self) -> int: ...


class SampleClock(Protocol):
    """Device time → host time for one sensor (``hinge_imu.sensors.clock.SensorClock``)."""

    def update(
        self, device_time_or_counter: float | int | None, host_arrival_s: float, n_samples: int
    ) -> Clocked: ...


class SensorDriver(Protocol):
    """How to talk to one device model at one configuration.

    ``commands`` are written in order to ``control_uuid`` after connecting
    (``stop_commands`` before a deliberate disconnect);
    each gets a notification on ``response_uuid`` that ``check_response``
    judges (``None`` = accepted, otherwise why not); ``is_response`` tells
    answers from sample packets where both share a characteristic. ``decode`` turns one
    notification of a ``data_uuids`` characteristic into samples (or None
    for packets without samples); ``make_clock`` gives the clock that puts
    them on the host clock (``Decoded.clock_value`` is its input).
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

    def decode(self, char_uuid: str, data: bytes) -> Decoded | None: ...

    def reset(self) -> None: ...

    def make_clock(self) -> SampleClock: ...


@dataclass(frozen=True)
class SensorHealth:
    """How one sensor is doing right now.

    Attributes:
        rate_hz: samples received per second over the last few seconds.
        loss_pct: samples missing (by the device counter) since the start, %.
        battery_pct: last battery reading, or None if the device gives none.
        received: samples received since the start.
        lost: samples missing by the counter (gaps during drops included).
        drops: how often the link dropped.
        connected: link up now.
    """

    sensor: str
    rate_hz: float
    loss_pct: float
    battery_pct: float | None
    received: int
    lost: int
    drops: int
    connected: bool


@dataclass(frozen=True)
class FoundDevice:
    """One supported device seen during a scan."""

    address: str
    name: str
    profile: str
    rssi_dbm: int
    battery_pct: float | None = None


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
    matcher: ProfileMatcher,
    timeout_s: float = 5.0,
    read_battery: bool = False,
    wanted: Sequence[str] = (),
) -> list[FoundDevice]:
    """Scan for ``timeout_s`` s and list the supported devices, strongest first.

    With ``wanted`` (addresses or names), the scan ends as soon as all of
    them were seen. With ``read_battery``, devices whose advertisement gives
    no battery level are connected briefly to read the Battery Service
    (0x180F / 0x2A19).
    """
    from bleak import BleakScanner
    from bleak.exc import BleakError

    seen: dict[str, FoundDevice] = {}
    ble_devices: dict[str, object] = {}
    keys = {w.upper() for w in wanted}
    done = asyncio.Event()

    def on_adv(device: Any, adv: Any) -> None:
        name = adv.local_name or device.name or ""
        service_data = {k: bytes(v) for k, v in adv.service_data.items()}
        profile = matcher(name, list(adv.service_uuids), dict(adv.manufacturer_data), service_data)
        if profile is None:
            return
        battery = battery_from_service_data(service_data)
        seen[device.address] = FoundDevice(device.address, name, profile, int(adv.rssi), battery)
        ble_devices[device.address] = device
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
                battery = await read_battery_level(ble_devices[d.address])
                found[i] = dataclasses.replace(d, battery_pct=battery)
    return sorted(found, key=lambda d: -d.rssi_dbm)


async def find_devices(wanted: Sequence[str], timeout_s: float) -> dict[str, Any]:
    """bleak devices seen within ``timeout_s``, by upper-case address or name in ``wanted``.

    Returns as soon as all were seen; missing ones are simply absent.
    """
    from bleak import BleakScanner
    from bleak.exc import BleakError

    keys = {w.upper() for w in wanted}
    found: dict[str, Any] = {}
    done = asyncio.Event()

    def seen(device: Any, adv: Any) -> None:
        for key in (device.address.upper(), (adv.local_name or device.name or "").upper()):
            if key in keys and key not in found:
                found[key] = device
        if len(found) == len(keys):
            done.set()

    try:
        async with BleakScanner(detection_callback=seen):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), timeout_s)
    except (BleakError, OSError) as err:
        raise BleError(f"cannot scan for Bluetooth devices: {err}") from err
    return found


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
