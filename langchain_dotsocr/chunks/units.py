"""Element Documents to the units chunks are made of, a page at a time.

A unit is one element, or a figure (Table or Picture) with the captions and footnotes linked
to it (``belongs_to``), which stay with it wherever it goes. Page headers and footers are left
out. A Picture's ``page_content`` already holds its caption, description and text inside (see
the README's Modes); a linked caption's text is added to it only when not already there. A
figure's unit stands where the first of its elements stood in reading order.

Units come out once the next page (or source) begins, so that a caption read after its figure
still reaches it; a caption whose figure is not on its page stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document

from ..documents.page import HEADINGS
from ..prompts import PAGE_FURNITURE

FIGURES = ("Table", "Picture")
ATTACHED = ("Caption", "Footnote")
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Element:
    """What a chunk needs of one element Document."""

    id: str
    category: str
    page: int
    index: int  # place in the page's reading order (-1 if unknown)
    text: str
    boxes: tuple[tuple[int, Box], ...]  # every page and box it spans
    meta: dict[str, Any]

    @classmethod
    def of(cls, doc: Document) -> Element:
        m = doc.metadata
        page = int(m.get("page", 0))
        return cls(
            id=str(doc.id or m.get("element_id", "")),
            category=str(m.get("category", "Text")),
            page=page,
            index=int(m.get("element_index", -1)),
            text=doc.page_content,
            boxes=parse_page_boxes(str(m.get("page_boxes", "")))
            or ((page, _box(m.get("bbox"))),),
            meta=m,
        )


def _box(value: Any) -> Box:
    if value is None or len(value) != 4:
        return (0.0, 0.0, 0.0, 0.0)
    x0, y0, x1, y1 = (float(v) for v in value)
    return (x0, y0, x1, y1)


def parse_page_boxes(text: str) -> tuple[tuple[int, Box], ...]:
    """The pages and boxes of a ``page_boxes`` string (``"3:72.0,600.0,540.0,760.0;..."``)."""
    out = []
    for span in filter(None, text.split(";")):
        page, _, box = span.partition(":")
        out.append((int(page), _box(box.split(","))))
    return tuple(out)


@dataclass
class Unit:
    """One element, or a figure with its captions and footnotes, as chunks take it.

    ``before`` and ``after`` are the texts of the figure's captions and footnotes that stand
    before and after it in reading order; ``text`` is the element's own.
    """

    kind: str  # "heading", "table", "text" or "error"
    main: Element
    source: str
    section_path: str
    parent_id: str  # the heading the element sits under ("" for none)
    before: list[Element] = field(default_factory=list)  # captions read before a figure
    after: list[Element] = field(default_factory=list)  # its captions and footnotes after it

    @property
    def elements(self) -> list[Element]:
        """All its elements, in reading order."""
        return [*self.before, self.main, *self.after]

    def texts(self, notes: list[Element]) -> list[str]:
        """The texts ``notes`` add to the figure (a Picture's own text may hold them already)."""
        if self.main.category == "Picture":
            notes = [n for n in notes if n.text.strip() not in self.main.text]
        return [n.text for n in notes if n.text.strip()]

    @property
    def blocks(self) -> list[str]:
        """The unit's texts in order, empty ones left out."""
        main = [self.main.text] if self.main.text.strip() else []
        return [*self.texts(self.before), *main, *self.texts(self.after)]


def _kind(e: Element) -> str:
    if e.category == "Error":
        return "error"
    if e.category in HEADINGS and int(e.meta.get("heading_level", 0)) > 0:
        return "heading"
    return "table" if e.category == "Table" else "text"


def _unit(e: Element) -> Unit:
    m = e.meta
    return Unit(
        _kind(e), e, str(m.get("source", "")), str(m.get("section_path", "")),
        str(m.get("parent_id", "")),
    )


def page_units(docs: list[Document]) -> list[Unit]:
    """The units of one page's element Documents, in reading order (see the module)."""
    elements = [Element.of(d) for d in docs]
    elements = [e for e in elements if e.category not in PAGE_FURNITURE]
    figures = {e.id for e in elements if e.category in FIGURES}
    notes: dict[str, list[int]] = {}  # figure id -> places of its captions and footnotes
    for k, e in enumerate(elements):
        owner = str(e.meta.get("belongs_to", ""))
        if e.category in ATTACHED and owner in figures:
            notes.setdefault(owner, []).append(k)
    attached = {k for places in notes.values() for k in places}
    placed: list[tuple[int, Unit]] = []
    for k, e in enumerate(elements):
        if k in attached:
            continue
        unit = _unit(e)
        places = notes.get(e.id, [])
        unit.before = [elements[n] for n in places if n < k]
        unit.after = [elements[n] for n in places if n > k]
        placed.append((min([k, *places]), unit))
    return [unit for _, unit in sorted(placed, key=lambda p: p[0])]
