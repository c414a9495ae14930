"""A BlueZ stand-in: the parts of ``org.bluez`` that bleak's BlueZ backend uses.

It runs on a private ``dbus-daemon`` (see ``conftest.py``), owns the name
``org.bluez`` and serves simulated devices (:class:`SimDevice`), so the
hinge-imu BLE code is tested through the real bleak library and real D-Bus
messages. Everything it serves is SIMULATED.

Implemented (read from bleak 3.x ``backends/bluezdbus/manager.py`` and
``client.py``): ObjectManager.GetManagedObjects with InterfacesAdded /
InterfacesRemoved, Properties Get/GetAll/Set with PropertiesChanged,
Adapter1 (StartDiscovery, StopDiscovery, SetDiscoveryFilter, RemoveDevice),
Device1 (Connect, Disconnect), GattCharacteristic1 (StartNotify, StopNotify,
ReadValue, WriteValue). Notifications are PropertiesChanged(Value) signals,
which is what bleak's default ``StartNotify`` path listens to.

Devices appear (InterfacesAdded) only while discovery runs, because bleak's
scanner reacts to signals, not to objects that already exist. GATT objects
are added before ``ServicesResolved`` turns true, as BlueZ does.

The server runs its own event loop in a thread; tests talk to it through the
thread-safe methods (``add_device``, ``drop``, ``allow_reconnect``).
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply

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


def _variant(name: str, value: Any) -> Variant:
    sig = _SIG[name]
    if sig == "a{qv}" or sig == "a{sv}":
        value = {k: Variant("ay", bytes(v)) for k, v in value.items()}
    return Variant(sig, value)


def _variants(props: dict[str, Any]) -> dict[str, Variant]:
    return {k: _variant(k, v) for k, v in props.items()}


@dataclass
class GattChar:
    """One characteristic a simulated device offers."""

    uuid: str
    flags: list[str]
    value: bytes = b""


@dataclass
class GattService:
    uuid: str
    chars: list[GattChar]


class SimDevice:
    """A simulated BLE peripheral. Subclasses speak a device's protocol.

    Override ``on_write`` (answer control writes), ``on_read`` and
    ``packets_until`` (the notifications due up to a device time).
    """

    def __init__(
        self,
        address: str,
        name: str,
        services: list[GattService],
        rssi_dbm: int = -60,
        adv_uuids: list[str] | None = None,
        manufacturer_data: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
    ) -> None:
        self.address = address.upper()
        self.name = name
        self.services = services
        self.rssi_dbm = rssi_dbm
        self.adv_uuids = adv_uuids or []
        self.manufacturer_data = manufacturer_data or {}
        self.service_data = service_data or {}
        self.streaming = False

    # -- protocol hooks, called on the stand-in's loop --------------------
    def on_connect(self) -> None:
        """The central connected; a real device stops streaming until told."""
        self.streaming = False

    def on_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        """A write to ``char_uuid``; returns notifications to send (uuid, bytes)."""
        return []

    def on_read(self, char_uuid: str) -> bytes | None:
        """Value of a read, or None to serve the characteristic's stored value."""
        return None

    def packets_until(self, device_t_s: float) -> list[tuple[str, bytes]]:
        """Notifications due while streaming, up to ``device_t_s``.

        ``device_t_s`` is the stand-in's simulated time (s since the first
        device started streaming, times ``speed``), the same for every device.
        """
        return []


@dataclass
class SentPacket:
    """A notification the stand-in put on the bus (for tests and benchmarks)."""

    address: str
    char_uuid: str
    data: bytes
    sent_perf_s: float  # time.perf_counter() just before the signal was sent


@dataclass
class _DevState:
    dev: SimDevice
    path: str
    connected: bool = False
    visible: bool = False
    reconnect_allowed: bool = True
    char_paths: dict[str, str] = field(default_factory=dict)  # path -> uuid
    notifying: set[str] = field(default_factory=set)
    gatt_paths: list[str] = field(default_factory=list)


DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


