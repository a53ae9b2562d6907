"""A page under assembly: its elements as items that the steps annotate, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..crops import Figure
from ..identity import SourceId, anchors
from ..layout import Box, Element
from ..pages import PageInfo
from ..read import PageResult
from ..sanitize import clean_table, safe_formula, safe_markdown

HEADINGS = ("Title", "Section-header")
NO_FIGURE = Figure()


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
    caption: str = ""  # a Picture's or Table's linked captions (see .captions)
    footnotes: str = ""  # a Table's linked footnotes
    belongs_to: str = ""  # a Caption's or Footnote's figure (its id)
    figure: Figure = NO_FIGURE  # its crop and description, where asked (see ..crops)
    # A table joined across pages (see .tables): every part's page and box, in order.
    spans: tuple[tuple[int, Box], ...] = ()
    # Where the item is from when it stands among another page's items (a joined table).
    origin: Origin | None = None
    continues: bool = False  # page mode: a table that goes on at the top of the next page
    continued: bool = False  # page mode: the rest of a table from the previous page
    furniture: bool = False  # a running head, page number or footer (see .furniture)

    @property
    def category(self) -> str:
        return self.element.category


@dataclass(frozen=True)
class Origin:
    """The page an item belongs to, when it is emitted among the items of a later page."""

    info: PageInfo
    label: str


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
    where = anchors(info.width, info.height, [(e.category, e.bbox) for e in result.elements])
    items = [
        Item(
            e,
            i,
            source.element(info.index, where[i]),
            safe_text(e, sanitize_tables),
            figure=result.figures.get(i, NO_FIGURE),
        )
        for i, e in enumerate(result.elements)
    ]
    return Page(info, result.extraction, items)
