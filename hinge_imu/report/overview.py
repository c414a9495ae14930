"""The overview page of a session of several sets: the whole session at a glance.

Top: the score of every rep over time, the sets shaded and numbered, each
set's mean score. Bottom left: how many reps of each set showed each
mistake. Bottom right: the session in numbers. The axes are placed by hand
(no layout engine): the page is drawn for the PDF and the PNG, and a layout
pass would cost more than drawing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from hinge_imu.core.results import Session
from hinge_imu.report.sets import RepSet
from hinge_imu.report.style import (
    RULE_LABELS,
    STATUS_COLOURS,
    new_page,
    rep_status,
)

#: Marker of each verdict on the score chart (shape as well as colour).
_MARKERS = {"good": "o", "minor": "^", "bad": "s", "not_judged": "x"}
#: The verdicts in a few words (the legend shares a line with the chart's title).
_WORDS = {
    "good": "no mistake",
    "minor": "minor mistake(s)",
    "bad": "serious mistake",
    "not_judged": "not judged (drawn at 0)",
}
#: Above this many sets, only every n-th set is numbered on the axes.
_MAX_SET_LABELS = 30


def _set_ticks(n_sets: int) -> list[int]:
    step = 1 if n_sets <= _MAX_SET_LABELS else int(np.ceil(n_sets / _MAX_SET_LABELS / 5) * 5)
    return [k for k in range(1, n_sets + 1) if k == 1 or k % step == 0]


def overview_figure(session: Session, sets: Sequence[RepSet]) -> Figure:
    """Scores over time, mistakes per set and the session's totals on one page."""
    fig = new_page("Session overview", session, layout=False)
    ax_score = fig.add_axes((0.06, 0.53, 0.90, 0.33))
    ax_heat = fig.add_axes((0.12, 0.08, 0.56, 0.36))
    ax_text = fig.add_axes((0.71, 0.08, 0.28, 0.36))

    # Scores over time, one marker per rep; sets shaded, each with its mean.
    for s in sets:
        lo, hi = s.reps[0].metrics.t_start, s.reps[-1].metrics.t_end
        ax_score.axvspan(lo, hi, color="#000000", alpha=0.05 if s.number % 2 else 0.1, lw=0)
        scores = [r.judgement.score for r in s.reps if r.judged]
        if scores:
            ax_score.plot([lo, hi], [np.mean(scores)] * 2, color="#000000", lw=1.6)
    statuses = [rep_status(r) for r in session.reps]
    for status in ("good", "not_judged", "minor", "bad"):
        picked = [r for r, st in zip(session.reps, statuses, strict=True) if st == status]
        if not picked:
            continue
        t = [(r.metrics.t_start + r.metrics.t_end) / 2 for r in picked]
        y = [r.judgement.score if r.judged else 0.0 for r in picked]
        ax_score.plot(t, y, _MARKERS[status], color=STATUS_COLOURS[status], ms=4.5, ls="", zorder=3)
    for k in _set_ticks(len(sets)):
        s = sets[k - 1]
        mid = (s.reps[0].metrics.t_start + s.reps[-1].metrics.t_end) / 2
        ax_score.text(mid, 104, str(k), ha="center", va="bottom", fontsize=7)
    t_all = session.angle_column("t_s")
    if len(t_all):
        ax_score.set_xlim(float(t_all[0]), float(t_all[-1]))
    ax_score.set_ylim(-4, 112)
    ax_score.set_ylabel("Score (0–100)\n100 = no mistake", fontsize=9)
    ax_score.set_xlabel("Time since the recording started (s)", fontsize=9, labelpad=1)
    ax_score.set_title("Score of every rep (sets shaded, numbered on top)", loc="left", fontsize=10)
    ax_score.grid(axis="y", color="#EEEEEE")
    ax_score.tick_params(labelsize=8)
    handles = [
        Line2D([], [], marker=_MARKERS[s], color=STATUS_COLOURS[s], ls="", label=_WORDS[s])
        for s in ("good", "minor", "bad", "not_judged")
        if s in statuses
    ]
    handles.append(Line2D([], [], color="#000000", lw=1.6, label="the set's mean"))
    # Above the chart, right of its title: inside, it would hide low scores.
    ax_score.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        borderaxespad=0.1,
        columnspacing=1.0,
        handletextpad=0.3,
    )

    _mistakes_per_set(ax_heat, session, sets)
    _totals(ax_text, session, sets)
    return fig


