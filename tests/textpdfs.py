"""Test PDFs with a text layer, made by code: the double reads their pixels, the layer their text.

Every page is a scene page (:mod:`tests.fakevllm.scene`): its elements are coloured rectangles
the double recognises. Here each element also carries its words in the text layer, drawn
visibly in black Helvetica inside its box, so the same page is read two ways. What a kind of
page holds in its layer, and what a reader sees, is in its :class:`TextPdf`:

- ``truth``: for every element, the text a reader sees in its box, normalised as
  :meth:`langchain_dotsocr.textlayer.PageLayer.text_in` gives it (the printed words; for a page
  the layer cannot be trusted on, still what is printed);
- ``level``: the verdict the page should get;
- ``never``: strings that are in the file but nobody sees (hidden or off-page text).

The printed words of an element are :func:`printed_text`: the double's ``element_text``
without the Markdown the model adds (``# ``), so the layer of a good page gives what the
double answers, less that markup.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from PIL import Image

from tests.fakevllm.scene import (
    Box,
    PageSpec,
    displayed_page,
    element_colour,
    element_text,
    sample_page,
    stripes,
    write_pdf,
)

# Helvetica's advance widths (1/1000 em) for the characters the tests print; others 556.
_WIDTHS = {
    " ": 278, ".": 278, ",": 278, ":": 278, "-": 333, "(": 333, ")": 333, "/": 278, "=": 584,
    "+": 584, "1": 556, "i": 222, "l": 222, "j": 222, "t": 278, "f": 278, "r": 333, "I": 278,
    "m": 833, "w": 722, "M": 833, "W": 944, "\u00b9": 333, "\u201c": 333, "\u201d": 333,
    "\u2018": 222, "\u2019": 222, "\u00ad": 333,
}
LINE_PITCH = 1.25  # leading, in font sizes
_MARGIN = 3.0  # points between a box's edge and its text: the double measures edges there


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in Helvetica at ``size`` points."""
    return sum(_WIDTHS.get(ch, 556) for ch in text) * size / 1000


def printed_text(category: str, n: int) -> str | None:
    """The words element ``(category, n)`` prints, as a reader reads them; None for pictures.

    Headings print without the model's ``#``; a formula prints as plain symbols; a table's
    cells print one word each (see :func:`table_cells`)."""
    if category == "Picture":
        return None
    if category == "Formula":
        return f"x{n} = a / b"
    if category == "Table":
        return " ".join(table_cells(n))
    text = element_text(category, n) or ""
    return text.lstrip("#").strip()


def table_cells(n: int) -> tuple[str, str]:
    """The two cells of the scene's Table n: its header and its body cell."""
    return (f"H{n}", str(n))


@dataclass(frozen=True)
class Run:
    """A run of text on the page as displayed: baseline start ``(x, y)`` (top-left frame),
    ``size`` points, render ``mode``, fill ``colour`` (0..1 RGB), ``font`` resource name."""

    text: str
    x: float
    y: float
    size: float
    mode: int = 0
    colour: tuple[float, float, float] = (0.0, 0.0, 0.0)
    font: str = "F1"


@dataclass(frozen=True)
class Page:
    """One page to write: a scene page (boxes in the unrotated page frame, its /Rotate), the
    runs of text on it (displayed frame), how its boxes are drawn, and a crop margin.

    ``scan``: the page is one image, the vector page with ``printed`` rendered (a scan of the
    born-digital page). ``pasted``: elements drawn as such an image on an otherwise vector
    page, without their text. ``crop``: points of media box beyond the crop box on each side.
    """

    spec: PageSpec
    runs: tuple[Run, ...] = ()
    scan: bool = False
    pasted: tuple[Box, ...] = ()
    crop: float = 0.0
    fonts: tuple[tuple[str, int], ...] = ()  # extra (name, object number) font resources
    printed: tuple[Run, ...] = ()  # the words a scan or a pasted element shows (not in the layer)


@dataclass(frozen=True)
class TextPdf:
    """A test PDF of one page with what its layer should give."""

    pdf: bytes
    level: str
    truth: dict[tuple[str, int], str]  # (category, n) -> the reader's text in its box
    boxes: dict[tuple[str, int], tuple[float, float, float, float]]  # displayed boxes
    never: tuple[str, ...] = ()
    reason: str = ""  # a word the verdict's reason must hold
    extra: dict[str, object] = field(default_factory=dict)


def _pdf_str(text: str) -> str:
    """``text`` as a PDF literal string in WinAnsi (cp1252)."""
    raw = text.encode("cp1252")
    out = []
    for byte in raw:
        ch = chr(byte)
        if ch in "()\\":
            out.append("\\" + ch)
        elif byte < 32 or byte > 126:
            out.append(f"\\{byte:03o}")
        else:
            out.append(ch)
    return "(" + "".join(out) + ")"


def _to_page(spec: PageSpec, x: float, y: float) -> tuple[float, float]:
    """A displayed point (top-left frame) in PDF page space (bottom-left, unrotated)."""
    w, h = spec.width, spec.height
    rot = spec.rotate % 360
    if rot == 90:
        return y, x
    if rot == 180:
        return w - x, y
    if rot == 270:
        return w - y, h - x
    return x, h - y


