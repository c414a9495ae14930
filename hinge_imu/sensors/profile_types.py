"""Data types of device profiles, and the command-template renderer.

See :mod:`hinge_imu.sensors.profiles` (loading) and
``firmware_config/README.md`` (every key). Commands are hex templates:
whitespace-separated tokens, each either one byte in hex (``02``), a
placeholder ``{name:type}`` packed little-endian (types ``u8 u16 u32 u64
i16 f32``), or a quoted ASCII text whose ``{name}`` fields are filled in
(``"/Meas/IMU6/{rate_hz}"``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hinge_imu.errors import HingeImuError

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class ProfileError(HingeImuError):
    """A profile file is missing or malformed, or a setting is unsupported."""


@dataclass(frozen=True)
class GattLayout:
    """UUIDs (lower case) of the services and characteristics used.

    Attributes:
        service: the vendor service that carries data and commands.
        data: notify characteristic(s) carrying sample packets.
        control: write characteristic for commands ('' if none).
        response: characteristic on which command answers arrive ('' if
            the device does not answer).
        battery_service, battery_level: the standard Battery Service.
    """

    service: str
    data: tuple[str, ...]
    control: str
    response: str
    battery_service: str = BATTERY_SERVICE_UUID
    battery_level: str = BATTERY_LEVEL_UUID


@dataclass(frozen=True)
class AdvertisementMatch:
    """How ``scan`` recognises the device: any one criterion is enough."""

    name_prefixes: tuple[str, ...] = ()
    service_uuids: tuple[str, ...] = ()
    manufacturer_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TimestampSpec:
    """The device's own time stamps in packets.

    Attributes:
        present: packets carry a time stamp.
        unit_s: seconds per tick (1e-3 for ms, 1e-6 for µs, 1e-9 for ns).
        bits: width of the counter; it wraps at ``2**bits`` ticks.
        refers_to: which sample of a packet the stamp belongs to
            (``first`` or ``last``).
    """

    present: bool
    unit_s: float = 1e-3
    bits: int = 32
    refers_to: str = "first"

    @property
    def wrap_s(self) -> float | None:
        """Seconds after which the stamp wraps round (None: never in practice)."""
        if not self.present or self.bits >= 64:
            return None
        return float(2**self.bits) * self.unit_s


@dataclass(frozen=True)
class SequenceSpec:
    """A sample or packet counter in packets.

    Attributes:
        present: packets carry a counter.
        bits: width of the counter; it wraps at ``2**bits``.
        counts: ``samples`` (counter of the first sample of the packet) or
            ``packets``.
    """

    present: bool
    bits: int = 16
    counts: str = "samples"

    @property
    def modulus(self) -> int | None:
        return 2**self.bits if self.present else None


@dataclass(frozen=True)
class DeviceProfile:
    """One device model, as described by its TOML file.

    Attributes:
        name: profile name (the file's stem).
        title: human name of the device.
        protocol: which protocol module reads it (see :data:`PROTOCOLS`;
            ``hinge_imu.sensors.protocols.PROTOCOLS`` holds the classes).
        source: where the protocol description comes from.
        gatt, advertisement, timestamp, sequence: see their types.
        rates_hz, acc_ranges_g, gyr_ranges_dps: supported settings.
        default_rate_hz, default_acc_range_g, default_gyr_range_dps: the
            settings used when none is asked for.
        rate_codes, acc_range_codes, gyr_range_codes: setting → the number
            the device expects in a command or packet (empty if none).
        commands: command name (``start``, ``stop``, …) → list of templates.
        command_values: constants available to the templates.
        samples_per_packet: rate (Hz) → samples in one notification, where
            the device fixes it.
        packet: protocol-specific layout (offsets, types, scales), read-only.
        path: the TOML file it came from.
    """

    name: str
    title: str
    protocol: str
    source: str
    gatt: GattLayout
    advertisement: AdvertisementMatch
    timestamp: TimestampSpec
    sequence: SequenceSpec
    rates_hz: tuple[float, ...]
    acc_ranges_g: tuple[float, ...]
    gyr_ranges_dps: tuple[float, ...]
    default_rate_hz: float
    default_acc_range_g: float
    default_gyr_range_dps: float
    rate_codes: Mapping[float, int] = field(default_factory=dict)
    acc_range_codes: Mapping[float, int] = field(default_factory=dict)
    gyr_range_codes: Mapping[float, int] = field(default_factory=dict)
    commands: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    command_values: Mapping[str, Any] = field(default_factory=dict)
    samples_per_packet: Mapping[float, int] = field(default_factory=dict)
    packet: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    def check_settings(
        self, rate_hz: float | None, acc_range_g: float | None, gyr_range_dps: float | None
    ) -> tuple[float, float, float]:
        """Fill defaults and refuse settings the device does not support."""
        rate = self.default_rate_hz if rate_hz is None else float(rate_hz)
        acc = self.default_acc_range_g if acc_range_g is None else float(acc_range_g)
        gyr = self.default_gyr_range_dps if gyr_range_dps is None else float(gyr_range_dps)
        for what, value, allowed, unit in (
            ("rate", rate, self.rates_hz, "Hz"),
            ("accelerometer range", acc, self.acc_ranges_g, "g"),
            ("gyroscope range", gyr, self.gyr_ranges_dps, "deg/s"),
        ):
            if not any(abs(value - a) < 1e-6 for a in allowed):
                choices = ", ".join(f"{a:g}" for a in allowed)
                raise ProfileError(
                    f"{self.name}: {what} {value:g} {unit} not supported (choose {choices})"
                )
        return rate, acc, gyr

    def template_values(
        self, rate_hz: float, acc_range_g: float, gyr_range_dps: float
    ) -> dict[str, Any]:
        """Values the command templates may use, for one configuration."""
        values: dict[str, Any] = dict(self.command_values)
        values.update(
            rate_hz=_num(rate_hz),
            acc_range_g=_num(acc_range_g),
            gyr_range_dps=_num(gyr_range_dps),
            rate_code=_lookup(self.rate_codes, rate_hz),
            acc_code=_lookup(self.acc_range_codes, acc_range_g),
            gyr_code=_lookup(self.gyr_range_codes, gyr_range_dps),
        )
        return values

    def command_bytes(
        self,
        name: str,
        rate_hz: float | None = None,
        acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> list[bytes]:
        """The byte strings of command list ``name`` for one configuration."""
        if name not in self.commands:
            raise ProfileError(f"{self.name}: no command {name!r}", self.path)
        rate, acc, gyr = self.check_settings(rate_hz, acc_range_g, gyr_range_dps)
        values = self.template_values(rate, acc, gyr)
        return [render_command(t, values, self.path) for t in self.commands[name]]

    def samples_in_packet(self, rate_hz: float) -> int | None:
        """Samples per notification at ``rate_hz`` if the device fixes it."""
        got = _lookup(self.samples_per_packet, rate_hz)
        return None if got is None else int(got)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def _lookup(table: Mapping[float, int], key: float) -> int | None:
    for k, v in table.items():
        if abs(k - key) < 1e-6:
            return v
    return None


# ---------------------------------------------------------------- templates

_TOKEN = re.compile(r'"[^"]*"|\{[^}]*\}|\S+')
_PACK = {"u8": "<B", "u16": "<H", "u32": "<I", "i16": "<h", "f32": "<f", "u64": "<Q"}


def render_command(template: str, values: Mapping[str, Any], path: str = "") -> bytes:
    """Fill a hex template (see the module docstring) and return its bytes."""
    out = bytearray()
    for tok in _TOKEN.findall(template):
        if tok.startswith('"'):
            try:
                out += tok[1:-1].format(**values).encode("ascii")
            except (KeyError, ValueError) as err:
                raise ProfileError(f"command {template!r}: cannot fill {tok}: {err}", path) from err
        elif tok.startswith("{"):
            name, _, kind = tok[1:-1].partition(":")
            if kind not in _PACK:
                raise ProfileError(f"command {template!r}: unknown placeholder type {kind!r}", path)
            if values.get(name) is None:
                raise ProfileError(f"command {template!r}: no value for {name!r}", path)
            try:
                out += struct.pack(_PACK[kind], values[name])
            except struct.error as err:
                raise ProfileError(
                    f"command {template!r}: {name}={values[name]}: {err}", path
                ) from err
        else:
            try:
                out += bytes.fromhex(tok)
            except ValueError as err:
                raise ProfileError(f"command {template!r}: bad hex {tok!r}", path) from err
    return bytes(out)
