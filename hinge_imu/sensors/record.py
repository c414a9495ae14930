"""Sensors → recording file: stream a :class:`BleSession` into a crash-safe writer.

The file is opened only once every sensor is connected and configured, so a
setup failure leaves no file behind. From then on the
:class:`~hinge_imu.recording.RecordingWriter` keeps it readable at every
moment (at most ``flush_interval_s`` of samples in memory). Link events
(connect, drop, reconnect, battery, bad packets, warnings) go to
``<REC>.events.jsonl`` through the one event writer
(:class:`hinge_imu.events.EventWriter`, vocabulary in docs/live.md, Event
stream), so a gap in the data has a written explanation next to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hinge_imu.events import EventWriter, events_path_for
from hinge_imu.samples import LinkEvent, SampleBlock, SensorHealth
from hinge_imu.sensors.ble_session import BleSession, SensorTarget
from hinge_imu.sensors.clock_skew import SkewReport

#: Called after every event and about every ``status_interval_s``:
#: ``(session time s, health per sensor, the new event or None)``.
StatusCallback = Callable[[float, Mapping[str, SensorHealth], LinkEvent | None], None]


@dataclass(frozen=True)
class RecordSummary:
    """What a recording session produced.

    Attributes:
        path: the recording file.
        events_path: the link-event log next to it.
        duration_s: recorded time, s (first to last sample of any sensor).
        health: per sensor at the end (samples, loss, drops, battery).
        events: every link event, in order.
        stopped_by: ``duration``, ``interrupt`` or ``stop``.
        skew: clock drift of each sensor against the host and between
            sensors (None when no sensor clock was fitted).
    """

    path: Path
    events_path: Path
    duration_s: float
    health: Mapping[str, SensorHealth]
    events: Sequence[LinkEvent] = field(default_factory=tuple)
    stopped_by: str = "stop"
    skew: SkewReport | None = None


def recording_header(
    targets: Sequence[SensorTarget], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Header keys of docs/recording-format.md for these sensors, then ``extra`` (side, note, …)."""
    head: dict[str, str] = {}
    for t in targets:
        head[f"rate_hz.{t.sensor}"] = f"{t.driver.rate_hz:g}"
    for t in targets:
        head[f"device.{t.sensor}"] = f"{t.driver.profile} {t.device}"
    head.update(extra or {})
    return head


async def record_session(
    session: BleSession,
    path: str | os.PathLike[str],
    header: Mapping[str, str],
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_status: StatusCallback | None = None,
    status_interval_s: float = 1.0,
    flush_interval_s: float = 1.0,
) -> RecordSummary:
    """Connect (``session`` not yet entered), record until ``duration_s`` or ``stop``, close.

    Returns after the file is closed; on any exit path the file that was
    written so far is closed and readable.
    """
    from hinge_imu.recording import RecordingWriter

    stop = stop or asyncio.Event()
    events: list[LinkEvent] = []
    ev_path = events_path_for(path)
    stopped_by = "stop"
    t_first: float | None = None
    t_last = 0.0
    async with session:
        writer = RecordingWriter(path, header, flush_interval_s=flush_interval_s, with_seq=True)
        ev_file = EventWriter(ev_path)
        try:
            next_status = 0.0
            pending: list[LinkEvent] = []
            # Connection events queued while connecting come first.
            while (item := session.get_nowait()) is not None:
                if isinstance(item, LinkEvent):
                    pending.append(item)
                else:
                    t_first, t_last = _write(writer, item, t_first, t_last)
            for ev in pending:
                events.append(ev)
                ev_file.link(ev)
                if on_status:
                    on_status(session.now_s(), session.health(), ev)
            start_s = session.now_s()
            while True:
                if stop.is_set():
                    stopped_by = "interrupt"
                    break
                now = session.now_s()
                if duration_s is not None and now - start_s >= duration_s:
                    stopped_by = "duration"
                    break
                try:
                    item = await asyncio.wait_for(session.__anext__(), 0.1)
                except asyncio.TimeoutError:
                    item = None
                except StopAsyncIteration:
                    break
                if isinstance(item, SampleBlock):
                    t_first, t_last = _write(writer, item, t_first, t_last)
                elif isinstance(item, LinkEvent):
                    events.append(item)
                    ev_file.link(item)
                    if on_status:
                        on_status(now, session.health(), item)
                if on_status and now >= next_status:
                    next_status = now + status_interval_s
                    on_status(now, session.health(), None)
            # Everything the sensors sent before they were told to stop is kept.
            await session.stop_streaming()
            while (item := session.get_nowait()) is not None:
                if isinstance(item, SampleBlock):
                    t_first, t_last = _write(writer, item, t_first, t_last)
                else:
                    events.append(item)
                    ev_file.link(item)
        finally:
            # The recording first: it must be closed and readable even when
            # the events file is what hit the full disk.
            try:
                writer.close()
            finally:
                ev_file.close()
        health = session.health()
        skew = session.clock_skew()
    duration = 0.0 if t_first is None else t_last - t_first
    return RecordSummary(Path(path), ev_path, duration, health, tuple(events), stopped_by, skew)


def _write(
    writer: object, block: SampleBlock, t_first: float | None, t_last: float
) -> tuple[float, float]:
    writer.write(  # type: ignore[attr-defined]
        block.sensor, block.t_s, block.acc_mps2, block.gyr_dps, seq=block.seq
    )
    t0 = float(block.t_s[0])
    return (t0 if t_first is None else min(t_first, t0)), max(t_last, float(block.t_s[-1]))


def install_stop_signal(stop: asyncio.Event) -> Callable[[], None]:
    """Make SIGINT (Ctrl-C) and SIGTERM set ``stop``; returns a function that undoes it."""
    import signal

    loop = asyncio.get_running_loop()
    sigs = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    if sys.platform == "win32":
        # Windows event loops have no signal handlers; a plain handler wakes the loop safely.
        old = {s: signal.signal(s, lambda *_: loop.call_soon_threadsafe(stop.set)) for s in sigs}

        def undo_plain() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return undo_plain

    for s in sigs:
        loop.add_signal_handler(s, stop.set)

    def undo() -> None:
        for s in sigs:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(s)

    return undo