def _run_ops(spec: PageSpec, run: Run, offset: float) -> str:
    px, py = _to_page(spec, run.x, run.y)
    ax, ay = _to_page(spec, run.x + 1, run.y)
    ux, uy = _to_page(spec, run.x, run.y - 1)
    a, b, c, d = ax - px, ay - py, ux - px, uy - py
    r, g, bl = run.colour
    return (
        f"BT /{run.font} {run.size:g} Tf {run.mode} Tr {r:g} {g:g} {bl:g} rg "
        f"{a:g} {b:g} {c:g} {d:g} {px + offset:.3f} {py + offset:.3f} Tm "
        f"{_pdf_str(run.text) if run.font == 'F1' else run.text} Tj ET"
    )


def box_runs(box: Box | tuple[float, float, float, float], lines: Sequence[str],
             size: float | None = None) -> list[Run]:
    """Runs that print ``lines`` inside a displayed box, top down, left aligned."""
    x0, y0, _x1, y1 = (box.x0, box.y0, box.x1, box.y1) if isinstance(box, Box) else box
    if size is None:
        size = min(11.0, (y1 - y0 - 2 * _MARGIN) / (LINE_PITCH * len(lines)))
    out = []
    for k, line in enumerate(lines):
        top = y0 + _MARGIN + k * LINE_PITCH * size
        out.append(Run(line, x0 + _MARGIN, top + 0.8 * size, size))
    return out


def ink_colour(box: Box) -> tuple[float, float, float]:
    """Black, or white on a box too dark for black to show (as a designer would print it)."""
    r, g, b = element_colour(box.category, box.n)
    return (0.0, 0.0, 0.0) if max(r, g, b) >= 128 else (1.0, 1.0, 1.0)


def element_runs(box: Box) -> list[Run]:
    """The runs that print element ``box``'s words inside it (displayed frame)."""
    if box.category == "Table":
        head, body = table_cells(box.n)
        half = (box.y0 + box.y1) / 2
        runs = box_runs((box.x0, box.y0, box.x1, half), [head]) + box_runs(
            (box.x0, half, box.x1, box.y1), [body]
        )
    else:
        text = printed_text(box.category, box.n)
        runs = [] if text is None else box_runs(box, [text])
    return [replace(r, colour=ink_colour(box)) for r in runs]


