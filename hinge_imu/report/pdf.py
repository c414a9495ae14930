"""The PDF report: figures as A4 pages of one document, built in memory.

The document is assembled in memory and written with ``atomic_write`` by the
caller, so a failure never leaves a half-written PDF.

A figure redrawn for many pages (a long session's set pages) may name a
``SharedLayer``: artists that are the same on each of those pages and lie
over everything else (the angles' names, the threshold names, the SIMULATED
stamp). The layer is drawn once, into a PDF form (a drawing a page can
paint by name), and each page paints it over the rest of the page, which is
drawn without it. Text is most of a set page's drawing time, and a third of
it is the same on every page.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hinge_imu import __version__
from hinge_imu.report.style import PNG_DPI

if TYPE_CHECKING:
    from pypdf import PdfWriter


@dataclass(frozen=True, eq=False)
class SharedLayer:
    """Artists of a figure drawn the same on many of its pages, over everything else.

    Compared by identity: a new layer object for anything that moves them (the
    PDF draws each layer object once). Held weakly by the figure and the PDF:
    whoever shares it keeps it (so a dropped page's figure is freed).
    """

    artists: tuple[Artist, ...]


#: Resource name of the shared layers' forms in the PDF (``/HingeLayer0`` …).
LAYER_NAME = "/HingeLayer"

_LAYERS: weakref.WeakKeyDictionary[Figure, weakref.ref[SharedLayer]] = weakref.WeakKeyDictionary()


def share_layer(figure: Figure, layer: SharedLayer | None) -> None:
    """Name the shared layer of ``figure``'s next page (None: the page is drawn whole)."""
    if layer is None:
        _LAYERS.pop(figure, None)
    else:
        _LAYERS[figure] = weakref.ref(layer)


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
        self._pages = 0
        # Each shared layer drawn so far: its one-page PDF; and which page paints which.
        self._layers: weakref.WeakKeyDictionary[SharedLayer, int] = weakref.WeakKeyDictionary()
        self._layer_pdfs: list[bytes] = []
        self._painted: list[tuple[int, int]] = []

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
        ref = _LAYERS.get(figure)
        layer = ref() if ref is not None else None
        if layer is None:
            # dpi: the resolution of what a figure draws as a picture (rasterized).
            self._pdf.savefig(figure, dpi=PNG_DPI)
        else:
            if layer not in self._layers:
                with _only(figure, layer.artists):
                    buf = io.BytesIO()
                    figure.savefig(buf, format="pdf", dpi=PNG_DPI)
                self._layers[layer] = len(self._layer_pdfs)
                self._layer_pdfs.append(buf.getvalue())
            with _hidden(layer.artists):
                self._pdf.savefig(figure, dpi=PNG_DPI)
            self._painted.append((self._pages, self._layers[layer]))
        self._pages += 1

    def close(self) -> bytes:
        """Finish the document; its bytes."""
        if self._pdf is None or self._buf is None:
            raise RuntimeError("PdfDocument.close outside its with-block")
        self._pdf.close()
        self._pdf = None
        if not self._painted:
            return self._buf.getvalue()
        return paint_layers(
            self._buf.getvalue(), self._painted, self._layer_pdfs, self.title, self.simulated
        )

    def __exit__(self, *exc: object) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None


@contextmanager
def _hidden(artists: Sequence[Artist]) -> Iterator[None]:
    """``artists`` not drawn inside the block (those that were shown)."""
    shown = [a for a in artists if a.get_visible()]
    for a in shown:
        a.set_visible(False)
    try:
        yield
    finally:
        for a in shown:
            a.set_visible(True)


@contextmanager
def _only(figure: Figure, artists: Sequence[Artist]) -> Iterator[None]:
    """Only ``artists`` drawn inside the block, on a transparent page."""
    keep = set(artists)
    others: list[Artist] = []
    for child in figure.get_children():
        if isinstance(child, Axes):  # its background, frame, scales, curves … but not ours
            others += [a for a in child.get_children() if a not in keep]
        elif child not in keep:
            others.append(child)
    with _hidden(others):
        yield


def paint_layers(
    body: bytes,
    painted: Sequence[tuple[int, int]],
    layers: Sequence[bytes],
    title: str,
    simulated: bool,
) -> bytes:
    """``body`` with each layer (a one-page PDF of ``layers``) painted over its pages
    (``painted``: page index, layer index), stored once as a form."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        IndirectObject,
        NameObject,
    )

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(body)))
    # Per layer: its name, its form, and the content stream its pages add ("paint it").
    paint: list[tuple[NameObject, IndirectObject, IndirectObject]] = []
    for k, pdf in enumerate(layers):
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        form = DecodedStreamObject()
        form.set_data(page.get_contents().get_data())  # type: ignore[union-attr]
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject(page.mediabox)
        form[NameObject("/Resources")] = page["/Resources"].clone(writer)
        name = NameObject(f"{LAYER_NAME}{k}")
        call = DecodedStreamObject()
        call.set_data(f"q {name} Do Q\n".encode("ascii"))
        paint.append((name, writer._add_object(form.flate_encode()), writer._add_object(call)))
    for index, layer in painted:
        name, form_ref, call_ref = paint[layer]
        page = writer.pages[index]
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        forms = resources["/XObject"].get_object()
        assert isinstance(forms, DictionaryObject)
        forms[name] = form_ref
        contents = page.raw_get("/Contents")
        parts = list(contents) if isinstance(contents, ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject([*parts, call_ref])
    return finish_pdf(writer, title, simulated)


def finish_pdf(writer: PdfWriter, title: str, simulated: bool) -> bytes:
    """The bytes of a document assembled with pypdf, with the report's metadata."""
    meta = PdfDocument.metadata(title, simulated)
    writer.add_metadata({f"/{key}": value for key, value in meta.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
