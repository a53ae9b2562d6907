"""A page under assembly: its elements as items that the steps annotate, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..identity import SourceId
from ..layout import Element
from ..pages import PageInfo
from ..read import PageResult
from ..sanitize import clean_table, safe_formula, safe_markdown

HEADINGS = ("Title", "Section-header")


@dataclass(frozen=True)
class Item:
    """One layout element and what the assembly steps found out about it.

    ``text`` is safe to render (see :mod:`..sanitize`); ``position`` is the element's place in
    the model's reading order on the page; ``id`` is stable (see :mod:`..identity`).
    """

    element: Element
    position: int
    id: str
    text: str
    heading_level: int = 0  # 1 for a Title, 2.. for section headers, 0 for anything else
    section: str = ""
    section_path: str = ""
    parent_id: str = ""

    @property
    def category(self) -> str:
        return self.element.category


@dataclass
class Page:
    """One page's items (or, in ``ocr`` prompt mode, its text) while the steps run over it."""

    info: PageInfo
    extraction: str
    items: list[Item] = field(default_factory=list)
    text: str | None = None
    label: str = ""  # decided by the page-label step before the page is emitted


def safe_text(element: Element, sanitize_tables: bool) -> str:
    """An element's text, safe to put into Markdown: tables as cleaned HTML (raw when
    ``sanitize_tables`` is false), formulas as LaTeX, everything else as Markdown without raw
    HTML (see :mod:`..sanitize`)."""
    text = (element.text or "").strip()
    if element.category == "Table":
        return clean_table(text) if sanitize_tables else text
    if element.category == "Formula":
        return safe_formula(text)
    return safe_markdown(text, tables=sanitize_tables)


def make_page(result: PageResult, source: SourceId, sanitize_tables: bool) -> Page:
    """The page of ``result`` with an item per element, ids given and text made safe."""
    info = result.info
    if result.text is not None:
        text = safe_markdown(result.text, tables=sanitize_tables)
        return Page(info, result.extraction, text=text)
    items = [
        Item(e, i, source.element(info.index, i), safe_text(e, sanitize_tables))
        for i, e in enumerate(result.elements)
    ]
    return Page(info, result.extraction, items)
