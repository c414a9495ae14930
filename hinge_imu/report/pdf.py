"""The PDF report: figures as A4 pages of one document, built in memory.

The document is assembled in memory and written with ``atomic_write`` by the
caller, so a failure never leaves a half-written PDF.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hinge_imu import __version__
from hinge_imu.report.style import PNG_DPI


def pdf_bytes(figures: Iterable[Figure], title: str, simulated: bool) -> bytes:
    """One PDF, one page per figure, with title and producer in its metadata."""
    buf = io.BytesIO()
    meta = {
        "Title": title + (" (SIMULATED DATA)" if simulated else ""),
        "Subject": "hip-hinge session report" + (", simulated data" if simulated else ""),
        "Creator": f"hinge-imu {__version__}",
    }
    with PdfPages(buf, metadata=meta) as pdf:
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()


def png_bytes(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    """One figure as a PNG, A4 landscape at ``dpi``."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
