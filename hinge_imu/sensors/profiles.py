"""Device profiles: what each supported sensor says and how to talk to it.

A profile is data, read from ``firmware_config/<name>.toml`` (see
``firmware_config/README.md`` for every key) into a frozen
:class:`~hinge_imu.sensors.profile_types.DeviceProfile`. The loader looks
in, in order: the directory named by the environment variable
``HINGE_IMU_FIRMWARE_CONFIG``, then ``firmware_config/`` in the repository
that holds the package (the package is installed editable).

API: :func:`load_profile`, :func:`list_profiles`,
:func:`profile_for_advertisement` (how ``scan`` recognises devices), and
``DeviceProfile.command_bytes("start", rate_hz, …)`` for the commands.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hinge_imu.sensors.profile_types import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    AdvertisementMatch,
    DeviceProfile,
    GattLayout,
    ProfileError,
    SequenceSpec,
    TimestampSpec,
    render_command,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

__all__ = [
    "ENV_DIR",
    "PROTOCOLS",
    "AdvertisementMatch",
    "DeviceProfile",
    "GattLayout",
    "ProfileError",
    "SequenceSpec",
    "TimestampSpec",
    "firmware_config_dirs",
    "list_profiles",
    "load_profile",
    "profile_for_advertisement",
    "render_command",
]

ENV_DIR = "HINGE_IMU_FIRMWARE_CONFIG"
PROTOCOLS = ("gsp", "metawear", "polar_pmd", "hinge_v1")


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
