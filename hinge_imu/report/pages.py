"""The pages of a report, planned before any is drawn, and drawn by one or two processes.

A plan is a list of ``Page``: where its PNG goes, how to draw it, whether its
PNG is written, and a rough cost. Drawing a page is matplotlib's work: a long
session's 61 set pages are most of a report's time. With two processes the
plan is cut in two: a forked child draws the tail into a PDF of its own while
the parent draws the head and the CSV files; the two PDFs are then joined
(pypdf, which copies the pages as they are). The pages, PNGs and CSVs are the
same whichever process draws them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from hinge_imu.core.results import Session
from hinge_imu.errors import HingeImuError
from hinge_imu.report.pdf import PdfDocument, finish_pdf, png_bytes
from hinge_imu.report.timeline import TimelinePage

#: Rough cost of drawing a page, in set-page PDFs (about 0.08 s each here):
#: a set page, a set page's PNG, any other page (overview, overlay, quality,
#: tables) and its PNG. Only used to share the pages between two processes.
COST_SET_PAGE = 1.0
COST_SET_PNG = 1.6
COST_OTHER_PAGE = 4.0
COST_OTHER_PNG = 2.5
#: Cost of a session's CSV files per analysis sample (360 000 samples: 9).
COST_CSV_PER_SAMPLE = 1 / 40_000
#: Plans cheaper than this are drawn by one process (forking and joining the
#: PDFs cost more than they save), in set-page PDFs.
PARALLEL_MIN_COST = 24.0


@dataclass(frozen=True)
class Page:
    """One page of the report.

    Attributes:
        path: relative path of its PNG, without ``.png``.
        draw: draws it (a figure that may be redrawn by the next page).
        png: whether its PNG is written.
        cost: rough cost of drawing it, in set-page PDFs.
    """

    path: str
    draw: Callable[[], Figure]
    png: bool
    cost: float


class Timelines:
    """The ``TimelinePage`` of one session at a time, made when first asked for.

    The pages of a plan share it, so a session's set pages redraw one figure,
    and a process that draws none of them never makes it.
    """

    def __init__(self) -> None:
        self._session: Session | None = None
        self._page: TimelinePage | None = None

    def __call__(self, session: Session) -> TimelinePage:
        if self._page is None or self._session is not session:
            self._page = None  # the previous session's figure goes first
            self._page, self._session = TimelinePage(session), session
        return self._page


def draw_pages(pages: Sequence[Page], title: str, simulated: bool, dpi: int) -> dict[str, bytes]:
    """The PDF (key ``report.pdf``) and the PNGs of ``pages``, each page drawn and dropped."""
    files: dict[str, bytes] = {}
    with PdfDocument(title, simulated) as pdf:
        for page in pages:
            fig = page.draw()
            pdf.add(fig)
            if page.png:
                files[f"{page.path}.png"] = png_bytes(fig, dpi)
            del fig
        files["report.pdf"] = pdf.close()
    return files


def split_point(costs: Sequence[float], parent_extra: float) -> int:
    """Index k such that pages ``[:k]`` plus ``parent_extra`` cost about what ``[k:]`` do."""
    total = sum(costs) + parent_extra
    head = parent_extra
    for k, cost in enumerate(costs):
        if head + cost / 2 >= total / 2:
            return max(k, 1)
        head += cost
    return len(costs)


def draw_in_two(
    pages: Sequence[Page],
    k: int,
    title: str,
    simulated: bool,
    dpi: int,
    meanwhile: Callable[[], dict[str, bytes]],
) -> dict[str, bytes]:
    """Pages ``[:k]`` and ``meanwhile()`` here, pages ``[k:]`` in a forked child; one PDF."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send((True, draw_pages(pages[k:], title, simulated, dpi)))
        except BaseException as err:  # the parent reports it
            send.send((False, f"{type(err).__name__}: {err}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    received = False
    try:
        head = draw_pages(pages[:k], title, simulated, dpi)
        head.update(meanwhile())
        ok, tail = receive.recv()
        received = True
    except EOFError:
        raise HingeImuError("the report's second process died") from None
    finally:
        if not received:  # it may be blocked sending what nobody will read
            proc.kill()
        proc.join()
        receive.close()
    if not ok:
        raise HingeImuError(f"drawing the report failed: {tail}")
    head_pdf = head.pop("report.pdf")
    tail_pdf = tail.pop("report.pdf")
    return {"report.pdf": join_pdfs([head_pdf, tail_pdf], title, simulated), **head, **tail}


def join_pdfs(parts: Sequence[bytes], title: str, simulated: bool) -> bytes:
    """One PDF of the pages of ``parts``, in order, with the report's metadata."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    return finish_pdf(writer, title, simulated)
