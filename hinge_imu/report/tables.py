"""The report's reading pages: calibration and data quality, and the rep table.

The rep table shows, for every rep and every rule condition, the measured
value next to the threshold, so a physiotherapist sees why a rule fired and
by how much. Each function returns new A4-landscape figures; nothing is shown.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib.figure import Figure

from hinge_imu.conventions import CORE_SENSORS, SENSOR_NAMES
from hinge_imu.core.results import RepResult, Session
from hinge_imu.core.rules import Condition, Rule
from hinge_imu.report.style import (
    BAD,
    GOOD,
    METRIC_LABELS,
    MINOR,
    NOT_JUDGED,
    RULE_LABELS,
    new_page,
)

#: Calibration stance the analysis asks for, and the least it copes with, s.
STANCE_ASKED_S = 2.0
STANCE_MIN_S = 1.0
#: Rows of the rep table per page (readable at A4).
REPS_PER_PAGE = 20

_FIRED_BG = "#F4B6A6"
_GUARD_BG = "#EEEEEE"
_HEADER_BG = "#DDE6F0"


def _sensors(session: Session) -> list[str]:
    present = set(session.calibration) | set(session.quality) | set(session.missing_sensors)
    return [s for s in SENSOR_NAMES if s in present or s in CORE_SENSORS]


def quality_figure(session: Session) -> Figure:
    """Calibration stance per sensor, lost data per sensor, and what could not be judged."""
    fig = new_page("Calibration and data quality", session)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.5, 1])
    ax_stance = fig.add_subplot(grid[0, 0])
    ax_lost = fig.add_subplot(grid[0, 1])
    ax_text = fig.add_subplot(grid[1, :])
    sensors = _sensors(session)
    y = np.arange(len(sensors))[::-1]
    labels = [s.replace("_", " ") for s in sensors]

    for yi, sensor in zip(y, sensors, strict=True):
        cal = session.calibration.get(sensor)
        if cal is None:
            ax_stance.text(0.05, yi, "no sensor", va="center", color=NOT_JUDGED, fontsize=9)
            continue
        upright = cal.kind == "upright"  # no still stance: the upright moments between reps
        stance = 0.0 if upright else cal.stance_s  # a short stance is drawn as it is
        colour = GOOD if cal.ok and stance >= STANCE_ASKED_S - 1e-6 else (MINOR if cal.ok else BAD)
        ax_stance.barh(yi, stance, color=colour, height=0.6)
        word = " — no stance: upright moments between reps" if upright else ""
        if cal.kind == "short_stance":
            word = " — short stance; gyro bias: upright moments between reps"
        word += "" if cal.ok else " — not usable"
        ax_stance.text(
            stance + 0.05,
            yi,
            f"{stance:.1f} s{word}\nbending axis found: {cal.axis_confidence:.0%} sure\n"
            f"{cal.bias_note()}\n{cal.acc_note()}",
            va="center",
            fontsize=8.5,
        )
    ax_stance.axvline(STANCE_ASKED_S, color="#333333", linestyle="--", linewidth=1)
    ax_stance.axvline(STANCE_MIN_S, color=BAD, linestyle=":", linewidth=1.2)
    ax_stance.text(STANCE_ASKED_S, len(sensors) - 0.45, " asked for: 2 s", fontsize=8)
    ax_stance.text(
        STANCE_MIN_S, len(sensors) - 0.45, " least: 1 s", fontsize=8, color=BAD, ha="right"
    )
    ax_stance.set_yticks(y, labels)
    ax_stance.set_ylim(-0.6, len(sensors) - 0.1)
    longest = max((c.stance_s for c in session.calibration.values()), default=0.0)
    ax_stance.set_xlim(0, max(4.0, longest * 2.0))
    ax_stance.set_xlabel("Length of the still standing period used to calibrate (s)")
    ax_stance.set_title("Calibration: standing still at the start", loc="left", fontsize=11)

    for yi, sensor in zip(y, sensors, strict=True):
        q = session.quality.get(sensor)
        if q is None:
            ax_lost.text(0.05, yi, "no sensor", va="center", color=NOT_JUDGED, fontsize=9)
            continue
        share = 100.0 * q.lost_share
        colour = GOOD if share < 1 else (MINOR if share < 5 else BAD)
        ax_lost.barh(yi, share, color=colour, height=0.6)
        gaps = f", {len(q.long_gaps_s)} long gap(s)" if q.long_gaps_s else ""
        gaps += f", saturated {len(q.saturated_s)}×" if q.saturated_s else ""
        ax_lost.text(
            share + 0.1,
            yi,
            f"{share:.1f} %\n{q.lost_samples} of {q.samples + q.lost_samples}"
            f" samples\nat {q.rate_hz:.0f} Hz{gaps}",
            va="center",
            fontsize=8,
        )
    ax_lost.set_yticks(y, labels)
    ax_lost.set_ylim(-0.6, len(sensors) - 0.1)
    worst = max((100 * q.lost_share for q in session.quality.values()), default=0.0)
    ax_lost.set_xlim(0, max(10.0, worst * 2.6))
    ax_lost.set_xlabel("Samples lost in transmission (%)\nunder 1 % is good, over 5 % is poor")
    ax_lost.set_title("Data quality: lost samples per sensor", loc="left", fontsize=11)

    ax_text.axis("off")
    lines = _quality_lines(session)
    ax_text.text(
        0.0,
        1.0,
        "\n".join(lines),
        va="top",
        ha="left",
        fontsize=10,
        transform=ax_text.transAxes,
        linespacing=1.5,
    )
    return fig


def _wrap(prefix: str, text: str, width: int = 120) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=prefix, subsequent_indent="      ")


def _quality_lines(session: Session) -> list[str]:
    """The plain-words summary under the quality charts."""
    lines = []
    n = len(session.reps)
    not_judged = [r for r in session.reps if not r.judged]
    lines.append(
        f"Reps found: {n}.   Reps judged: {n - len(not_judged)}.   "
        f"Reps not judged: {len(not_judged)}."
    )
    if session.missing_sensors:
        missing = ", ".join(s.replace("_", " ") for s in session.missing_sensors)
        lines += _wrap(
            "•  ",
            f"Sensors missing: {missing} — the rules that need them are "
            "reported as 'not assessed'.",
        )
    else:
        lines.append("•  Sensors missing: none.")
    for rep in not_judged:
        lines += _wrap("•  ", f"Rep {rep.rep} not judged: {rep.not_judged_reason}.")
    for sensor, cal in session.calibration.items():
        for msg in cal.messages:
            lines += _wrap("•  ", f"Calibration, {sensor.replace('_', ' ')}: {msg}")
    for sensor, q in session.quality.items():
        if q.long_gaps_s:
            spans = ", ".join(f"{t0:.1f}–{t1:.1f} s" for t0, t1 in q.long_gaps_s)
            lines += _wrap(
                "•  ", f"{sensor.replace('_', ' ')}: no data at {spans} (angles left blank there)."
            )
    for w in session.warnings:
        lines += _wrap("•  ", w)
    if len(lines) > 18:
        lines = [*lines[:17], f"… and {len(lines) - 17} more lines (see the CSV files)."]
    return lines


def _columns(session: Session) -> list[tuple[Rule, Condition]]:
    """One table column per rule condition that can be measured in this session."""
    return [
        (rule, cond)
        for rule in session.rules.rules
        if rule.observable
        for cond in rule.fires_when
        if any(r.metrics.get(cond.metric) is not None for r in session.reps)
    ]


def _cell(rep: RepResult, rule: Rule, cond: Condition) -> tuple[str, str]:
    """Text and background colour of one table cell."""
    if not rep.judged:
        return "", _GUARD_BG
    value = rep.metrics.get(cond.metric)
    verdict = rep.judgement[rule.rule_id]
    if value is None or not math.isfinite(value) or verdict.fired is None:
        return "–", "white"
    if cond.holds(value):
        if verdict.fired:
            return f"{_deg(value)}  (+{_deg(cond.excess(value))})", _FIRED_BG
        return f"{_deg(value)} *", _GUARD_BG
    return _deg(value), "white"


def _deg(value: float) -> str:
    """One decimal, without a confusing "-0.0"."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def rep_table_figures(session: Session) -> list[Figure]:
    """The rep-by-threshold table, one page per ``REPS_PER_PAGE`` reps."""
    cols = _columns(session)
    pages = [
        session.reps[i : i + REPS_PER_PAGE] for i in range(0, len(session.reps), REPS_PER_PAGE)
    ] or [()]
    figs = []
    for k, reps in enumerate(pages):
        title = "Each rep against the thresholds"
        if len(pages) > 1:
            title += f" (page {k + 1} of {len(pages)})"
        fig = new_page(title, session, layout=False)
        ax = fig.add_axes((0.01, 0.12, 0.98, 0.76))
        ax.axis("off")
        header = ["Rep", "Score"] + [
            f"{RULE_LABELS[r.rule_id]}\n{_metric_words(c.metric)}\n{c.op} {c.threshold:g}°"
            for r, c in cols
        ]
        body, colours = [], []
        for rep in reps:
            score = f"{rep.judgement.score:.0f}" if rep.judged else "not judged"
            row_colour = (
                GOOD if not rep.judgement.mistakes else (BAD if rep.judgement.bad else MINOR)
            )
            if not rep.judged:
                row_colour = NOT_JUDGED
            cells = [_cell(rep, rule, cond) for rule, cond in cols]
            body.append([str(rep.rep), score, *(c[0] for c in cells)])
            colours.append([row_colour + "55", row_colour + "55", *(c[1] for c in cells)])
        if not body:
            ax.text(
                0.5,
                0.5,
                "No reps were found in this recording.",
                ha="center",
                fontsize=14,
                transform=ax.transAxes,
            )
        else:
            widths = [0.04, 0.07] + [0.87 / max(1, len(cols))] * len(cols)
            table = ax.table(
                cellText=body,
                colLabels=header,
                cellColours=colours,
                colColours=[_HEADER_BG] * len(header),
                colWidths=widths,
                loc="upper center",
                cellLoc="center",
            )
            table.auto_set_font_size(False)
            table.set_fontsize(8)
            table.scale(1.0, 1.35)
            for (row, _col), cell in table.get_celld().items():
                if row == 0:
                    cell.set_height(cell.get_height() * 3.2)
                    cell.set_fontsize(7)
        notes = [_TABLE_LEGEND]
        shown = {rule.rule_id for rule, _ in cols}
        hidden = [RULE_LABELS[r.rule_id] for r in session.rules.rules if r.rule_id not in shown]
        if hidden:
            notes.append("Not shown (could not be assessed in any rep): " + ", ".join(hidden) + ".")
        for rep in reps:
            if not rep.judged:
                notes.append(f"Rep {rep.rep} not judged: {rep.not_judged_reason}.")
        if len(notes) > 9:
            notes = [*notes[:8], f"… and {len(notes) - 8} more (see reps.csv)."]
        fig.text(0.01, 0.01, "\n".join(notes), fontsize=8.5, va="bottom", linespacing=1.4)
        figs.append(fig)
    return figs


_TABLE_LEGEND = (
    "How to read: each column is one rule's condition; the cell is the value measured in that "
    "rep, in degrees.\nRed cell = the rule fired; (+x) = by how many degrees the value went past "
    "the threshold.\n"
    "* = past the threshold, but the rule's extra condition did not hold (knees locked counts "
    "only when hip flexion reaches 45°).\n– = not assessed (sensor missing).  "
    "Grey row = rep not judged (poor data; see the data-quality page)."
)


def _metric_words(metric: str) -> str:
    words = METRIC_LABELS.get(metric, metric.replace("_", " "))
    return textwrap.fill(words, 16)
