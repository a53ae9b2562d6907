"""From a file's bytes to page images sized for the model, one page at a time.

PDF pages are rendered with pypdfium2 (which applies /Rotate), images are opened with Pillow
(EXIF orientation applied, converted to RGB). Each page image is then resized by the model's
rule, so boxes in the answer map back to the page by a plain scale.
"""

from __future__ import annotations

import io
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image, ImageOps

from .budget import MAX_PIXELS, MIN_PIXELS, smart_resize
from .errors import DocumentError, PageError

Kind = Literal["pdf", "image"]
Unit = Literal["pt", "px"]

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


@dataclass(frozen=True)
class PageImage:
    """One page, ready to send: the RGB image sized by the model's rule, and its page."""

    info: PageInfo
    image: Image.Image


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
    def render(self, index: int, geometry: Geometry) -> PageImage:
        """Render page ``index`` (0-based) sized for the model."""

    @abstractmethod
    def close(self) -> None:
        """Release the file's resources."""

    def _finish(
        self,
        index: int,
        image: Image.Image,
        width: float,
        height: float,
        unit: Unit,
        natural_pixels: int,
        geometry: Geometry,
    ) -> PageImage:
        try:
            h, w = smart_resize(
                image.height,
                image.width,
                min_pixels=geometry.min_pixels,
                max_pixels=geometry.max_pixels,
            )
        except ValueError as exc:
            raise PageError(str(exc), source=self.source, page=index) from exc
        if (w, h) != image.size:
            image = image.resize((w, h), Image.Resampling.BICUBIC)
        info = PageInfo(self.source, index, self.total, width, height, unit, natural_pixels)
        return PageImage(info, image)


class PdfPages(PageDocument):
    """A PDF opened with pypdfium2. Not thread-safe: render from one thread at a time."""

    def __init__(self, data: bytes, source: str, password: str | None = None) -> None:
        super().__init__(source)
        try:
            self._pdf = pdfium.PdfDocument(data, password=password)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                said = "was wrong" if password else "is needed (set password=)"
                raise DocumentError(
                    f"the PDF is encrypted and the password {said}", source=source
                ) from exc
            raise DocumentError(f"not a readable PDF ({exc})", source=source) from exc
        self.total = len(self._pdf)
        if self.total == 0:
            self._pdf.close()
            raise DocumentError("the PDF has no pages", source=source)

    def render(self, index: int, geometry: Geometry) -> PageImage:
        try:
            page = self._pdf[index]
            try:
                width, height = page.get_size()  # as displayed: /Rotate applied
                if width <= 0 or height <= 0:
                    raise PageError(
                        f"page has no area ({width}x{height} pt)", source=self.source, page=index
                    )
                # Never render more pixels than the model takes: big pages stay in memory bounds.
                scale = min(geometry.dpi / 72, math.sqrt(geometry.max_pixels / (width * height)))
                image = page.render(scale=scale).to_pil().convert("RGB")
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise PageError(
                f"cannot render the page ({exc})", source=self.source, page=index
            ) from exc
        natural = round(width * geometry.dpi / 72) * round(height * geometry.dpi / 72)
        return self._finish(index, image, width, height, "pt", natural, geometry)

    def close(self) -> None:
        self._pdf.close()


class ImagePages(PageDocument):
    """An image file; every frame of a TIFF is a page, other formats have one."""

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self._image = Image.open(io.BytesIO(data))
                self._image.size  # noqa: B018  (touch the header: fails early on junk)
        except (
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
        ) as exc:
            raise DocumentError(f"not a readable image ({exc})", source=source) from exc
        frames = getattr(self._image, "n_frames", 1)
        self.total = frames if self._image.format == "TIFF" else 1

    def render(self, index: int, geometry: Geometry) -> PageImage:
        try:
            self._image.seek(index)
            frame = ImageOps.exif_transpose(self._image)
            image = to_rgb(frame)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise PageError(
                f"cannot decode the image ({exc})", source=self.source, page=index
            ) from exc
        return self._finish(
            index,
            image,
            float(image.width),
            float(image.height),
            "px",
            image.width * image.height,
            geometry,
        )

    def close(self) -> None:
        self._image.close()


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels, transparency flattened on white, 16-bit and CMYK converted."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


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
