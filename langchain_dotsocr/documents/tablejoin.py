"""Tables across pages: a table cut by a page break joined into one (``merge_tables``).

A table continues on the next page when:

1. it is the last element of its page (page furniture aside, and its own captions and
   footnotes or elements above it read after it) and ends in the bottom :data:`NEAR_EDGE` of
   the page;
2. the next page (the next index, not a gap in a page selection) starts with a table, in its
   top :data:`NEAR_EDGE`, with nothing read before it but page furniture, elements below it
   (two neighbours read in the wrong order) and a caption that says it is continued
   ("Table 3 (continued)", "cont'd", "Fortsetzung", "продолжение", "续表"), whatever
   category that caption was read as;
3. most rows of both cover the same number of columns, spans expanded: a cell split or
   dropped in one row does not count (:func:`..tables.join_tables`).

Furniture is judged by :mod:`.furniture` (position, shape, repetition), not by the category
alone: a page number read as Text or a running head read as Section-header between the parts
does not keep them apart.

In element mode the parts become one Table Document: the header once (a header row the next
page repeats is dropped, up to :data:`..tables.MAX_HEADER_ROWS` rows), then every body row in
order; the id, ``page``, box and section of the first part; ``pages`` and ``page_boxes`` list
every part. It stands where its first part stood when the table ends on the next page; a
table over three pages or more stands where its last part stood (the pages before it cannot
wait: at most one page is held back). Captions and footnotes of any part are the joined
table's. In page and single mode each part stays on its page, marked (see :mod:`.markdown`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..tables import join_tables
from .captions import caption_kind
from .page import Item, Origin, Page
from .steps import Step

#: How near the page's bottom a table must end, and the next page's table start, to be one
#: table: a share of the page's height.
NEAR_EDGE = 0.2
_CONTINUED = re.compile(
    r"\bcont(?:inued|inues|'?d|\.)|fortsetzung|\bforts\.|\bsuite\b|продолжение|续表|續表", re.I
)


def _body(page: Page) -> list[int]:
    """The page's own elements but its furniture (a joined table placed here from an earlier
    page is not the page's own: it ended here)."""
    return [
        i
        for i, it in enumerate(page.items)
        if not it.furniture and it.origin is None
    ]


def _centre(item: Item) -> float:
    return (item.element.bbox[1] + item.element.bbox[3]) / 2


def trailing_table(page: Page) -> int | None:
    """The index of the table a page ends with, near its bottom; None if it ends otherwise.

    Elements read after it do not count when they are its own captions or footnotes, or lie
    above it (a model reads two neighbours in the wrong order now and then)."""
    body = _body(page)
    tables = [i for i in body if page.items[i].category == "Table"]
    if not tables:
        return None
    t = tables[-1]
    table = page.items[t]
    after = [page.items[i] for i in body if i > t]
    top = table.element.bbox[1]
    if any(it.belongs_to != table.id and _centre(it) >= top for it in after):
        return None
    mine = [it for it in after if it.belongs_to == table.id]
    bottom = max(it.element.bbox[3] for it in (table, *mine))
    return t if bottom >= (1 - NEAR_EDGE) * page.info.height else None


def leading_table(page: Page) -> int | None:
    """The index of the table a page starts with, near its top; None if it starts otherwise.

    Elements read before it do not count when they are a caption that says the table is
    continued, or lie below it (read in the wrong order)."""
    body = _body(page)
    tables = [i for i in body if page.items[i].category == "Table"]
    if not tables:
        return None
    t = tables[0]
    table = page.items[t]
    before = [page.items[i] for i in body if i < t]
    bottom = table.element.bbox[3]
    if any(not _continued_caption(it) and _centre(it) <= bottom for it in before):
        return None
    return t if table.element.bbox[1] <= NEAR_EDGE * page.info.height else None


def _continued_caption(item: Item) -> bool:
    """A caption that says its table is continued, whatever category it was read as."""
    if item.category in ("Table", "Picture") or not _CONTINUED.search(item.text):
        return False
    return item.category == "Caption" or caption_kind(item.text) == "Table"


def _remap(page: Page, old: str, new: str) -> None:
    """Captions and footnotes of a part that is joined into another item point at that item."""
    page.items = [replace(it, belongs_to=new) if it.belongs_to == old else it for it in page.items]


@dataclass
class _Chain:
    """A table joined over pages so far, waiting to see whether the held page's part goes on."""

    table: Item  # the joined table (the first part's id and place)
    tail: str  # the id of the last part joined, an item of the page held back


class TableJoin(Step):
    """Joins tables across pages (``join``: element mode) or marks them (page and single)."""

    def __init__(self, join: bool) -> None:
        self.join = join
        self.chain: _Chain | None = None

    def wants_next(self, page: Page) -> bool:
        return trailing_table(page) is not None

    def release(self, page: Page, following: Page | None) -> None:
        if self.join:
            self._join(page, following)
        else:
            self._mark(page, following)

    def _continuation(self, html: str, page: Page, following: Page | None) -> int | None:
        """The index of the part of ``following`` that continues the table ``html`` ending
        ``page``, if any."""
        if following is None or following.info.index != page.info.index + 1:
            return None
        n = leading_table(following)
        if n is None or join_tables(html, following.items[n].text) is None:
            return None
        return n

    def _mark(self, page: Page, following: Page | None) -> None:
        t = trailing_table(page)
        if t is None or following is None:
            return
        n = self._continuation(page.items[t].text, page, following)
        if n is not None:
            page.items[t] = replace(page.items[t], continues=True)
            following.items[n] = replace(following.items[n], continued=True)

    def _join(self, page: Page, following: Page | None) -> None:
        if self.chain is not None:
            self._go_on(page, following, self.chain)
        t = trailing_table(page)
        if t is None or following is None or self.chain is not None:
            return
        head = page.items[t]
        n = self._continuation(head.text, page, following)
        if n is None:
            return
        origin = Origin(page.info, page.label)
        table = replace(head, origin=origin, spans=((page.info.index, head.element.bbox),))
        table = self._absorb(table, following, n)
        if trailing_table(following) == n:  # it may go on: wait for the page after
            del page.items[t]
            self.chain = _Chain(table, following.items[n].id)
        else:
            page.items[t] = replace(table, origin=None)
            del following.items[n]

    def _go_on(self, page: Page, following: Page | None, chain: _Chain) -> None:
        """Carry the chain into ``following``, or end it on ``page``."""
        tail = next(i for i, it in enumerate(page.items) if it.id == chain.tail)
        n = None
        if trailing_table(page) == tail:
            n = self._continuation(chain.table.text, page, following)
        if n is None or following is None:
            page.items[tail] = chain.table
            self.chain = None
            return
        del page.items[tail]
        table = self._absorb(chain.table, following, n)
        if trailing_table(following) == n:
            self.chain = _Chain(table, following.items[n].id)
        else:
            following.items[n] = table
            self.chain = None

    def _absorb(self, table: Item, following: Page, n: int) -> Item:
        """``table`` with part ``n`` of ``following`` joined to it."""
        part = following.items[n]
        html = join_tables(table.text, part.text)
        assert html is not None  # checked by _continuation
        _remap(following, part.id, table.id)
        return replace(
            table,
            text=html,
            spans=(*table.spans, (following.info.index, part.element.bbox)),
            caption="\n".join(filter(None, (table.caption, part.caption))),
            footnotes="\n".join(filter(None, (table.footnotes, part.footnotes))),
        )
