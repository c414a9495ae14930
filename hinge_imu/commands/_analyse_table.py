"""The readable rep table ``hinge-imu analyse`` prints (rich; plain when piped)."""

from __future__ import annotations

import math

from rich.console import Console

from hinge_imu.core.results import RepResult, Session

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
    con = console or Console(highlight=False, soft_wrap=False)
    if session.is_simulated:
        con.print("[bold yellow]*** SIMULATED DATA — not a real person ***[/bold yellow]")
    con.print(f"[bold]{session.source or 'recording'}[/bold]")
    for name, cal in session.calibration.items():
        q = session.quality.get(name)
        status = "ok" if cal.ok else "[red]NOT OK[/red]"
        lost = f", {100 * q.lost_share:.1f}% samples lost" if q else ""
        gaps = f", {len(q.long_gaps_s)} long gap(s)" if q and q.long_gaps_s else ""
        rate = f"{q.rate_hz:g} Hz" if q else ""
        con.print(f"  {name:10s} {rate}{lost}{gaps}")
        for x in q.saturated_s if q else ():
            # One line per stretch: when, how long, which channel at which limit.
            con.print(f"  {'':10s} [yellow]saturated[/yellow] {x.describe()}", soft_wrap=True)
        on = ANALYSE_WORDS.get(cal.kind, cal.kind)
        con.print(
            f"  {'':10s} calibration {status}: {on} {cal.stance_start_s:.1f}–"
            f"{cal.stance_end_s:.1f} s, axis confidence {cal.axis_confidence:.2f}, "
            f"{cal.bias_note()}, {cal.acc_note()}"
        )
    for m in session.missing_sensors:
        con.print(f"  {m:10s} missing: its rules are not assessed")
    for w in session.warnings:
        con.print(f"  [yellow]warning:[/yellow] {w}", soft_wrap=True)  # one grep-able line
    if not con.is_terminal:
        # Plain text when piped or redirected: fast for thousands of reps.
        _plain_reps(session, con)
        _summary(session, con)
        return
    from rich.table import Table  # only for a terminal

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
            f"not judged: {r.not_judged_reason}" if r.not_judged_reason else mistakes_text(r),
        )
    con.print(table)
    _summary(session, con)


def _plain_reps(session: Session, con: Console) -> None:
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
    con.file.write("\n".join(lines) + "\n")


def _summary(session: Session, con: Console) -> None:
    judged = [r for r in session.reps if r.judged]
    bad = sum(1 for r in judged if r.judgement.bad)
    mean = sum(r.judgement.score for r in judged) / len(judged) if judged else float("nan")
    mean_txt = f"{mean:.0f}" if math.isfinite(mean) else "–"
    con.print(
        f"{len(session.reps)} reps, {len(judged)} judged, {bad} bad, mean score {mean_txt}"
        f" (rules: {session.rules.source})"
    )
