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

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from hinge_imu.atomic import atomic_write
from hinge_imu.core.results import Session
from hinge_imu.errors import HingeImuError
from hinge_imu.report import exports
from hinge_imu.report.compare import progress_figure, unique_names
from hinge_imu.report.overview import overview_figure
from hinge_imu.report.pdf import PdfDocument, png_bytes
from hinge_imu.report.plots import reps_overlay_figure, scores_figure
from hinge_imu.report.sets import RepSet, split_sets
from hinge_imu.report.style import PNG_DPI, session_name
from hinge_imu.report.tables import quality_figure, rep_table_figures
from hinge_imu.report.timeline import TimelinePage, split_window, timeline_windows

#: File stem of the set pages (``4_set_07``): their PNGs are written only on request.
SET_PAGE = "4_set_"


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
    """

    angles_rate_hz: float = exports.ANGLES_RATE_HZ
    png: bool = True
    set_pngs: bool = False
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
    t = session.angles["t_s"].to_numpy()
    span = (float(t[0]), float(t[-1])) if t.size else (0.0, 1.0)
    sets = split_sets(session.reps, span)
    if len(sets) > 1:
        yield from _long_session_pages(session, sets)
        return
    timelines = timeline_windows(session)
    page = TimelinePage(session)
    for k, window in enumerate(timelines):
        if len(timelines) == 1:
            yield "1_session_over_time", page.show()
        else:
            part = f"part {k + 1} of {len(timelines)}, {window[0]:.0f}–{window[1]:.0f} s"
            yield f"1_session_over_time_{k + 1}", page.show(window, part)
    del page
    yield "2_reps_overlaid", reps_overlay_figure(session)
    yield "3_scores_and_mistakes", scores_figure(session)
    yield "4_calibration_and_quality", quality_figure(session)
    tables = rep_table_figures(session)
    for k, fig in enumerate(tables):
        yield "5_rep_table" + (f"_{k + 1}" if len(tables) > 1 else ""), fig


def _long_session_pages(session: Session, sets: Sequence[RepSet]) -> Iterator[tuple[str, Figure]]:
    yield "1_overview", overview_figure(session, sets)
    yield "2_reps_overlaid", reps_overlay_figure(session)
    yield "3_calibration_and_quality", quality_figure(session)
    digits = len(str(len(sets)))
    page = TimelinePage(session)
    for s in sets:
        title = f"Set {s.number} of {len(sets)}: reps {s.first_rep}–{s.last_rep}"
        windows = split_window(s.reps, s.window_s)
        for k, (w0, w1) in enumerate(windows):
            stem = f"{SET_PAGE}{s.number:0{digits}d}"
            part = f"{w0:.0f}–{w1:.0f} s"
            if len(windows) > 1:
                stem += f"_{k + 1}"
                part = f"part {k + 1} of {len(windows)}, {part}"
            yield stem, page.show((w0, w1), part, title)


def session_folders(sessions: Sequence[Session]) -> list[str]:
    """One folder name per session: its name in safe characters, made unique."""
    folders: list[str] = []
    for name in unique_names(sessions):
        folder = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "session"
        while folder in folders:
            folder += "_"
        folders.append(folder)
    return folders


def _all_pages(sessions: Sequence[Session], folders: list[str]) -> Iterator[tuple[str, Figure]]:
    """(path without ``.png``, figure) of every page of the report, drawn one by one."""
    several = len(sessions) > 1
    if several:
        yield "0_progress", progress_figure(sessions)
    for session, folder in zip(sessions, folders, strict=True):
        prefix = f"{folder}/" if several else ""
        for stem, fig in session_pages(session):
            yield prefix + stem, fig


def render_report(
    sessions: Sequence[Session], settings: ReportSettings | None = None
) -> dict[str, bytes]:
    """Every output file of the report: relative path → content (nothing written)."""
    if not sessions:
        raise HingeImuError("no session to report on")
    settings = settings or ReportSettings()
    files: dict[str, bytes] = {}
    folders = session_folders(sessions)
    several = len(sessions) > 1
    title = (
        f"hinge-imu progress report, {len(sessions)} sessions"
        if several
        else f"hinge-imu session report: {session_name(sessions[0])}"
    )
    simulated = any(s.is_simulated for s in sessions)
    with PdfDocument(title, simulated) as pdf:
        # Each page is drawn, saved into the PDF and the PNG, and dropped.
        for path, fig in _all_pages(sessions, folders):
            pdf.add(fig)
            set_page = path.rsplit("/", 1)[-1].startswith(SET_PAGE)
            if settings.png and (settings.set_pngs or not set_page):
                files[f"{path}.png"] = png_bytes(fig, settings.png_dpi)
        files["report.pdf"] = pdf.close()

    for session, folder in zip(sessions, folders, strict=True):
        prefix = f"{folder}/" if several else ""
        reps = exports.reps_frame(session)
        angles = exports.angles_frame(session, settings.angles_rate_hz)
        files[f"{prefix}reps.csv"] = exports.csv_bytes(reps)
        files[f"{prefix}angles.csv"] = exports.csv_bytes(angles)
        if several:
            files[f"{prefix}summary.csv"] = exports.csv_bytes(exports.summary_frame([session]))

    summary = exports.summary_frame(sessions)
    files["summary.csv"] = exports.csv_bytes(summary)
    # Every session has the same columns (same rules), so the last one describes them all.
    columns = exports.columns_frame(reps, angles, summary)
    files["columns.csv"] = exports.csv_bytes(columns)
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
    sessions: Sequence[Session], out_dir: str | Path, settings: ReportSettings | None = None
) -> list[Path]:
    """Render the report of ``sessions`` and write it into ``out_dir``; the paths written."""
    out = check_out_dir(out_dir)
    files = render_report(sessions, settings)
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