def _scan_image(spec: PageSpec, runs: Sequence[Run], oversample: int) -> Image.Image:
    """The page as a scanner sees it: the vector page with its printed words, rendered."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(write([Page(replace(spec, rotate=0), tuple(runs))]))
    try:
        page = doc[0]
        try:
            image: Image.Image = page.render(scale=oversample).to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        doc.close()
    return image


def _image_object(image: Image.Image) -> bytes:
    data = zlib.compress(image.convert("RGB").tobytes(), 6)
    head = (
        f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
        f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length {len(data)} >>"
    )
    return head.encode() + b"\nstream\n" + data + b"\nendstream"


def _stream(content: bytes) -> bytes:
    return f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def write(pages: Sequence[Page], extra_objects: Sequence[bytes] = ()) -> bytes:
    """A PDF of ``pages``. ``extra_objects`` are numbered from 4 + ... after the fixed ones:
    1 catalog, 2 pages, 3 Helvetica, then the extra ones (fonts a page names in ``fonts``)."""
    objects: list[bytes] = [b"", b"", HELVETICA, *extra_objects]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    kids = []
    oversample = 2
    for page in pages:
        spec, off = page.spec, page.crop
        ops: list[str] = []
        xobjects: dict[str, int] = {}
        vector = [b for b in spec.boxes if not page.scan and b not in page.pasted]
        for b in vector:
            r, g, bl = element_colour(b.category, b.n)
            for sx0, sy0, sx1, sy1 in stripes(b):
                ops.append(
                    f"{r / 255:.6f} {g / 255:.6f} {bl / 255:.6f} rg {sx0 + off:g} "
                    f"{spec.height - sy1 + off:g} {sx1 - sx0:g} {sy1 - sy0:g} re f"
                )
        drawn = list(spec.boxes) if page.scan else list(page.pasted)
        if drawn:
            image = _scan_image(replace(spec, boxes=tuple(drawn)), page.printed, oversample)
            if page.scan:
                xobjects["Im0"] = add(_image_object(image))
                ops.insert(0, f"q {spec.width:g} 0 0 {spec.height:g} {off:g} {off:g} cm /Im0 Do Q")
            else:
                for k, b in enumerate(drawn):
                    crop = image.crop((round(b.x0 * oversample), round(b.y0 * oversample),
                                       round(b.x1 * oversample), round(b.y1 * oversample)))
                    name = f"Im{k}"
                    xobjects[name] = add(_image_object(crop))
                    ops.append(
                        f"q {b.x1 - b.x0:g} 0 0 {b.y1 - b.y0:g} {b.x0 + off:g} "
                        f"{spec.height - b.y1 + off:g} cm /{name} Do Q"
                    )
        ops += [_run_ops(spec, run, off) for run in page.runs]
        content = add(_stream("\n".join(ops).encode("latin-1")))
        fonts = " ".join(f"/{name} {num} 0 R" for name, num in (("F1", 3), *page.fonts))
        xobj = " ".join(f"/{k} {v} 0 R" for k, v in xobjects.items())
        w, h = spec.width + 2 * off, spec.height + 2 * off
        crop = f" /CropBox [{off:g} {off:g} {w - off:g} {h - off:g}]" if off else ""
        kids.append(add(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:g} {h:g}]{crop} "
                f"/Rotate {spec.rotate % 360} /Resources << /Font << {fonts} >> "
                f"/XObject << {xobj} >> >> /Contents {content} 0 R >>"
            ).encode()
        ))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    refs = " ".join(f"{k} 0 R" for k in kids)
    objects[1] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode()
    return write_pdf(objects, 1)


# --------------------------------------------------------------------------------------------
# The kinds of page


def unrotated(shown: PageSpec, rotate: int) -> PageSpec:
    """The page spec whose page, turned by ``rotate`` as viewers turn it, shows ``shown``:
    its boxes in the unrotated frame, as a page stored sideways and set upright by /Rotate."""
    if rotate % 180:
        w, h = shown.height, shown.width
    else:
        w, h = shown.width, shown.height
    boxes = []
    for b in shown.boxes:
        x0, y0, x1, y1 = b.x0, b.y0, b.x1, b.y1
        if rotate % 360 == 90:
            x0, y0, x1, y1 = y0, h - x1, y1, h - x0
        elif rotate % 360 == 180:
            x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
        elif rotate % 360 == 270:
            x0, y0, x1, y1 = w - y1, x0, w - y0, x1
        boxes.append(replace(b, x0=x0, y0=y0, x1=x1, y1=y1))
    return PageSpec(w, h, tuple(boxes), rotate % 360)


def small_page(rotate: int = 0) -> PageSpec:
    """The scene's sample page (Letter) with every category, upright as displayed: with a
    ``rotate``, stored turned the other way (a landscape page for 90 and 270)."""
    if rotate % 180:
        return unrotated(sample_page(0, width=792.0, height=612.0), rotate)
    return unrotated(sample_page(0), rotate)


def _truth(spec: PageSpec) -> tuple[dict[tuple[str, int], str], dict[tuple[str, int], tuple[
        float, float, float, float]]]:
    shown = displayed_page(spec)
    truth, boxes = {}, {}
    for b in shown.boxes:
        boxes[(b.category, b.n)] = (b.x0, b.y0, b.x1, b.y1)
        if b.category == "Picture":
            truth[(b.category, b.n)] = ""
        elif b.category == "Table":
            head, body = table_cells(b.n)
            truth[(b.category, b.n)] = f"{head}\n\n{body}"
        else:
            truth[(b.category, b.n)] = printed_text(b.category, b.n) or ""
    return truth, boxes


def _printed_runs(spec: PageSpec) -> tuple[Run, ...]:
    return tuple(r for b in displayed_page(spec).boxes for r in element_runs(b))


def good(rotate: int = 0) -> TextPdf:
    """A born-digital page: every element's words in its box, visible, in Helvetica."""
    spec = small_page(rotate)
    truth, boxes = _truth(spec)
    return TextPdf(write([Page(spec, _printed_runs(spec))]), "trusted", truth, boxes)


def scan() -> TextPdf:
    """A scan: the page is one image, no text layer at all."""
    spec = small_page()
    truth, boxes = _truth(spec)
    page = Page(spec, scan=True, printed=_printed_runs(spec))
    return TextPdf(write([page]), "none", truth, boxes, reason="no text layer")


def replace_text(spec: PageSpec, runs: Sequence[Run], words: dict[str, str]) -> list[Run]:
    """``runs`` with each word of ``words`` replaced (a wrong OCR layer)."""
    out = []
    for run in runs:
        text = run.text
        for old, new in words.items():
            text = text.replace(old, new)
        out.append(replace(run, text=text))
    return out


# What a poor OCR engine reads instead of the printed words.
_MISREAD = {"Text block": "Tcxt blnck", "Item": "ltem 7", "Section": "Secti0n",
            "caption": "capti", "Footnote": "F00tn", "Header": "Hcad", "Title": "Tit1e"}


def ocr_scan(correct: bool) -> TextPdf:
    """A scan with an invisible OCR layer (render mode 3) over its image, as OCR tools write
    it: the printed words, or with :data:`_MISREAD` words (``extra["layer"]``: what it holds)."""
    spec = small_page()
    truth, boxes = _truth(spec)
    printed = _printed_runs(spec)
    words = {} if correct else _MISREAD
    runs = [replace(r, mode=3) for r in replace_text(spec, printed, words)]
    layer = dict(truth)
    for old, new in words.items():
        layer = {k: v.replace(old, new) for k, v in layer.items()}
    page = Page(spec, tuple(runs), scan=True, printed=printed)
    return TextPdf(write([page]), "check", truth, boxes, reason="invisible",
                   extra={"layer": layer})
