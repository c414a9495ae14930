"""Drawing a report's pages in two processes: the split, the joined PDF, a failing page."""

from __future__ import annotations

import io

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pypdf import PdfReader

from hinge_imu.errors import HingeImuError
from hinge_imu.report.cores import can_fork
from hinge_imu.report.pages import Page, draw_in_two, split_point

pytestmark = pytest.mark.skipif(not can_fork(), reason="two processes need fork (Linux)")


def _page(text: str) -> Page:
    def draw() -> Figure:
        fig = Figure(figsize=(3, 2))
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, text)
        return fig

    return Page(text, draw, png=True, cost=1.0)


def _broken() -> Figure:
    raise ValueError("no such angle")


def test_split_shares_the_cost() -> None:
    # The parent also writes the CSVs (cost 4): it takes fewer pages.
    assert split_point([1.0] * 10, 4.0) == 3
    assert split_point([1.0] * 10, 0.0) == 5
    assert split_point([6.0, 1.0, 1.0], 0.0) == 1


def test_pages_keep_their_order_and_pngs() -> None:
    pages = [_page(f"page {k}") for k in range(5)]
    files = draw_in_two(pages, 2, "T", True, 20, lambda: {"x.csv": b"1"})
    assert sorted(files) == sorted([*(f"page {k}.png" for k in range(5)), "report.pdf", "x.csv"])
    pdf = PdfReader(io.BytesIO(files["report.pdf"]))
    assert [p.extract_text() for p in pdf.pages] == [f"page {k}" for k in range(5)]
    assert pdf.metadata.title == "T (SIMULATED DATA)"


def test_a_page_failing_in_the_second_process_is_an_error_not_a_hang() -> None:
    pages = [_page("a"), _page("b"), Page("c", _broken, png=False, cost=1.0)]
    with pytest.raises(HingeImuError, match="ValueError: no such angle"):
        draw_in_two(pages, 1, "T", False, 20, dict)


def test_a_page_failing_here_stops_the_second_process() -> None:
    pages = [Page("a", _broken, png=False, cost=1.0), *(_page(str(k)) for k in range(3))]
    with pytest.raises(ValueError, match="no such angle"):
        draw_in_two(pages, 1, "T", False, 20, dict)
