"""The readable rep table ``hinge-imu analyse`` prints (rich on a terminal; plain when piped).

Piped or redirected, each line is written whole (no wrapping at 80
columns, grep-able) and rich is never imported (0.05 s of a cold run).
Text from the data (file names, warnings) is never read as rich markup.
"""

from __future__ import annotations

import math
import sys
from typing import IO, TYPE_CHECKING

from hinge_imu.core.results import RepResult, Session

if TYPE_CHECKING:
    from rich.console import Console

#: A piece of a line: plain text, or (text, rich style) shown styled on a terminal.
Part = str | tuple[str, str]


class _Plain:
    """Lines as they are, to a file (stdout when piped)."""

    is_terminal = False

    def __init__(self, file: IO[str]) -> None:
        self.file = file

    def line(self, *parts: Part) -> None:
        self.file.write("".join(p if isinstance(p, str) else p[0] for p in parts) + "\n")


class _Rich:
    """Lines styled on a rich console (a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.is_terminal = console.is_terminal
        self.file = console.file

    def line(self, *parts: Part) -> None:
        from rich.text import Text

        # One line each, never wrapped mid-phrase: a narrow terminal folds it.
        self.console.print(Text.assemble(*parts), soft_wrap=True)


#: The calibration kind as the sensor lines name it (docs/outputs.md, ``calibration``).
ANALYSE_WORDS = {
    "stance": "stance",
    "short_stance": "short stance (no still stance of 1 s; gyro bias from the upright moments)",
    "upright": "upright moments between reps (no still stance)",
}


def mistakes_text(rep: RepResult) -> str:
    """Fired rules with how far past their threshold, e.g. ``back_rounded +12.3°``."""
    parts = []
    for v in rep.judgement.verdicts:
        if v.fired:
            by = f" {v.excess_deg:+.1f}°" if v.excess_deg is not None else ""
            parts.append(f"{v.rule_id}{by}")
    return ", ".join(parts)


def print_session(session: Session, console: Console | None = None) -> None:
    """The session's sensors, warnings and rep table; ``console``: rich's (default:
    a new one on a terminal, plain lines when stdout is piped or redirected)."""
    if console is None and not sys.stdout.isatty():
        out: _Plain | _Rich = _Plain(sys.stdout)
    else:
        from rich.console import Console

        out = _Rich(console or Console(highlight=False, soft_wrap=False))
    if session.is_simulated:
        out.line(("*** SIMULATED DATA — not a real person ***", "bold yellow"))
    out.line((session.source or "recording", "bold"))
    for name, cal in session.calibration.items():
        q = session.quality.get(name)
        status: Part = "ok" if cal.ok else ("NOT OK", "red")
        lost = f", {100 * q.lost_share:.1f}% samples lost" if q else ""
        gaps = f", {len(q.long_gaps_s)} long gap(s)" if q and q.long_gaps_s else ""
        rate = f"{q.rate_hz:g} Hz" if q else ""
        out.line(f"  {name:10s} {rate}{lost}{gaps}")
        for x in q.saturated_s if q else ():
            # One line per stretch: when, how long, which channel at which limit.
            out.line(f"  {'':10s} ", ("saturated", "yellow"), f" {x.describe()}")
        on = ANALYSE_WORDS.get(cal.kind, cal.kind)
        out.line(
            f"  {'':10s} calibration ",
            status,
            f": {on} {cal.stance_start_s:.1f}–{cal.stance_end_s:.1f} s, axis confidence "
            f"{cal.axis_confidence:.2f}, {cal.bias_note()}, {cal.acc_note()}",
        )
    for m in session.missing_sensors:
        out.line(f"  {m:10s} missing: its rules are not assessed")
    for w in session.warnings:
        out.line("  ", ("warning:", "yellow"), f" {w}")  # one grep-able line
    if not isinstance(out, _Rich) or not out.is_terminal:
        # Plain text when piped or redirected: fast for thousands of reps.
        _plain_reps(session, out.file)
        _summary(session, out)
        return
    from rich.table import Table  # only for a terminal
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False)
    for col, just in (
        ("rep", "right"),
        ("time (s)", "left"),
        ("hip peak", "right"),
        ("score", "right"),
        ("mistakes (by how much)", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in session.reps:
        met = r.metrics
        hip = met.hip_flexion_peak
        score = r.judgement.score
        table.add_row(
            str(r.rep),
            f"{met.t_start:7.1f}–{met.t_end:.1f}",
            "" if hip is None else f"{hip:.0f}°",
            "–" if not math.isfinite(score) else f"{score:.0f}",
            # Text, not markup: a reason's words are shown as they are.
            Text(f"not judged: {r.not_judged_reason}" if r.not_judged_reason else mistakes_text(r)),
        )
    out.console.print(table)
    _summary(session, out)


def _plain_reps(session: Session, file: IO[str]) -> None:
    head = f"{'rep':>4s}  {'time (s)':15s} {'hip peak':>8s} {'score':>5s}"
    lines = [head + "  mistakes (by how much)"]
    for r in session.reps:
        met = r.metrics
        hip = "" if met.hip_flexion_peak is None else f"{met.hip_flexion_peak:.0f}°"
        score = r.judgement.score
        what = f"not judged: {r.not_judged_reason}" if r.not_judged_reason else mistakes_text(r)
        sc = "–" if not math.isfinite(score) else f"{score:.0f}"
        span = f"{met.t_start:.1f}–{met.t_end:.1f}"
        lines.append(f"{r.rep:4d}  {span:15s} {hip:>8s} {sc:>5s}  {what}")
    file.write("\n".join(lines) + "\n")


def _summary(session: Session, out: _Plain | _Rich) -> None:
    judged = [r for r in session.reps if r.judged]
    bad = sum(1 for r in judged if r.judgement.bad)
    mean = sum(r.judgement.score for r in judged) / len(judged) if judged else float("nan")
    mean_txt = f"{mean:.0f}" if math.isfinite(mean) else "–"
    out.line(
        f"{len(session.reps)} reps, {len(judged)} judged, {bad} bad, mean score {mean_txt}"
        f" (rules: {session.rules.source})"
    )
