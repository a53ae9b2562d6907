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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from PIL import Image

from tests.fakevllm.scene import (
    Box,
    PageSpec,
    displayed_page,
    element_colour,
    element_text,
    page_footer_box,
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
    covers: tuple[tuple[float, float, float, float], ...] = ()  # opaque white images over all
    # Annotations that show words, each (subtype, displayed box, words): a filled form field
    # ("Widget") or a typed note ("FreeText"), drawn by their appearance, in no text layer.
    notes: tuple[tuple[str, tuple[float, float, float, float], str], ...] = ()


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
    raw = b"".join(
        bytes([_CODES[ch]]) if ch in _CODES else ch.encode("cp1252") for ch in text
    )
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
        f"{run.text if run.font == 'F3' else _pdf_str(run.text)} Tj ET"
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


def _note(kind: str, box: tuple[float, float, float, float], words: str, top: float,
          off: float, add: Callable[[bytes], int]) -> bytes:
    """An annotation of ``kind`` over ``box`` (displayed, unrotated page) whose appearance
    shows ``words`` in Helvetica 10; its appearance object is written with ``add``."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    look = f"BT /F1 10 Tf 0 g 2 {h / 2 - 3:g} Td {_pdf_str(words)} Tj ET".encode("latin-1")
    appearance = add(
        f"<< /Type /XObject /Subtype /Form /BBox [0 0 {w:g} {h:g}] "
        f"/Resources << /Font << /F1 3 0 R >> >> /Length {len(look)} >>\nstream\n".encode()
        + look + b"\nendstream"
    )
    field = f" /FT /Tx /T (field{appearance}) /V {_pdf_str(words)}" if kind == "Widget" else ""
    return (
        f"<< /Type /Annot /Subtype /{kind} /Rect [{x0 + off:g} {top - y1:g} {x1 + off:g} "
        f"{top - y0:g}] /F 4 /Contents {_pdf_str(words)} /DA (/F1 10 Tf 0 g){field} "
        f"/AP << /N {appearance} 0 R >> >>"
    ).encode()


def _stream(content: bytes) -> bytes:
    return f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"


# WinAnsi with the ligatures and the soft hyphen at codes WinAnsi leaves free or rarely needs,
# as producers that set ligatures write them.
_CODES = {"\ufb01": 0x80, "\ufb02": 0x81, "\u00ad": 0x8D}
HELVETICA = (
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
    b"/BaseEncoding /WinAnsiEncoding /Differences [128 /fi /fl 141 /sfthyphen] >> >>"
)


def write(pages: Sequence[Page], extra_objects: Sequence[bytes] = ()) -> bytes:
    """A PDF of ``pages``. ``extra_objects`` are numbered from 4 + ... after the fixed ones:
    1 catalog, 2 pages, 3 Helvetica, then the extra ones (fonts a page names in ``fonts``)."""
    objects: list[bytes] = [b"", b"", HELVETICA, *extra_objects]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    kids = []
    fields: list[int] = []  # the form fields (Widget notes), listed in the catalog's form
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
        for k, (cx0, cy0, cx1, cy1) in enumerate(page.covers):  # painted last, over the text
            name = f"Cover{k}"
            xobjects[name] = add(_image_object(Image.new("RGB", (4, 4), (255, 255, 255))))
            ops.append(f"q {cx1 - cx0:g} 0 0 {cy1 - cy0:g} {cx0 + off:g} "
                       f"{spec.height - cy1 + off:g} cm /{name} Do Q")
        content = add(_stream("\n".join(ops).encode("latin-1")))
        fonts = " ".join(f"/{name} {num} 0 R" for name, num in (("F1", 3), *page.fonts))
        xobj = " ".join(f"/{k} {v} 0 R" for k, v in xobjects.items())
        annots = [add(_note(kind, box, words, spec.height + off, off, add))
                  for kind, box, words in page.notes]
        fields += [k for k, (kind, _b, _w) in zip(annots, page.notes, strict=True)
                   if kind == "Widget"]
        listed = " ".join(f"{k} 0 R" for k in annots)
        w, h = spec.width + 2 * off, spec.height + 2 * off
        crop = f" /CropBox [{off:g} {off:g} {w - off:g} {h - off:g}]" if off else ""
        kids.append(add(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:g} {h:g}]{crop} "
                f"/Rotate {spec.rotate % 360} /Resources << /Font << {fonts} >> "
                f"/XObject << {xobj} >> >> /Contents {content} 0 R /Annots [{listed}] >>"
            ).encode()
        ))
    form = ""
    if fields:
        listed_fields = " ".join(f"{k} 0 R" for k in fields)
        form = (f" /AcroForm << /Fields [{listed_fields}] /DA (/F1 10 Tf 0 g) "
                "/DR << /Font << /F1 3 0 R >> >> >>")
    objects[0] = f"<< /Type /Catalog /Pages 2 0 R{form} >>".encode()
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


def annotated() -> TextPdf:
    """A born-digital page with a filled form field in Text 0 and a typed note in Text 1: their
    words show on the page and are in no text layer (``extra["noted"]``: those elements)."""
    spec = small_page()
    truth, boxes = _truth(spec)
    notes = []
    for (category, n), kind, words in ((("Text", 0), "Widget", "Jane Roe"),
                                       (("Text", 1), "FreeText", "checked 3 May")):
        _x0, _y0, x1, y1 = boxes[(category, n)]
        notes.append((kind, (x1 - 110.0, y1 - 22.0, x1 - 4.0, y1 - 4.0), words))
    page = Page(spec, _printed_runs(spec), notes=tuple(notes))
    extra: dict[str, object] = {"noted": [("Text", 0), ("Text", 1)], "notes": notes}
    return TextPdf(write([page]), "trusted", truth, boxes, extra=extra)


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


def stamped_scan() -> TextPdf:
    """A scan whose only layer text is a stamped page header and number (visible, over the
    image): too little text for the page to be read from the layer."""
    spec = small_page()
    truth, boxes = _truth(spec)
    printed = _printed_runs(spec)
    shown = {(b.category, b.n): b for b in displayed_page(spec).boxes}
    stamps = tuple(r for r in printed if any(
        _run_in(r, shown[k]) for k in (("Page-footer", 0), ("Page-header", 0))))
    page = Page(spec, stamps, scan=True, printed=printed)
    return TextPdf(write([page]), "none", truth, boxes, reason="too little text")


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


def _with(truth: dict[tuple[str, int], str], runs: list[Run], spec: PageSpec,
          lines: dict[tuple[str, int], tuple[list[str], str]]) -> list[Run]:
    """``runs`` with the elements of ``lines`` printed as the given lines instead, and their
    truth set to what a reader reads there."""
    shown = {(b.category, b.n): b for b in displayed_page(spec).boxes}
    keep = [r for r in runs if not any(_run_in(r, shown[k]) for k in lines)]
    for key, (printed, read) in lines.items():
        box = shown[key]
        keep += [replace(r, colour=ink_colour(box)) for r in box_runs(box, printed)]
        truth[key] = read
    return keep


def _run_in(run: Run, box: Box) -> bool:
    return box.x0 <= run.x <= box.x1 and box.y0 <= run.y <= box.y1


def typography() -> TextPdf:
    """Ligatures (fi, fl glyphs), words hyphenated at line ends (a plain hyphen, a soft hyphen
    PDFium reports as U+0002), real hyphens at line ends (a compound, a number range, before a
    capital, a compound the page also writes whole: ``well-known``), a soft hyphen inside a
    line, curly quotes and apostrophes."""
    spec = small_page()
    truth, boxes = _truth(spec)
    runs = _with(truth, list(_printed_runs(spec)), spec, {
        ("Text", 0): (
            ["The \ufb01rst \ufb02ow of \u201cquoted\u201d text, with infor-",
             "mation on state-of-the-", "art, well-", "known work."],
            "The first flow of \u201cquoted\u201d text, with information on state-of-the-art, "
            "well-known work.",
        ),
        ("Text", 1): (
            ["It\u2019s a co\u00adoperative, hy\u00ad", "phenated line", "and a well-known",
             "case: pages 10-", "12 and Anglo-", "Saxon."],
            "It\u2019s a cooperative, hyphenated line and a well-known case: pages 10-12 and "
            "Anglo-Saxon.",
        ),
    })
    return TextPdf(write([Page(spec, tuple(runs))]), "trusted", truth, boxes)


def pasted() -> TextPdf:
    """A born-digital page with one paragraph (Text 1) pasted as a scan: an image of its words,
    no text for it in the layer."""
    spec = small_page()
    truth, boxes = _truth(spec)
    target = next(b for b in spec.boxes if (b.category, b.n) == ("Text", 1))
    printed = _printed_runs(spec)
    runs = tuple(r for r in printed if not _run_in(r, target))
    page = Page(spec, runs, pasted=(target,), printed=printed)
    return TextPdf(write([page]), "trusted", truth, boxes, extra={"pasted": ("Text", 1)})


def hidden() -> TextPdf:
    """A born-digital page that also holds text nobody sees: white on white, an element's own
    colour on it, render mode 3 inside an element's box, under an opaque image, and outside the
    crop box (in the media box's margin)."""
    spec = small_page()
    truth, boxes = _truth(spec)
    text0 = next(b for b in spec.boxes if (b.category, b.n) == ("Text", 0))
    r, g, b = element_colour("Text", 0)
    runs = [
        *_printed_runs(spec),
        Run("HIDDEN white words", 80, 630, 10, colour=(1.0, 1.0, 1.0)),
        Run("SECRET colour words", text0.x0 + 200, text0.y1 - 10, 9,
            colour=(r / 255, g / 255, b / 255)),
        Run("INVISIBLE mode words", text0.x0 + 200, text0.y0 + 20, 9, mode=3),
        Run("UNDER image words", 80, 660, 10),
        Run("OFFPAGE margin words", -95, 300, 7),
        Run("OFFPAGE below words", 100, spec.height + 60, 10),
    ]
    page = Page(spec, tuple(runs), crop=100.0, covers=((72.0, 645.0, 300.0, 675.0),))
    never = ("HIDDEN", "SECRET", "INVISIBLE", "UNDER", "OFFPAGE")
    return TextPdf(write([page]), "trusted", truth, boxes, never=never)


# A Type 3 font whose every glyph is a filled box, with a ToUnicode map written by hand.
_CMAP = """/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
{body}
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""
GARBAGE_MAPS = {
    # Every code to a private-use code point (a subset font's map gone wrong).
    "private": "2 beginbfrange\n<20> <20> <0020>\n<21> <7E> <E021>\nendbfrange",
    # Every letter to one code ("a"): a map that gives nonsense in plain ASCII.
    "repeat": "1 beginbfchar\n<20> <0020>\nendbfchar\n94 beginbfchar\n"
    + "".join(f"<{c:02X}> <0061>\n" for c in range(0x21, 0x7F)) + "endbfchar",
    # Letters to a mix of scripts: Cyrillic and Greek letters inside Latin words.
    "scripts": "3 beginbfrange\n<20> <20> <0020>\n<21> <4F> <0021>\n<50> <7E> <0410>\nendbfrange",
    # No map at all for glyphs with made-up names: PDFium finds no Unicode for them.
    "unmapped": "",
}


def _type3(kind: str, first_object: int) -> list[bytes]:
    """The font objects (font, glyph procedures, map) numbered from ``first_object``."""
    box_proc = b"600 0 0 0 500 700 d1 50 0 400 700 re f"
    space_proc = b"300 0 d0"
    names = " ".join(f"/g{c}" for c in range(32, 127))
    procs = " ".join(
        f"/g{c} {first_object + (1 if c == 32 else 2)} 0 R" for c in range(32, 127)
    )
    widths = " ".join("300" if c == 32 else "600" for c in range(32, 127))
    cmap = GARBAGE_MAPS[kind]
    to_unicode = f" /ToUnicode {first_object + 3} 0 R" if cmap else ""
    font = (
        "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 600 700] "
        "/FontMatrix [0.001 0 0 0.001 0 0] "
        f"/CharProcs << {procs} >> /Encoding << /Type /Encoding /Differences [32 {names}] >> "
        f"/FirstChar 32 /LastChar 126 /Widths [{widths}] /Resources << >>{to_unicode} >>"
    ).encode()
    objects = [font, _stream(space_proc), _stream(box_proc)]
    if cmap:
        objects.append(_stream(_CMAP.format(body=cmap).encode()))
    return objects


def garbage(kind: str, whole: bool = True) -> TextPdf:
    """A page whose words are set in a Type 3 font with a garbage map (:data:`GARBAGE_MAPS`):
    every element (``whole``), or only Text 0 on an otherwise good page."""
    spec = small_page()
    truth, boxes = _truth(spec)
    fonts = _type3(kind, 4)
    runs = []
    for run in _printed_runs(spec):
        inside = _run_in(run, next(b for b in displayed_page(spec).boxes if b.n == 0
                                   and b.category == "Text"))
        if whole or inside:
            ascii_text = run.text.encode("ascii", "replace").decode()
            run = replace(run, font="F3", text=_pdf_str(ascii_text))
        runs.append(run)
    page = Page(spec, tuple(runs), fonts=(("F3", 4),))
    level = "none" if whole else "trusted"
    return TextPdf(write([page], fonts), level, truth, boxes, extra={"garbage": ("Text", 0)})


def formulas() -> TextPdf:
    """A formula-heavy page: a title, a paragraph and eight formulas, each printed as a
    Helvetica part and a Symbol part (Greek letters), as a typeset equation's text layer is."""
    width, height = 612.0, 792.0
    boxes = [Box("Title", 0, 72, 72, 540, 104), Box("Text", 0, 72, 116, 540, 150)]
    boxes += [Box("Formula", n, 150, 170 + 60 * n, 460, 200 + 60 * n) for n in range(8)]
    spec = PageSpec(width, height, tuple(boxes))
    truth, shown = _truth(spec)
    runs = [r for r in _printed_runs(spec) if not r.text.startswith("x")]
    for b in boxes[2:]:
        head = f"x{b.n} ="
        first = box_runs(b, [head])[0]
        runs.append(first)
        runs.append(replace(first, text="a + b", font="F4",
                            x=first.x + text_width(head + " ", first.size)))
        truth[(b.category, b.n)] = f"x{b.n} = \u03b1 + \u03b2"
    symbol = b"<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>"
    page = Page(spec, tuple(runs), fonts=(("F4", 4),))
    return TextPdf(write([page], [symbol]), "trusted", truth, shown)


def wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines of at most ``width`` points in Helvetica at ``size``."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def dense_text(columns: int = 2, per_column: int = 15, size: float = 8.0) -> TextPdf:
    """A dense born-digital page: ``columns`` columns of paragraphs (Text n >= 64, the scene's
    long sentences) of several lines each, ~4,000 characters, as a journal page has."""
    width, height, margin, gutter = 612.0, 792.0, 36.0, 24.0
    column_width = (width - 2 * margin - (columns - 1) * gutter) / columns
    pitch = (height - 2 * margin - 40) / per_column
    boxes = [Box("Title", 0, margin, margin, width - margin, margin + 30)]
    runs: list[Run] = []
    for k in range(columns * per_column):
        n = 64 + k
        c, row = divmod(k, per_column)
        x0 = margin + c * (column_width + gutter)
        y0 = margin + 40 + row * pitch
        text = element_text("Text", n) or ""
        lines = wrap(text, column_width - 2 * _MARGIN, size)
        y1 = y0 + 2 * _MARGIN + LINE_PITCH * size * len(lines)
        box = Box("Text", n, x0, y0, x0 + column_width, round(y1, 2))
        boxes.append(box)
        runs += [replace(r, colour=ink_colour(box)) for r in box_runs(box, lines, size)]
    spec = PageSpec(width, height, tuple(boxes))
    runs += [replace(r, colour=ink_colour(boxes[0])) for r in element_runs(boxes[0])]
    truth, shown = _truth(spec)
    return TextPdf(write([Page(spec, tuple(runs))]), "trusted", truth, shown)



@dataclass(frozen=True)
class TextDoc:
    """A born-digital document of several pages and, per page, what a reader sees."""

    pdf: bytes
    truths: list[dict[tuple[str, int], str]]
    boxes: list[dict[tuple[str, int], tuple[float, float, float, float]]]
    focused: int  # tables and formulas: the elements the model reads on their box


def report_page(i: int, paragraphs: int = 8, size: float = 10.0) -> tuple[PageSpec, list[Run]]:
    """Page ``i`` of a born-digital report, as most indexed PDFs are: a running head, a title
    (first page) or a section header, paragraphs of several lines (the scene's long sentences,
    Text n >= 64), two list items, a table on even pages, a captioned figure on odd ones, a
    formula every third page, the page number. Every element's words are printed in its box."""
    width, margin = 612.0, 72.0
    column = width - 2 * margin
    head = Box("Page-header", i % 64, margin, 36.0, width - margin, 52.0)
    first = Box("Title", 0, margin, 64.0, width - margin, 96.0) if i == 0 else (
        Box("Section-header", i % 64, margin, 64.0, 340.0, 84.0))
    boxes: list[Box] = [head, first]
    runs: list[Run] = []
    y = first.y1 + 12.0

    def place(box: Box, lines: Sequence[str] | None) -> None:
        nonlocal y
        boxes.append(box)
        if lines is not None:
            runs.extend(replace(r, colour=ink_colour(box)) for r in box_runs(box, lines, size))
        y = box.y1 + 8.0

    for k in range(paragraphs):
        n = 64 + (i * paragraphs + k) % 184
        lines = wrap(element_text("Text", n) or "", column - 2 * _MARGIN, size)
        height = 2 * _MARGIN + LINE_PITCH * size * len(lines)
        place(Box("Text", n, margin, y, width - margin, round(y + height, 2)), lines)
        if k == 2:
            for j in range(2):
                item = Box("List-item", (2 * i + j) % 64, margin + 18, y, width - margin,
                           y + 2 * _MARGIN + LINE_PITCH * size)
                place(item, [printed_text("List-item", item.n) or ""])
        if k == 4 and i % 2 == 0:
            table = Box("Table", i % 64, margin, y, width - margin, y + 48.0)
            boxes.append(table)
            runs.extend(element_runs(table))
            y = table.y1 + 8.0
        if k == 4 and i % 2 == 1:  # a figure and its caption below it
            picture = Box("Picture", i % 64, margin, y, 300.0, y + 40.0)
            boxes.append(picture)
            y = picture.y1 + 4.0
            caption = Box("Caption", i % 64, margin, y, 300.0, y + 2 * _MARGIN + LINE_PITCH * size)
            place(caption, [printed_text("Caption", caption.n) or ""])
        if k == 5 and i % 3 == 0:
            formula = Box("Formula", i % 64, 200.0, y, 412.0, y + 24.0)
            boxes.append(formula)
            runs.extend(element_runs(formula))
            y = formula.y1 + 8.0
    footer = page_footer_box(i, width, 792.0)
    if y > footer.y0:
        raise ValueError(f"page {i}: {paragraphs} paragraphs do not fit")
    boxes.append(footer)
    runs.extend(element_runs(footer))
    runs.extend(element_runs(head))
    runs.extend(element_runs(first))
    return PageSpec(width, 792.0, tuple(boxes)), runs


def report(pages: int = 8, paragraphs: int = 8) -> TextDoc:
    """A born-digital report of ``pages`` pages (:func:`report_page`) with a good layer."""
    made = [report_page(i, paragraphs) for i in range(pages)]
    truths, boxes = zip(*(_truth(spec) for spec, _ in made), strict=True)
    focused = sum(1 for spec, _ in made for b in spec.boxes if b.category in ("Table", "Formula"))
    pdf = write([Page(spec, tuple(runs)) for spec, runs in made])
    return TextDoc(pdf, list(truths), list(boxes), focused)


KINDS = {
    "good": good,
    "typography": typography,
    "scan": scan,
    "stamped_scan": stamped_scan,
    "ocr_good": lambda: ocr_scan(True),
    "ocr_wrong": lambda: ocr_scan(False),
    "garbage_private": lambda: garbage("private"),
    "garbage_repeat": lambda: garbage("repeat"),
    "garbage_scripts": lambda: garbage("scripts"),
    "garbage_unmapped": lambda: garbage("unmapped"),
    "garbage_one_element": lambda: garbage("private", whole=False),
    "pasted": pasted,
    "rotate_90": lambda: good(90),
    "hidden": hidden,
    "formulas": formulas,
    "dense": dense_text,
}


# --------------------------------------------------------------------------------------------
# Hebrew, Arabic and CJK in a Type 3 font whose codes map to their letters

SCRIPT_SIZE = 12.0
CJK = "日本語の縦書きです次行横文字"  # square glyphs, one em wide
# The letters the tests of scripts print (Hebrew, Arabic, Arabic presentation forms, CJK), then
# digits and punctuation: code 0x21 + k is the k-th; the space is 0x20.
_SCRIPT_CHARS = (
    "אבגדהוזחטיכלמנסעפצקרשתםןךףץ"
    + "مرحبادينةجلس"
    + "\ufee3\ufeae\ufea3\ufe92\ufe8e\ufeb3\ufefc\ufee1"
    + CJK
    + "0123456789().,"
)
_SCRIPT_CODES = {ch: 0x21 + k for k, ch in enumerate(_SCRIPT_CHARS)}


def script_font(first_object: int) -> list[bytes]:
    """The objects of font ``F3`` (font, three glyph procedures, map): every glyph a filled
    box, 600 units wide (a CJK one 1000: square), the space 300, each code mapped by
    ToUnicode; one em from descent to ascent, as CJK fonts are."""
    last = 0x20 + len(_SCRIPT_CHARS)
    codes = range(0x20, last + 1)
    glyph = {0x20: 1, **{_SCRIPT_CODES[ch]: 3 for ch in CJK}}
    names = " ".join(f"/g{c}" for c in codes)
    procs = " ".join(f"/g{c} {first_object + glyph.get(c, 2)} 0 R" for c in codes)
    widths = " ".join({1: "300", 2: "600", 3: "1000"}[glyph.get(c, 2)] for c in codes)
    pairs = [(0x20, " "), *((code, ch) for ch, code in _SCRIPT_CODES.items())]
    body = f"{len(pairs)} beginbfchar\n" + "".join(
        f"<{code:02X}> <{ord(ch):04X}>\n" for code, ch in pairs
    ) + "endbfchar"
    font = (
        "<< /Type /Font /Subtype /Type3 /FontBBox [0 -120 1000 880] "
        "/FontMatrix [0.001 0 0 0.001 0 0] "
        f"/CharProcs << {procs} >> /Encoding << /Type /Encoding /Differences [32 {names}] >> "
        f"/FirstChar 32 /LastChar {last} /Widths [{widths}] /Resources << >> "
        f"/ToUnicode {first_object + 4} 0 R >>"
    ).encode()
    return [
        font,
        _stream(b"300 0 d0"),
        _stream(b"600 0 0 0 500 700 d1 50 0 400 700 re f"),
        _stream(b"1000 0 0 -120 1000 880 d1 80 -40 840 840 re f"),
        _stream(_CMAP.format(body=body).encode()),
    ]


def _script_string(text: str) -> str:
    """``text`` in :func:`script_font`'s codes, as a PDF hex string."""
    return "<" + "".join(f"{0x20 if ch == ' ' else _SCRIPT_CODES[ch]:02X}" for ch in text) + ">"


# Helvetica's widths (1/1000 em, from its AFM) for the Latin letters the right-to-left tests
# print: a Latin segment must end where the next one starts.
_HELVETICA = dict(zip(
    "abcdefghijklmnopqrstuvwxyzNY .,()0123456789",
    [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333,
     500, 278, 556, 500, 722, 500, 500, 500, 722, 667, 278, 278, 278, 333, 333] + [556] * 10,
    strict=True,
))


def _advance(ch: str, font: str) -> float:
    if font == "F3":
        return SCRIPT_SIZE * (0.3 if ch == " " else 1.0 if ch in CJK else 0.6)
    return SCRIPT_SIZE * _HELVETICA[ch] / 1000


Segment = tuple[str, str]  # (font, text as drawn left to right): "F1" Helvetica, "F3" script_font


def bidi_page(lines: Sequence[tuple[float, float, Sequence[Segment]]],
              from_the_right: bool = False) -> bytes:
    """A Letter page of ``lines``, each (x, baseline y, its segments left to right as they are
    drawn). The file writes each segment as one run, left to right; ``from_the_right``: the
    segments from the rightmost, a Hebrew or Arabic one a run per character from its right (as
    producers that write in reading order do), a Latin one still as one run."""
    runs: list[Run] = []
    for x, y, segments in lines:
        line: list[list[Run]] = []
        for font, text in segments:
            if font == "F1":
                line.append([Run(text, x, y, SCRIPT_SIZE)])
                x += sum(_advance(ch, font) for ch in text)
                continue
            start, chars = x, []
            for ch in text:
                if ch != " ":
                    chars.append(Run(_script_string(ch), x, y, SCRIPT_SIZE, font="F3"))
                x += _advance(ch, font)
            whole = Run(_script_string(text), start, y, SCRIPT_SIZE, font="F3")
            line.append(chars[::-1] if from_the_right else [whole])
        for segment in line[::-1] if from_the_right else line:
            runs += segment
    spec = PageSpec(612.0, 792.0, ())
    return write([Page(spec, tuple(runs), fonts=(("F3", 4),))], script_font(4))


# --------------------------------------------------------------------------------------------
# Text at a quarter turn: (a, b, c, d) of the text matrix for each turn clockwise, page space
_TURNS = {0: (1, 0, 0, 1), 1: (0, -1, 1, 0), 2: (-1, 0, 0, -1), 3: (0, 1, -1, 0)}


def turned_page(runs: Sequence[tuple[str, float, float, int]], rotate: int = 0) -> bytes:
    """A Letter page of Helvetica 12 runs, each (text, x, y of its start in PDF page space,
    quarter turns clockwise of its baseline in page space), the page shown with ``rotate``."""
    ops = []
    for text, x, y, turn in runs:
        a, b, c, d = _TURNS[turn]
        ops.append(f"BT /F1 12 Tf {a} {b} {c} {d} {x:g} {y:g} Tm {_pdf_str(text)} Tj ET")
    return content_page("\n".join(ops), rotate)


def content_page(content: str, rotate: int = 0) -> bytes:
    """A Letter page whose content stream is ``content`` (font ``F1``: Helvetica)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        HELVETICA,
        _stream(content.encode("latin-1")),
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate {rotate} "
         "/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>").encode(),
    ]
    return write_pdf(objects, 1)


def placed_page(chars: Sequence[tuple[str, float, float]]) -> bytes:
    """A Letter page of :func:`script_font` characters, each (character, x, baseline y) on
    the displayed page, written one run each in the order given."""
    runs = tuple(Run(_script_string(ch), x, y, SCRIPT_SIZE, font="F3") for ch, x, y in chars)
    return write([Page(PageSpec(612.0, 792.0, ()), runs, fonts=(("F3", 4),))], script_font(4))


def receipt(items: int = 1500) -> TextPdf:
    """A long till receipt, born digital: ``items`` lines ("Item k 1.99"), one Helvetica 8
    line every 20 points on a page 200 points wide (a page far taller than wide)."""
    height = 40.0 + 20.0 * items
    ops = [f"BT /F1 8 Tf 20 {height - 20 - 20 * k:g} Td (Item {k} 1.99) Tj ET"
           for k in range(items)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        HELVETICA,
        _stream("\n".join(ops).encode("latin-1")),
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 {height:g}] "
         "/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>").encode(),
    ]
    box = (0.0, 0.0, 200.0, height)
    truth = {("Text", 0): "\n\n".join(f"Item {k} 1.99" for k in range(items))}
    return TextPdf(write_pdf(objects, 1), "trusted", truth, {("Text", 0): box})
