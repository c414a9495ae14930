"""Queued BLE notifications → sample blocks on the session clock, per link.

The consumer half of :class:`~hinge_imu.sensors.ble_session.BleSession`:
each notification is decoded by its sensor's driver and clocked by its
:class:`~hinge_imu.sensors.clock.SensorClock`; a malformed one is counted
on the link and reported as a ``bad_packet`` event. The first blocks are
held until the clock has warmed up, then placed by its fit of that moment,
and every block is kept strictly after the one before. None of this touches
the radio (no bleak, no asyncio), so it lives apart from connecting,
reconnecting and tearing down, which is the session's own business.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hinge_imu.samples import FloatArray, IntArray, LinkEvent, SampleBlock
from hinge_imu.sensors.ble_link import RATE_WINDOW_S, Link

#: Smallest time step between consecutive samples of one sensor, s.
MIN_STEP_S = 1e-5


@dataclass(frozen=True)
class Notification:
    """What the notification callback queues: bytes and when they arrived."""

    link: Link
    uuid: str
    arrival_s: float  # time.perf_counter()
    data: bytes


def decode(
    note: Notification,
    out: deque[SampleBlock | LinkEvent],
    *,
    start_perf_s: float,
    ready_perf_s: float | None,
    clock_warmup_s: float,
    bad_packet_report_s: float,
) -> SampleBlock | LinkEvent | None:
    """The block (or ``bad_packet`` event) of one notification, if one is due now.

    Args:
        note: the queued notification.
        out: the session's blocks and events waiting to be handed out; late
            ``bad_packet`` events and blocks released after the warm-up go here.
        start_perf_s: ``time.perf_counter()`` at session time 0.
        ready_perf_s: ``time.perf_counter()`` when every sensor was connected
            (None while connecting).
        clock_warmup_s: blocks are held until a packet arrives this long
            after ``ready_perf_s``, s (see ``BleSession``).
        bad_packet_report_s: at most one ``bad_packet`` event per sensor in
            this long, s.
    """
    link = note.link
    drv = link.target.driver
    clock = link.clock
    if clock is None:  # pragma: no cover - the clock exists before subscribing
        return None
    arrival_s = note.arrival_s - start_perf_s
    try:
        packet = drv.decode(note.uuid, note.data)
        if packet is None or len(packet) == 0:
            return None
        n = len(packet)
        # Time stamps place the samples; a counter besides counts losses exactly
        # and must not go back either.
        seq0 = None if packet.seq is None or clock.source != "time" else int(packet.seq[0])
        clocked = clock.update(drv.clock_input(packet), arrival_s, n, seq=seq0)
    except Exception as err:
        # A malformed packet is skipped and counted; the session goes on.
        return link.bad_packet(arrival_s, note.data, err, bad_packet_report_s)
    # Bad packets not reported yet (one event a second at most) go out now.
    if (late := link.report_bad_packets(arrival_s, every_s=bad_packet_report_s)) is not None:
        out.append(late)
    link.lost += int(clocked.lost)
    link.received += n
    link.arrivals.append((note.arrival_s, n))
    while link.arrivals and note.arrival_s - link.arrivals[0][0] > RATE_WINDOW_S:
        link.arrivals.popleft()
    seq: IntArray | None = None if packet.seq is None else np.asarray(packet.seq, np.int64)
    acc: FloatArray = np.asarray(packet.acc_mps2, dtype=np.float64)
    gyr: FloatArray = np.asarray(packet.gyr_dps, dtype=np.float64)
    block = SampleBlock(link.sensor, clocked.t_s, acc, gyr, seq, note.arrival_s)
    if not link.warm:
        link.held.append((block, clocked.device_time_s, arrival_s))
        if ready_perf_s is None or note.arrival_s - ready_perf_s < clock_warmup_s:
            return None
        release(link, out)
        return out.popleft()
    return in_order(link, block, clocked.t_s)


def in_order(link: Link, block: SampleBlock, t_s: FloatArray) -> SampleBlock:
    """``block`` at times ``t_s``, each at least ``MIN_STEP_S`` after the one before."""
    # Files keep t to 1 µs: after a refit the clock may place a packet a
    # hair after the last one; keep samples at least 10 µs apart.
    floor = link.last_t_s + MIN_STEP_S * np.arange(1, len(t_s) + 1)
    t: FloatArray = np.maximum(np.asarray(t_s, dtype=np.float64), floor)
    link.last_t_s = float(t[-1])
    return dataclasses.replace(block, t_s=t)


def release(link: Link, out: deque[SampleBlock | LinkEvent]) -> None:
    """Place the blocks held during the warm-up by the clock's fit now, in order."""
    link.warm = True
    held, link.held = link.held, []
    clock = link.clock
    if clock is None:  # pragma: no cover - blocks are only held once clocked
        return
    for block, device_time_s, arrival_s in held:
        t = clock.host_time_s(device_time_s)
        t = t - max(0.0, float(t[-1]) - arrival_s)  # never after its arrival
        out.append(in_order(link, block, t))


def release_all(
    links: list[Link], out: deque[SampleBlock | LinkEvent], now_s: Callable[[], float]
) -> None:
    """Stopping: what the warm-up held, and the last count of bad packets."""
    for link in links:
        if link.held:
            release(link, out)
        if (late := link.report_bad_packets(now_s())) is not None:
            out.append(late)
