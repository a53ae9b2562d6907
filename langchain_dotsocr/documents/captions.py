"""Captions and table footnotes linked to the Picture or Table they belong to.

A caption is an element read as ``Caption``, or one read as another kind of text whose
wording is a caption's: a label and a number (``Figure 3``, ``Fig. 3``, ``Table 2``, ``Tab.
2``, ``Рис. 3``, ``Таблица 2``, ``图3``, ``表2``, even with a character misread: ``Tabl6 3:``;
see :func:`labelled`), since a model reads a
caption as Text now and then. A plain Text beside a figure is never its caption.

A caption belongs to a Picture or Table of its page (its *figure*) when:

1. it lies above or below the figure (by at most half its own height into it), overlapping
   it horizontally by at least half the narrower of the two;
2. the gap between them is at most :data:`MAX_GAP` of the page's height;
3. no other element (page furniture aside, see :mod:`.furniture`) lies in that gap, across
   their common width: a caption never reaches across text;
4. its label, when it has one, names the figure's kind (``Figure 2``, ``Fig.``, ``Abb.``,
   ``Рис.``, ``图`` for pictures; ``Table 2``, ``Tab.``, ``Таблица``, ``表`` for tables);
5. of the figures that pass, it is nearest to this one; on a tie (gaps within half the
   caption's height of each other: boxes move by a few points from one reading to the next),
   a picture takes the caption below it and a table the caption above it, as documents print
   them.

A figure may get several captions (a title above, a note below): they are joined, in reading
order, by a line break. A Footnote belongs to a table when it follows the table in reading
order (only the table's own captions or earlier such footnotes between), lies below it,
overlaps it horizontally as above, and is within :data:`MAX_GAP` of the table or of the
footnote above it. A caption with no figure stays a plain Caption.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz.distance import OSA

from ..layout import Element
from ..prompts import PAGE_FURNITURE as FURNITURE
from .page import Page
from .steps import Step

FIGURES = ("Picture", "Table")
#: The largest gap between a caption (or footnote) and its figure, as a share of page height.
MAX_GAP = 0.06
MIN_OVERLAP = 0.5  # of the narrower box's width

_KINDS = (
    (re.compile(r"(?:fig(?:ure)?s?|abb(?:ildung)?|рис(?:унок)?|chart|plate)\b", re.I), "Picture"),
    (re.compile(r"(?:tab(?:le|elle|la|leau)?s?|табл(?:ица)?)\b", re.I), "Table"),
    (re.compile(r"[图圖]"), "Picture"),
    (re.compile(r"表"), "Table"),
)


_NUMBERED = re.compile(
    r"^[\s#*_>\-]*(?:[^\W\d_]{1,10}\.?\s*(?:\d{1,3}(?:[.\-]\d{1,3})*|[IVXLC]{1,6})\b"
    r"|[图圖表]\s*\d{1,3})"
)
#: Categories a caption is read as when it is not read as Caption.
CAPTION_LIKE = ("Caption", "Text", "List-item", "Footnote", "Section-header")


#: Label words long enough that one misread letter still tells them (``Tabl6``, ``Fignre``).
_LONG_LABELS = {
    "figure": "Picture",
    "abbildung": "Picture",
    "рисунок": "Picture",
    "table": "Table",
    "tabelle": "Table",
    "таблица": "Table",
}
_MISREAD = re.compile(r"[\s#*_>\-]*([^\W_]{4,10})\s+(\w{1,3})\s*[:.]")


def misread_label(text: str | None) -> str | None:
    """The kind a caption label names when one character of it was misread, in the word
    (``Tabl6 3:``) or in the number (``Table u:``); the ``:`` or ``.`` after the number must
    be there, as a caption writes it and running text does not."""
    m = _MISREAD.match(text or "")
    if m is None:
        return None
    word, number = m.group(1).lower(), m.group(2)
    if sum(ch.isdigit() for ch in word) > 1:
        return None
    exact = _LONG_LABELS.get(word)
    if exact is not None:
        return exact if len(number) == 1 or sum(not ch.isdigit() for ch in number) <= 1 else None
    if not number.isdigit():
        return None
    near = [kind for label, kind in _LONG_LABELS.items() if OSA.distance(word, label) == 1]
    return near[0] if len(set(near)) == 1 else None


def labelled(text: str | None) -> bool:
    """Whether ``text`` starts as a caption: a figure or table label and its number, or one
    with a character misread (:func:`misread_label`)."""
    exact = caption_kind(text) is not None and _NUMBERED.match(text or "") is not None
    return exact or misread_label(text) is not None


def is_caption(element: Element) -> bool:
    """A caption by category, or by wording when read as another kind of text."""
    if element.category == "Caption":
        return True
    return element.category in CAPTION_LIKE and labelled(element.text)


def caption_kind(text: str | None) -> str | None:
    """The kind of figure a caption's label names (``"Picture"``, ``"Table"``), if any."""
    plain = re.sub(r"^[\s#*_>\-]+", "", text or "")
    for pattern, kind in _KINDS:
        if pattern.match(plain):
            return kind
    return misread_label(plain)


