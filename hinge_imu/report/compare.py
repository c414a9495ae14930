"""Progress across sessions: scores, mistake counts and key angles, side by side.

Sessions are shown in the order given (the user puts them in date order).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from hinge_imu.core.results import Session
from hinge_imu.report.style import (
    BAD,
    METRIC_LABELS,
    RULE_LABELS,
    new_page,
    session_name,
)

#: The rep quantities a coach follows over weeks, with the rule that reads them.
KEY_METRICS = (
    "hip_flexion_peak",
    "lumbar_flexion_max",
    "thigh_inclination_bottom",
    "pelvic_tilt_lockout",
)


def unique_names(sessions: Sequence[Session]) -> list[str]:
    """Session names for labels and folders, made unique with a counter."""
    names: list[str] = []
    for s in sessions:
        base = session_name(s)
        name, k = base, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


def progress_figure(sessions: Sequence[Session]) -> Figure:
    """One page comparing sessions: score spread, how often each mistake, key angles."""
    simulated = any(s.is_simulated for s in sessions)
    fig = new_page(f"Progress across {len(sessions)} sessions", None, simulated=simulated)
    grid = fig.add_gridspec(2, 4, height_ratios=[1.25, 1])
    ax_score = fig.add_subplot(grid[0, :2])
    ax_heat = fig.add_subplot(grid[0, 2:])
    names = unique_names(sessions)
    x = [float(i) for i in range(len(sessions))]
    # Tick labels: the session's number, and with few sessions its name on up
    # to two short lines (the key under the page always gives the full names).
    short = [
        f"{i + 1}\n" + "\n".join(textwrap.wrap(n, 16, max_lines=2, placeholder="…"))
        if len(names) <= 4
        else str(i + 1)
        for i, n in enumerate(names)
    ]

    for xi, s in zip(x, sessions, strict=True):
        scores = [r.judgement.score for r in s.reps if r.judged]
        if not scores:
            ax_score.text(xi, 50, "no judged\nreps", ha="center", fontsize=8)
            continue
        jitter = np.linspace(-0.15, 0.15, len(scores)) if len(scores) > 1 else np.zeros(1)
        ax_score.plot(xi + jitter, scores, "o", color="#0072B2", alpha=0.5, markersize=5)
        mean = float(np.mean(scores))
        ax_score.plot([xi - 0.3, xi + 0.3], [mean, mean], color="#000000", linewidth=2.5)
        ax_score.text(xi + 0.32, mean, f"{mean:.0f}", va="center", fontsize=9, fontweight="bold")
    means = [np.mean([r.judgement.score for r in s.reps if r.judged] or [np.nan]) for s in sessions]
    ax_score.plot(x, means, color="#000000", linewidth=1, linestyle="--")
    ax_score.set_xticks(x, short, fontsize=8)
    ax_score.set_ylim(-5, 108)
    ax_score.set_xlim(-0.6, len(x) - 0.4)
    ax_score.set_ylabel("Score per rep (0–100)")
    ax_score.set_title("Scores: each dot a rep, bar = session mean", loc="left", fontsize=11)
    ax_score.grid(axis="y", color="#EEEEEE")

    rules = [r for r in sessions[0].rules.rules if r.observable] if sessions else []
    share = np.full((len(rules), len(sessions)), np.nan)
    for j, s in enumerate(sessions):
        judged = [r for r in s.reps if r.judged]
        for i, rule in enumerate(rules):
            assessed = [r for r in judged if r.judgement[rule.rule_id].assessed]
            fired = sum(bool(r.judgement[rule.rule_id].fired) for r in assessed)
            if assessed:
                share[i, j] = fired / len(assessed)
            text = f"{fired}/{len(assessed)}" if assessed else "–"
            colour = "white" if assessed and share[i, j] > 0.55 else "#222222"
            ax_heat.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax_heat.imshow(np.nan_to_num(share, nan=0.0), cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax_heat.set_yticks(range(len(rules)), [RULE_LABELS[r.rule_id] for r in rules], fontsize=8)
    ax_heat.set_xticks(x, short, fontsize=8)
    ax_heat.set_title("Mistakes: reps with the mistake / reps assessed", loc="left", fontsize=11)

    for k, metric in enumerate(KEY_METRICS):
        ax = fig.add_subplot(grid[1, k])
        means_deg: list[float] = []
        sds_deg: list[float] = []
        for s in sessions:
            v = [a for r in s.reps if r.judged and (a := r.metrics.get(metric)) is not None]
            means_deg.append(float(np.mean(v)) if v else math.nan)
            sds_deg.append(float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
        ax.errorbar(x, means_deg, yerr=sds_deg, marker="o", color="#0072B2", capsize=4)
        for rule in sessions[0].rules.rules if sessions else ():
            for cond in rule.fires_when:
                if cond.metric == metric:
                    lo, hi = ax.get_ylim()
                    pad = 0.1 * (max(hi, cond.threshold) - min(lo, cond.threshold))
                    ax.set_ylim(min(lo, cond.threshold - pad), max(hi, cond.threshold + pad))
                    ax.axhline(cond.threshold, color=BAD, linestyle=":", linewidth=1)
                    ax.text(
                        1.0,
                        cond.threshold,
                        f" {RULE_LABELS[rule.rule_id]}",
                        transform=ax.get_yaxis_transform(),
                        fontsize=7,
                        color=BAD,
                        va="bottom",
                        ha="right",
                    )
        ax.set_title(METRIC_LABELS[metric].capitalize() + " (°)", fontsize=9, loc="left")
        ax.set_xticks(x, [str(i + 1) for i in range(len(x))])
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.grid(color="#EEEEEE")
        if k == 0:
            ax.set_ylabel("mean ± spread (SD)\nover the reps, degrees", fontsize=9)
    legend = "   ".join(f"{i + 1} = {n}" for i, n in enumerate(names))
    fig.supxlabel(textwrap.fill("Sessions: " + legend, 160), fontsize=9)
    return fig
