"""``hinge-imu live``: coach rep by rep, on sensors or a replayed recording, with sound."""

from __future__ import annotations

import argparse

from hinge_imu.live.schedules import DEFAULT_SET_PAUSE_S, SCHEDULES

NAME = "live"
HELP = "live coaching on BLE sensors or a replayed recording: sound, events, terminal view"
ORDER = 30


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be ≥ 0 (0 = as fast as possible)")
    return value


def _positive(text: str) -> float:
    value = _speed(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("where the samples come from (sensors, or --replay)")
    for seg in ("pelvis", "thigh", "upper-back", "head"):
        src.add_argument(
            f"--{seg}",
            dest=seg.replace("-", "_"),
            metavar="NAME|ADDR",
            help=f"BLE sensor on the {seg.replace('-', ' ')} (name or address, as for `record`)",
        )
    src.add_argument("--replay", metavar="REC", help="replay a recording instead of sensors")
    src.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="replay speed: 1 = real time (default), 0 = as fast as possible",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="REC.csv",
        help="record the session here (default: live-YYYYmmdd-HHMMSS.csv in this directory)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing recording (-o)")
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="every",
        help="which bad reps get a sound: every (default), fading, summary (end of set), none",
    )
    p.add_argument(
        "--set-pause",
        type=_positive,
        default=DEFAULT_SET_PAUSE_S,
        metavar="S",
        help=f"a set ends after S seconds without a rep (default {DEFAULT_SET_PAUSE_S:g})",
    )
    p.add_argument(
        "--duration", type=_positive, metavar="S", help="stop after S seconds of session time"
    )
    p.add_argument(
        "--side",
        choices=("left", "right"),
        default="right",
        help="which thigh wears the thigh sensor (sensors only; a replay's header says)",
    )
    p.add_argument("--rules", metavar="FILE", help="rules TOML (default: the rules of docs/rules.md)")
    p.add_argument(
        "--events", metavar="FILE", help="write the JSON Lines event stream to FILE (- = stdout)"
    )
    p.add_argument(
        "--audio-file",
        metavar="OUT.wav",
        help="also render every sound into a WAV file, at the session time it was issued",
    )
    p.add_argument("--mute", action="store_true", help="no sound output (the WAV is still written)")
    p.add_argument("--plain", action="store_true", help="plain lines instead of the terminal view")
    p.add_argument(
        "--ble-timeout",
        type=_positive,
        default=20.0,
        metavar="S",
        help="seconds to find and connect the sensors (default 20)",
    )


def run(args: argparse.Namespace) -> int:
    from hinge_imu.live.run import run_live

    return run_live(args)