def _overlaps(a: Element, b: Element) -> bool:
    common = min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0])
    narrower = min(a.bbox[2] - a.bbox[0], b.bbox[2] - b.bbox[0])
    return narrower > 0 and common >= MIN_OVERLAP * narrower


def _gap(note: Element, figure: Element) -> tuple[float, str] | None:
    """How far ``note`` lies above or below ``figure``, and on which side; None if neither."""
    slack = (note.bbox[3] - note.bbox[1]) / 2
    if note.bbox[3] <= figure.bbox[1] + slack:
        return max(0.0, figure.bbox[1] - note.bbox[3]), "above"
    if note.bbox[1] >= figure.bbox[3] - slack:
        return max(0.0, note.bbox[1] - figure.bbox[3]), "below"
    return None


def _blocked(
    note: int, figure: int, elements: Sequence[Element], furniture: Sequence[bool]
) -> bool:
    """Whether an element other than the two lies between them, across their common width."""
    a, b = elements[note].bbox, elements[figure].bbox
    left, right = max(a[0], b[0]), min(a[2], b[2])
    top, bottom = (a[3], b[1]) if a[1] < b[1] else (b[3], a[1])
    for k, other in enumerate(elements):
        if k in (note, figure) or furniture[k]:
            continue
        x0, y0, x1, y1 = other.bbox
        if x0 < right and x1 > left and top < (y0 + y1) / 2 < bottom:
            return True
    return False


def link_captions(
    elements: Sequence[Element], page_height: float, furniture: Sequence[bool] | None = None
) -> dict[int, int]:
    """For each caption that belongs to a figure, the figure: indices into ``elements``;
    ``furniture`` marks the page's furniture (by default, what is read as such)."""
    if furniture is None:
        furniture = [e.category in FURNITURE for e in elements]
    links: dict[int, int] = {}
    for c, caption in enumerate(elements):
        if not is_caption(caption) or furniture[c]:
            continue
        kind = caption_kind(caption.text)
        found: list[tuple[float, int, int]] = []
        for f, figure in enumerate(elements):
            if figure.category not in FIGURES or (kind and figure.category != kind):
                continue
            placed = _gap(caption, figure)
            if placed is None or not _overlaps(caption, figure):
                continue
            gap, side = placed
            if gap > MAX_GAP * page_height or _blocked(c, f, elements, furniture):
                continue
            usual = "below" if figure.category == "Picture" else "above"
            found.append((gap, 0 if side == usual else 1, f))
        if found:
            # Gaps within half the caption's height are a tie: boxes move by a few points.
            near = min(found)[0] + (caption.bbox[3] - caption.bbox[1]) / 2
            links[c] = min((side, gap, f) for gap, side, f in found if gap <= near)[2]
    return links


def link_footnotes(
    elements: Sequence[Element],
    page_height: float,
    captions: dict[int, int],
    furniture: Sequence[bool] | None = None,
) -> dict[int, int]:
    """For each footnote that directly follows a table, the table: indices into ``elements``."""
    if furniture is None:
        furniture = [e.category in FURNITURE for e in elements]
    links: dict[int, int] = {}
    for t, table in enumerate(elements):
        if table.category != "Table":
            continue
        last = table
        for k in range(t + 1, len(elements)):
            element = elements[k]
            if furniture[k] or captions.get(k) == t:
                continue
            placed = _gap(element, last) if element.category == "Footnote" else None
            if (
                placed is None
                or placed[1] != "below"
                or placed[0] > MAX_GAP * page_height
                or not _overlaps(element, table)
            ):
                break
            links[k] = t
            last = element
    return links


class Captions(Step):
    """Links each page's captions and table footnotes to their figures (see the module)."""

    def arrive(self, page: Page) -> None:
        elements = [it.element for it in page.items]
        height = page.info.height
        furniture = [it.furniture for it in page.items]
        captions = link_captions(elements, height, furniture)
        footnotes = link_footnotes(elements, height, captions, furniture)
        items = list(page.items)
        for n, f in sorted(captions.items()):
            items[n] = replace(items[n], belongs_to=items[f].id)
            items[f] = replace(items[f], caption=_joined(items[f].caption, items[n].text))
        for n, f in sorted(footnotes.items()):
            items[n] = replace(items[n], belongs_to=items[f].id)
            items[f] = replace(items[f], footnotes=_joined(items[f].footnotes, items[n].text))
        page.items = items


def _joined(before: str, text: str) -> str:
    return "\n".join(filter(None, (before, text)))
