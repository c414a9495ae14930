"""The session's figures: reps overlaid, scores and mistakes (and, re-exported, the timeline).

Every function takes an analysed :class:`~hinge_imu.core.results.Session`
and returns a new A4-landscape :class:`matplotlib.figure.Figure`; nothing is
shown or saved here (``pdf.py`` and ``build.py`` do that). The session over
time is in ``timeline.py``; the calibration, data-quality and rep-table
pages are in ``tables.py``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hinge_imu.core.rep_metrics import HIP_FLEXION_KNEES_FORWARD_DEG
from hinge_imu.core.results import RepResult, Session
from hinge_imu.report.style import (
    ANGLE_LABELS,
    NOT_JUDGED,
    RULE_LABELS,
    STATUS_COLOURS,
    STATUS_LINESTYLES,
    STATUS_WORDS,
    TIMELINE_ANGLES,
    angle_axis_label,
    metric_angle,
    new_page,
    page_legend,
    rep_status,
)
from hinge_imu.report.timeline import (
    TIMELINE_PAGE_S,
    draw_thresholds,
    fired_time_s,
    thresholds_for,
    timeline_figure,
    timeline_figures,
    timeline_windows,
)

__all__ = [
    "TIMELINE_PAGE_S",
    "fired_time_s",
    "reps_overlay_figure",
    "scores_figure",
    "thresholds_for",
    "timeline_figure",
    "timeline_figures",
    "timeline_windows",
]


def _normalised(
    t_all_s: np.ndarray, y_all_deg: np.ndarray, rep: RepResult
) -> tuple[np.ndarray, np.ndarray]:
    """A rep's curve on 0–100 % of rep time (start of descent → lockout), from the
    session's time (s) and angle (deg) arrays."""
    b = rep.bounds
    t = t_all_s[b.start : b.end]
    y = y_all_deg[b.start : b.end]
    span = t[-1] - t[0] if len(t) > 1 else 1.0
    return 100.0 * (t - t[0]) / span, y


def _mistake_metrics(rep: RepResult) -> dict[str, str]:
    """Angle → the metric a fired rule of the rep was decided on."""
    out = {}
    for rule_id in rep.judgement.mistakes:
        metric = rep.judgement[rule_id].condition.split(" ", 1)[0]
        angle = metric_angle(metric)
        if angle is not None:
            out[angle] = metric
    return out


def _label_index(rep: RepResult, metric: str, y: np.ndarray, session: Session) -> int:
    """Where in the rep's curve ``y`` a metric is read (index into the rep)."""
    finite = np.flatnonzero(np.isfinite(y))
    if metric.endswith("_lockout"):
        return int(finite[-1])
    if metric.endswith("_start"):
        return int(finite[0])
    if metric.endswith("_bottom") or metric == "hip_flexion_peak":
        return rep.bounds.bottom - rep.bounds.start
    if metric == "thigh_inclination_at_hip20":
        hip = session.angle_column("hip_flexion_deg")[rep.bounds.start : rep.bounds.end]
        above = np.flatnonzero(hip >= HIP_FLEXION_KNEES_FORWARD_DEG)
        return int(above[0]) if above.size else int(finite[0])
    if "_min" in metric:
        return int(np.nanargmin(y))
    return int(np.nanargmax(y))


#: Up to this many reps, each rep is its own line; beyond, the reps of one
#: verdict are drawn as one collection (hundreds of lines would take seconds).
OVERLAY_SINGLE_LINES_MAX = 40
#: Points per rep curve in such a collection (the rep's samples, thinned).
OVERLAY_POINTS_PER_REP = 100
#: Up to this many flagged reps are named on the overlay; more would hide
#: the curves (the set pages name every rep).
OVERLAY_LABELS_MAX = 15


#: Where the overlay's axes sit (figure fractions): room for the page title
#: above, the angle names left, the threshold names right, the legend below.
_OVERLAY_MARGINS = {
    "left": 0.075,
    "right": 0.9,
    "top": 0.88,
    "bottom": 0.11,
    "wspace": 0.55,
    "hspace": 0.15,
}


