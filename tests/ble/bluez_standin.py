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
import threading
import time
from collections.abc import Callable
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply

from tests.ble.bluez_objects import (
    ADAPTER,
    ADAPTER_PATH,
    CHAR,
    DEVICE,
    OM,
    PROPS,
    SERVICE,
    DevState,
    adapter_props,
    device_props,
    gatt_objects,
    variant,
    variants,
)
from tests.ble.private_bus import start_private_bus
from tests.ble.sim_device import GattChar, GattService, SentPacket, SimDevice

__all__ = [
    "BlueZStandIn",
    "GattChar",
    "GattService",
    "SentPacket",
    "SimDevice",
    "start_private_bus",
]


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
        self._devs: dict[str, DevState] = {}
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
            st = DevState(dev, path)
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

    def inject(self, address: str, char_uuid: str, data: bytes | Callable[[], bytes]) -> None:
        """Send one notification as if the device had (a malformed packet, a stale one, …).

        ``data`` may be a function that makes the bytes: it runs on the
        stand-in's loop, so no packet of the device comes in between (a
        packet made from the device's last one is the next it sends).
        It is not counted as a sample the device sent (``sent_index``).
        """

        def send() -> None:
            packet = data() if callable(data) else data
            self._notify_all(self._by_address(address), [(char_uuid, packet)])

        self.call(send)

    def _allow(self, st: DevState) -> None:
        st.reconnect_allowed = True

    @property
    def t0_perf_s(self) -> float | None:
        """``time.perf_counter()`` at simulated device time 0 (None before any stream).

        With ``speed == 1`` a sample a device takes at device time ``d`` is
        due at ``t0_perf_s + d``: the true instant tests compare recorded
        times with. Each packet is sent at the first tick after its last
        sample is due (later when the host is busy), never earlier.
        """
        return self._t0_perf_s

    def is_connected(self, address: str) -> bool:
        return bool(self.call(lambda: self._by_address(address).connected))

    def _by_address(self, address: str) -> DevState:
        for st in self._devs.values():
            if st.dev.address == address.upper():
                return st
        raise KeyError(address)

    # -- object model -------------------------------------------------------
    def _managed_objects(self) -> dict[str, dict[str, dict[str, Variant]]]:
        out = {ADAPTER_PATH: {ADAPTER: variants(adapter_props(self._discovering))}}
        for st in self._devs.values():
            if not st.visible:
                continue
            out[st.path] = {DEVICE: variants(device_props(st))}
            if st.connected:
                for path, ifaces in gatt_objects(st).items():
                    out[path] = {i: variants(p) for i, p in ifaces.items()}
        return out

    def _char_uuid_value(self, st: DevState, char_path: str) -> GattChar:
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
        self._signal(path, PROPS, "PropertiesChanged", "sa{sv}as", [iface, variants(changed), []])

    def _show(self, st: DevState) -> None:
        st.visible = True
        body = [st.path, {DEVICE: variants(device_props(st))}]
        self._signal("/", OM, "InterfacesAdded", "oa{sa{sv}}", body)

    def _connect(self, st: DevState) -> None:
        st.connected = True
        st.notifying.clear()
        st.dev.on_connect()
        self._props_changed(st.path, DEVICE, {"Connected": True})
        objs = gatt_objects(st)
        st.gatt_paths = list(objs)
        for path, ifaces in objs.items():
            body = [path, {i: variants(p) for i, p in ifaces.items()}]
            self._signal("/", OM, "InterfacesAdded", "oa{sa{sv}}", body)
        self._props_changed(st.path, DEVICE, {"ServicesResolved": True})

    def _disconnect(self, st: DevState) -> None:
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
            props = adapter_props(self._discovering)
        elif path in self._devs and iface == DEVICE:
            props = device_props(self._devs[path])
        else:
            raise _Fail("org.freedesktop.DBus.Error.InvalidArgs", f"no {iface} on {path}")
        if msg.member == "GetAll":
            return Message.new_method_return(msg, "a{sv}", [variants(props)])
        name = msg.body[1]
        return Message.new_method_return(msg, "v", [variant(name, props[name])])

    # -- streaming ----------------------------------------------------------
    def _notify_all(self, st: DevState, packets: list[tuple[str, bytes]]) -> None:
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
