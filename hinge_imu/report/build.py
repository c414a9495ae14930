"""Assemble a whole report (PDF, PNGs, CSVs) in memory, then write it file by file.

Everything is rendered before the first byte reaches the disk, and each file
is written atomically, so bad input or a plotting failure leaves the output
folder as it was. Pages are drawn one at a time, each into the PDF and its
PNG and then dropped, so memory grows with a page (a set), not the session;
what is kept is the files' bytes.

Layout of ``out_dir``:

* one session of one set: ``report.pdf``, ``1_session_over_time.png`` …
  ``5_rep_table.png`` (``_1``, ``_2`` … when a page is split: timelines over
  3 min, tables over 20 reps), ``reps.csv``, ``angles.csv``, ``summary.csv``,
  ``columns.csv``;
* one session of several sets: ``1_overview.png``, ``2_reps_overlaid.png``,
  ``3_calibration_and_quality.png``, the CSVs, and with ``set_pngs``
  ``4_set_<n>.png`` per set (the set pages are always in the PDF);
* several sessions: ``report.pdf`` (the progress page first, then every
  session's pages), ``0_progress.png``, ``summary.csv`` (one row per
  session), ``columns.csv``, and one folder per session with its PNGs and
  CSVs.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from hinge_imu.atomic import atomic_write
from hinge_imu.core.results import Session
from hinge_imu.errors import HingeImuError
from hinge_imu.report import exports
from hinge_imu.report.compare import progress_figure, unique_names
from hinge_imu.report.cores import PARALLEL_MIN_FREE_CORES, CpuSample, can_fork, free_cores
from hinge_imu.report.overview import overview_figure
from hinge_imu.report.pages import (
    COST_CSV_PER_SAMPLE,
    COST_OTHER_PAGE,
    COST_OTHER_PNG,
    COST_SET_PAGE,
    COST_SET_PNG,
    PARALLEL_MIN_COST,
    Page,
    Timelines,
    draw_in_two,
    draw_pages,
    split_point,
)
from hinge_imu.report.plots import reps_overlay_figure, scores_figure
from hinge_imu.report.sets import RepSet, split_sets
from hinge_imu.report.style import PNG_DPI, session_name
from hinge_imu.report.tables import REPS_PER_PAGE, quality_figure, rep_table_figures
from hinge_imu.report.timeline import split_window, timeline_windows

#: File stem of the set pages (``4_set_07``): their PNGs are written only on request.
SET_PAGE = "4_set_"

#: Draws one page.
Draw = Callable[[], Figure]


@dataclass(frozen=True)
class ReportSettings:
    """What to write.

    Attributes:
        angles_rate_hz: rate of the fixed time grid of ``angles.csv``, Hz.
        png: also write the session's pages as PNGs (all but the set pages).
        set_pngs: also write each set page as a PNG (with ``png``); off by
            default: they are in the PDF, and a PNG each was 40 % of the
            time of a long session's report.
        png_dpi: PNG resolution, dots per inch (A4 landscape).
        jobs: processes drawing the pages: 1, 2 (on Linux, forked; more are
            not used), or 0 = two when the report is long enough to gain from
            it and 1.5 cores are free (``cores.free_cores``).
            1 by default here (a notebook's kernel is not forked unasked);
            the command's default is 0.
    """

    angles_rate_hz: float = exports.ANGLES_RATE_HZ
    png: bool = True
    set_pngs: bool = False
    jobs: int = 1
    png_dpi: int = PNG_DPI


def session_pages(session: Session) -> Iterator[tuple[str, Figure]]:
    """(file stem, figure) of every page of one session's report, in page order.

    A generator: each page is drawn when asked for, so a caller that saves
    and drops it holds one page at a time, however long the session. The
    pages of the session over time (the set pages, the parts of a long
    session) are one figure redrawn: save each before asking for the next.
    One set: the session over time, reps overlaid, scores, quality, rep table.
    Several sets: an overview, reps overlaid, quality, then one page per set
    (stems starting with ``SET_PAGE``).
    """
    for stem, draw in _session_plan(session, Timelines()):
        yield stem, draw()


def _session_plan(session: Session, timelines: Timelines) -> list[tuple[str, Draw]]:
    """(file stem, how to draw it) of every page of one session, in page order."""
    t = session.angle_column("t_s")
    span = (float(t[0]), float(t[-1])) if t.size else (0.0, 1.0)
    sets = split_sets(session.reps, span)
    if len(sets) > 1:
        return _long_session_plan(session, sets, timelines)
    windows = timeline_windows(session)
    plan: list[tuple[str, Draw]] = []
    for k, window in enumerate(windows):
        if len(windows) == 1:
            plan.append(("1_session_over_time", partial(_timeline, timelines, session, None)))
        else:
            part = f"part {k + 1} of {len(windows)}, {window[0]:.0f}–{window[1]:.0f} s"
            draw = partial(_timeline, timelines, session, window, part)
            plan.append((f"1_session_over_time_{k + 1}", draw))
    plan.append(("2_reps_overlaid", partial(reps_overlay_figure, session)))
    plan.append(("3_scores_and_mistakes", partial(scores_figure, session)))
    plan.append(("4_calibration_and_quality", partial(quality_figure, session)))
    # A session of one set has few reps: its table pages are drawn together.
    tables = _RepTables(session)
    for k in range(tables.pages):
        stem = "5_rep_table" + (f"_{k + 1}" if tables.pages > 1 else "")
        plan.append((stem, partial(tables.page, k)))
    return plan


def _timeline(
    timelines: Timelines,
    session: Session,
    window_s: tuple[float, float] | None,
    part: str = "",
    title: str = "The session over time",
) -> Figure:
    return timelines(session).show(window_s, part, title)


class _RepTables:
    """The rep table's pages, drawn when the first is asked for, dropped after the last."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pages = max(1, math.ceil(len(session.reps) / REPS_PER_PAGE))
        self._figures: list[Figure] = []

    def page(self, k: int) -> Figure:
        if not self._figures:
            self._figures = rep_table_figures(self.session)
        fig = self._figures[k]
        if k == len(self._figures) - 1:
            self._figures = []
        return fig


def _long_session_plan(
    session: Session, sets: Sequence[RepSet], timelines: Timelines
) -> list[tuple[str, Draw]]:
    plan: list[tuple[str, Draw]] = [
        ("1_overview", partial(overview_figure, session, sets)),
        ("2_reps_overlaid", partial(reps_overlay_figure, session)),
        ("3_calibration_and_quality", partial(quality_figure, session)),
    ]
    digits = len(str(len(sets)))
    for s in sets:
        title = f"Set {s.number} of {len(sets)}: reps {s.first_rep}–{s.last_rep}"
        windows = split_window(s.reps, s.window_s)
        for k, window in enumerate(windows):
            stem = f"{SET_PAGE}{s.number:0{digits}d}"
            part = f"{window[0]:.0f}–{window[1]:.0f} s"
            if len(windows) > 1:
                stem += f"_{k + 1}"
                part = f"part {k + 1} of {len(windows)}, {part}"
            plan.append((stem, partial(_timeline, timelines, session, window, part, title)))
    return plan


def session_folders(sessions: Sequence[Session]) -> list[str]:
    """One folder name per session: its name in safe characters, made unique."""
    folders: list[str] = []
    for name in unique_names(sessions):
        folder = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "session"
        while folder in folders:
            folder += "_"
        folders.append(folder)
    return folders


def report_plan(sessions: Sequence[Session], settings: ReportSettings | None = None) -> list[Page]:
    """Every page of the report, in order, none drawn yet."""
    settings = settings or ReportSettings()
    several = len(sessions) > 1
    timelines = Timelines()
    plan: list[Page] = []
    if several:
        progress = partial(progress_figure, sessions)
        plan.append(Page("0_progress", progress, settings.png, COST_OTHER_PAGE))
    for session, folder in zip(sessions, session_folders(sessions), strict=True):
        prefix = f"{folder}/" if several else ""
        for stem, draw in _session_plan(session, timelines):
            set_page = stem.startswith(SET_PAGE)
            png = settings.png and (settings.set_pngs or not set_page)
            cost = COST_SET_PAGE if set_page else COST_OTHER_PAGE
            if png:
                cost += COST_SET_PNG if set_page else COST_OTHER_PNG
            plan.append(Page(prefix + stem, draw, png, cost))
    return plan


def render_report(
    sessions: Sequence[Session],
    settings: ReportSettings | None = None,
    *,
    cpu_since: CpuSample | None = None,
) -> dict[str, bytes]:
    """Every output file of the report: relative path → content (nothing written).

    With ``settings.jobs`` 2 (or 0, automatic, and 1.5 free cores) and a long
    report, a second process draws the later pages while this one draws the
    first ones and the CSV files. ``cpu_since``: a ``cores.cpu_sample()``
    taken before the analysis; the free cores are measured from then on
    (else the load average, ``cores.free_cores``).
    """
    if not sessions:
        raise HingeImuError("no session to report on")
    settings = settings or ReportSettings()
    several = len(sessions) > 1
    title = (
        f"hinge-imu progress report, {len(sessions)} sessions"
        if several
        else f"hinge-imu session report: {session_name(sessions[0])}"
    )
    simulated = any(s.is_simulated for s in sessions)
    plan = report_plan(sessions, settings)

    def csv_files() -> dict[str, bytes]:
        return _csv_files(sessions, settings)

    csv_cost = COST_CSV_PER_SAMPLE * sum(s.samples for s in sessions)
    cost = sum(p.cost for p in plan) + csv_cost
    idle = free_cores(cpu_since) >= PARALLEL_MIN_FREE_CORES
    auto = 2 if cost >= PARALLEL_MIN_COST and idle else 1
    if (settings.jobs or auto) >= 2 and len(plan) >= 2 and can_fork():
        k = split_point([p.cost for p in plan], csv_cost)
        return draw_in_two(plan, k, title, simulated, settings.png_dpi, csv_files)
    files = draw_pages(plan, title, simulated, settings.png_dpi)
    files.update(csv_files())
    return files


def _csv_files(sessions: Sequence[Session], settings: ReportSettings) -> dict[str, bytes]:
    """``reps.csv``, ``angles.csv`` (per session), ``summary.csv``, ``columns.csv``."""
    files: dict[str, bytes] = {}
    several = len(sessions) > 1
    for session, folder in zip(sessions, session_folders(sessions), strict=True):
        prefix = f"{folder}/" if several else ""
        reps = exports.reps_columns(session)
        angles = exports.angles_columns(session, settings.angles_rate_hz)
        files[f"{prefix}reps.csv"] = exports.csv_bytes(reps)
        files[f"{prefix}angles.csv"] = exports.csv_bytes(angles)
        if several:
            files[f"{prefix}summary.csv"] = exports.csv_bytes(exports.summary_columns([session]))

    summary = exports.summary_columns(sessions)
    files["summary.csv"] = exports.csv_bytes(summary)
    # Every session has the same columns (same rules), so the last one describes them all.
    names = {"reps.csv": list(reps), "angles.csv": list(angles), "summary.csv": list(summary)}
    files["columns.csv"] = exports.csv_bytes(exports.columns_columns(names))
    return files


def check_out_dir(out_dir: str | Path) -> Path:
    """The output folder, if it is (or can become) a writable folder; else HingeImuError."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise HingeImuError("output exists and is not a folder", out)
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise HingeImuError("cannot write here (permission denied)", parent)
    return out


def write_report(
    sessions: Sequence[Session],
    out_dir: str | Path,
    settings: ReportSettings | None = None,
    *,
    cpu_since: CpuSample | None = None,
) -> list[Path]:
    """Render the report of ``sessions`` and write it into ``out_dir``; the paths written.

    ``cpu_since``: as in ``render_report``.
    """
    out = check_out_dir(out_dir)
    files = render_report(sessions, settings, cpu_since=cpu_since)
    written = []
    try:
        for rel, content in files.items():
            path = out / rel
            with atomic_write(path, "wb") as fh:
                fh.write(content)
            written.append(path)
    except OSError as err:
        raise HingeImuError(f"cannot write the report: {err.strerror}", err.filename) from None
    return written
