"""Wires a live session from the command line's options (``hinge-imu live``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from hinge_imu.atomic import refuse_existing_recording, refuse_replacing_inputs
from hinge_imu.conventions import DEFAULT_SIDE
from hinge_imu.errors import HingeImuError
from hinge_imu.events import EventWriter
from hinge_imu.live.display import LiveDisplay
from hinge_imu.live.feedback import (
    AudioPlayer,
    WavRenderer,
    bell_play_fn,
    open_sound_device,
    sounddevice_play_fn,
)
from hinge_imu.live.quality_gate import QualityGate
from hinge_imu.live.schedules import FeedbackSchedule
from hinge_imu.live.session import LiveSession, SessionOutputs
from hinge_imu.live.sources import ReplaySource
from hinge_imu.samples import LinkEvent, SampleBlock

SEGMENT_OPTIONS = {"pelvis": "pelvis", "thigh": "thigh", "upper_back": "upper_back", "head": "head"}


#: Where a session on sensors is recorded without ``-o`` (docs/live.md).
SESSIONS_DIR = Path("sessions")


def default_output_path(now: float | None = None) -> Path:
    """``sessions/live-YYYYmmdd-HHMMSS.csv`` (relative to the current directory)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return SESSIONS_DIR / f"live-{stamp}.csv"


def _sensor_args(args: argparse.Namespace) -> dict[str, str]:
    return {seg: getattr(args, seg) for seg in SEGMENT_OPTIONS if getattr(args, seg, None)}


def _check_outputs(args: argparse.Namespace, out_path: Path | None) -> None:
    """Fail before anything is opened if an output cannot be written."""
    if out_path is not None:  # a replay without -o records nothing
        refuse_existing_recording(out_path, args.force)
    outputs = {"-o": out_path, "--audio-file": args.audio_file, "--events": args.events}
    refuse_replacing_inputs([args.replay, args.rules], outputs)
    for name, value in (("-o", out_path), ("--audio-file", args.audio_file)):
        if value is None:
            continue
        p = Path(value)
        if not p.parent.exists() or not p.parent.is_dir():
            raise HingeImuError(f"{name}: directory {p.parent} does not exist", p)
    if args.events not in (None, "-"):
        p = Path(args.events)
        if not p.parent.is_dir():
            raise HingeImuError(f"--events: directory {p.parent} does not exist", p)


def events_target(events: str | None, stdout: IO[str]) -> str | None:
    """Where the event stream goes: ``--events FILE|-``; without it, stdout if that is no terminal.

    docs/live.md (event stream): live analysis writes its events "to stdout (or a file)".
    Piped into another program, stdout carries the events (and the view goes
    to stderr); on a terminal the view is for the person, so events are only
    written when asked for.
    """
    if events is not None:
        return events
    try:
        interactive = stdout.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: treat as no terminal
        interactive = False
    return None if interactive else "-"


def run_live(args: argparse.Namespace) -> int:
    """Run ``hinge-imu live``; returns the exit code."""
    from hinge_imu.core.rules import load_rules

    sensors = _sensor_args(args)
    if args.replay and sensors:
        raise HingeImuError("give either --replay or sensors (--pelvis …), not both")
    if not args.replay and not sensors:
        raise HingeImuError("nothing to coach: give --replay REC or at least --pelvis NAME|ADDR")
    if sensors and "pelvis" not in sensors:
        raise HingeImuError("the pelvis sensor is required (--pelvis NAME|ADDR)")
    # A replay is a recording already: it is copied only when asked (-o).
    out_path: Path | None = Path(args.output) if args.output else None
    if out_path is not None and not out_path.name.endswith((".csv", ".csv.gz")):
        raise HingeImuError("the recording (-o) must end in .csv or .csv.gz", out_path)
    _check_outputs(args, out_path)
    rules = load_rules(args.rules)
    if out_path is None and not args.replay:
        out_path = default_output_path()
        out_path.parent.mkdir(exist_ok=True)
        _check_outputs(args, out_path)
    if not args.replay:
        import asyncio

        return asyncio.run(_live_on_sensors(args, sensors, rules, out_path))

    from hinge_imu.recording import read_recording

    recording = read_recording(args.replay)
    for warning in recording.warnings:  # FILE:LINE: what the reader tolerated
        print(f"hinge-imu: warning: {warning}", file=sys.stderr)
    header = {**recording.header, "live_replay_of": str(args.replay)}
    name = f"replay of {args.replay}" + (" (SIMULATED)" if recording.is_simulated else "")
    rates = {n: s.rate_hz for n, s in recording.sensors.items()}
    with ExitStack() as stack:
        session = _build_session(args, header, rates, rules, out_path, name, stack)
        session.run(_limited(ReplaySource(recording, speed=args.speed), args.duration))
        _goodbye(session, args, out_path)
    return 0


