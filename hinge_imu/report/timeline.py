"""The session over time: four angles, reps shaded, mistakes marked, thresholds drawn.

Long sessions are split into pages of at most ``TIMELINE_PAGE_S`` seconds,
cut in a pause between reps. Returns new A4-landscape Figures; nothing is
shown or saved here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, Transform

from hinge_imu.core.rep_metrics import HIP_FLEXION_KNEES_FORWARD_DEG
from hinge_imu.core.results import RepResult, Session
from hinge_imu.core.rules import RuleSet
from hinge_imu.report.pdf import SharedLayer, share_layer
from hinge_imu.report.style import (
    ANGLE_COLOURS,
    ANGLE_LABELS,
    ANGLE_SIGNS,
    RULE_LABELS,
    STAMP_GID,
    STATUS_COLOURS,
    STATUS_WORDS,
    TIMELINE_ANGLES,
    metric_angle,
    new_page,
    page_legend,
    rep_status,
    set_page_title,
)

#: Metrics read at one instant of the rep (suffix → RepMetrics time attribute).
_POINT_METRICS = {"_lockout": "t_end", "_start": "t_start", "_bottom": "t_bottom"}


def thresholds_for(rules: RuleSet, angle: str) -> list[tuple[float, str]]:
    """(threshold, label) of every rule condition read from ``angle``, deg."""
    out = []
    for rule in rules.rules:
        for cond in rule.fires_when:
            if metric_angle(cond.metric) == angle:
                label = f"{RULE_LABELS[rule.rule_id]} {cond.op} {cond.threshold:g}°"
                out.append((cond.threshold, label))
    return out


def fired_time_s(session: Session, rep: RepResult, rule_id: str) -> float:
    """When a fired rule's condition first held in ``rep``, s on the recording clock.

    Metrics read at one instant (at the lockout, start or bottom) give that instant;
    extremes (largest, smallest) give the first sample of the rep at which
    the angle is past the threshold.
    """
    verdict = rep.judgement[rule_id]
    metric = verdict.condition.split(" ", 1)[0]
    if metric == "hip_flexion_peak":
        return float(rep.metrics.t_bottom)
    for suffix, attr in _POINT_METRICS.items():
        if metric.endswith(suffix):
            return float(getattr(rep.metrics, attr))
    b = rep.bounds
    t = session.angle_column("t_s")[b.start : b.end]
    if metric == "thigh_inclination_at_hip20":
        hip = session.angle_column("hip_flexion_deg")[b.start : b.bottom + 1]
        above = np.flatnonzero(hip >= HIP_FLEXION_KNEES_FORWARD_DEG)
        return float(t[above[0]]) if above.size else float(rep.metrics.t_bottom)
    angle = metric_angle(metric)
    cond = next((c for c in session.rules[rule_id].fires_when if c.metric == metric), None)
    if angle is None or cond is None:
        return float(rep.metrics.t_bottom)
    y = session.angle_column(f"{angle}_deg")[b.start : b.end]
    # NaN (no data) never holds, so gaps are skipped.
    past = np.flatnonzero([cond.holds(float(v)) for v in y])
    return float(t[past[0]]) if past.size else float(rep.metrics.t_bottom)


def draw_thresholds(ax: Axes, rules: RuleSet, angle: str) -> list[Artist]:
    """Dotted lines at the thresholds, labelled in the right margin without overlap;
    the labels."""
    items = sorted(set(thresholds_for(rules, angle)))
    if not items:
        return []
    lo, hi = ax.get_ylim()
    lo, hi = min(lo, items[0][0] - 3), max(hi, items[-1][0] + 3)
    ax.set_ylim(lo, hi)
    min_gap = 0.13 * (hi - lo)
    placed: list[float] = []
    labels: list[Artist] = []
    for value, label in items:
        ax.axhline(value, color="#444444", linestyle=(0, (2, 2)), linewidth=1.0, zorder=2)
        y = value if not placed else max(value, placed[-1] + min_gap)
        placed.append(y)
        ann = ax.annotate(
            label,
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(1.005, y),
            textcoords=("axes fraction", "data"),
            fontsize=7.5,
            va="center",
            color="#333333",
            annotation_clip=False,
        )
        labels.append(ann)
    return labels


def _status_legend(statuses: set[str]) -> list[Patch]:
    order = ["good", "minor", "bad", "not_judged"]
    return [
        Patch(facecolor=STATUS_COLOURS[s], alpha=0.35, label=STATUS_WORDS[s])
        for s in order
        if s in statuses
    ]


#: Longest stretch of a session on one timeline page, s (longer sessions get
#: more pages, so a rep stays wider than a few millimetres on A4).
TIMELINE_PAGE_S = 180.0


def timeline_windows(
    session: Session, page_s: float = TIMELINE_PAGE_S
) -> list[tuple[float, float]]:
    """(from_s, to_s) of each timeline page; pages break between reps, never inside one."""
    t = session.angle_column("t_s")
    if t.size == 0:
        return [(0.0, 1.0)]
    return split_window(session.reps, (float(t[0]), float(t[-1])), page_s)


def split_window(
    reps: Sequence[RepResult], window_s: tuple[float, float], page_s: float = TIMELINE_PAGE_S
) -> list[tuple[float, float]]:
    """``window_s`` cut into pages of at most ``page_s`` s, in pauses between ``reps``."""
    start, end = window_s
    windows = []
    while end - start > page_s:
        limit = start + page_s
        # Cut in the last pause between reps that falls in the page's later part.
        cuts = [
            (a.metrics.t_end + b.metrics.t_start) / 2
            for a, b in itertools.pairwise(reps)
            if start + 0.3 * page_s < (a.metrics.t_end + b.metrics.t_start) / 2 <= limit
        ]
        cut = max(cuts) if cuts else limit
        windows.append((start, cut))
        start = cut
    windows.append((start, end))
    return windows


def timeline_figures(session: Session, page_s: float = TIMELINE_PAGE_S) -> list[Figure]:
    """The session over time, one page per ``page_s`` seconds at most."""
    windows = timeline_windows(session, page_s)
    if len(windows) == 1:
        return [timeline_figure(session)]
    return [
        timeline_figure(session, w, f"part {k + 1} of {len(windows)}, {w[0]:.0f}–{w[1]:.0f} s")
        for k, w in enumerate(windows)
    ]


#: Where the timeline's axes sit on the page (figure fractions): room above
#: for the two-line page title, on the right for the threshold names, below
#: for the time axis and the legend.
_TIMELINE_MARGINS = {"left": 0.1, "right": 0.875, "top": 0.855, "bottom": 0.1, "hspace": 0.3}


def timeline_figure(
    session: Session,
    window_s: tuple[float, float] | None = None,
    part: str = "",
    title: str = "The session over time",
) -> Figure:
    """The session over time: four angles, reps shaded, mistakes marked, scores on top.

    ``window_s`` limits the page to (from_s, to_s); ``part`` names it in the title.
    A new figure (``TimelinePage`` redraws one figure for many windows).
    """
    return TimelinePage(session).show(window_s, part, title)


#: Distance of the axis titles from the axes, points: beyond the widest tick
#: labels ("−100" at 10 pt) and the ticks.
LABEL_GAP_PT = {"x": 24.0, "y": 36.0}


def _offset(ax: Axes, dx_pt: float, dy_pt: float) -> Transform:
    """Axes coordinates, moved by (dx_pt, dy_pt) points."""
    return ax.transAxes + ScaledTranslation(dx_pt / 72, dy_pt / 72, ax.figure.dpi_scale_trans)


class TimelinePage:
    """One timeline figure of a session, redrawn for each window asked for.

    What every page of a session shares (the axes, their ticks, the angle
    scales, the thresholds, the stamp) is drawn once; ``show`` replaces only
    what depends on the window (curves, rep bands, scores, mistakes, title).
    A long session's set pages cost a third of what a new figure each did,
    and memory holds one page. ``show`` returns the same figure every time:
    save it before the next call.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        # Placed by hand (no layout engine): a layout pass costs as much as drawing.
        self.fig = new_page("", session, layout=False)
        self.angles = [
            a for a in TIMELINE_ANGLES if np.isfinite(session.angle_column(f"{a}_deg")).any()
        ]
        self.missing = [a for a in TIMELINE_ANGLES if a not in self.angles]
        # Drawn once per PDF for all the pages of a strip height and legend (see
        # SharedLayer): the stamp, the angles' names and scales, the threshold
        # names, the note, the legend.
        self.shared: list[Artist] = [a for a in self.fig.get_children() if a.get_gid() == STAMP_GID]
        self._layers: dict[tuple[int, frozenset[str]], SharedLayer] = {}
        # One legend per mix of verdicts on a page, made once; the page's is shown.
        self._legends: dict[frozenset[str], Legend] = {}
        self.t_all_s = session.angle_column("t_s")
        self.y_all_deg = [session.angle_column(f"{a}_deg") for a in self.angles]
        heights = [1.0] + [3.0] * max(1, len(self.angles))  # the strip's is set by show()
        grid = {"height_ratios": heights, **_TIMELINE_MARGINS}
        axes = self.fig.subplots(len(heights), 1, sharex=True, gridspec_kw=grid)
        self.strip, self.panels = axes[0], list(axes[1:])
        self.curves = [
            self._draw_panel(ax, a, y)
            for ax, a, y in zip(self.panels, self.angles, self.y_all_deg, strict=False)
        ]
        if not self.angles:
            self.panels[0].text(0.5, 0.5, "No angle could be measured.", ha="center", va="center")
        self.strip.tick_params(axis="y", length=0)
        self.strip.xaxis.set_visible(False)
        for side in ("top", "right"):
            self.strip.spines[side].set_visible(False)
        self.panels[-1].set_xlabel("Time since the recording started (s)")
        # Axis titles at fixed offsets (points) from the axes: placing them
        # from the tick labels' extents was a tenth of each page's drawing.
        for ax in self.panels:
            ax.yaxis.set_label_coords(0, 0.5, _offset(ax, -LABEL_GAP_PT["y"], 0))
            if ax is not self.panels[-1]:  # the grid marks the time; one scale at the bottom
                ax.tick_params(axis="x", bottom=False)
        self.panels[-1].xaxis.set_label_coords(
            0.5, 0, _offset(self.panels[-1], 0, -LABEL_GAP_PT["x"])
        )
        self._drawn: list[Artist] = []  # what the last window added
        # Each rep a band over the full height, all of an axes' bands one artist,
        # made once (after the zero lines: drawn over them) and given each
        # window's reps.
        self.bands = [
            ax.broken_barh(
                [], (0, 1), alpha=0.18, linewidth=0, zorder=0, transform=ax.get_xaxis_transform()
            )
            for ax in (self.strip, *self.panels)
        ]

    def _draw_panel(self, ax: Axes, angle: str, y_all: np.ndarray) -> Line2D:
        (curve,) = ax.plot([], [], color=ANGLE_COLOURS[angle], linewidth=1.2)
        # The same scale on every page of a session.
        lo, hi = float(np.nanmin(y_all)), float(np.nanmax(y_all))
        ax.set_ylim(lo - 0.05 * (hi - lo) - 0.5, hi + 0.05 * (hi - lo) + 0.5)
        ax.set_ylabel("degrees", fontsize=9)
        name = ax.set_title(
            f"{ANGLE_LABELS[angle]}  ({ANGLE_SIGNS[angle]})",
            loc="left",
            fontsize=10,
            fontweight="bold",
            color=ANGLE_COLOURS[angle],
            pad=3,
            y=1.0,
        )
        ax.axhline(0, color="#BBBBBB", linewidth=0.6, zorder=0)
        ax.grid(axis="x", color="#EEEEEE")
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        # The angle's scale is the same on every page: its axis (ticks, numbers, name)
        # is shared too, and so are the angle's name and the threshold names.
        self.shared += [ax.yaxis, name, *draw_thresholds(ax, self.session.rules, angle)]
        return curve

    def show(
        self,
        window_s: tuple[float, float] | None = None,
        part: str = "",
        title: str = "The session over time",
    ) -> Figure:
        """The figure, showing ``window_s`` (from_s, to_s; default all) titled ``title (part)``."""
        for artist in self._drawn:
            artist.remove()
        self._drawn = []
        session, fig, strip, t_all = self.session, self.fig, self.strip, self.t_all_s
        set_page_title(fig, session, title + (f" ({part})" if part else ""))
        if window_s is None:
            window_s = (float(t_all[0]), float(t_all[-1])) if t_all.size else (0.0, 1.0)
        w0, w1 = window_s
        i0, i1 = np.searchsorted(t_all, w0, "left"), np.searchsorted(t_all, w1, "right")
        for curve, y_all in zip(self.curves, self.y_all_deg, strict=True):
            curve.set_data(t_all[i0:i1], y_all[i0:i1])
        reps = [r for r in session.reps if r.metrics.t_end >= w0 and r.metrics.t_start <= w1]
        fired = {m for r in reps for m in r.judgement.mistakes}
        fired_rows = sorted(fired, key=session.rules.ids.index)
        self._fit_strip(len(fired_rows))

        # As broken_barh draws them: (x0, 0), (x0, 1), (x1, 1), (x1, 0).
        x0 = np.array([r.metrics.t_start for r in reps], dtype=float)
        x1 = x0 + np.array([r.metrics.t_end - r.metrics.t_start for r in reps], dtype=float)
        y0, y1 = np.zeros_like(x0), np.ones_like(x0)
        bands = np.stack([np.column_stack(c) for c in ((x0, y0), (x0, y1), (x1, y1), (x1, y0))], 1)
        band_colours = [STATUS_COLOURS[rep_status(r)] for r in reps]
        for collection in self.bands:
            collection.set_verts(bands)
            collection.set_facecolor(band_colours)
        for rep in reps:
            self._draw_rep(rep, fired_rows)

        strip.set_ylim(0, max(1, len(fired_rows)) + 1.5)
        strip.set_yticks([len(fired_rows) - 0.5 - i for i in range(len(fired_rows))])
        strip.set_yticklabels([RULE_LABELS[r] for r in fired_rows], fontsize=8)
        note = "On top: rep number and its score (0–100); ▼ = mistake found (when it happened)"
        if not fired_rows:
            note += " — no mistakes found here"
        if self.missing:
            missing = ", ".join(ANGLE_LABELS[a] for a in self.missing)
            note += f"\nNot measured (sensor missing): {missing}"
        note = strip.set_title(note, fontsize=9, loc="left", y=1.0)
        self.panels[-1].set_xlim(*window_s)
        statuses = frozenset(rep_status(r) for r in reps)
        legend = self._show_legend(statuses)
        # The panels move with the strip's height, and so does the shared layer; the
        # note depends on the rows too (none: "no mistakes found here").
        key = (len(fired_rows), statuses)
        if key not in self._layers:
            self._layers[key] = SharedLayer((*self.shared, note, legend))
        share_layer(fig, self._layers[key])
        return fig

    def _show_legend(self, statuses: frozenset[str]) -> Legend:
        """The legend of a page with reps of ``statuses``, shown; the others hidden."""
        if statuses not in self._legends:
            handles: list[Patch | Line2D] = [*_status_legend(set(statuses))]
            handles.append(
                Line2D([], [], color="#555555", linestyle=(0, (2, 2)), label="threshold")
            )
            handles.append(
                Line2D(
                    [], [], marker="o", mfc="none", mec="#B00020", mew=1.8, ls="", label="mistake"
                )
            )
            page_legend(self.fig, handles)
            self._legends[statuses] = self.fig.legends[-1]
        for key, legend in self._legends.items():
            legend.set_visible(key == statuses)
        return self._legends[statuses]

    def _fit_strip(self, rows: int) -> None:
        """The mistake strip grows with the number of different mistakes (one row each)."""
        grid = self.strip.get_subplotspec().get_gridspec()
        grid.set_height_ratios([0.5 + 0.38 * rows] + [3.0] * len(self.panels))
        for ax in (self.strip, *self.panels):
            ax.set_position(ax.get_subplotspec().get_position(self.fig))

    def _draw_rep(self, rep: RepResult, fired_rows: list[str]) -> None:
        """A rep's number and score on top, and its mistakes: ▼ in the strip, ○ on the curve."""
        session, strip, t_all = self.session, self.strip, self.t_all_s
        score = f"{rep.judgement.score:.0f}" if rep.judged else "–"
        self._drawn.append(
            strip.text(
                (rep.metrics.t_start + rep.metrics.t_end) / 2,
                len(fired_rows) + 0.1,
                f"{rep.rep}\n{score}",
                ha="center",
                va="bottom",
                fontsize=7.5,
                linespacing=1.0,
            )
        )
        for rule_id in rep.judgement.mistakes:
            t_fire = fired_time_s(session, rep, rule_id)
            row = len(fired_rows) - 1 - fired_rows.index(rule_id)
            self._drawn += strip.plot(t_fire, row + 0.5, marker="v", color="#B00020", markersize=7)
            metric = rep.judgement[rule_id].condition.split(" ", 1)[0]
            fire_angle = metric_angle(metric)
            if fire_angle in self.angles:
                k = self.angles.index(fire_angle)
                i = int(np.clip(np.searchsorted(t_all, t_fire), 0, len(t_all) - 1))
                y = float(self.y_all_deg[k][i])
                if math.isfinite(y):
                    self._drawn += self.panels[k].plot(
                        t_fire, y, marker="o", mfc="none", mec="#B00020", mew=1.8, ms=9
                    )
