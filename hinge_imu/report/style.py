"""Shared look of the report figures: page size, words, colours, the SIMULATED stamp.

Figures are read by people who are not engineers, so every name a figure
shows comes from here, in plain words with its unit. Colours follow the
Okabe–Ito palette (safe for colour-blind readers) and every colour is paired
with a line style or a word, never carrying meaning alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from hinge_imu.conventions import recording_stem
from hinge_imu.core.results import RepResult, Session

#: A4 landscape, inches (the PDF pages and the PNGs share it).
A4_LANDSCAPE_IN = (297 / 25.4, 210 / 25.4)
PNG_DPI = 150

#: The four angles of the session figures, in the order a coach reads them.
TIMELINE_ANGLES = ("hip_flexion", "lumbar_flexion", "pelvic_tilt", "thigh_inclination")

ANGLE_LABELS = {
    "hip_flexion": "Hip flexion",
    "trunk_inclination": "Upper-back forward tilt",
    "pelvic_tilt": "Pelvic tilt",
    "lumbar_flexion": "Lower-back (lumbar) flexion",
    "thigh_inclination": "Thigh inclination",
    "knee_cave": "Knee cave",
    "head_extension": "Head extension",
}

#: What the sign of each angle means, for axis labels.
ANGLE_SIGNS = {
    "hip_flexion": "+ bending at the hip",
    "trunk_inclination": "+ forward",
    "pelvic_tilt": "+ anterior, − posterior",
    "lumbar_flexion": "+ rounding, − arching",
    "thigh_inclination": "+ knee forward of hip",
    "knee_cave": "+ knee inward",
    "head_extension": "+ chin up",
}

RULE_LABELS = {
    "back_rounded": "Back rounded",
    "back_arched": "Back arched",
    "no_lockout": "No lockout",
    "knees_locked": "Knees locked",
    "knees_forward": "Knees forward",
    "knees_caving": "Knees caving in",
    "tripod_foot": "Tripod foot",
    "shallow_hinge": "Shallow hinge",
    "ribs_flared": "Ribs flared",
    "neck_extended": "Neck extended",
    "squatting": "Squatting",
}

METRIC_LABELS = {
    "hip_flexion_peak": "hip flexion at the bottom",
    "trunk_inclination_peak": "largest upper-back tilt",
    "lumbar_flexion_max": "largest lumbar flexion",
    "lumbar_flexion_min": "smallest lumbar flexion",
    "pelvic_tilt_lockout": "pelvic tilt at lockout",
    "hip_flexion_lockout": "hip flexion at lockout",
    "thigh_inclination_bottom": "thigh inclination at the bottom",
    "knee_cave": "largest knee cave",
    "head_extension_max": "largest head extension",
    "lumbar_flexion_min_descent": "smallest lumbar flexion, way down",
    "thigh_inclination_at_hip20": "thigh inclination when hip reaches 20°",
    "lumbar_flexion_start": "lumbar flexion at the start",
    "lumbar_flexion_lockout": "lumbar flexion at lockout",
}

# Okabe–Ito colours.
GOOD = "#009E73"  # bluish green
MINOR = "#E69F00"  # orange: a mistake fired, none of them "bad"
BAD = "#D55E00"  # vermillion: a rule of weight ≥ bad_rep_min_weight fired
NOT_JUDGED = "#8C8C8C"
ANGLE_COLOURS = {
    "hip_flexion": "#0072B2",
    "lumbar_flexion": "#CC79A7",
    "pelvic_tilt": "#6A3D9A",
    "thigh_inclination": "#000000",
}

STATUS_WORDS = {
    "good": "good rep (no mistake found)",
    "minor": "minor mistake(s)",
    "bad": "bad rep (serious mistake)",
    "not_judged": "not judged (poor data)",
}
STATUS_COLOURS = {"good": GOOD, "minor": MINOR, "bad": BAD, "not_judged": NOT_JUDGED}
STATUS_LINESTYLES: dict[str, Literal["-", "--", ":"]] = {
    "good": "-",
    "minor": "--",
    "bad": "-",
    "not_judged": ":",
}


def rep_status(rep: RepResult) -> str:
    """``good``, ``minor``, ``bad`` or ``not_judged`` (what colours a rep)."""
    if not rep.judged:
        return "not_judged"
    if rep.judgement.bad:
        return "bad"
    return "minor" if rep.judgement.mistakes else "good"


def angle_axis_label(angle: str) -> str:
    return f"{ANGLE_LABELS[angle]} (°)\n{ANGLE_SIGNS[angle]}"


def metric_angle(metric: str) -> str | None:
    """The angle a rule metric is read from (``lumbar_flexion_max`` → ``lumbar_flexion``)."""
    for angle in ANGLE_LABELS:
        if metric == angle or metric.startswith(angle + "_"):
            return angle
    return None


def session_name(session: Session) -> str:
    """A short name for titles: the header's ``session``, else the file name."""
    name = session.header.get("session", "").strip()
    if name:
        return name
    src = session.source.replace("\\", "/").rsplit("/", 1)[-1]
    return recording_stem(src) or src or "session"


