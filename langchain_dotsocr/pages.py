"""From a file's bytes to page images sized for the model, one page at a time.

PDF pages are rendered with pypdfium2 (which applies /Rotate), images are decoded with Pillow
(:mod:`.images`: EXIF orientation applied, converted to RGB, bombs refused). Each page image is
then resized by the model's rule, so boxes in the answer map back to the page by a plain scale.
A long page (beyond the model's 200:1, or a receipt that would have to be shrunk) is kept at
full resolution instead and read in parts, each cropped here (:func:`crop_part`).

Bad input never escapes as anything but a :class:`DocumentError` (the file: empty, not a
document, damaged, locked, a bomb) or a :class:`PageError` (one page: missing, undecodable, or
without area), each naming the source and the page. Pages are never rendered above
``max_pixels`` (long pages above :data:`LONG_MAX_PIXELS`), whatever their size.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, TypeVar, cast

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from .budget import FACTOR, MAX_ASPECT_RATIO, MAX_PIXELS, MIN_PIXELS, smart_resize
from .errors import DocumentError, PageError
from .images import (
    BOMB_ERRORS,
    DECODE_ERRORS,
    bomb_reason,
    check_size,
    decode_frame,
    open_image,
)

Kind = Literal["pdf", "image"]
Unit = Literal["pt", "px"]
Region = tuple[float, float, float, float]

# The most pixels one crop of an element has: a poster-sized figure is scaled down to it.
MAX_CROP_PIXELS = MAX_PIXELS

SUPPORTED = "PDF, PNG, JPEG, WebP, TIFF, BMP or GIF"


@dataclass(frozen=True)
class PageInfo:
    """Where a page is and how big, in page units: PDF points or the original image's pixels."""

    source: str
    index: int
    total: int
    width: float
    height: float
    unit: Unit
    # Pixels the page would have at the asked resolution, before any cap.
    natural_pixels: int
    # The PDF's own label of the page ("iv", "A-3"), "" when it defines none (and for images).
    label: str = ""


@dataclass(frozen=True)
class PageImage:
    """One page, ready to send: the RGB image sized by the model's rule, and its page.

    A long page (see :func:`is_long`) is kept at full resolution instead, ``whole`` False: the
    model cannot take it in one image, so it is read in parts.
    """

    info: PageInfo
    image: Image.Image
    whole: bool = True
    # The PDF page's text layer (a textlayer.PageLayer), read beside the render when asked,
    # or why it could not be read (the page is then read by the model alone).
    layer: Any = None
    layer_problem: str = ""


@dataclass(frozen=True)
class Geometry:
    """How pages are sized: render resolution and the model's pixel bounds."""

    dpi: float = 200
    min_pixels: int = MIN_PIXELS
    max_pixels: int = MAX_PIXELS