def _mistakes_per_set(ax: Axes, session: Session, sets: Sequence[RepSet]) -> None:
    """Rows: mistakes; columns: sets; cell: reps with the mistake, darker = more often."""
    rules = [
        r
        for r in session.rules.rules
        if r.observable and any(rep.judgement[r.rule_id].assessed for rep in session.reps)
    ]
    share = np.zeros((len(rules), len(sets)))
    # Many sets: narrow columns, small numbers, and the reps per set said once.
    many = len(sets) > _MAX_SET_LABELS
    size = 6 if many else 7
    n_judged = [sum(r.judged for r in s.reps) for s in sets]
    for j, s in enumerate(sets):
        judged = [r for r in s.reps if r.judged]
        if not many:
            ax.text(j, -1, str(len(judged)), ha="center", va="center", fontsize=7, color="#555555")
        for i, rule in enumerate(rules):
            assessed = [r for r in judged if r.judgement[rule.rule_id].assessed]
            fired = sum(bool(r.judgement[rule.rule_id].fired) for r in assessed)
            if not assessed:
                ax.text(j, i, "–", ha="center", va="center", fontsize=size, color="#999999")
                continue
            share[i, j] = fired / len(assessed)
            if fired:
                colour = "white" if share[i, j] > 0.55 else "#222222"
                ax.text(j, i, str(fired), ha="center", va="center", fontsize=size, color=colour)
    ax.imshow(share, cmap="Reds", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    first = "reps judged"
    if many and n_judged:
        lo, hi = min(n_judged), max(n_judged)
        first += f" ({lo} a set)" if lo == hi else f" ({lo}–{hi} a set)"
    ax.set_yticks(
        [-1, *range(len(rules))], [first, *(RULE_LABELS[r.rule_id] for r in rules)], fontsize=8
    )
    ax.set_ylim(len(rules) - 0.5, -1.6)
    ticks = _set_ticks(len(sets))
    ax.set_xticks([k - 1 for k in ticks], [str(k) for k in ticks], fontsize=7)
    ax.set_xlabel("Set", fontsize=9, labelpad=1)
    ax.tick_params(length=0)
    ax.set_title(
        "Mistakes per set: number of reps with the mistake (empty = none), darker = more often",
        loc="left",
        fontsize=10,
    )


def _totals(ax: Axes, session: Session, sets: Sequence[RepSet]) -> None:
    """The session in numbers, and how often each mistake happened overall."""
    ax.axis("off")
    reps = session.reps
    judged = [r for r in reps if r.judged]
    t = session.angle_column("t_s")
    minutes = (float(t[-1]) - float(t[0])) / 60 if len(t) else 0.0
    lines = [
        f"Length: {minutes:.1f} min.   Sets: {len(sets)}.",
        f"Reps found: {len(reps)}, judged: {len(judged)}.",
    ]
    if judged:
        mean = np.mean([r.judgement.score for r in judged])
        bad = sum(r.judgement.bad for r in judged)
        clean = sum(not r.judgement.mistakes for r in judged)
        lines += [
            f"Mean score: {mean:.0f}.",
            f"Reps without a mistake: {clean}; with a serious one: {bad}.",
        ]
    lines += ["", "How often each mistake happened:"]
    never: list[str] = []
    for rule in session.rules.rules:
        if not rule.observable:
            continue
        assessed = [r for r in judged if r.judgement[rule.rule_id].assessed]
        if not assessed:
            never.append(RULE_LABELS[rule.rule_id])
            continue
        fired = sum(bool(r.judgement[rule.rule_id].fired) for r in assessed)
        lines.append(f"  {RULE_LABELS[rule.rule_id]}: {fired} of {len(assessed)} reps")
    if never:
        lines.append(f"  Not assessed (sensor missing): {', '.join(never)}.")
    if session.missing_sensors:
        lines.append(f"Missing sensors: {', '.join(session.missing_sensors)}.")
    lines += [
        "",
        "The pages that follow: every rep overlaid,",
        "calibration and data quality, then one page per",
        "set (its angles, reps, scores and mistakes).",
        "Every rep's values: reps.csv.",
    ]
    ax.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=8.5, transform=ax.transAxes)
