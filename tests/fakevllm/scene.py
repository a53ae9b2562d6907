"""Test documents whose content the fake server can "read".

A page is a set of solid rectangles on white. Each rectangle's colour encodes the layout element
it stands for, ``(category, n)``, so the double can recover every element and its box from the
pixels alone and answer as dots.ocr would.

Colour scheme (``element_colour``)::

    r = 20 + 20 * category_index            (11 levels, 20..220)
    n < 64:  g = 16 + 28 * (n // 8)         (8 levels, 16..212, always even)
             b = 17 + 28 * (n % 8)          (8 levels, 17..213, always odd)
    n >= 64: (g, b) on the finer grid 16 + 14 * i, 17 + 14 * j (i, j in 0..15) at the points
             the coarse grid leaves out (i or j odd), off the diagonal: 184 more per category

Coarse colours differ by at least 20 in one channel, so they match within a tolerance of up to 9
per channel (JPEG); fine colours differ by 14 and match within 6: elements with n >= 64 (dense
pages) need a lossless image. g is even and b odd, so no palette colour is grey, and none is
near white.

An element may be drawn as ``rows`` horizontal stripes with white gaps between them (a long
table): the double then reads one table row per stripe it sees.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image, ImageDraw

CATEGORIES: tuple[str, ...] = (
    "Caption",
    "Footnote",
    "Formula",
    "List-item",
    "Page-footer",
    "Page-header",
    "Picture",
    "Section-header",
    "Table",
    "Text",
    "Title",
)
MAX_N = 247
COARSE_N = 64  # elements 0..63 have coarse colours, readable in lossy images too
_R0, _RSTEP = 20, 20
_G0, _B0, _GBSTEP = 16, 17, 28
_FINE = 14
# Largest per-channel distance at which a pixel still matches a palette colour unambiguously.
MAX_TOLERANCE = 9
FINE_TOLERANCE = 6
WHITE = (255, 255, 255)
# The finer grid points the coarse grid leaves out, in a fixed order: n = 64 + index. Not the
# diagonal (g and b one apart): a grey pixel would match it.
_FINE_POINTS = [(i, j) for i in range(16) for j in range(16) if (i % 2 or j % 2) and i != j]


@dataclass(frozen=True)
class Box:
    """One layout element: its category, its index n and its box (top-left origin, x1/y1 exclusive).

    Units are the page's: PDF points for a PDF page, pixels for an image.
    """

    category: str
    n: int
    x0: float
    y0: float
    x1: float
    y1: float
    rows: int = 1  # > 1: drawn as this many stripes, read as one table row each


@dataclass(frozen=True)
class PageSpec:
    """A PDF page: size of the unrotated page in points, its elements, and its /Rotate."""

    width: float
    height: float
    boxes: tuple[Box, ...]
    rotate: int = 0


def element_colour(category: str, n: int) -> tuple[int, int, int]:
    """The exact RGB colour that stands for element ``(category, n)``, n in 0..247."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if not 0 <= n <= MAX_N:
        raise ValueError(f"n must be in 0..{MAX_N}, got {n}")
    r = _R0 + _RSTEP * CATEGORIES.index(category)
    if n < COARSE_N:
        return (r, _G0 + _GBSTEP * (n // 8), _B0 + _GBSTEP * (n % 8))
    i, j = _FINE_POINTS[n - COARSE_N]
    return (r, _G0 + _FINE * i, _B0 + _FINE * j)


def colour_element(rgb: Sequence[int], tolerance: int = 0) -> tuple[str, int] | None:
    """The ``(category, n)`` whose colour is within ``tolerance`` of ``rgb`` per channel, if any.

    Above :data:`FINE_TOLERANCE` only the coarse colours (n < 64) are told apart.
    """
    if not 0 <= tolerance <= MAX_TOLERANCE:
        raise ValueError(f"tolerance must be in 0..{MAX_TOLERANCE}")
    r, g, b = int(rgb[0]), int(rgb[1]), int(rgb[2])
    ci = round((r - _R0) / _RSTEP)
    step = _GBSTEP if tolerance > FINE_TOLERANCE else _FINE
    gi = round((g - _G0) / step)
    bi = round((b - _B0) / step)
    levels = 8 if step == _GBSTEP else 16
    if not (0 <= ci < len(CATEGORIES) and 0 <= gi < levels and 0 <= bi < levels):
        return None
    if (
        abs(r - (_R0 + _RSTEP * ci)) > tolerance
        or abs(g - (_G0 + step * gi)) > tolerance
        or abs(b - (_B0 + step * bi)) > tolerance
    ):
        return None
    if step == _GBSTEP:
        return CATEGORIES[ci], gi * 8 + bi
    if gi % 2 == 0 and bi % 2 == 0:
        return CATEGORIES[ci], (gi // 2) * 8 + bi // 2
    if gi == bi:
        return None
    return CATEGORIES[ci], COARSE_N + _FINE_POINTS.index((gi, bi))


# Elements of dense pages (n >= 64) carry a sentence, as the blocks of a real dense page do.
_FILLER = (
    "reports the measured values of the series, the method used for each sample and the "
    "deviation observed against the reference run"
)


def element_text(category: str, n: int, rows: int = 1) -> str | None:
    """What the model "reads" in element ``(category, n)``; ``None`` for a Picture (no text).

    A Table seen as ``rows`` stripes is a header row and ``rows - 1`` body rows (see
    :func:`table_rows`).
    """
    if category == "Table" and rows > 1:
        return "<table>" + "".join(table_rows(n, range(rows))) + "</table>"
    texts = {
        "Title": f"# Title {n}",
        "Section-header": f"## Section {n}",
        "Text": f"Text block {n}.",
        "List-item": f"- Item {n}",
        "Caption": f"Figure {n}: caption.",
        "Footnote": f"\u00b9 Footnote {n}.",
        "Page-header": f"Header {n}",
        "Page-footer": f"Page {n + 1}",  # printed page numbers start at 1
        "Formula": f"x_{{{n}}} = \\frac{{a}}{{b}}",
        "Table": (
            f"<table><thead><tr><th>H{n}</th></tr></thead>"
            f"<tbody><tr><td>{n}</td></tr></tbody></table>"
        ),
        "Picture": None,
    }
    if category not in texts:
        raise ValueError(f"unknown category {category!r}")
    text = texts[category]
    if n >= COARSE_N and text is not None and category in ("Text", "List-item", "Footnote"):
        text = text.rstrip(".") + " " + _FILLER + "."
    return text


def element_content(box: Box, boxes: Sequence[Box], captions: bool = True) -> str:
    """The ``page_content`` an element-mode Document of ``box`` should have on a page of
    ``boxes``: the element's text; for a Picture, the text of its caption (by the scenes'
    convention, Caption n captions Picture n on one page) or ``[Picture]`` without one (or
    with ``captions`` False, for a page where the caption cannot be linked)."""
    if box.category != "Picture":
        return element_text(box.category, box.n, box.rows) or ""
    if captions and any(b.category == "Caption" and b.n == box.n for b in boxes):
        return element_text("Caption", box.n) or ""
    return "[Picture]"


def table_rows(n: int, indices: Sequence[int] | range) -> list[str]:
    """Rows ``indices`` of the striped Table n: row 0 is its header."""
    return [
        f"<tr><th>T{n}</th><th>Value</th></tr>" if i == 0 else f"<tr><td>{n}.{i}</td><td>{i * i}</td></tr>"
        for i in indices
    ]


def stripes(box: Box) -> list[tuple[float, float, float, float]]:
    """The rectangles a box is drawn as: itself, or ``rows`` stripes (the last ends at y1)."""
    if box.rows <= 1:
        return [(box.x0, box.y0, box.x1, box.y1)]
    pitch = (box.y1 - box.y0) / (box.rows - 0.4)  # stripe 0.6 of a pitch, gap 0.4
    return [
        (box.x0, box.y0 + k * pitch, box.x1, box.y0 + k * pitch + 0.6 * pitch)
        for k in range(box.rows)
    ]


def page_footer_box(page_n: int, width: float, height: float) -> Box:
    """The page marker: a small Page-footer with n = page_n near the bottom centre."""
    return Box(
        "Page-footer",
        page_n,
        float(round(width * 0.45)),
        float(round(height * 0.95)),
        float(round(width * 0.55)),
        float(round(height * 0.97)),
    )


# A Letter-sized layout (points) using all 11 categories; scaled to other sizes by sample_page.
_SAMPLE: tuple[tuple[str, int, int, int, int, int], ...] = (
    ("Title", 0, 72, 72, 540, 104),
    ("Text", 0, 72, 116, 540, 176),
    ("Section-header", 0, 72, 188, 300, 206),
    ("List-item", 0, 90, 214, 540, 230),
    ("List-item", 1, 90, 236, 540, 252),
    ("Table", 0, 72, 264, 540, 384),
    ("Caption", 0, 72, 392, 400, 406),
    ("Picture", 0, 72, 418, 300, 578),
    ("Formula", 0, 320, 440, 540, 470),
    ("Text", 1, 320, 480, 540, 578),
    ("Footnote", 0, 72, 700, 400, 714),
)


def sample_page(
    page_n: int, width: float = 612.0, height: float = 792.0, rotate: int = 0
) -> PageSpec:
    """A realistic page: header, title, text, list, table, caption, picture, formula, footnote
    and the page marker (Page-footer n = page_n). Coordinates are whole points."""
    sx, sy = width / 612.0, height / 792.0
    boxes = [
        Box("Page-header", page_n, round(72 * sx), round(36 * sy), round(540 * sx), round(52 * sy))
    ]
    boxes += [
        Box(cat, n, round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))
        for cat, n, x0, y0, x1, y1 in _SAMPLE
    ]
    boxes.append(page_footer_box(page_n, width, height))
    return PageSpec(width, height, tuple(boxes), rotate)


# Categories of dense pages' blocks, each with 184 fine colours (n = 64..247).
DENSE_CATEGORIES = ("Text", "List-item", "Footnote", "Caption", "Section-header")
DENSE_PER_CATEGORY = MAX_N + 1 - COARSE_N


def dense_ids(count: int) -> list[tuple[str, int]]:
    """``count`` distinct (category, n) of dense blocks, Text first."""
    if count > len(DENSE_CATEGORIES) * DENSE_PER_CATEGORY:
        raise ValueError(f"at most {len(DENSE_CATEGORIES) * DENSE_PER_CATEGORY} dense blocks")
    return [
        (DENSE_CATEGORIES[k // DENSE_PER_CATEGORY], COARSE_N + k % DENSE_PER_CATEGORY)
        for k in range(count)
    ]


def stacked(
    ids: Sequence[tuple[str, int]], x0: float, y0: float, x1: float, y1: float
) -> list[Box]:
    """Blocks stacked top to bottom in a column, each 0.62 of its pitch (the rest a gap)."""
    pitch = (y1 - y0) / max(1, len(ids))
    return [
        Box(c, n, x0, round(y0 + k * pitch, 2), x1, round(y0 + k * pitch + 0.62 * pitch, 2))
        for k, (c, n) in enumerate(ids)
    ]


def dense_page(
    blocks: int,
    columns: int = 1,
    width: float = 612.0,
    height: float = 792.0,
    page_n: int = 0,
    gutter: float = 24.0,
) -> PageSpec:
    """A dense page: a title, ``blocks`` text blocks in ``columns`` columns, the page marker.

    Its boxes are listed in reading order (title, each column top to bottom, footer), the order
    the double answers in and a reader must restore. Gutters are wider than the gaps between
    blocks, as on real pages.
    """
    margin = 36.0
    boxes = [Box("Title", page_n, margin, margin, width - margin, margin + 20)]
    per = -(-blocks // columns)
    # The gaps around the columns (under the title, above the footer, the gutters) are wider
    # than the gaps between blocks, as on a real page: a reader can tell the columns apart.
    gap = 0.38 * (height * 0.95 - margin - 20) / per
    top, bottom = margin + 20 + max(16.0, 2 * gap), height * 0.95 - max(16.0, 2 * gap)
    gutter = max(gutter, 2 * gap)
    column_width = (width - 2 * margin - (columns - 1) * gutter) / columns
    ids = dense_ids(blocks)
    for c in range(columns):
        x0 = margin + c * (column_width + gutter)
        boxes += stacked(ids[c * per : (c + 1) * per], x0, top, x0 + column_width, bottom)
    boxes.append(page_footer_box(page_n, width, height))
    return PageSpec(width, height, tuple(boxes))


def long_table_page(rows: int, width: float = 612.0, height: float = 792.0) -> PageSpec:
    """A title, a paragraph, a table of ``rows`` rows drawn as stripes, a paragraph, a marker."""
    margin = 36.0
    boxes = (
        Box("Title", 0, margin, margin, width - margin, margin + 20),
        Box("Text", 0, margin, 70, width - margin, 100),
        Box("Table", 1, margin, 110, width - margin, height * 0.85, rows=rows),
        Box("Text", 1, margin, height * 0.87, width - margin, height * 0.91),
        page_footer_box(0, width, height),
    )
    return PageSpec(width, height, boxes)


def draw_page(
    width_px: int, height_px: int, boxes: Sequence[Box], scale: float = 1.0
) -> Image.Image:
    """An RGB image of the boxes on white, box coordinates multiplied by ``scale``.

    Edges are rounded to whole pixels; with integer coordinates and an integer scale they are exact.
    """
    im = Image.new("RGB", (width_px, height_px), WHITE)
    draw = ImageDraw.Draw(im)
    for box in boxes:
        for sx0, sy0, sx1, sy1 in stripes(box):
            x0, y0 = round(sx0 * scale), round(sy0 * scale)
            x1, y1 = round(sx1 * scale), round(sy1 * scale)
            if x1 > x0 and y1 > y0:
                # Pillow's rectangle includes its last row and column.
                colour = element_colour(box.category, box.n)
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=colour)
    return im


# --------------------------------------------------------------------------------------------
# PDF


def displayed_size(spec: PageSpec) -> tuple[float, float]:
    """Width and height of the page as a viewer shows it, after /Rotate."""
    if spec.rotate % 180:
        return spec.height, spec.width
    return spec.width, spec.height


def expected_boxes_displayed(spec: PageSpec) -> list[Box]:
    """The page's boxes in the coordinates of the page as displayed after /Rotate.

    Top-left origin, points; /Rotate turns the page clockwise, as PDF viewers (and pdfium) show it.
    """
    w, h = spec.width, spec.height
    rot = spec.rotate % 360
    out = []
    for b in spec.boxes:
        if rot == 0:
            x0, y0, x1, y1 = b.x0, b.y0, b.x1, b.y1
        elif rot == 90:
            x0, y0, x1, y1 = h - b.y1, b.x0, h - b.y0, b.x1
        elif rot == 180:
            x0, y0, x1, y1 = w - b.x1, h - b.y1, w - b.x0, h - b.y0
        elif rot == 270:
            x0, y0, x1, y1 = b.y0, w - b.x1, b.y1, w - b.x0
        else:
            raise ValueError(f"rotate must be a multiple of 90, got {spec.rotate}")
        out.append(replace(b, x0=x0, y0=y0, x1=x1, y1=y1))
    return out


def displayed_page(spec: PageSpec) -> PageSpec:
    """The page as displayed: rotated size and boxes, rotate 0."""
    w, h = displayed_size(spec)
    return PageSpec(w, h, tuple(expected_boxes_displayed(spec)), 0)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4f}"


def _page_content_image(spec: PageSpec, oversample: int) -> tuple[bytes, dict[str, str], bytes]:
    """Content stream, image dictionary entries and Flate data of a page drawn as one image."""
    wpx, hpx = round(spec.width * oversample), round(spec.height * oversample)
    rgb = draw_page(wpx, hpx, spec.boxes, scale=oversample)
    colours = [WHITE, *sorted({element_colour(b.category, b.n) for b in spec.boxes})]
    entries = {
        "Type": "/XObject",
        "Subtype": "/Image",
        "Width": str(wpx),
        "Height": str(hpx),
        "ColorSpace": "/DeviceRGB",
        "BitsPerComponent": "8",
        "Filter": "/FlateDecode",
    }
    if len(colours) > 256:  # too many for a palette (a dense page): plain RGB, still lossless
        return _image_content(spec), entries, zlib.compress(rgb.tobytes(), 6)
    # An indexed image: one byte a pixel, palette entry 0 is white. Lossless (Flate).
    pal_img = Image.new("P", (1, 1))
    flat: list[int] = []
    for c in colours:
        flat.extend(c)
    pal_img.putpalette(flat + [0] * (768 - len(flat)))
    indexed = rgb.quantize(palette=pal_img, dither=Image.Dither.NONE)
    data = zlib.compress(indexed.tobytes(), 6)
    entries["ColorSpace"] = f"[/Indexed /DeviceRGB {len(colours) - 1} <{bytes(flat).hex()}>]"
    return _image_content(spec), entries, data


def _image_content(spec: PageSpec) -> bytes:
    return f"q {_num(spec.width)} 0 0 {_num(spec.height)} 0 0 cm /Im0 Do Q".encode()


def _page_content_vector(spec: PageSpec) -> bytes:
    ops = []
    for b in spec.boxes:
        r, g, bl = element_colour(b.category, b.n)
        for x0, y0, x1, y1 in stripes(b):
            ops.append(
                f"{r / 255:.6f} {g / 255:.6f} {bl / 255:.6f} rg "
                f"{_num(x0)} {_num(spec.height - y1)} {_num(x1 - x0)} {_num(y1 - y0)} re f"
            )
    return "\n".join(ops).encode()


def make_pdf(
    pages: Sequence[PageSpec],
    *,
    kind: str = "image",
    oversample: int = 4,
    page_labels: str | None = None,
) -> bytes:
    """A PDF with one page per spec, each with its /Rotate.

    ``kind="image"``: each page is one lossless (Flate, indexed colour) image drawn at
    ``72 * oversample`` dpi, so box edges at whole points fall exactly on pixel edges, like a
    scanned page. ``kind="vector"``: each box is a filled rectangle (``re f``), like a born-digital
    page; colours then come back within 1 unit of the palette, not always exactly.
    ``page_labels`` is the catalog's /PageLabels number tree as PDF source, e.g.
    ``"<< /Nums [0 << /S /r >> 2 << /S /D >>] >>"`` (i, ii, then 1, 2, ...).
    """
    if kind not in ("image", "vector"):
        raise ValueError(f"kind must be 'image' or 'vector', got {kind!r}")
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    kids = []
    for spec in pages:
        if spec.rotate % 90:
            raise ValueError(f"rotate must be a multiple of 90, got {spec.rotate}")
        resources = "<< >>"
        if kind == "image":
            content, entries, data = _page_content_image(spec, oversample)
            head = " ".join(f"/{k} {v}" for k, v in entries.items())
            img = add(
                f"<< {head} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"
            )
            resources = f"<< /XObject << /Im0 {img} 0 R >> >>"
        else:
            content = _page_content_vector(spec)
        cont = add(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
        page = add(
            (
                f"<< /Type /Page /Parent {pages_obj} 0 R "
                f"/MediaBox [0 0 {_num(spec.width)} {_num(spec.height)}] "
                f"/Rotate {spec.rotate % 360} /Resources {resources} /Contents {cont} 0 R >>"
            ).encode()
        )
        kids.append(page)
    labels = f" /PageLabels {page_labels}" if page_labels else ""
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R{labels} >>".encode()
    kid_refs = " ".join(f"{k} 0 R" for k in kids)
    objects[pages_obj - 1] = f"<< /Type /Pages /Kids [{kid_refs}] /Count {len(kids)} >>".encode()
    return write_pdf(objects, catalog)


def write_pdf(bodies: Sequence[bytes], root: int, trailer_extra: str = "") -> bytes:
    """A PDF of these object bodies (numbered from 1) with a fresh xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    trailer = f"trailer\n<< /Size {len(bodies) + 1} /Root {root} 0 R {trailer_extra}>>\n"
    out.write(f"{trailer}startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def render_page(pdf: bytes, index: int, dpi: float) -> Image.Image:
    """Render one page with pypdfium2 (which applies /Rotate), as RGB."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        try:
            image: Image.Image = page.render(scale=dpi / 72.0).to_pil()
            return image.convert("RGB")
        finally:
            page.close()
    finally:
        doc.close()


# --------------------------------------------------------------------------------------------
# Image files

_FORMATS = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "JPG": "JPEG",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
    "TIF": "TIFF",
    "BMP": "BMP",
    "GIF": "GIF",
}
# What a stored image must undergo so that exif_transpose() shows the intended picture:
# the inverse of the transpose that each Orientation value asks for.
_STORE_FOR_ORIENTATION: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _to_mode(im: Image.Image, mode: str) -> Image.Image:
    if mode == "RGB":
        return im
    if mode == "P":
        return im.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    return im.convert(mode)


def make_image(
    width_px: int,
    height_px: int,
    boxes: Sequence[Box],
    fmt: str = "PNG",
    mode: str = "RGB",
    exif_orientation: int | None = None,
    frames: Sequence[Sequence[Box]] | None = None,
) -> bytes:
    """An image file showing ``boxes`` (pixel coordinates, as displayed) on white.

    fmt: PNG, JPEG (quality 95: colours are then only approximate), WEBP (lossless), TIFF, BMP,
    GIF. ``mode`` converts the picture (RGB, RGBA, L, P, CMYK, ...) where the format allows it.
    ``exif_orientation`` (1..8; PNG, JPEG, WEBP, TIFF) stores the pixels transposed and tags them
    so that ``ImageOps.exif_transpose`` shows the boxes where given. ``frames`` (TIFF, GIF, WEBP)
    lists the boxes of every frame; ``boxes`` must then be empty.
    """
    fmt_name = _FORMATS.get(fmt.upper())
    if fmt_name is None:
        raise ValueError(f"unsupported format {fmt!r}")
    if frames is not None and boxes:
        raise ValueError("give either boxes or frames, not both")
    frame_boxes = [list(f) for f in frames] if frames is not None else [list(boxes)]
    if not frame_boxes:
        raise ValueError("frames must not be empty")
    if len(frame_boxes) > 1 and fmt_name not in ("TIFF", "GIF", "WEBP"):
        raise ValueError(f"{fmt_name} holds one frame only")
    transpose = None
    if exif_orientation is not None:
        if exif_orientation not in _STORE_FOR_ORIENTATION:
            raise ValueError("exif_orientation must be in 1..8")
        if fmt_name not in ("PNG", "JPEG", "WEBP", "TIFF"):
            raise ValueError(f"{fmt_name} cannot carry an EXIF orientation")
        transpose = _STORE_FOR_ORIENTATION[exif_orientation]
    images = []
    for fb in frame_boxes:
        im = draw_page(width_px, height_px, fb)
        if transpose is not None:
            im = im.transpose(transpose)
        images.append(_to_mode(im, mode))

    kwargs: dict[str, object] = {}
    if fmt_name == "JPEG":
        kwargs["quality"] = 95
    elif fmt_name == "WEBP":
        kwargs["lossless"] = True
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    if len(images) > 1:
        kwargs["save_all"] = True
        kwargs["append_images"] = images[1:]
    buf = io.BytesIO()
    images[0].save(buf, fmt_name, **kwargs)
    return buf.getvalue()