def new_page(
    title: str, session: Session | None, simulated: bool = False, layout: bool = True
) -> Figure:
    """An A4-landscape figure with a title and, for simulated data, the stamp.

    ``layout=False`` skips the constrained layout (for pages that place their
    one axes by hand: it halves the drawing time of a big table).
    """
    fig = Figure(figsize=A4_LANDSCAPE_IN, layout="constrained" if layout else None)
    # The Agg canvas, attached directly: no pyplot, no window, and the global
    # backend of a notebook or another program is left alone.
    FigureCanvasAgg(fig)
    set_page_title(fig, session, title)
    if simulated or (session is not None and session.is_simulated):
        stamp_simulated(fig)
    return fig


def set_page_title(fig: Figure, session: Session | None, title: str) -> None:
    """The page's title, with the session's name (and subject) on a second line."""
    subtitle = ""
    if session is not None:
        subtitle = session_name(session)
        subject = session.header.get("subject", "").strip()
        if subject and subject.lower() not in subtitle.lower():
            subtitle += f" — {subject}"
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=15, fontweight="bold")


def page_legend(fig: Figure, handles: Sequence[Artist]) -> None:
    """The page's legend, one row along the bottom edge (pages placed by hand)."""
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(handles),
        fontsize=9,
    )


#: ``gid`` of the artists of the SIMULATED stamp (a page finds them by it).
STAMP_GID = "simulated-stamp"


def stamp_simulated(fig: Figure) -> None:
    """Mark a figure as made from simulated data, in the corner and as a watermark."""
    fig.text(
        0.995,
        0.995,
        "SIMULATED DATA",
        ha="right",
        va="top",
        fontsize=13,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": BAD, "edgecolor": "none"},
        zorder=100,
        gid=STAMP_GID,
    )
    # The faint watermark as one filled outline, not as text: rasterising nine
    # 90-pt glyphs cost a quarter of a page's drawing time.
    path = TextPath((0, 0), "SIMULATED", size=90, prop=FontProperties(weight="bold"))
    box = path.get_extents()
    w_in, h_in = fig.get_size_inches()
    place = (
        Affine2D()
        .translate(-box.x0 - box.width / 2, -box.y0 - box.height / 2)
        .rotate_deg(30)
        .scale(1 / 72 / w_in, 1 / 72 / h_in)  # points → figure fraction
        .translate(0.5, 0.5)
    )
    fig.add_artist(
        PathPatch(
            place.transform_path(path),
            transform=fig.transFigure,
            facecolor=BAD,
            edgecolor="none",
            alpha=0.05,
            zorder=99,  # over the axes: faint enough to read the charts through
            gid=STAMP_GID,
        )
    )