def _limited(
    source: Iterable[SampleBlock | LinkEvent], duration_s: float | None
) -> Iterable[SampleBlock | LinkEvent]:
    """The source up to ``duration_s`` of session time (all of it if None)."""
    for item in source:
        if duration_s is not None and isinstance(item, SampleBlock) and item.t_s[0] > duration_s:
            return
        yield item


async def _live_on_sensors(
    args: argparse.Namespace, sensors: dict[str, str], rules: Any, out_path: Path | None
) -> int:
    import asyncio

    from hinge_imu.live.ble_source import find_sensors, pump
    from hinge_imu.sensors.record import install_stop_signal

    stop = asyncio.Event()
    undo = install_stop_signal(stop)
    try:
        setup = await find_sensors(sensors, args.ble_timeout, args.side)
        name = "sensors " + ", ".join(f"{k}={v}" for k, v in sensors.items())
        with ExitStack() as stack:
            session = _build_session(
                args, setup.header, dict(setup.rates_hz), rules, out_path, name, stack
            )
            session.start()
            try:
                await pump(setup, session.handle, stop, args.duration, args.ble_timeout)
            finally:
                session.finish()
            _goodbye(session, args, out_path)
    finally:
        undo()
    return 0


def _build_session(
    args: argparse.Namespace,
    header: dict[str, str],
    rates: dict[str, float | None],
    rules: Any,
    out_path: Path | None,
    source_name: str,
    stack: ExitStack,
) -> LiveSession:
    """Events, view, sound, WAV, recording and analysis for one session."""
    from hinge_imu.core.live import LiveAnalyser

    events = EventWriter(events_target(args.events, sys.stdout))
    stack.callback(events.close)
    # Events on stdout: the human-readable view goes to stderr.
    view_stream = sys.stderr if events.to_stdout else sys.stdout
    display = LiveDisplay(view_stream, rich_view=False if args.plain else None)
    player, no_sound = _open_player(args, display)
    wav = WavRenderer(args.audio_file) if args.audio_file else None
    record = _open_recording(out_path, header, stack) if out_path is not None else None
    gate = QualityGate()
    for name, rate in rates.items():
        gate.add_sensor(name, rate)
    session = LiveSession(
        LiveAnalyser(tuple(rates), rules, side=_side(header)),
        rules,
        FeedbackSchedule(args.schedule, set_pause_s=args.set_pause),
        gate=gate,
        outputs=SessionOutputs(events, player, wav, display, record),
        source_name=source_name,
    )
    if no_sound:
        session.pending_warnings.append(no_sound)
    return session


def _side(header: dict[str, str]) -> str:
    """Which thigh wears the thigh sensor, as the header says (``right`` if it does not)."""
    return header.get("side", DEFAULT_SIDE).strip().lower() or DEFAULT_SIDE


def _goodbye(session: LiveSession, args: argparse.Namespace, out_path: Path | None) -> None:
    c = session.counts
    assert session.out.display is not None
    session.out.display.line(
        f"{c['reps']} reps ({c['judged']} judged, {c['bad']} bad), "
        f"{c['sounds']} sounds"
        + (f"; recorded to {out_path}" if out_path is not None else "")
        + (f"; sounds in {args.audio_file}" if args.audio_file else "")
    )


def _open_player(args: argparse.Namespace, display: LiveDisplay) -> tuple[AudioPlayer | None, str]:
    """A player on the sound device, or the terminal bell and a warning without one."""
    if args.mute:
        return None, ""
    sd, why = open_sound_device()
    if sd is not None:
        return AudioPlayer(sounddevice_play_fn(sd)), ""
    message = f"{why}: feedback is shown on screen and rung as the terminal bell"
    return AudioPlayer(bell_play_fn(display.stream)), message


def _open_recording(path: Path, header: dict[str, str], stack: ExitStack) -> Any:
    """The crash-safe recording writer as a per-block callback (closed by ``stack``)."""
    from hinge_imu.recording import RecordingWriter

    writer = RecordingWriter(path, header, flush_interval_s=1.0, with_seq=True)
    stack.callback(writer.close)

    def record(block: SampleBlock) -> None:
        writer.write_block(
            block.sensor, block.t_s, block.acc_mps2, block.gyr_dps, block.mag_ut, block.seq
        )

    return record
