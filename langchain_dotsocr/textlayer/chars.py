"""The characters of one PDF page's text layer, as PDFium reads them, with what a reader needs
to judge them: where each sits on the page as displayed, its code, whether its font maps it to
Unicode, its render mode, its fill colour and what is painted over it.

Boxes are in the frame of :class:`~langchain_dotsocr.documents` bboxes: PDF points, top-left
origin of the page as displayed (after /Rotate, relative to the page's box, which PDFium takes
from the crop box clipped to the media box).
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import pypdfium2.raw as pdfium_c

Box = tuple[float, float, float, float]

#: :attr:`Char.turn` of a character set at no quarter turn (a diagonal watermark).
SLANTED = 4
# How far from a quarter turn a baseline may lie and still count as one (radians: 10 degrees).
_TURN_SLACK = math.radians(10)

# Render modes that paint nothing: 3 (neither fill nor stroke) and 7 (clip only).
_INVISIBLE_MODES = frozenset({3, 7})
# Render modes that paint only the outline: 1 (stroke) and 5 (stroke, clip).
_STROKED_MODES = frozenset({1, 5})


class Char(NamedTuple):
    """One printed character of the layer: ``text`` (one code point, never white space), its
    loose box (the font's ascent to descent, wide enough to hold the glyph's ink), its font's
    name, and whether the file has a space (or line break) before it. A tuple: a dense page
    has thousands of these, and reading the layer must stay cheap next to rendering."""

    text: str
    box: Box
    font: str
    unmapped: bool  # the font has no Unicode for this glyph (PDFium's map error)
    invisible: bool  # render mode 3 or 7: nothing is painted
    fill: tuple[int, int, int]  # RGB the glyph is filled with
    over_image: bool  # an image painted before the glyph lies under its centre
    under_image: bool  # an image painted after the glyph covers its centre
    space_before: bool  # a space (the file's or PDFium's; no line break) comes before it
    turn: int = 0  # quarter turns clockwise of its baseline on the displayed page, or SLANTED

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class Frame:
    """How page space maps to the displayed page: the page box and the /Rotate (clockwise)."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int  # 0..3 quarter turns

    @property
    def size(self) -> tuple[float, float]:
        w, h = self.right - self.left, self.top - self.bottom
        return (h, w) if self.rotation % 2 else (w, h)

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        """A page-space rectangle in the displayed frame."""
        w, h = self.right - self.left, self.top - self.bottom
        u0, u1 = left - self.left, right - self.left  # from the unrotated top-left corner
        v0, v1 = self.top - top, self.top - bottom
        if self.rotation == 1:
            return (h - v1, u0, h - v0, u1)
        if self.rotation == 2:
            return (w - u1, h - v1, w - u0, h - v0)
        if self.rotation == 3:
            return (v0, w - u1, v1, w - u0)
        return (u0, v0, u1, v1)


def page_frame(page: Any) -> Frame:
    """The frame of a ``pypdfium2.PdfPage``."""
    rect = pdfium_c.FS_RECTF()
    pdfium_c.FPDF_GetPageBoundingBox(page.raw, ctypes.byref(rect))
    rotation = max(0, pdfium_c.FPDFPage_GetRotation(page.raw)) % 4
    return Frame(rect.left, rect.bottom, rect.right, rect.top, rotation)


@dataclass(frozen=True)
class _Image:
    order: int  # its index among the page's top-level objects: the painting order
    bounds: tuple[float, float, float, float]  # page space: left, bottom, right, top


def _images(page: Any) -> tuple[dict[int, int], list[_Image]]:
    """The painting order of the page's top-level objects (by address) and its images."""
    order: dict[int, int] = {}
    images: list[_Image] = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
        order[ctypes.cast(obj, ctypes.c_void_p).value or 0] = i
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            continue
        if pdfium_c.FPDFPageObj_GetBounds(
            obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top)
        ):
            images.append(_Image(i, (left.value, bottom.value, right.value, top.value)))
    return order, images


def _font_name(textpage: Any, index: int) -> str:
    flags = ctypes.c_int()
    size = pdfium_c.FPDFText_GetFontInfo(textpage, index, None, 0, ctypes.byref(flags))
    if size <= 0:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(textpage, index, buffer, size, ctypes.byref(flags))
    return buffer.value.decode("utf-8", "replace")


@dataclass
class _ObjectFacts:
    invisible: bool
    font: str
    order: int | None
    fill: tuple[int, int, int]
    turn: int = 0  # of its first character: one text object is set along one baseline


def _facts(textpage: Any, index: int, obj: Any, order: int | None) -> _ObjectFacts:
    """What a text object says of all its characters: render mode, font, the colour its
    glyphs are painted in (the stroke's for outlined text, render modes 1 and 5)."""
    mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj) if obj else 0
    colour = pdfium_c.FPDFPageObj_GetStrokeColor if mode in _STROKED_MODES else (
        pdfium_c.FPDFPageObj_GetFillColor
    )
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    fill = (0, 0, 0)
    if obj and colour(obj, ctypes.byref(r), ctypes.byref(g), ctypes.byref(b), ctypes.byref(a)):
        fill = (r.value, g.value, b.value)
    return _ObjectFacts(mode in _INVISIBLE_MODES, _font_name(textpage, index), order, fill)


@dataclass(frozen=True)
class PageText:
    """What :func:`read_chars` finds: the frame, the characters, the share of the page's
    area that images cover (overlaps counted once per image, capped at 1), and the boxes of
    the annotations that paint words the layer does not hold (:func:`painted_boxes`)."""

    frame: Frame
    chars: tuple[Char, ...]
    image_share: float
    painted: tuple[Box, ...] = ()


