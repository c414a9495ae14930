"""BlueZ's D-Bus object model as the stand-in serves it: names, property types, objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Variant

from tests.ble.sim_device import SimDevice

OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
SERVICE = "org.bluez.GattService1"
CHAR = "org.bluez.GattCharacteristic1"
ADAPTER_PATH = "/org/bluez/hci0"

_SIG = {
    "Address": "s",
    "AddressType": "s",
    "Name": "s",
    "Alias": "s",
    "Powered": "b",
    "Discovering": "b",
    "Discoverable": "b",
    "Pairable": "b",
    "Roles": "as",
    "UUIDs": "as",
    "Adapter": "o",
    "Connected": "b",
    "ServicesResolved": "b",
    "Paired": "b",
    "Bonded": "b",
    "Trusted": "b",
    "Blocked": "b",
    "LegacyPairing": "b",
    "RSSI": "n",
    "TxPower": "n",
    "ManufacturerData": "a{qv}",
    "ServiceData": "a{sv}",
    "UUID": "s",
    "Primary": "b",
    "Device": "o",
    "Service": "o",
    "Value": "ay",
    "Notifying": "b",
    "Flags": "as",
    "MTU": "q",
}


def variant(name: str, value: Any) -> Variant:
    sig = _SIG[name]
    if sig == "a{qv}" or sig == "a{sv}":
        value = {k: Variant("ay", bytes(v)) for k, v in value.items()}
    return Variant(sig, value)


def variants(props: dict[str, Any]) -> dict[str, Variant]:
    return {k: variant(k, v) for k, v in props.items()}


@dataclass
class DevState:
    dev: SimDevice
    path: str
    connected: bool = False
    visible: bool = False
    reconnect_allowed: bool = True
    char_paths: dict[str, str] = field(default_factory=dict)  # path -> uuid
    notifying: set[str] = field(default_factory=set)
    gatt_paths: list[str] = field(default_factory=list)


def adapter_props(discovering: bool) -> dict[str, Any]:
    return {
        "Address": "00:1A:7D:DA:71:13",
        "AddressType": "public",
        "Name": "hci0 (simulated)",
        "Alias": "hci0 (simulated)",
        "Powered": True,
        "Discovering": discovering,
        "Discoverable": False,
        "Pairable": True,
        "Roles": ["central", "peripheral"],
        "UUIDs": [],
    }


def device_props(st: DevState) -> dict[str, Any]:
    d = st.dev
    return {
        "Address": d.address,
        "AddressType": "random",
        "Name": d.name,
        "Alias": d.name,
        "Adapter": ADAPTER_PATH,
        "Paired": False,
        "Bonded": False,
        "Trusted": False,
        "Blocked": False,
        "LegacyPairing": False,
        "Connected": st.connected,
        "ServicesResolved": st.connected,
        "RSSI": d.rssi_dbm,
        "UUIDs": d.adv_uuids,
        "ManufacturerData": d.manufacturer_data,
        "ServiceData": d.service_data,
    }


def gatt_objects(st: DevState) -> dict[str, dict[str, dict[str, Any]]]:
    objs: dict[str, dict[str, dict[str, Any]]] = {}
    handle = 0x000A
    st.char_paths.clear()
    for svc in st.dev.services:
        spath = f"{st.path}/service{handle:04x}"
        objs[spath] = {SERVICE: {"UUID": svc.uuid, "Primary": True, "Device": st.path}}
        handle += 1
        for ch in svc.chars:
            cpath = f"{spath}/char{handle:04x}"
            handle += 2
            objs[cpath] = {
                CHAR: {
                    "UUID": ch.uuid,
                    "Service": spath,
                    "Value": ch.value,
                    "Notifying": False,
                    "Flags": ch.flags,
                    "MTU": 247,
                }
            }
            st.char_paths[cpath] = ch.uuid
        handle += 1
    return objs
