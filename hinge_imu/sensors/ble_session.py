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
(``__anext__``), in :mod:`hinge_imu.sensors.ble_blocks`. This module is the
radio side and the order of things: connecting, reconnecting, tearing
down, the queue, health. A dropped sensor is reconnected in the background
and the session yields ``disconnected`` / ``reconnected`` events; the
missing stretch stays a gap in ``t_s`` and ``seq``. A malformed packet
(wrong length, unknown header, a counter or time stamp that goes back) is
skipped, counted in :meth:`BleSession.health` and reported as a
``bad_packet`` event; the session goes on. Devices are torn down with an
``AsyncExitStack`` however the session ends;
:meth:`BleSession.stop_streaming` first makes sure
everything the devices sent is in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from hinge_imu.samples import LinkEvent, SampleBlock, SensorHealth
from hinge_imu.sensors.ble import BATTERY_LEVEL_UUID, BleError
from hinge_imu.sensors.ble_blocks import Notification, decode, release_all
from hinge_imu.sensors.ble_link import (
    RATE_WINDOW_S,
    Link,
    SensorTarget,
    configure,
    locate,
    write_stop,
)
from hinge_imu.sensors.clock_skew import SkewReport, skew_report

__all__ = ["BleSession", "SensorTarget"]


class BleSession:
    """Stream several sensors as one session (an async context manager and iterator).

    Args:
        targets: one per segment.
        scan_timeout_s: how long to look for devices not found yet, s.
        connect_timeout_s: per connection attempt, s.
        response_timeout_s: how long a device may take to answer a command, s.
        reconnect: reconnect dropped sensors by itself.
        reconnect_interval_s: pause between reconnect attempts, s.
        battery_interval_s: how often the battery level is read again, s.
        stop_timeout_s: how long each stop command may take, s.
        bad_packet_report_s: at most one ``bad_packet`` event per sensor in
            this long, s (all are counted in :meth:`health`).
        clock_warmup_s: a sensor's samples are held until a packet arrives
            this long after every sensor is connected, then all placed by
            the clock's fit of that moment, s. While the others are being
            connected the computer is busy and delivers packets late; placed
            at once, the first samples would come out late and the times
            after them squeezed when quicker packets showed the truth.
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
        bad_packet_report_s: float = 1.0,
        clock_warmup_s: float = 1.0,
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
        self.bad_packet_report_s = bad_packet_report_s
        self.clock_warmup_s = clock_warmup_s
        self._ready_perf_s: float | None = None
        self._out: deque[SampleBlock | LinkEvent] = deque()
        self._battery_task: asyncio.Task[None] | None = None
        self._links: list[Link] = []
        self._queue: asyncio.Queue[Notification | LinkEvent] = asyncio.Queue()
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
        self._links = [Link(t) for t in self.targets]
        self._stack = contextlib.AsyncExitStack()
        try:
            await locate(self._links, self.scan_timeout_s)
            # One at a time: BLE stacks dislike parallel connects.
            for link in self._links:
                self._stack.push_async_callback(self._close_link, link)
                await self._open(link)
                self._announce(link, reconnected=False)
            self._battery_task = asyncio.create_task(self._battery_loop())
            self._ready_perf_s = time.perf_counter()
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
        tasks = [self._battery_task] + [ln.reconnect_task for ln in self._links]
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
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
            if link.connected and client is not None and not link.stopped:
                link.stopped = True
                await write_stop(link, client, self.stop_timeout_s)

    async def _open(self, link: Link) -> None:
        """Connect, subscribe, configure (commands checked), read the battery."""
        from bleak import BleakClient
        from bleak.exc import BleakError

        drv = link.target.driver
        client = BleakClient(
            link.ble_device,
            disconnected_callback=lambda _c: self._queue.put_nowait(
                LinkEvent(link.sensor, "disconnected", self.now_s(), None, "link lost")
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
        else:
            link.clock.restart()
        try:
            uuids = set(drv.data_uuids) | ({drv.response_uuid} if drv.response_uuid else set())
            for uuid in sorted(uuids):
                await client.start_notify(uuid, self._callback(link, uuid))
            await configure(link, self.response_timeout_s, self._put_data)
        except BaseException as err:
            with contextlib.suppress(Exception):
                await client.disconnect()
            link.client = None
            if isinstance(err, (BleakError, OSError, asyncio.TimeoutError)):
                raise BleError(f"{link.label}: setup failed: {err}") from err
            raise
        link.connected = True

    def _put_data(self, link: Link, uuid: str, arrival_s: float, data: bytes) -> None:
        self._queue.put_nowait(Notification(link, uuid, arrival_s, data))

    def _callback(self, link: Link, uuid: str) -> Any:
        responses = link.target.driver.response_uuid
        put = self._queue.put_nowait

        def on_notify(_char: Any, data: bytearray) -> None:
            # Only stamp and queue here (bleak's advice): decoding is off the callback.
            arrival = time.perf_counter()
            if link.configuring and uuid == responses:
                link.responses.put_nowait((arrival, bytes(data)))
            else:
                put(Notification(link, uuid, arrival, bytes(data)))

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
                        self._queue.put_nowait(
                            LinkEvent(link.sensor, "battery", self.now_s(), link.battery_pct)
                        )

    def _announce(self, link: Link, reconnected: bool) -> None:
        msg = ""
        if reconnected and link.down_since_s is not None:
            msg = f"link was down {self.now_s() - link.down_since_s:.1f} s; gap in the data"
        link.down_since_s = None
        kind = "reconnected" if reconnected else "connected"
        self._queue.put_nowait(LinkEvent(link.sensor, kind, self.now_s(), None, msg))
        if link.battery_pct is not None:
            self._queue.put_nowait(
                LinkEvent(link.sensor, "battery", self.now_s(), link.battery_pct)
            )

    async def _close_link(self, link: Link) -> None:
        client, link.client = link.client, None
        link.connected = False
        if client is None:
            return
        if not link.stopped:
            await write_stop(link, client, self.stop_timeout_s)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 5.0)

    async def _reconnect(self, link: Link) -> None:
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
                release_all(self._links, self._out, self.now_s)
                if not self._out:
                    raise StopAsyncIteration
            if self._out:
                return self._out.popleft()
            out = self._handle(await self._queue.get())
            if out is not None:
                return out

    def get_nowait(self) -> SampleBlock | LinkEvent | None:
        """The next block or event if one is waiting, else None."""
        while True:
            if self._out:
                return self._out.popleft()
            if self._queue.empty():
                if not self._stopping:
                    return None
                # Stopping: what the warm-up held, too.
                release_all(self._links, self._out, self.now_s)
                return self._out.popleft() if self._out else None
            out = self._handle(self._queue.get_nowait())
            if out is not None:
                return out

    def _handle(self, item: Notification | LinkEvent) -> SampleBlock | LinkEvent | None:
        if isinstance(item, Notification):
            return decode(
                item,
                self._out,
                start_perf_s=self._start_perf_s,
                ready_perf_s=self._ready_perf_s,
                clock_warmup_s=self.clock_warmup_s,
                bad_packet_report_s=self.bad_packet_report_s,
            )
        if item.kind == "disconnected":
            link = next(ln for ln in self._links if ln.sensor == item.sensor)
            if not link.connected or self._stopping:
                return None
            link.connected = False
            link.client = None
            link.drops += 1
            link.down_since_s = item.t_s
            if self.reconnect:
                link.reconnect_task = asyncio.create_task(self._reconnect(link))
        return item

    # -- health -------------------------------------------------------------------
    def clock_skew(self) -> SkewReport | None:
        """Each sensor's clock drift against the host and between sensors (clock_skew.py).

        None before any sensor is connected. A clock is made at connection,
        before its first packet: until packets arrive its drift reads 0 ppm and
        its delays NaN.
        """
        clocks = {ln.sensor: ln.clock for ln in self._links if ln.clock is not None}
        return skew_report(clocks) if clocks else None

    def health(self) -> dict[str, SensorHealth]:
        """Per sensor: rate over the last ``RATE_WINDOW_S``, loss, bad packets, battery."""
        now = time.perf_counter()
        out = {}
        for link in self._links:
            recent = [(a, n) for a, n in link.arrivals if now - a <= RATE_WINDOW_S]
            rate = 0.0
            if len(recent) >= 2:
                span = max(now - recent[0][0], 1e-3)
                rate = sum(n for _, n in recent[1:]) / span
            out[link.sensor] = SensorHealth(
                link.sensor,
                connected=link.connected,
                rate_hz=rate,
                received=link.received,
                lost=link.lost,
                drops=link.drops,
                battery_pct=link.battery_pct,
                bad_packets=link.bad_packets,
            )
        return out