def start_private_bus(dbus_daemon: str, workdir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start a private system-type bus that allows everything; returns (process, address)."""
    conf = workdir / "system.conf"
    conf.write_text(DBUS_CONFIG.format(socket=workdir / "bus.sock"))
    proc = subprocess.Popen(
        [dbus_daemon, f"--config-file={conf}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


class BlueZStandIn:
    """Serve ``org.bluez`` on the bus at ``bus_address`` (a thread with its own loop).

    Args:
        bus_address: D-Bus address of the private daemon.
        speed: device time runs ``speed`` times faster than real time (so a
            30 s recording streams in 30/speed s; every packet still goes
            through D-Bus and bleak).
        tick_s: how often due packets are sent, s of real time.
    """

    def __init__(self, bus_address: str, speed: float = 1.0, tick_s: float = 0.01) -> None:
        self.bus_address = bus_address
        self.speed = float(speed)
        self.tick_s = float(tick_s)
        self.sent: list[SentPacket] = []
        self.writes: list[tuple[str, str, bytes]] = []  # (address, char uuid, data)
        self._devs: dict[str, _DevState] = {}
        self._discovering = False
        self._bus: MessageBus | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="bluez-standin", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._t0_perf_s: float | None = None

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("BlueZ stand-in did not start")
        if self._error is not None:
            raise RuntimeError(f"BlueZ stand-in failed: {self._error}")

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> BlueZStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._setup())
        except BaseException as err:  # reported to start()
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _setup(self) -> None:
        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM)
        await bus.connect()
        bus.add_message_handler(self._handle)
        reply = await bus.request_name("org.bluez", NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"could not own org.bluez: {reply}")
        self._bus = bus
        self._tick_task = asyncio.create_task(self._tick_loop())

    async def _shutdown(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        if self._bus is not None:
            await self._bus.release_name("org.bluez")
            self._bus.disconnect()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the stand-in's loop and return its result (thread-safe)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    # -- test controls (thread-safe) ------------------------------------------
    def add_device(self, dev: SimDevice) -> None:
        def add() -> None:
            path = f"{ADAPTER_PATH}/dev_{dev.address.replace(':', '_')}"
            st = _DevState(dev, path)
            self._devs[path] = st
            if self._discovering:
                self._show(st)

        self.call(add)

    def drop(self, address: str, allow_reconnect_after_s: float = 0.0) -> None:
        """The device goes out of range: Connected=false, GATT objects removed.

        It refuses ``Connect`` for ``allow_reconnect_after_s`` s of real time.
        """

        def drop() -> None:
            st = self._by_address(address)
            if allow_reconnect_after_s > 0:
                st.reconnect_allowed = False
                self._loop.call_later(allow_reconnect_after_s, self._allow, st)
            self._disconnect(st)

        self.call(drop)

    def _allow(self, st: _DevState) -> None:
        st.reconnect_allowed = True

    def is_connected(self, address: str) -> bool:
        return bool(self.call(lambda: self._by_address(address).connected))

    def _by_address(self, address: str) -> _DevState:
        for st in self._devs.values():
            if st.dev.address == address.upper():
                return st
        raise KeyError(address)

    # -- object model -------------------------------------------------------
    def _adapter_props(self) -> dict[str, Any]:
        return {
            "Address": "00:1A:7D:DA:71:13",
            "AddressType": "public",
            "Name": "hci0 (simulated)",
            "Alias": "hci0 (simulated)",
            "Powered": True,
            "Discovering": self._discovering,
            "Discoverable": False,
            "Pairable": True,
            "Roles": ["central", "peripheral"],
            "UUIDs": [],
        }

    def _device_props(self, st: _DevState) -> dict[str, Any]:
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

    def _gatt_objects(self, st: _DevState) -> dict[str, dict[str, dict[str, Any]]]:
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

    def _managed_objects(self) -> dict[str, dict[str, dict[str, Variant]]]:
        out = {ADAPTER_PATH: {ADAPTER: _variants(self._adapter_props())}}
        for st in self._devs.values():
            if not st.visible:
                continue
            out[st.path] = {DEVICE: _variants(self._device_props(st))}
            if st.connected:
                for path, ifaces in self._gatt_objects(st).items():
                    out[path] = {i: _variants(p) for i, p in ifaces.items()}
        return out

    def _char_uuid_value(self, st: _DevState, char_path: str) -> GattChar:
        uuid = st.char_paths[char_path]
        for svc in st.dev.services:
            for ch in svc.chars:
                if ch.uuid == uuid:
                    return ch
        raise KeyError(uuid)

    # -- signals ------------------------------------------------------------
    def _signal(self, path: str, iface: str, member: str, sig: str, body: list[Any]) -> None:
        assert self._bus is not None
        self._bus.send(
            Message.new_signal(path=path, interface=iface, member=member, signature=sig, body=body)
        )

    def _props_changed(self, path: str, iface: str, changed: dict[str, Any]) -> None:
        self._signal(path, PROPS, "PropertiesChanged", "sa{sv}as", [iface, _variants(changed), []])

    def _show(self, st: _DevState) -> None:
        st.visible = True
        body = [st.path, {DEVICE: _variants(self._device_props(st))}]
        self._signal("/", OM, "InterfacesAdded", "oa{sa{sv}}", body)

    def _connect(self, st: _DevState) -> None:
        st.connected = True
        st.notifying.clear()
        st.dev.on_connect()
        self._props_changed(st.path, DEVICE, {"Connected": True})
        objs = self._gatt_objects(st)
        st.gatt_paths = list(objs)
        for path, ifaces in objs.items():
            body = [path, {i: _variants(p) for i, p in ifaces.items()}]
            self._signal("/", OM, "InterfacesAdded", "oa{sa{sv}}", body)
        self._props_changed(st.path, DEVICE, {"ServicesResolved": True})

    def _disconnect(self, st: _DevState) -> None:
        if not st.connected:
            return
        st.connected = False
        st.dev.streaming = False
        st.notifying.clear()
        self._props_changed(st.path, DEVICE, {"ServicesResolved": False})
        for path in reversed(st.gatt_paths):
            iface = SERVICE if path.rsplit("/", 1)[1].startswith("service") else CHAR
            self._signal("/", OM, "InterfacesRemoved", "oas", [path, [iface]])
        st.gatt_paths = []
        self._props_changed(st.path, DEVICE, {"Connected": False})

    # -- method calls -------------------------------------------------------
    def _handle(self, msg: Message) -> Message | bool:
        if msg.message_type != MessageType.METHOD_CALL:
            return False
        try:
            return self._dispatch(msg)
        except _Fail as f:
            return Message.new_error(msg, f.name, f.text)

    def _dispatch(self, msg: Message) -> Message | bool:
        path, iface, member = msg.path or "", msg.interface, msg.member
        ok = Message.new_method_return(msg)
        if iface == OM and member == "GetManagedObjects":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self._managed_objects()])
        if iface == PROPS:
            return self._properties(msg)
        if iface == ADAPTER and path == ADAPTER_PATH:
            if member == "SetDiscoveryFilter":
                return ok
            if member == "StartDiscovery":
                self._discovering = True
                self._props_changed(ADAPTER_PATH, ADAPTER, {"Discovering": True})
                for st in self._devs.values():
                    if not st.connected:
                        self._show(st)
                return ok
            if member == "StopDiscovery":
                self._discovering = False
                self._props_changed(ADAPTER_PATH, ADAPTER, {"Discovering": False})
                return ok
            if member == "RemoveDevice":
                st = self._devs.get(msg.body[0])
                if st is not None:
                    self._disconnect(st)
                    st.visible = False
                    self._signal("/", OM, "InterfacesRemoved", "oas", [st.path, [DEVICE]])
                return ok
        st = self._devs.get(path)
        if iface == DEVICE and st is not None:
            if member == "Connect":
                if not st.reconnect_allowed:
                    raise _Fail("org.bluez.Error.Failed", "le-connection-abort-by-remote")
                if not st.connected:
                    self._connect(st)
                return ok
            if member == "Disconnect":
                self._disconnect(st)
                return ok
        if iface == CHAR:
            dev_path = path.rsplit("/", 2)[0]
            st = self._devs.get(dev_path)
            if st is None or not st.connected or path not in st.char_paths:
                raise _Fail("org.freedesktop.DBus.Error.UnknownObject", f"no object {path}")
            uuid = st.char_paths[path]
            if member == "StartNotify":
                st.notifying.add(path)
                self._props_changed(path, CHAR, {"Notifying": True})
                return ok
            if member == "StopNotify":
                st.notifying.discard(path)
                self._props_changed(path, CHAR, {"Notifying": False})
                return ok
            if member == "ReadValue":
                value = st.dev.on_read(uuid)
                if value is None:
                    value = self._char_uuid_value(st, path).value
                return Message.new_method_return(msg, "ay", [bytes(value)])
            if member == "WriteValue":
                data = bytes(msg.body[0])
                self.writes.append((st.dev.address, uuid, data))
                out = st.dev.on_write(uuid, data)
                reply = ok
                # The write is acknowledged before its response is notified.
                self._loop.call_soon(self._notify_all, st, out)
                return reply
        raise _Fail("org.freedesktop.DBus.Error.UnknownMethod", f"{iface}.{member} on {path}")

    def _properties(self, msg: Message) -> Message:
        path = msg.path or ""
        if msg.member == "Set":
            return Message.new_method_return(msg)
        iface = msg.body[0]
        if path == ADAPTER_PATH and iface == ADAPTER:
            props = self._adapter_props()
        elif path in self._devs and iface == DEVICE:
            props = self._device_props(self._devs[path])
        else:
            raise _Fail("org.freedesktop.DBus.Error.InvalidArgs", f"no {iface} on {path}")
        if msg.member == "GetAll":
            return Message.new_method_return(msg, "a{sv}", [_variants(props)])
        name = msg.body[1]
        return Message.new_method_return(msg, "v", [_variant(name, props[name])])

    # -- streaming ----------------------------------------------------------
    def _notify_all(self, st: _DevState, packets: list[tuple[str, bytes]]) -> None:
        if not st.connected:
            return
        by_uuid = {u: p for p, u in st.char_paths.items()}
        for uuid, data in packets:
            path = by_uuid.get(uuid)
            if path is None or path not in st.notifying:
                continue
            self.sent.append(SentPacket(st.dev.address, uuid, data, time.perf_counter()))
            self._props_changed(path, CHAR, {"Value": data})

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.perf_counter()
            for st in self._devs.values():
                if not (st.connected and st.dev.streaming):
                    continue
                # One time for all devices, from the first start, running on
                # through drops: they sit on one body that keeps moving.
                if self._t0_perf_s is None:
                    self._t0_perf_s = now
                device_t_s = (now - self._t0_perf_s) * self.speed
                self._notify_all(st, st.dev.packets_until(device_t_s))


class _Fail(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text
