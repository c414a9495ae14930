"""Device profiles: what each supported sensor says and how to talk to it.

A profile is data, read from ``firmware_config/<name>.toml`` (see
``firmware_config/README.md`` for every key). The loader looks in, in order:
the directory named by the environment variable ``HINGE_IMU_FIRMWARE_CONFIG``,
then ``firmware_config/`` in the repository that holds the package (the
package is installed editable).

Commands are hex templates: whitespace-separated tokens, each either one byte
in hex (``02``), a placeholder ``{name:type}`` packed little-endian
(types ``u8 u16 u32 i16 f32``), or a quoted ASCII text whose ``{name}``
fields are filled in (``"/Meas/IMU6/{rate_hz}"``). :func:`render_command`
fills them from the chosen rate and ranges and their device codes.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hinge_imu.errors import HingeImuError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

ENV_DIR = "HINGE_IMU_FIRMWARE_CONFIG"
PROTOCOLS = ("gsp", "metawear", "polar_pmd", "hinge_v1")
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
        protocol: which decoder family reads it (see :data:`PROTOCOLS`).
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


# ------------------------------------------------------------------ loading


def firmware_config_dirs() -> list[Path]:
    """Directories searched for profiles, first match wins."""
    dirs: list[Path] = []
    env = os.environ.get(ENV_DIR)
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parents[2] / "firmware_config")
    return dirs


def _profile_path(name: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ProfileError(f"bad profile name {name!r}")
    for d in firmware_config_dirs():
        p = d / f"{name}.toml"
        if p.is_file():
            return p
    known = ", ".join(list_profiles()) or "none found"
    raise ProfileError(f"unknown device profile {name!r} (known: {known})")


def list_profiles() -> list[str]:
    """Names of every profile found, sorted."""
    names: set[str] = set()
    for d in firmware_config_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


_CACHE: dict[tuple[str, float], DeviceProfile] = {}


def load_profile(name: str) -> DeviceProfile:
    """Read and check ``firmware_config/<name>.toml``."""
    path = _profile_path(name)
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = _parse(name, path)
    return _CACHE[key]


def _parse(name: str, path: Path) -> DeviceProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None)
        raise ProfileError(f"not valid TOML: {err}", path, line) from err
    r = _Reader(data, path)
    protocol = r.str_("device.protocol")
    if protocol not in PROTOCOLS:
        raise ProfileError(f"device.protocol {protocol!r} unknown (one of {PROTOCOLS})", path)
    ts_present = r.bool_("timestamp.present", True)
    seq_present = r.bool_("sequence.present", False)
    prof = DeviceProfile(
        name=name,
        title=r.str_("device.title"),
        protocol=protocol,
        source=r.str_("device.source"),
        gatt=GattLayout(
            service=r.uuid_("gatt.service"),
            data=tuple(_uuid(u, path) for u in r.list_("gatt.data")),
            control=r.uuid_("gatt.control", ""),
            response=r.uuid_("gatt.response", ""),
            battery_service=r.uuid_("gatt.battery_service", BATTERY_SERVICE_UUID),
            battery_level=r.uuid_("gatt.battery_level", BATTERY_LEVEL_UUID),
        ),
        advertisement=AdvertisementMatch(
            name_prefixes=tuple(r.list_("advertisement.name_prefixes", [])),
            service_uuids=tuple(_uuid(u, path) for u in r.list_("advertisement.service_uuids", [])),
            manufacturer_ids=tuple(int(x) for x in r.list_("advertisement.manufacturer_ids", [])),
        ),
        timestamp=TimestampSpec(
            present=ts_present,
            unit_s=r.float_("timestamp.unit_s", 1e-3),
            bits=r.int_("timestamp.bits", 32),
            refers_to=r.choice_("timestamp.refers_to", ("first", "last"), "first"),
        ),
        sequence=SequenceSpec(
            present=seq_present,
            bits=r.int_("sequence.bits", 16),
            counts=r.choice_("sequence.counts", ("samples", "packets"), "samples"),
        ),
        rates_hz=tuple(float(x) for x in r.list_("settings.rates_hz")),
        acc_ranges_g=tuple(float(x) for x in r.list_("settings.acc_ranges_g")),
        gyr_ranges_dps=tuple(float(x) for x in r.list_("settings.gyr_ranges_dps")),
        default_rate_hz=r.float_("settings.default_rate_hz"),
        default_acc_range_g=r.float_("settings.default_acc_range_g"),
        default_gyr_range_dps=r.float_("settings.default_gyr_range_dps"),
        rate_codes=r.codes_("codes.rate_hz"),
        acc_range_codes=r.codes_("codes.acc_range_g"),
        gyr_range_codes=r.codes_("codes.gyr_range_dps"),
        commands=MappingProxyType(
            {k: tuple(v) for k, v in r.table_("commands").items() if isinstance(v, list)}
        ),
        command_values=MappingProxyType(dict(r.table_("commands.values"))),
        samples_per_packet=r.codes_("settings.samples_per_packet"),
        packet=MappingProxyType(dict(r.table_("packet"))),
        path=str(path),
    )
    for cmd in ("start", "stop"):
        if cmd not in prof.commands:
            raise ProfileError(f"[commands] needs a {cmd!r} list", path)
    try:
        prof.check_settings(None, None, None)  # defaults must be among the choices
        for rate in prof.rates_hz:  # every placeholder must resolve at every rate
            prof.command_bytes("start", rate)
    except ProfileError as err:
        raise ProfileError(err.message, path) from err
    return prof


def _uuid(text: object, path: Path) -> str:
    s = str(text).strip().lower()
    if re.fullmatch(r"[0-9a-f]{4}", s):
        s = f"0000{s}-0000-1000-8000-00805f9b34fb"
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", s):
        raise ProfileError(f"{text!r} is not a UUID", path)
    return s


_MISSING = object()


class _Reader:
    """Typed access to dotted keys, with one-line errors naming the key."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path = data, path

    def get(self, key: str, default: Any = _MISSING) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is _MISSING:
                    raise ProfileError(f"missing key {key}", self.path)
                return default
            node = node[part]
        return node

    def _typed(self, key: str, types: tuple[type, ...], what: str, default: Any) -> Any:
        v = self.get(key, default)
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            raise ProfileError(f"{key} must be {what}, got {v!r}", self.path)
        return v

    def str_(self, key: str, default: Any = _MISSING) -> str:
        return str(self._typed(key, (str,), "a string", default))

    def bool_(self, key: str, default: Any = _MISSING) -> bool:
        return bool(self._typed(key, (bool,), "true or false", default))

    def int_(self, key: str, default: Any = _MISSING) -> int:
        return int(self._typed(key, (int,), "an integer", default))

    def float_(self, key: str, default: Any = _MISSING) -> float:
        return float(self._typed(key, (int, float), "a number", default))

    def list_(self, key: str, default: Any = _MISSING) -> list[Any]:
        return list(self._typed(key, (list,), "a list", default))

    def table_(self, key: str) -> dict[str, Any]:
        return dict(self._typed(key, (dict,), "a table", {}))

    def uuid_(self, key: str, default: Any = _MISSING) -> str:
        v = self.str_(key, default)
        return _uuid(v, self.path) if v else ""

    def choice_(self, key: str, choices: tuple[str, ...], default: str) -> str:
        v = self.str_(key, default)
        if v not in choices:
            raise ProfileError(f"{key} must be one of {choices}, got {v!r}", self.path)
        return v

    def codes_(self, key: str) -> Mapping[float, int]:
        out: dict[float, int] = {}
        for k, v in self.table_(key).items():
            try:
                out[float(k)] = int(v)
            except (TypeError, ValueError) as err:
                raise ProfileError(
                    f"{key}: {k!r} = {v!r} is not number = integer", self.path
                ) from err
        return MappingProxyType(out)