# Annotations whose appearance shows words or writing: a filled form field, a typed note on
# the page, a stamp, handwriting, a watermark. Highlights, links, shapes and note icons paint
# no words (a highlight lies over words the layer holds).
_WORDY_ANNOTATIONS = frozenset({
    pdfium_c.FPDF_ANNOT_WIDGET, pdfium_c.FPDF_ANNOT_FREETEXT, pdfium_c.FPDF_ANNOT_STAMP,
    pdfium_c.FPDF_ANNOT_INK, pdfium_c.FPDF_ANNOT_WATERMARK,
})
_UNSEEN = pdfium_c.FPDF_ANNOT_FLAG_HIDDEN | pdfium_c.FPDF_ANNOT_FLAG_NOVIEW


def painted_boxes(page: Any, frame: Frame) -> tuple[Box, ...]:
    """The displayed boxes of ``page``'s annotations that show words: the page is rendered
    with them, but their words are in no text layer (they live in the annotation's own
    appearance), so what lies under them is read by the model."""
    boxes: list[Box] = []
    rect = pdfium_c.FS_RECTF()
    for i in range(max(0, pdfium_c.FPDFPage_GetAnnotCount(page.raw))):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            if (
                pdfium_c.FPDFAnnot_GetSubtype(annot) in _WORDY_ANNOTATIONS
                and not pdfium_c.FPDFAnnot_GetFlags(annot) & _UNSEEN
                and pdfium_c.FPDFAnnot_HasKey(annot, b"AP")
                and pdfium_c.FPDFAnnot_GetRect(annot, ctypes.byref(rect))
            ):
                left, right = sorted((rect.left, rect.right))
                bottom, top = sorted((rect.bottom, rect.top))
                boxes.append(frame.box(left, bottom, right, top))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return tuple(boxes)


def _image_share(frame: Frame, images: list[_Image]) -> float:
    page = (frame.right - frame.left) * (frame.top - frame.bottom)
    if page <= 0:
        return 0.0
    area = 0.0
    for im in images:
        x0, y0 = max(im.bounds[0], frame.left), max(im.bounds[1], frame.bottom)
        x1, y1 = min(im.bounds[2], frame.right), min(im.bounds[3], frame.top)
        area += max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return min(1.0, area / page)


def _all_text(textpage: Any) -> list[str]:
    """Every character's code point by index. One FPDFText_GetText call where the page's text
    is all in the BMP (one UTF-16 unit per index; it writes PDFium's line-end hyphen, U+0002,
    as U+FFFE); character by character where a surrogate shows an index taking two units."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    buffer = (ctypes.c_ushort * (count + 1))()
    pdfium_c.FPDFText_GetText(textpage, 0, count, buffer)
    units = buffer[:count]
    if any(0xD800 <= u <= 0xDFFF for u in units):
        codes = [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(count)]
        return [chr(c) if 0 <= c <= 0x10FFFF else "\ufffd" for c in codes]
    return ["\x02" if u == 0xFFFE else chr(u) for u in units]


def _turn(textpage: Any, index: int, frame: Frame) -> int:
    """The character's baseline in quarter turns clockwise on the displayed page, or
    :data:`SLANTED`. PDFium gives the angle in page space, clockwise, in radians (-1 when
    unknown: taken as upright)."""
    angle = float(pdfium_c.FPDFText_GetCharAngle(textpage, index))
    if angle < 0:
        return 0
    quarters = round(angle / (math.pi / 2))
    if abs(angle - quarters * math.pi / 2) > _TURN_SLACK:
        return SLANTED
    return (quarters + frame.rotation) % 4


def read_chars(page: Any) -> PageText:
    """Every printed character PDFium finds on ``page`` (a ``pypdfium2.PdfPage``), in its
    order; white space becomes :attr:`Char.space_before` of the character after it."""
    frame = page_frame(page)
    order, images = _images(page)
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        rect = pdfium_c.FS_RECTF()
        rect_ref = ctypes.byref(rect)
        facts: dict[int, _ObjectFacts] = {}
        chars: list[Char] = []
        space = False
        for i, text in enumerate(_all_text(tp)):
            # A space, the file's or made up by PDFium, is kept as a mark on the next character:
            # its box says nothing. A line break is no mark: the boxes say where lines are,
            # and PDFium also makes one up wherever the text moves back or down (between the
            # characters of a column of vertical writing, of a line written from the right).
            if text.isspace():
                space = space or text not in "\r\n"
                continue
            if not pdfium_c.FPDFText_GetLooseCharBox(tp, i, rect_ref):
                continue
            obj = pdfium_c.FPDFText_GetTextObject(tp, i)
            key = ctypes.cast(obj, ctypes.c_void_p).value or 0
            fact = facts.get(key)
            if fact is None:
                fact = facts[key] = _facts(tp, i, obj, order.get(key))
                fact.turn = _turn(tp, i, frame)
            cx, cy = (rect.left + rect.right) / 2, (rect.top + rect.bottom) / 2
            below = above = False
            for im in images:
                x0, y0, x1, y1 = im.bounds
                if x0 <= cx <= x1 and y0 <= cy <= y1:
                    # An object inside a form has no top-level order: taken as painted first.
                    if fact.order is not None and im.order > fact.order:
                        above = True
                    else:
                        below = True
            chars.append(
                Char(
                    text,
                    frame.box(rect.left, rect.bottom, rect.right, rect.top),
                    fact.font,
                    pdfium_c.FPDFText_HasUnicodeMapError(tp, i) == 1,
                    fact.invisible,
                    fact.fill,
                    below,
                    above,
                    space,
                    fact.turn,
                )
            )
            space = False
        return PageText(
            frame, tuple(chars), _image_share(frame, images), painted_boxes(page, frame)
        )
    finally:
        textpage.close()
