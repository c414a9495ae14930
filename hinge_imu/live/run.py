"""Wires a live session from the command line's options (``hinge-imu live``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hinge_imu.errors import HingeImuError
from hinge_imu.live.display import LiveDisplay
from hinge_imu.live.events import EventWriter
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
from hinge_imu.live.sources import Block, Link, ReplaySource

SEGMENT_OPTIONS = {"pelvis": "pelvis", "thigh": "thigh", "upper_back": "upper_back", "head": "head"}


def default_output_path(now: float | None = None) -> Path:
    """``live-YYYYmmdd-HHMMSS.csv`` in the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return Path(f"live-{stamp}.csv")


def _sensor_args(args: argparse.Namespace) -> dict[str, str]:
    return {seg: getattr(args, seg) for seg in SEGMENT_OPTIONS if getattr(args, seg, None)}


def _check_outputs(args: argparse.Namespace, out_path: Path) -> None:
    replay = Path(args.replay).resolve() if args.replay else None
    for name, value in (("-o", out_path), ("--audio-file", args.audio_file)):
        if value is None:
            continue
        p = Path(value)
        if replay is not None and p.resolve() == replay:
            raise HingeImuError(f"{name} would overwrite the replayed recording", p)
        if not p.parent.exists() or not p.parent.is_dir():
            raise HingeImuError(f"{name}: directory {p.parent} does not exist", p)
    if args.events not in (None, "-"):
        p = Path(args.events)
        if not p.parent.is_dir():
            raise HingeImuError(f"--events: directory {p.parent} does not exist", p)


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
    out_path = Path(args.output) if args.output else default_output_path()
    _check_outputs(args, out_path)
    rules = load_rules(args.rules)

    with ExitStack() as stack:
        events = EventWriter(args.events)
        stack.callback(events.close)
        # Events on stdout: the human-readable view goes to stderr.
        view_stream = sys.stderr if events.to_stdout else sys.stdout
        display = LiveDisplay(view_stream, rich_view=False if args.plain else None)
        player = _open_player(args, display, events)
        wav = WavRenderer(args.audio_file) if args.audio_file else None

        if args.replay:
            from hinge_imu.recording import read_recording

            recording = read_recording(args.replay)
            header = dict(recording.header)
            header.setdefault("note", "")
            header["live_replay_of"] = str(args.replay)
            source: Iterable[Block | Link] = ReplaySource(recording, speed=args.speed)
            source_name = f"replay {args.replay}" + (
                " (SIMULATED)" if recording.is_simulated else ""
            )
            rates = {n: s.rate_hz for n, s in recording.sensors.items()}
        else:
            from hinge_imu.live.ble_source import open_ble_source

            source, header, rates = open_ble_source(sensors, args.ble_timeout, stack)
            source_name = "sensors " + ", ".join(f"{k}={v}" for k, v in sensors.items())

        from hinge_imu.live.core_analyser import CoreAnalyser

        analyser = CoreAnalyser(header, rules, tuple(rates))
        record, close_record = _open_recording(out_path, header)
        gate = QualityGate()
        for name, rate in rates.items():
            gate.add_sensor(name, rate)
        session = LiveSession(
            analyser,
            rules,
            FeedbackSchedule(args.schedule, set_pause_s=args.set_pause),
            gate=gate,
            outputs=SessionOutputs(events, player, wav, display, record),
            source_name=source_name,
        )
        try:
            session.run(source)
        finally:
            close_record()
        display.line(
            f"recorded to {out_path}"
            + (f"; sounds in {args.audio_file}" if args.audio_file else "")
            + f"; {len(session.reps)} reps, {len(session.issued)} sounds"
        )
    return 0


def _open_player(
    args: argparse.Namespace, display: LiveDisplay, events: EventWriter
) -> AudioPlayer | None:
    """A player on the sound device, or the terminal bell (one warning) without one."""
    if args.mute:
        return None
    sd, why = open_sound_device()
    if sd is not None:
        return AudioPlayer(sounddevice_play_fn(sd))
    message = f"{why}: feedback is shown on screen and rung as the terminal bell"
    print(f"hinge-imu: warning: {message}", file=sys.stderr)
    events.emit("warning", t=0.0, message=message)
    return AudioPlayer(bell_play_fn(display.stream))


def _open_recording(path: Path, header: dict[str, str]) -> tuple[Any, Any]:
    """The crash-safe recording writer as a per-block callback, and its closer."""
    from hinge_imu.recording import RecordingWriter

    writer = RecordingWriter(path, header, flush_interval_s=1.0)

    def record(block: Block) -> None:
        writer.write_block(
            block.sensor, block.t_s, block.acc_mps2, block.gyr_dps, block.mag_ut, block.seq
        )

    return record, writer.close
