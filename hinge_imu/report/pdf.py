"""The PDF report: figures as A4 pages of one document, built in memory.

The document is assembled in memory and written with ``atomic_write`` by the
caller, so a failure never leaves a half-written PDF.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hinge_imu import __version__
from hinge_imu.report.style import PNG_DPI


class PdfDocument:
    """One PDF built in memory, a page at a time (``add``), so the caller can
    drop each figure once it is saved.

    Use as a context manager; ``close()`` returns the document's bytes.
    """

    def __init__(self, title: str, simulated: bool) -> None:
        self.title = title
        self.simulated = simulated
        self._buf: io.BytesIO | None = None
        self._pdf: PdfPages | None = None

    @staticmethod
    def metadata(title: str, simulated: bool) -> dict[str, str]:
        """The document's title, subject and creator (simulated data said so)."""
        return {
            "Title": title + (" (SIMULATED DATA)" if simulated else ""),
            "Subject": "hip-hinge session report" + (", simulated data" if simulated else ""),
            "Creator": f"hinge-imu {__version__}",
        }

    def __enter__(self) -> PdfDocument:
        self._buf = io.BytesIO()
        self._pdf = PdfPages(self._buf, metadata=self.metadata(self.title, self.simulated))
        return self

    def add(self, figure: Figure) -> None:
        """Draw ``figure`` as the next page (its layout settled for good)."""
        if self._pdf is None:
            raise RuntimeError("PdfDocument.add outside its with-block")
        settle_layout(figure)
        # dpi: the resolution of what a figure draws as a picture (rasterized).
        self._pdf.savefig(figure, dpi=PNG_DPI)

    def close(self) -> bytes:
        """Finish the document; its bytes."""
        if self._pdf is None or self._buf is None:
            raise RuntimeError("PdfDocument.close outside its with-block")
        self._pdf.close()
        self._pdf = None
        return self._buf.getvalue()

    def __exit__(self, *exc: object) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None


#: zlib level of the PNGs: 1 makes a page ~7 % larger than the default 6
#: (195 kB, not 182 kB) and encodes it in 35 ms instead of 48 ms.
PNG_COMPRESS_LEVEL = 1


def settle_layout(figure: Figure) -> None:
    """Place the axes once and keep them there.

    A figure with a layout engine re-runs it at every save (a third of the
    drawing time); the PDF page and the PNG share one layout instead.
    """
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
        figure.set_layout_engine("none")


def png_bytes(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    """One figure as a PNG, A4 landscape at ``dpi``."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buf.getvalue()
