"""``hinge-imu report``: PDF, PNG figures and CSV exports of one or more sessions."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

NAME = "report"
HELP = "write a PDF report, PNG figures and CSV files (reps, angles, summary) for physios"
ORDER = 20


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and 1.0 <= value <= 1000.0):
        raise argparse.ArgumentTypeError("must be 1–1000 Hz")
    return value


#: Files beside recordings that are not recordings (simulator truth, analysis output).
SIDE_FILES = (".truth_angles.csv", ".reps.csv", ".angles.csv")


def _expand(paths: list[str]) -> list[Path]:
    """Recordings named on the command line; a folder gives its recordings in name order."""
    from hinge_imu.errors import HingeImuError

    out: list[Path] = []
    for text in paths:
        p = Path(text)
        if not p.is_dir():
            out.append(p)
            continue
        found = sorted(
            f
            for f in p.iterdir()
            if f.is_file()
            and f.name.endswith((".csv", ".csv.gz"))
            and not f.name.endswith(SIDE_FILES)
        )
        if not found:
            raise HingeImuError("no recordings (*.csv, *.csv.gz) in this folder", p)
        out += found
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "recordings",
        nargs="+",
        metavar="REC",
        help="recording(s) (.csv or .csv.gz) or folder(s) of them; with several, "
        "give them in date order: a page comparing them is added",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    p.add_argument(
        "--rules", metavar="FILE", help="rules TOML (default: the rules of docs/rules.md)"
    )
    p.add_argument(
        "--angles-rate-hz",
        type=_rate,
        default=50.0,
        metavar="HZ",
        help="time grid of angles.csv, Hz (default 50)",
    )
    p.add_argument("--no-png", action="store_true", help="write the PDF and CSVs only")
    p.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        metavar="N",
        help="processes drawing the pages: 1 or 2 (default: 2 for a long report when "
        "the machine has 1.5 idle cores, on Linux)",
    )
    p.add_argument(
        "--set-pngs",
        action="store_true",
        help="also write each set page of a long session as a PNG (4_set_<n>.png; "
        "they are always in the PDF)",
    )


def run(args: argparse.Namespace) -> int:
    from hinge_imu.report.cores import cpu_sample

    # Before the imports and the analysis: whether a second core is free is
    # measured over them (report/cores.py).
    since = cpu_sample()
    from hinge_imu.atomic import refuse_report_over_inputs
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.core.rules import load_rules
    from hinge_imu.report.build import ReportSettings, check_out_dir, write_report

    # Check everything before writing anything: bad input leaves DIR untouched.
    out = check_out_dir(args.out)
    rules = load_rules(args.rules)
    recordings = _expand(args.recordings)
    refuse_report_over_inputs(out, [*recordings, args.rules])
    sessions = [analyse(path, rules) for path in recordings]
    settings = ReportSettings(
        angles_rate_hz=args.angles_rate_hz,
        png=not args.no_png,
        set_pngs=args.set_pngs,
        jobs=args.jobs or 0,
    )
    written = write_report(sessions, out, settings, cpu_since=since)
    if any(s.is_simulated for s in sessions):
        print("*** SIMULATED DATA — not a real person ***")
    for s in sessions:
        judged = [r for r in s.reps if r.judged]
        print(f"{s.source}: {len(s.reps)} reps, {len(judged)} judged")
        for w in s.warnings:  # the reader's start with FILE:LINE already
            where = "" if w.startswith(s.source) else f"{s.source}: "
            print(f"hinge-imu: warning: {where}{w}", file=sys.stderr)
    print(f"wrote {len(written)} files into {out}/ (open {out / 'report.pdf'})")
    return 0