def reps_overlay_figure(session: Session) -> Figure:
    """Every rep's curves on normalised rep time, coloured by verdict."""
    # Placed by hand: a layout pass would cost as much as drawing the page.
    fig = new_page("Every rep, on top of each other", session, layout=False)
    axes = fig.subplots(2, 2, sharex=True, gridspec_kw=_OVERLAY_MARGINS).ravel()
    statuses: set[str] = set()
    # Good reps first, so flagged reps are drawn on top and stand out.
    order = sorted(
        session.reps, key=lambda r: ["good", "not_judged", "minor", "bad"].index(rep_status(r))
    )
    flagged = [r for r in session.reps if r.judgement.mistakes]
    label = len(flagged) <= OVERLAY_LABELS_MAX
    t_all_s = session.angle_column("t_s")
    for ax, angle in zip(axes, TIMELINE_ANGLES, strict=True):
        ax.set_title(ANGLE_LABELS[angle], fontsize=11, loc="left", y=1.0)
        ax.axhline(0, color="#BBBBBB", linewidth=0.6, zorder=0)
        y_all_deg = session.angle_column(f"{angle}_deg")
        curves: dict[str, list[np.ndarray]] = {}
        for rep in order:
            x, y = _normalised(t_all_s, y_all_deg, rep)
            if not np.isfinite(y).any():
                continue
            status = rep_status(rep)
            statuses.add(status)
            curves.setdefault(status, []).append(np.column_stack([x, y]))
            metric = _mistake_metrics(rep).get(angle)
            if label and metric is not None:
                # Name a flagged rep on the angle its mistake was read from,
                # at the point the rule read.
                far = _label_index(rep, metric, y, session)
                ax.annotate(
                    f"rep {rep.rep}",
                    (x[far], y[far]),
                    xytext=(0, 4 if y[far] >= 0 else -10),
                    textcoords="offset points",
                    fontsize=8,
                    color=STATUS_COLOURS[status],
                    ha="center",
                )
        for status, lines in curves.items():
            style = {
                "color": STATUS_COLOURS[status],
                "linestyle": STATUS_LINESTYLES[status],
                "linewidth": 2.2 if status == "bad" else 1.4,
                "alpha": 0.9,
            }
            if len(session.reps) <= OVERLAY_SINGLE_LINES_MAX:
                for xy in lines:
                    ax.plot(xy[:, 0], xy[:, 1], **style)
            else:
                # A bundle of hundreds: ~1 point per 1 % of rep time is plenty;
                # a picture in the PDF (at the PNGs' resolution), not hundreds
                # of thousands of points: a tenth of the bytes, faster to draw.
                thin = [xy[:: max(1, len(xy) // OVERLAY_POINTS_PER_REP)] for xy in lines]
                bundle = LineCollection(thin, rasterized=True, **style)  # type: ignore[arg-type]
                ax.add_collection(bundle)
                ax.autoscale_view()
        if not curves:
            ax.text(
                0.5,
                0.5,
                "not measured (sensor missing)",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="#777777",
            )
        else:
            draw_thresholds(ax, session.rules, angle)
        ax.set_ylabel(angle_axis_label(angle), fontsize=9)
        ax.grid(color="#EEEEEE")
        ax.set_xlim(0, 104)
    if not label:
        fig.text(
            0.01,
            0.005,
            f"{len(flagged)} reps with a mistake: too many to name here; "
            "the set pages name every rep.",
            fontsize=8,
        )
    for ax in axes[2:]:
        ax.set_xlabel("Rep time (%): 0 = starts bending, 100 = stands tall again")
    handles = [
        Line2D(
            [],
            [],
            color=STATUS_COLOURS[s],
            linestyle=STATUS_LINESTYLES[s],
            linewidth=2.2 if s == "bad" else 1.4,
            label=STATUS_WORDS[s],
        )
        for s in ("good", "minor", "bad", "not_judged")
        if s in statuses
    ]
    handles.append(Line2D([], [], color="#555555", linestyle=(0, (2, 2)), label="threshold"))
    page_legend(fig, handles)
    if not session.reps:
        fig.text(0.5, 0.5, "No reps were found in this recording.", ha="center", fontsize=14)
    return fig


def scores_figure(session: Session) -> Figure:
    """Score per rep, which mistake happened in which rep, and how often."""
    fig = new_page("Scores and mistakes", session)
    grid = fig.add_gridspec(2, 2, width_ratios=[2.2, 1], height_ratios=[1, 1.3])
    ax_score = fig.add_subplot(grid[0, 0])
    ax_dots = fig.add_subplot(grid[1, 0], sharex=ax_score)
    ax_count = fig.add_subplot(grid[:, 1])
    reps = session.reps
    x = [float(i) for i in range(1, len(reps) + 1)]
    rules = [r for r in session.rules.rules if r.observable]

    for xi, rep in zip(x, reps, strict=True):
        status = rep_status(rep)
        score = rep.judgement.score
        if rep.judged:
            ax_score.bar(xi, score, color=STATUS_COLOURS[status], width=0.7)
            ax_score.text(xi, score + 2, f"{score:.0f}", ha="center", fontsize=8)
        else:
            ax_score.bar(
                xi, 100, color="none", edgecolor=STATUS_COLOURS[status], hatch="//", width=0.7
            )
            ax_score.text(xi, 50, "not\njudged", ha="center", va="center", fontsize=7)
    ax_score.set_ylim(0, 112)
    ax_score.set_ylabel("Score (0–100)\n100 = no mistake")
    ax_score.set_title("Score of each rep", loc="left", fontsize=11)
    ax_score.grid(axis="y", color="#EEEEEE")
    judged_scores = [r.judgement.score for r in reps if r.judged]
    if judged_scores:
        mean = float(np.mean(judged_scores))
        ax_score.axhline(mean, color="#333333", linewidth=1, linestyle="--")
    statuses = {rep_status(r) for r in reps}
    handles: list[Patch | Line2D] = [
        Patch(facecolor=STATUS_COLOURS[s], label=STATUS_WORDS[s])
        for s in ("good", "minor", "bad")
        if s in statuses
    ]
    if "not_judged" in statuses:
        handles.append(
            Patch(
                facecolor="none", edgecolor=NOT_JUDGED, hatch="//", label=STATUS_WORDS["not_judged"]
            )
        )
    if judged_scores:
        handles.append(
            Line2D(
                [],
                [],
                color="#333333",
                linestyle="--",
                label=f"mean score {np.mean(judged_scores):.0f}",
            )
        )
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
    else:
        ax_score.text(
            0.5,
            0.5,
            "No reps were found in this recording.",
            ha="center",
            va="center",
            fontsize=14,
            transform=ax_score.transAxes,
        )

    # Dot matrix: one row per rule, one column per rep.
    for row, rule in enumerate(rules):
        y = len(rules) - 1 - row
        for xi, rep in zip(x, reps, strict=True):
            fired = rep.judgement[rule.rule_id].fired
            if fired is None:
                ax_dots.text(xi, y, "–", ha="center", va="center", color="#AAAAAA", fontsize=9)
            elif fired:
                ax_dots.plot(xi, y, "o", color="#B00020", markersize=9)
            else:
                ax_dots.plot(xi, y, "o", mfc="none", mec="#BBBBBB", markersize=6)
    ax_dots.set_yticks(range(len(rules)))
    ax_dots.set_yticklabels([RULE_LABELS[r.rule_id] for r in reversed(rules)], fontsize=9)
    ax_dots.set_ylim(-0.6, len(rules) - 0.4)
    ax_dots.set_xticks(x)
    ax_dots.set_xlim(0.4, max(1, len(reps)) + 0.6)
    ax_dots.set_xlabel("Rep")
    ax_dots.set_title(
        "Which mistake in which rep  (● found, ○ not found, – not assessed)\n"
        "Tripod foot is not listed: body-worn sensors cannot feel the pressure under the foot.",
        loc="left",
        fontsize=9,
    )
    ax_dots.tick_params(axis="y", length=0)
    plt_setp_labels_hidden(ax_score)

    counts = [sum(bool(r.judgement[rule.rule_id].fired) for r in reps) for rule in rules]
    assessed = [sum(r.judgement[rule.rule_id].assessed for r in reps) for rule in rules]
    ypos = np.arange(len(rules))[::-1]
    ax_count.barh(ypos, counts, color="#B00020", height=0.6)
    for y, c, a in zip(ypos, counts, assessed, strict=True):
        text = f"{c} of {a} reps" if a else "not assessed"
        ax_count.text(c + 0.1, y, text, va="center", fontsize=8)
    ax_count.set_yticks(ypos)
    ax_count.set_yticklabels([RULE_LABELS[r.rule_id] for r in rules], fontsize=9)
    ax_count.set_xlim(0, max(1, max(assessed, default=1)) * 1.45)
    ax_count.set_xlabel("Reps in which the mistake was found")
    ax_count.set_title("How often each mistake happened", loc="left", fontsize=11)
    ax_count.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def plt_setp_labels_hidden(ax: Axes) -> None:
    """Hide an axis' x tick labels (it shares them with the axis below)."""
    for label in ax.get_xticklabels():
        label.set_visible(False)