# ------------------------------------------------------------- advertising


def profile_for_advertisement(
    name: str | None,
    service_uuids: list[str] | tuple[str, ...] = (),
    manufacturer_data: Mapping[int, bytes] | None = None,
) -> DeviceProfile | None:
    """The profile of a device from what it advertises, or None if unsupported.

    A profile matches on an advertised service UUID, a manufacturer id, or
    a name prefix; service UUIDs are checked first because names can be
    changed by users.
    """
    advertised = {_safe_uuid(u) for u in service_uuids}
    makers = set((manufacturer_data or {}).keys())
    profiles = [load_profile(n) for n in list_profiles()]
    for p in profiles:
        if advertised & set(p.advertisement.service_uuids):
            return p
    for p in profiles:
        maker_ok = bool(makers & set(p.advertisement.manufacturer_ids))
        if maker_ok and (not p.advertisement.name_prefixes or _name_ok(name, p)):
            return p
    for p in profiles:
        if _name_ok(name, p):
            return p
    return None


def _name_ok(name: str | None, p: DeviceProfile) -> bool:
    return bool(name) and any(str(name).startswith(x) for x in p.advertisement.name_prefixes)


def _safe_uuid(u: str) -> str:
    try:
        return _uuid(u, Path("advertisement"))
    except ProfileError:
        return str(u).lower()
