"""``hinge-imu validate REC [REC…]``: check recordings against the file format."""

from __future__ import annotations

import argparse
import math
import sys

NAME = "validate"
HELP = "check recording files against the format; one summary line per file"
ORDER = 60


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recordings", nargs="+", metavar="REC", help="recording .csv or .csv.gz")


def run(args: argparse.Namespace) -> int:
    from hinge_imu.errors import HingeImuError
    from hinge_imu.recording import read_recording

    n_bad = 0
    for path in args.recordings:
        try:
            recording = read_recording(path)
        except HingeImuError as err:
            # every file is checked; the exit code reports that any was bad
            print(f"hinge-imu: error: {err}", file=sys.stderr)
            n_bad += 1
            continue
        print(summary_line(path, recording))
        for warning in recording.warnings:
            print(f"hinge-imu: warning: {warning}", file=sys.stderr)
    if n_bad and len(args.recordings) > 1:
        print(f"hinge-imu: {n_bad} of {len(args.recordings)} files are not valid", file=sys.stderr)
    return 2 if n_bad else 0


def summary_line(path: str, recording: object) -> str:
    """``FILE: ok, D s, N samples; sensor n @ r Hz (lost …), …; header: keys``."""
    from hinge_imu.recording import summarise_stream
    from hinge_imu.samples import Recording

    assert isinstance(recording, Recording)
    parts = []
    total = 0
    for name in recording.ordered_sensor_names():
        s = summarise_stream(recording.sensors[name])
        total += s.n_samples
        if s.rate_from_header:
            rate = f"@ {s.rate_hz:.4g} Hz"
        elif math.isfinite(s.rate_hz):
            rate = f"@ {s.rate_hz:.4g} Hz (from t)"
        else:
            rate = "(rate unknown)"
        lost = (
            f"{s.n_lost} lost in {s.n_gaps} gaps (from {s.lost_from})"
            if s.n_gaps
            else f"no gaps (from {s.lost_from})"
        )
        parts.append(f"{name} {s.n_samples} {rate}, {lost}")
    keys = ", ".join(recording.header) or "none"
    return (
        f"{path}: ok, {recording.duration_s:.2f} s, {total} samples; "
        + "; ".join(parts)
        + f"; header: {keys}"
    )
