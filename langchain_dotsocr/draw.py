"""Draw the layout the model found on the page it read: one box and label per element.

Boxes leave the loader in page units (PDF points or image pixels, see ``coordinate_unit``);
:func:`draw_boxes` scales them back to the pixels of an image of the page, and
:func:`draw_page` renders the page exactly as the model saw it and draws on that.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from PIL import Image, ImageDraw, ImageFont
from typing_extensions import Unpack

from .errors import PageError
from .loader import DotsOCRLoader
from .pages import Geometry, open_pages
from .settings import DotsOCROptions, DotsOCRSettings

#: The colour of each category's boxes (RGB). Categories not listed are drawn in ``OTHER``.
PALETTE: dict[str, tuple[int, int, int]] = {
    "Title": (214, 39, 40),
    "Section-header": (255, 127, 14),
    "Text": (31, 119, 180),
    "List-item": (44, 160, 44),
    "Table": (148, 103, 189),
    "Formula": (140, 86, 75),
    "Picture": (227, 119, 194),
    "Caption": (23, 190, 207),
    "Footnote": (188, 189, 34),
    "Page-header": (127, 127, 127),
    "Page-footer": (82, 82, 82),
}
OTHER = (0, 0, 0)

Scale = float | tuple[float, float]


def colour_of(category: str) -> tuple[int, int, int]:
    """The RGB colour boxes of ``category`` are drawn in."""
    return PALETTE.get(category, OTHER)


def draw_boxes(
    image: Image.Image,
    documents: Iterable[Document],
    *,
    scale: Scale | None = None,
    labels: bool = True,
    legend: bool = False,
) -> Image.Image:
    """A copy of ``image`` with each element's box and category drawn on it.

    Args:
        image: the page (any size: boxes are scaled to it).
        documents: element-mode Documents of this one page; those without a ``bbox``
            (page-mode Documents, failed pages) are left out.
        scale: image pixels per page unit, one number or ``(x, y)``. By default it comes from
            each Document's ``page_width`` and ``page_height`` and the image's size.
        labels: write the category above (or, at the top of the page, inside) each box.
        legend: add a key of the categories drawn, at the top right.

    Returns:
        An RGB image the size of ``image``; the outline of each box lies inside the box.
    """
    out = image.convert("RGB")
    draw = ImageDraw.Draw(out)
    width = max(2, round(min(out.size) / 500))
    font = _font(max(10, round(min(out.size) / 100)))
    boxes = []
    for doc in documents:
        bbox = doc.metadata.get("bbox")
        if bbox is None:
            continue
        sx, sy = _scale(doc, out.size, scale)
        x0, y0 = round(bbox[0] * sx), round(bbox[1] * sy)
        x1, y1 = round(bbox[2] * sx), round(bbox[3] * sy)
        category = str(doc.metadata.get("category", ""))
        boxes.append((category, x0, y0))
        # Pillow's rectangle includes its last row and column; the outline grows inwards.
        edges = (x0, y0, max(x0, x1 - 1), max(y0, y1 - 1))
        draw.rectangle(edges, outline=colour_of(category), width=width)
    if labels:  # after every box, so no outline crosses a label
        for category, x0, y0 in boxes:
            _label(draw, font, category, x0, y0)
    if legend:
        _legend(draw, font, [c for c in PALETTE if any(b[0] == c for b in boxes)], out.width)
    return out


def draw_page(
    source: str | Path | bytes | Blob,
    page: int = 0,
    documents: Iterable[Document] | None = None,
    *,
    labels: bool = True,
    legend: bool = False,
    **settings: Unpack[DotsOCROptions],
) -> Image.Image:
    """Render one page as the model sees it and draw its elements' boxes on it.

    The page is rendered by the loader's page layer: PDF pages at ``dpi`` with ``/Rotate``
    applied, images with their EXIF orientation, then sized by the model's rule (multiples of
    28 px). Without ``documents``, the page's layout is loaded from the server (element mode,
    this page only: one request); with them, no request is sent and only those of this page
    (``metadata["page"]``) are drawn.

    Args:
        source: a PDF or image, as a path, bytes or a Blob.
        page: 0-based page index; negative counts from the end.
        documents: element-mode Documents of the source, if already loaded.
        labels: write each element's category beside its box.
        legend: add a key of the categories drawn.
        **settings: settings of :class:`DotsOCRLoader` (``base_url``, ``dpi``, ...).

    Raises:
        PageError: the source has no such page.
    """
    config = DotsOCRSettings(**settings)  # type: ignore[arg-type]
    if isinstance(source, Blob):
        data, name = source.as_bytes(), str(source.source or "<blob>")
    elif isinstance(source, bytes):
        data, name = source, "<bytes>"
    else:
        data, name = Path(source).read_bytes(), str(source)
    password = config.password.get_secret_value() if config.password else None
    pages = open_pages(data, name, password=password)
    try:
        if not -pages.total <= page < pages.total:
            raise PageError(f"there is no page={page}: it has {pages.total} page(s)", source=name)
        index = page % pages.total
        geometry = Geometry(config.dpi, config.min_pixels, config.max_pixels)
        image = pages.render(index, geometry).image
    finally:
        pages.close()
    if documents is None:
        options: DotsOCROptions = {**settings, "mode": "element", "pages": [index]}
        documents = DotsOCRLoader(source, **options).load()
    chosen = [d for d in documents if d.metadata.get("page") == index]
    return draw_boxes(image, chosen, labels=labels, legend=legend)


def _scale(doc: Document, size: tuple[int, int], scale: Scale | None) -> tuple[float, float]:
    if isinstance(scale, tuple):
        return scale
    if scale is not None:
        return scale, scale
    meta = doc.metadata
    if not meta.get("page_width") or not meta.get("page_height"):
        raise ValueError("the Documents carry no page_width/page_height: give scale=")
    return size[0] / float(meta["page_width"]), size[1] / float(meta["page_height"])


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError):  # Pillow before 10.1, or built without FreeType
        return ImageFont.load_default()


def _text_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 150
    return (0, 0, 0) if light else (255, 255, 255)


def _label(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    text: str,
    x: int,
    y: int,
) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 4, bottom - top + 4
    top_y = y - h if y >= h else y  # above the box, or inside it at the top of the page
    colour = colour_of(text)
    draw.rectangle((x, top_y, x + w - 1, top_y + h - 1), fill=colour)
    draw.text((x + 2 - left, top_y + 2 - top), text, fill=_text_colour(colour), font=font)


def _legend(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    categories: list[str],
    image_width: int,
) -> None:
    if not categories:
        return
    sizes = [draw.textbbox((0, 0), c, font=font) for c in categories]
    line = max(b[3] - b[1] for b in sizes) + 6
    width = max(b[2] - b[0] for b in sizes) + line + 12
    x0 = image_width - width - 4
    frame = (x0, 4, x0 + width, 8 + line * len(categories))
    draw.rectangle(frame, fill=(255, 255, 255), outline=(0, 0, 0))
    for i, category in enumerate(categories):
        y = 8 + i * line
        draw.rectangle((x0 + 4, y, x0 + line - 2, y + line - 6), fill=colour_of(category))
        draw.text((x0 + line + 4, y), category, fill=(0, 0, 0), font=font)
