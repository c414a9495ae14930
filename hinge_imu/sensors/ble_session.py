"""A streaming session with several BLE sensors: connect, configure, stream, reconnect.

Usage (the recorder and live coaching both do this)::

    async with BleSession(targets) as session:
        async for item in session:          # SampleBlock or LinkEvent
            ...
        session.health()                    # {sensor: SensorHealth}

Sensors are connected one at a time (BLE stacks dislike parallel connects).
The notification callback only stamps the host clock and queues the bytes,
as bleak advises; decoding and clocking (each driver's
:class:`~hinge_imu.sensors.clock.SensorClock`) run in the consumer
(``__anext__``). A dropped sensor is reconnected in the background and
the session yields ``disconnected`` / ``reconnected`` events; the missing
stretch stays a gap in ``t_s`` and ``seq``. Devices are torn down with an
``AsyncExitStack`` however the session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hinge_imu.samples import LinkEvent, SampleBlock
from hinge_imu.sensors.ble import (
    BATTERY_LEVEL_UUID,
    BleError,
    FloatArray,
    IntArray,
    SampleClock,
    SensorDriver,
    SensorHealth,
    find_devices,
)
from hinge_imu.sensors.clock import SensorClock, SkewReport, skew_report

#: Smallest time step between consecutive samples of one sensor, s.
MIN_STEP_S = 1e-5


@dataclass(frozen=True)
class SensorTarget:
    """Which device to use for one segment: ``device`` is an address or a name."""

    sensor: str
    device: str
    driver: SensorDriver


@dataclass
class _Link:
    target: SensorTarget
    ble_device: Any = None
    client: Any = None
    connected: bool = False
    configuring: bool = False
    responses: asyncio.Queue[tuple[float, bytes]] = field(default_factory=asyncio.Queue)
    clock: SampleClock | None = None
    last_t_s: float = -np.inf
    received: int = 0
    lost: int = 0
    drops: int = 0
    battery_pct: float | None = None
    arrivals: deque[tuple[float, int]] = field(default_factory=deque)
    reconnect_task: asyncio.Task[None] | None = None
    down_since_s: float | None = None
    stopped: bool = False

    @property
    def sensor(self) -> str:
        return self.target.sensor

    @property
    def label(self) -> str:
        return f"{self.target.sensor} ({self.target.driver.profile} {self.target.device})"


class BleSession:
    """Stream several sensors as one session (an async context manager and iterator).

    Args:
        targets: one per segment.
        scan_timeout_s: how long to look for the devices, s.
        connect_timeout_s: per connection attempt, s.
        response_timeout_s: how long a device may take to answer a command, s.
        reconnect: reconnect dropped sensors by itself.
        reconnect_interval_s: pause between reconnect attempts, s.
        battery_interval_s: how often the battery level is read again, s.
        stop_timeout_s: how long each stop command may take, s.
    """

    def __init__(
        self,
        targets: Sequence[SensorTarget],
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 15.0,
        response_timeout_s: float = 3.0,
        reconnect: bool = True,
        reconnect_interval_s: float = 1.0,
        battery_interval_s: float = 60.0,
        stop_timeout_s: float = 2.0,
    ) -> None:
        names = [t.sensor for t in targets]
        if len(set(names)) != len(names):
            raise BleError("each sensor may appear only once")
        self.targets = list(targets)
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.response_timeout_s = response_timeout_s
        self.reconnect = reconnect
        self.reconnect_interval_s = reconnect_interval_s
        self.battery_interval_s = battery_interval_s
        self.stop_timeout_s = stop_timeout_s
        self._battery_task: asyncio.Task[None] | None = None
        self._links = [_Link(t) for t in targets]
        self._queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._stack: contextlib.AsyncExitStack | None = None
        self._start_perf_s = time.perf_counter()
        self._stopping = False

    # -- clock ----------------------------------------------------------------
    def now_s(self) -> float:
        """Session clock, s since the session started connecting."""
        return time.perf_counter() - self._start_perf_s

    @property
    def start_perf_s(self) -> float:
        """``time.perf_counter()`` at session time 0."""
        return self._start_perf_s

    # -- lifecycle --------------------------------------------------------------
    async def __aenter__(self) -> BleSession:
        self._start_perf_s = time.perf_counter()
        self._stack = contextlib.AsyncExitStack()
        try:
            await self._find_devices()
            for link in self._links:
                self._stack.push_async_callback(self._close_link, link)
                await self._open(link)
                self._announce(link, reconnected=False)
            self._battery_task = asyncio.create_task(self._battery_loop())
        except BaseException:
            self._stopping = True
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reconnecting and disconnect every sensor."""
        self._stopping = True
        if self._battery_task is not None:
            self._battery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._battery_task
        for link in self._links:
            if link.reconnect_task is not None:
                link.reconnect_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await link.reconnect_task
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def stop_streaming(self) -> None:
        """Tell every connected sensor to stop, then stop reconnecting.

        Each stop command is written with a response: D-Bus keeps a
        connection's messages in order, so when the last write is answered
        every notification the device sent before it has been queued here.
        Read the rest with :meth:`get_nowait` before leaving the session, and
        nothing that reached the host is lost.
        """
        self._stopping = True
        for link in self._links:
            client = link.client
            if not link.connected or client is None or link.stopped:
                continue
            link.stopped = True
            await self._write_stop(link, client)

    async def _write_stop(self, link: _Link, client: Any) -> None:
        drv = link.target.driver
        # The device may already be gone: stopping is best effort.
        with contextlib.suppress(Exception):
            if drv.control_uuid is not None and client.is_connected:
                for cmd in drv.stop_commands():
                    await asyncio.wait_for(
                        client.write_gatt_char(drv.control_uuid, cmd, response=True),
                        self.stop_timeout_s,
                    )

    async def _find_devices(self) -> None:
        wanted = {link.target.device.upper(): link for link in self._links}
        found = await find_devices(list(wanted), self.scan_timeout_s)
        missing = [link.label for key, link in wanted.items() if key not in found]
        if missing:
            raise BleError(
                f"not found within {self.scan_timeout_s:g} s: {', '.join(missing)}"
                " (is it switched on, charged, and not connected to another app?)"
            )
        for key, link in wanted.items():
            link.ble_device = found[key]

    async def _open(self, link: _Link) -> None:
        """Connect, subscribe, configure (commands checked), read the battery."""
        from bleak import BleakClient
        from bleak.exc import BleakError

        drv = link.target.driver
        client = BleakClient(
            link.ble_device,
            disconnected_callback=lambda _c: self._queue.put_nowait(
                ("down", link, time.perf_counter())
            ),
            timeout=self.connect_timeout_s,
        )
        try:
            await client.connect()
        except (BleakError, OSError, asyncio.TimeoutError) as err:
            raise BleError(f"{link.label}: cannot connect: {err or type(err).__name__}") from err
        link.client = client
        link.stopped = False
        if link.clock is None:
            # One clock per sensor for the whole session: after a reconnect the
            # device's own time (or counter) places the samples after the gap.
            link.clock = drv.make_clock()
        try:
            uuids = set(drv.data_uuids) | ({drv.response_uuid} if drv.response_uuid else set())
            for uuid in sorted(uuids):
                await client.start_notify(uuid, self._callback(link, uuid))
            drv.reset()
            link.configuring = True
            while not link.responses.empty():
                link.responses.get_nowait()
            for cmd in drv.commands():
                await self._command(link, cmd)
            link.configuring = False
            # Samples that came on a shared response/data characteristic
            # while configuring are data, not answers.
            while not link.responses.empty():
                arrival, data = link.responses.get_nowait()
                if drv.response_uuid in drv.data_uuids:
                    self._queue.put_nowait(("data", link, drv.response_uuid, arrival, data))
            char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
            if char is not None and "read" in char.properties:
                raw = await client.read_gatt_char(char)
                if raw:
                    link.battery_pct = float(raw[0])
        except BaseException as err:
            link.configuring = False
            with contextlib.suppress(Exception):
                await client.disconnect()
            link.client = None
            if isinstance(err, (BleakError, OSError, asyncio.TimeoutError)):
                raise BleError(f"{link.label}: setup failed: {err}") from err
            raise
        link.connected = True

    async def _command(self, link: _Link, cmd: bytes) -> None:
        drv = link.target.driver
        if drv.control_uuid is None:
            return
        await link.client.write_gatt_char(drv.control_uuid, cmd, response=True)
        if drv.response_uuid is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.response_timeout_s
        while True:
            try:
                arrival, resp = await asyncio.wait_for(
                    link.responses.get(), max(deadline - loop.time(), 0.0)
                )
            except asyncio.TimeoutError:
                raise BleError(
                    f"{link.label}: no answer to command {cmd.hex()} within "
                    f"{self.response_timeout_s:g} s"
                ) from None
            if drv.is_response(resp):
                break
            # A sample packet on a shared characteristic: keep it as data.
            self._queue.put_nowait(("data", link, drv.response_uuid, arrival, resp))
        problem = drv.check_response(cmd, resp)
        if problem is not None:
            raise BleError(f"{link.label}: configuration refused: {problem}")

    def _callback(self, link: _Link, uuid: str) -> Any:
        responses = link.target.driver.response_uuid
        put = self._queue.put_nowait

        def on_notify(_char: Any, data: bytearray) -> None:
            # Only stamp and queue here (bleak's advice): decoding is off the callback.
            arrival = time.perf_counter()
            if link.configuring and uuid == responses:
                link.responses.put_nowait((arrival, bytes(data)))
            else:
                put(("data", link, uuid, arrival, bytes(data)))

        return on_notify

    async def _battery_loop(self) -> None:
        """Read the battery level of connected sensors now and then; report changes."""
        while not self._stopping:
            await asyncio.sleep(self.battery_interval_s)
            for link in self._links:
                client = link.client
                if not link.connected or client is None or link.battery_pct is None:
                    continue
                with contextlib.suppress(Exception):
                    raw = await asyncio.wait_for(client.read_gatt_char(BATTERY_LEVEL_UUID), 5.0)
                    if raw and float(raw[0]) != link.battery_pct:
                        link.battery_pct = float(raw[0])
                        self._queue.put_nowait(("battery", link, link.battery_pct))

    def _announce(self, link: _Link, reconnected: bool) -> None:
        self._queue.put_nowait(("up", link, reconnected))
        if link.battery_pct is not None:
            self._queue.put_nowait(("battery", link, link.battery_pct))

    async def _close_link(self, link: _Link) -> None:
        client, link.client = link.client, None
        link.connected = False
        if client is None:
            return
        if not link.stopped:  # tell the device to stop streaming (saves its battery)
            await self._write_stop(link, client)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 5.0)

    async def _reconnect(self, link: _Link) -> None:
        while not self._stopping:
            await asyncio.sleep(self.reconnect_interval_s)
            try:
                await self._open(link)
            except BleError:
                continue
            self._announce(link, reconnected=True)
            return

    # -- the stream -------------------------------------------------------------
    def __aiter__(self) -> BleSession:
        return self

    async def __anext__(self) -> SampleBlock | LinkEvent:
        while True:
            if self._stopping and self._queue.empty():
                raise StopAsyncIteration
            item = await self._queue.get()
            out = self._handle(item)
            if out is not None:
                return out

    def get_nowait(self) -> SampleBlock | LinkEvent | None:
        """The next block or event if one is waiting, else None."""
        while not self._queue.empty():
            out = self._handle(self._queue.get_nowait())
            if out is not None:
                return out
        return None

    def _handle(self, item: tuple[Any, ...]) -> SampleBlock | LinkEvent | None:
        kind, link = item[0], item[1]
        if kind == "data":
            return self._decode(link, item[2], item[3], item[4])
        if kind == "up":
            reconnected = item[2]
            msg = ""
            if reconnected and link.down_since_s is not None:
                msg = f"link was down {self.now_s() - link.down_since_s:.1f} s; gap in the data"
            link.down_since_s = None
            return LinkEvent(
                link.sensor, "reconnected" if reconnected else "connected", self.now_s(), None, msg
            )
        if kind == "warn":
            return LinkEvent(link.sensor, "warning", self.now_s(), None, item[2])
        if kind == "battery":
            return LinkEvent(link.sensor, "battery", self.now_s(), item[2])
        if kind == "down":
            if not link.connected or self._stopping:
                return None
            link.connected = False
            link.client = None
            link.drops += 1
            link.down_since_s = item[2] - self._start_perf_s
            if self.reconnect:
                link.reconnect_task = asyncio.create_task(self._reconnect(link))
            return LinkEvent(link.sensor, "disconnected", link.down_since_s, None, "link lost")
        return None

    def _decode(self, link: _Link, uuid: str, arrival: float, data: bytes) -> SampleBlock | None:
        drv = link.target.driver
        try:
            dec = drv.decode(uuid, data)
        except Exception as err:  # a corrupt packet must not end the session
            self._queue.put_nowait(("warn", link, f"undecodable packet: {err}"))
            return None
        if dec is None or len(dec.acc_mps2) == 0 or link.clock is None:
            return None
        n = len(dec.acc_mps2)
        seq: IntArray | None = None if dec.seq is None else np.asarray(dec.seq, dtype=np.int64)
        clocked = link.clock.update(dec.clock_value, arrival - self._start_perf_s, n)
        link.lost += int(clocked.lost)
        t_s: FloatArray = np.asarray(clocked.t_s, dtype=np.float64)
        # Files keep t to 1 µs: after a refit the clock may place a packet a
        # hair after the last one; keep samples at least 10 µs apart.
        floor = link.last_t_s + MIN_STEP_S * np.arange(1, n + 1)
        t_s = np.maximum(t_s, floor)
        link.last_t_s = float(t_s[-1])
        link.received += n
        link.arrivals.append((arrival, n))
        while link.arrivals and arrival - link.arrivals[0][0] > 2.0:
            link.arrivals.popleft()
        acc: FloatArray = np.asarray(dec.acc_mps2, dtype=np.float64)
        gyr: FloatArray = np.asarray(dec.gyr_dps, dtype=np.float64)
        return SampleBlock(link.sensor, t_s, acc, gyr, seq, arrival)

    # -- health -------------------------------------------------------------------
    def clock_skew(self) -> SkewReport | None:
        """Each sensor's clock drift against the host and between sensors (clock.py).

        None when no sensor has a fitted :class:`SensorClock` yet.
        """
        clocks = {ln.sensor: ln.clock for ln in self._links if isinstance(ln.clock, SensorClock)}
        return skew_report(clocks) if clocks else None

    def health(self) -> dict[str, SensorHealth]:
        """Rate over the last 2 s, loss since the start, battery, per sensor."""
        now = time.perf_counter()
        out = {}
        for link in self._links:
            recent = [(a, n) for a, n in link.arrivals if now - a <= 2.0]
            rate = 0.0
            if len(recent) >= 2:
                span = max(now - recent[0][0], 1e-3)
                rate = sum(n for _, n in recent[1:]) / span
            total = link.received + link.lost
            out[link.sensor] = SensorHealth(
                link.sensor,
                rate,
                100.0 * link.lost / total if total else 0.0,
                link.battery_pct,
                link.received,
                link.lost,
                link.drops,
                link.connected,
            )
        return out