def sniff(data: bytes) -> Kind | None:
    """Tell a PDF or a supported image from its first bytes; ``None`` for anything else."""
    head = data[:16]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if (
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM"))
        or head.startswith((b"II*\x00", b"MM\x00*"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
    ):
        return "image"
    return None


class PageDocument(ABC):
    """An opened source: knows its page count and renders any page on demand."""

    total: int

    def __init__(self, source: str) -> None:
        self.source = source

    @abstractmethod
    def render(self, index: int, geometry: Geometry, *, layer: bool = False) -> PageImage:
        """Render page ``index`` (0-based) sized for the model; with ``layer``, a PDF page's
        text layer is read beside it (an image has none)."""

    @abstractmethod
    def crops(self, index: int, regions: Sequence[Region], dpi: float) -> list[Image.Image]:
        """Regions of page ``index`` (page units, top-left origin) at the render resolution:
        a PDF's rendered at ``dpi``, an image's cut from its own pixels. Each is at most
        :data:`MAX_CROP_PIXELS` (a bigger one is scaled down to it)."""

    @abstractmethod
    def page_file(self, index: int) -> bytes:
        """A file that holds page ``index`` for :meth:`crops`, to cut them elsewhere (on a Ray
        actor): a PDF's page alone in a one-page PDF (saved unlocked), an image file whole.
        Its crops are the source's: the page is at index 0 when the file has one page, else
        at ``index``."""

    @abstractmethod
    def close(self) -> None:
        """Release the file's resources."""

    def _error(self, index: int, reason: str) -> PageError:
        return PageError(reason, source=self.source, page=index, total_pages=self.total)

    def _check_shape(self, index: int, width: float, height: float, unit: Unit) -> None:
        """Refuse, before rendering, a page with no area."""
        if not (width > 0 and height > 0 and math.isfinite(width * height)):
            raise self._error(index, f"the page has no area ({width:g}x{height:g} {unit})")

    def _finish(
        self,
        index: int,
        image: Image.Image,
        width: float,
        height: float,
        unit: Unit,
        natural_pixels: int,
        geometry: Geometry,
        label: str = "",
    ) -> PageImage:
        info = PageInfo(
            self.source, index, self.total, width, height, unit, natural_pixels, label
        )
        if not is_long(image.width, image.height, geometry):
            h, w = smart_resize(
                image.height,
                image.width,
                min_pixels=geometry.min_pixels,
                max_pixels=geometry.max_pixels,
            )
            # Rounding to multiples of 28 can push a page just inside the limit over it; the
            # server checks the image it receives, so such a page is read in parts too.
            if max(w, h) / min(w, h) <= MAX_ASPECT_RATIO:
                if (w, h) != image.size:
                    image = image.resize((w, h), Image.Resampling.BICUBIC)
                return PageImage(info, image)
        return PageImage(info, image, whole=False)


def is_long(width: float, height: float, geometry: Geometry) -> bool:
    """Whether a page of ``width`` x ``height`` px (at the asked resolution) is read in parts
    at full resolution rather than sent whole.

    Pages beyond the model's 200:1, and long pages (a receipt, a scroll, a long screenshot: at
    least :data:`LONG_ASPECT` to 1) that would have to be shrunk to fit ``max_pixels``: shrunk
    whole, their text would be too small to read; in parts it keeps its size.
    """
    aspect = max(width, height) / min(width, height)
    if aspect > MAX_ASPECT_RATIO:
        return True
    return aspect >= LONG_ASPECT and width * height > geometry.max_pixels


# Long pages: how elongated (see is_long), and the most pixels one is rendered with (memory).
LONG_ASPECT = 4.0
LONG_MAX_PIXELS = 4 * MAX_PIXELS


# Why a PDF did not open, by PDFium's error code (see _load_error).
_PDF_OPEN_ERRORS = {
    pdfium_c.FPDF_ERR_SUCCESS: "the PDF has no pages",
    pdfium_c.FPDF_ERR_FILE: "the PDF cannot be read",
    pdfium_c.FPDF_ERR_FORMAT: "not a readable PDF: damaged, truncated or not a PDF",
    pdfium_c.FPDF_ERR_SECURITY: "the PDF is encrypted with a security handler PDFium cannot open",
}


# PDFium is not thread-safe, not even across documents: every call into it, from any run or
# thread of the process (two loads at once, draw_page), holds this lock.
PDFIUM_LOCK = threading.RLock()
F = TypeVar("F", bound=Callable[..., Any])


def _pdfium(method: F) -> F:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with PDFIUM_LOCK:
            return method(*args, **kwargs)

    return cast(F, locked)


class PdfPages(PageDocument):
    """A PDF opened with pypdfium2; every PDFium call holds :data:`PDFIUM_LOCK`."""

    @_pdfium
    def __init__(self, data: bytes, source: str, password: str | None = None) -> None:
        super().__init__(source)
        self._pdf = self._open(data, password)
        self.total = len(self._pdf)
        if self.total == 0:  # pypdfium2 refuses these itself; kept for older versions
            self._pdf.close()
            raise DocumentError("the PDF has no pages", source=source)

    def _open(self, data: bytes, password: str | None) -> Any:
        try:
            return _with_forms(pdfium.PdfDocument(data, password=password))
        except pdfium.PdfiumError as exc:
            code = _load_error(data, password)
            if code == pdfium_c.FPDF_ERR_PASSWORD and password:
                try:  # one password for a batch: a PDF that needs none still opens
                    return _with_forms(pdfium.PdfDocument(data))
                except pdfium.PdfiumError:
                    pass
            if code == pdfium_c.FPDF_ERR_PASSWORD:
                said = "is wrong" if password else "is needed (set password=)"
                reason = f"the PDF is encrypted and the password {said}"
            else:
                reason = _PDF_OPEN_ERRORS.get(code, f"not a readable PDF ({exc})")
            raise DocumentError(reason, source=self.source) from exc

    @_pdfium
    def render(self, index: int, geometry: Geometry, *, layer: bool = False) -> PageImage:
        try:
            page = self._pdf[index]
            try:
                width, height = page.get_size()  # as displayed: /Rotate applied
                self._check_shape(index, width, height, "pt")
                full = pdf_pixel_size(width, height, replace(geometry, max_pixels=LONG_MAX_PIXELS))
                if is_long(*full, geometry):
                    w, h = full
                else:
                    size = pdf_pixel_size(width, height, geometry)
                    h, w = smart_resize(
                        size[1],
                        size[0],
                        min_pixels=geometry.min_pixels,
                        max_pixels=geometry.max_pixels,
                    )
                image = _render_exact(page, w, h)
                text, problem = _read_layer(page, image) if layer else (None, "")
            finally:
                page.close()
            label = self._pdf.get_page_label(index)  # "" when the PDF defines no labels
        except pdfium.PdfiumError as exc:
            raise self._error(index, f"cannot render the page ({exc})") from exc
        natural = round(width * geometry.dpi / 72) * round(height * geometry.dpi / 72)
        rendered = self._finish(index, image, width, height, "pt", natural, geometry, label)
        return replace(rendered, layer=text, layer_problem=problem) if layer else rendered

    @_pdfium
    def crops(self, index: int, regions: Sequence[Region], dpi: float) -> list[Image.Image]:
        try:
            page = self._pdf[index]
            try:
                width, height = page.get_size()
                return [_render_region(page, width, height, r, dpi / 72) for r in regions]
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise self._error(index, f"cannot render the page's crops ({exc})") from exc

    @_pdfium
    def page_file(self, index: int) -> bytes:
        try:
            alone = pdfium.PdfDocument.new()
            try:
                alone.import_pages(self._pdf, [index])
                buffer = io.BytesIO()
                alone.save(buffer)
            finally:
                alone.close()
        except pdfium.PdfiumError as exc:
            raise self._error(index, f"cannot copy the page for its crops ({exc})") from exc
        return buffer.getvalue()

    @_pdfium
    def close(self) -> None:
        self._pdf.close()


def _read_layer(page: Any, image: Image.Image) -> tuple[Any, str]:
    """The page's text layer (under the PDFium lock, as the render is), or ``None`` and why
    it cannot be read: the page is then read by the model alone, as with ``text_layer="off"``,
    and the reason is noted on the page."""
    from .textlayer import read_layer  # the layer's package is loaded only when asked

    try:
        return read_layer(page, image), ""
    except (pdfium.PdfiumError, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def _pixel_box(region: Region, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """``region`` in whole pixels at ``scale`` (outwards), inside a ``width`` x ``height`` image,
    at least a pixel across."""
    x0 = min(width - 1, max(0, math.floor(region[0] * scale)))
    y0 = min(height - 1, max(0, math.floor(region[1] * scale)))
    x1 = max(x0 + 1, min(width, math.ceil(region[2] * scale)))
    y1 = max(y0 + 1, min(height, math.ceil(region[3] * scale)))
    return x0, y0, x1, y1


def _capped(region: Region, scale: float) -> float:
    """``scale``, lowered so that ``region`` is at most :data:`MAX_CROP_PIXELS`."""
    area = (region[2] - region[0]) * (region[3] - region[1]) * scale * scale
    return scale * math.sqrt(MAX_CROP_PIXELS / area) if area > MAX_CROP_PIXELS else scale


def _render_region(
    page: Any, width: float, height: float, region: Region, scale: float
) -> Image.Image:
    """One region of a page rendered at ``scale`` pixels per point: the same pixels as the
    whole page rendered at that scale (as pypdfium2 renders it) and cropped there."""
    scale = _capped(region, scale)
    full_w, full_h = math.ceil(width * scale), math.ceil(height * scale)
    x0, y0, x1, y1 = _pixel_box(region, scale, full_w, full_h)
    return _render_exact(page, full_w, full_h, (x0, y0, x1, y1))


def pdf_pixel_size(width_pt: float, height_pt: float, geometry: Geometry) -> tuple[int, int]:
    """``(width, height)`` in pixels of a PDF page at the geometry's dpi, before the model's
    resize rule: never more pixels than the model takes (big pages stay in memory bounds),
    never less than a pixel across (a hair-thin page still renders)."""
    scale = min(geometry.dpi / 72, math.sqrt(geometry.max_pixels / (width_pt * height_pt)))
    scale = max(scale, 1 / min(width_pt, height_pt))
    return max(1, round(width_pt * scale)), max(1, round(height_pt * scale))


# Blank page around a part's ink that goes into its image, where the cuts leave room for it.
PART_MARGIN = 8


def part_size(width: float, height: float, min_pixels: int = MIN_PIXELS) -> tuple[int, int]:
    """The image size of a part ``width`` x ``height`` px: padded up to the model's sizes
    (multiples of 28, at least ``min_pixels``), so the model sees it unscaled."""
    w = max(FACTOR, math.ceil(width / FACTOR) * FACTOR)
    h = max(FACTOR, math.ceil(height / FACTOR) * FACTOR)
    while w * h < min_pixels:
        if w <= h:
            w += FACTOR
        else:
            h += FACTOR
    return w, h


def part_fits(box: tuple[float, float, float, float], geometry: Geometry) -> bool:
    """Whether the model takes the image of a part as it is (pixels and aspect ratio), with
    or without the margin :func:`crop_part` may add."""
    width, height, m = box[2] - box[0], box[3] - box[1], 2 * PART_MARGIN
    w, h = part_size(width + m, height + m)
    if w * h > geometry.max_pixels:
        return False
    narrow, low = part_size(width, height + m), part_size(width + m, height)
    return max(narrow[1] / narrow[0], low[0] / low[1]) <= MAX_ASPECT_RATIO


def crop_part(
    image: Image.Image,
    box: tuple[float, float, float, float],
    room: tuple[float, float, float, float],
    geometry: Geometry,
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The image of a part of a page image and where it lies on the page.

    The part's ink ``box``, grown by :data:`PART_MARGIN` into its blank ``room``, is cropped in
    whole pixels and padded with white at the right and bottom to :func:`part_size`.
    """
    x0 = max(0, math.floor(max(room[0], box[0] - PART_MARGIN)))
    y0 = max(0, math.floor(max(room[1], box[1] - PART_MARGIN)))
    x1 = min(image.width, math.ceil(min(room[2], box[2] + PART_MARGIN)))
    y1 = min(image.height, math.ceil(min(room[3], box[3] + PART_MARGIN)))
    w, h = part_size(x1 - x0, y1 - y0, geometry.min_pixels)
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    canvas.paste(image.crop((x0, y0, x1, y1)), (0, 0))
    return canvas, (x0, y0, x1, y1)


def _with_forms(pdf: Any) -> Any:
    """``pdf`` with its form fields set up (before any page is loaded), so that renders show
    what a filled form's fields hold: PDFium draws them only through a form environment, and
    their values are in no text layer. A form PDFium cannot set up renders without them."""
    with contextlib.suppress(pdfium.PdfiumError):
        pdf.init_forms()
    return pdf


def _render_exact(
    page: Any, width: int, height: int, window: tuple[int, int, int, int] | None = None
) -> Image.Image:
    """Render a page straight to ``width`` x ``height`` px (the page's /Rotate applied), or
    only the pixels ``window`` (x0, y0, x1, y1) of that image.

    PDFium scales each axis to the size asked, so the page fills the image exactly and no
    resize pass follows: a bicubic resize of a 200-dpi page costs several times its render.
    """
    x0, y0, x1, y1 = window or (0, 0, width, height)
    w, h = x1 - x0, y1 - y0
    bitmap = pdfium.PdfBitmap.new_native(w, h, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, w, h)
    flags = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER
    pdfium_c.FPDF_RenderPageBitmap(bitmap, page, -x0, -y0, width, height, 0, flags)
    if getattr(page, "formenv", None):  # the fields of a filled form (see _with_forms)
        pdfium_c.FPDF_FFLDraw(page.formenv, bitmap, page, -x0, -y0, width, height, 0, flags)
    image: Image.Image = bitmap.to_pil()
    return image if image.mode == "RGB" else image.convert("RGB")


def _load_error(data: bytes, password: str | None) -> int:
    """Why PDFium will not open ``data``: its error code; ``FPDF_ERR_SUCCESS`` when it opens
    but has no pages.

    pypdfium2 refuses a PDF without pages with whatever ``FPDF_GetLastError`` says, and PDFium
    never clears that code: it can be a stale one from an earlier file. A second, raw load (only
    ever of a file that failed) tells for certain.
    """
    secret = None if password is None else (password + "\0").encode("utf-8")
    handle = pdfium_c.FPDF_LoadMemDocument64(data, len(data), secret)
    if handle:
        pdfium_c.FPDF_CloseDocument(handle)
        return int(pdfium_c.FPDF_ERR_SUCCESS)
    return int(pdfium_c.FPDF_GetLastError())


class ImagePages(PageDocument):
    """An image file; every frame of a TIFF is a page, other formats have one.

    Each render opens the file afresh: ``draft`` and ``seek`` change the decoder's state, and
    a page must not depend on which pages were rendered before it.
    """

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(source)
        self._data = data
        try:
            with open_image(data) as image:
                check_size(*image.size)
                frames = getattr(image, "n_frames", 1)
                kind = image.format
        except BOMB_ERRORS as exc:
            raise DocumentError(bomb_reason(exc), source=source) from exc
        except UnidentifiedImageError as exc:  # its message names a BytesIO object: say why
            raise DocumentError(
                "not a readable image: damaged, or a variant of its format Pillow cannot read",
                source=source,
            ) from exc
        except DECODE_ERRORS as exc:
            raise DocumentError(f"not a readable image ({exc})", source=source) from exc
        self.total = frames if kind == "TIFF" else 1

    def render(self, index: int, geometry: Geometry, *, layer: bool = False) -> PageImage:
        try:
            with open_image(self._data) as frame:
                frame.seek(index)
                stored_width, stored_height = frame.size
                self._check_shape(index, float(stored_width), float(stored_height), "px")
                long = is_long(stored_width, stored_height, geometry)
                limit = LONG_MAX_PIXELS if long else geometry.max_pixels
                image, width, height = decode_frame(frame, limit)
        except BOMB_ERRORS as exc:
            raise self._error(index, bomb_reason(exc)) from exc
        except DECODE_ERRORS as exc:
            raise self._error(index, f"cannot decode the image ({exc})") from exc
        return self._finish(
            index, image, float(width), float(height), "px", width * height, geometry
        )

    def crops(self, index: int, regions: Sequence[Region], dpi: float) -> list[Image.Image]:
        try:
            with open_image(self._data) as frame:
                frame.seek(index)
                image, width, _ = decode_frame(frame, LONG_MAX_PIXELS)
        except BOMB_ERRORS as exc:
            raise self._error(index, bomb_reason(exc)) from exc
        except DECODE_ERRORS as exc:
            raise self._error(index, f"cannot decode the image for its crops ({exc})") from exc
        scale = image.width / width  # below 1 only for a frame beyond LONG_MAX_PIXELS
        out = []
        for region in regions:
            crop = image.crop(_pixel_box(region, scale, image.width, image.height))
            capped = _capped(region, scale)
            if capped < scale:
                size = (max(1, round(crop.width * capped / scale)),
                        max(1, round(crop.height * capped / scale)))
                crop = crop.resize(size, Image.Resampling.BOX)
            out.append(crop)
        return out

    def page_file(self, index: int) -> bytes:
        return self._data  # decoded again for the crops: the same pixels, as the file has them

    def close(self) -> None:
        self._data = b""


def open_pages(data: bytes, source: str, *, password: str | None = None) -> PageDocument:
    """Open a source by its content, not its name."""
    if not data:
        raise DocumentError("the file is empty (0 bytes)", source=source)
    kind = sniff(data)
    if kind == "pdf":
        return PdfPages(data, source, password)
    if kind == "image":
        return ImagePages(data, source)
    raise DocumentError(f"not a {SUPPORTED} file", source=source)


class _Readable(Protocol):
    def as_bytes(self) -> bytes: ...


def read_blob(blob: _Readable, source: str) -> bytes:
    """A source's bytes; a file that cannot be read is a :class:`DocumentError`, not a crash."""
    try:
        return blob.as_bytes()
    except (OSError, ValueError) as exc:  # missing, a folder, unreadable; a Blob with no data
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DocumentError(f"cannot read the file ({detail})", source=source) from exc


def select_pages(total: int, pages: Sequence[int] | None) -> list[int]:
    """The 0-based page indices to parse; negative indices count from the end."""
    if pages is None:
        return list(range(total))
    chosen = []
    for p in pages:
        q = p + total if p < 0 else p
        if 0 <= q < total and q not in chosen:
            chosen.append(q)
    return chosen
