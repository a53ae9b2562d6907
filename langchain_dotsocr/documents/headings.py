"""Heading levels and section paths: which headings each element sits under.

dots.ocr tells only ``Title`` from ``Section-header``, and now and then reads a section header
as ``Text``: a numbered line set bigger than the body text is taken for one whatever its
category (:func:`read_as_text`). A page's items are placed in reading order, except that a
heading the model read just before or after a neighbour in the same column that its box is on
the other side of (two neighbouring cells read the wrong way round) is put back in the order
of their boxes (:func:`box_order`): only the paths go by that order, the elements stay in the
model's. The level of a section header is inferred by the first rule that says something
(see :func:`heading_level`):

1. a heading that looks like a title is level 1: read as ``Title`` (or, on the first page,
   before any title or numbered heading, at the top of the page below the running head's band
   (:data:`.furniture.BAND`) and at least :data:`TITLE_SIZE` times the body text's size,
   read as ``Section-header``), not numbered, and on one of the first :data:`TITLE_PAGES`
   pages, or at least :data:`TITLE_SIZE` times the body text, or about as big as the first
   title or bigger (a file of several documents, each with its title), or of a size that
   cannot be told (no body text to measure it by). A
   ``Title`` that does not look like one (a section header the model misread) goes by the
   rules below, so it does not re-root every path after it;
2. its numbering: ``3`` or ``III.`` or ``Chapter 3`` is level 2, ``3.2`` or ``A.1`` level 3,
   ``3.2.1`` level 4 (one level per number), ``第3章`` level 2, ``第2节`` level 3; a number
   read with a character wrong counts as meant, and one that does not continue the numbering
   above it but is one character off a number that would is taken for that one (``3.`` under
   ``3`` is ``3.1``): see :mod:`.numbering`;
3. its Markdown marks, when the model wrote three or more ``#`` (one or two are what it writes
   for any section header, so they say nothing);
4. an unnumbered heading followed on its page (no heading between) by a numbered one whose
   parent number would come next but is not open (``3.1`` after ``2.2``, no ``3``) is that
   parent with its number misread or lost: its level (see :func:`anchored`). Without this,
   the ``3.x`` sections that follow go under ``2``;
5. its size relative to the body text (the page's Text and List-item elements, or the last
   page that had some): about as big as a heading on the current path, it is that heading's
   sibling; smaller than the deepest one, it goes below it; bigger, it goes up;
6. else level 2.

Levels are capped at 6, Markdown's deepest. A heading closes every open heading of its level
or deeper, so a heading the model dropped costs only the paths under it: the next heading of
its level or above, numbered or not, closes it as it would have.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..layout import Box
from .furniture import BAND
from .numbering import Number, continued, following, numbering_depth
from .page import HEADINGS, Item, Page
from .steps import Step

MAX_LEVEL = 6
#: The pages a title may stand on whatever its size (a cover and a title page).
TITLE_PAGES = 2
#: How much bigger than the body text a title is, at least, where size decides.
TITLE_SIZE = 1.8
#: A numbered line read as Text is a section header when set this much bigger than the body.
HEADER_SIZE = 1.15
#: The longest such line.
HEADER_CHARS = 80
#: The top share of the first page where a title read as Section-header may stand.
TITLE_TOP = 0.3
PATH_SEPARATOR = " > "
# Two headings whose sizes differ by less than this share are taken for the same level.
SIZE_TOLERANCE = 0.12
# Elements whose text is shorter than this say little about the body's type size.
BODY_MIN_CHARS = 20
BODY_CATEGORIES = ("Text", "List-item")
#: How far two boxes may overlap, as a share of the lower one's height, and still be one
#: under the other (boxes wobble by a few units).
OVERLAP = 0.25


def heading_text(text: str) -> str:
    """A heading's text as it goes into a path: no ``#`` marks, emphasis or line breaks."""
    text = text.strip().lstrip("#").strip()
    text = re.sub(r"\*\*|__", "", text)
    return " ".join(text.split())


def markdown_depth(text: str) -> int | None:
    """The ``#`` count of a heading when it says something (three or more), else None."""
    marks = len(text) - len(text.lstrip("#"))
    return marks if marks >= 3 else None


def type_size(item: Item) -> float | None:
    """An estimate of an element's type size in page units: each character covers about the
    square of the size, whatever the number of lines."""
    x0, y0, x1, y1 = item.element.bbox
    chars = len(heading_text(item.text)) if item.category in HEADINGS else len(item.text)
    if chars == 0 or x1 <= x0 or y1 <= y0:
        return None
    return math.sqrt((x1 - x0) * (y1 - y0) / chars)


def body_size(items: list[Item]) -> float | None:
    """The median type size of the page's body text, None when it has none to go by."""
    sizes = [
        s
        for it in items
        if it.category in BODY_CATEGORIES and len(it.text) >= BODY_MIN_CHARS
        if (s := type_size(it)) is not None
    ]
    return statistics.median(sizes) if sizes else None


@dataclass(frozen=True)
class Open:
    """A heading on the current path."""

    level: int
    text: str
    id: str
    ratio: float | None  # type size relative to the body text, when known
    number: Number | None = None  # its plain section number (see .numbering), when it has one


def numbers(path: Sequence[Open]) -> list[Number]:
    """The plain numbers of the headings on ``path``, outermost first."""
    return [h.number for h in path if h.number is not None]


def level_by_size(ratio: float, path: list[Open]) -> int:
    """The level of an unnumbered heading of relative size ``ratio`` under ``path``."""
    for above in reversed(path):
        if above.ratio is None:
            continue
        if abs(ratio - above.ratio) <= SIZE_TOLERANCE * above.ratio:
            return max(2, above.level)
        if ratio < above.ratio:
            return above.level + 1
    return 2


def anchored(after: str | None, path: Sequence[Open]) -> Number | None:
    """Rule 4 of the module: the number an unnumbered heading stands for when the next heading
    on its page, ``after``, is numbered under a parent that would come next under ``path``
    but is not open (``3`` for a ``3.1`` after ``2.2``), else None."""
    if after is None:
        return None
    _, number = continued(after, numbers(path))
    if number is None or len(number) < 2:
        return None
    parent = number[:-1]
    return parent if parent in following(numbers(path)) else None


def looks_like_title(item: Item, ratio: float | None, where: Where) -> bool:
    """Rule 1 of the module: whether a heading is the document's title, read as either."""
    if numbering_depth(heading_text(item.text)) is not None:
        return False
    large = ratio is not None and ratio >= TITLE_SIZE
    if item.category == "Title":
        if ratio is None:  # no body text to measure it by: as it was read
            return True
        as_first = where.title is not None and ratio >= (1 - SIZE_TOLERANCE) * where.title
        return where.page < TITLE_PAGES or large or as_first
    y0, y1 = item.element.bbox[1], item.element.bbox[3]
    # Below the running head's band (a running head read as Section-header is no title).
    top = BAND * where.height <= y0 and y1 <= TITLE_TOP * where.height
    return where.page == 0 and where.first and top and large


@dataclass(frozen=True)
class Where:
    """Where a heading stands: its page, the page's height, whether neither a title nor a
    numbered heading came before it, the first title's size (relative to the body), and
    the text of the next heading on its page, if any."""

    page: int
    height: float
    first: bool
    title: float | None = None
    after: str | None = None


def heading_level(
    item: Item, ratio: float | None, path: list[Open], where: Where | None = None
) -> tuple[int, Number | None]:
    """The level of a heading, by the first rule of the module's list that says something
    (without ``where``, a ``Title`` is taken to look like one), and its plain number."""
    if item.category == "Title" if where is None else looks_like_title(item, ratio, where):
        return 1, None
    text = heading_text(item.text)
    depth, number = continued(text, numbers(path))
    if depth is not None:
        level = 1 + depth
    elif (marks := markdown_depth(item.text.strip())) is not None:
        level = marks
    elif (number := anchored(where.after if where else None, path)) is not None:
        level = 1 + len(number)
    elif ratio is not None:
        level = level_by_size(ratio, path)
    else:
        level = 2
    return min(level, MAX_LEVEL), number


def read_as_text(item: Item, ratio: float | None) -> bool:
    """Whether a Text or List-item is a section header the model read as text: one short
    line that starts with a section number (:func:`numbering_depth`), does not end as a
    sentence does, and is set at least :data:`HEADER_SIZE` times the body text's size."""
    text = item.text.strip()
    return (
        item.category in BODY_CATEGORIES
        and ratio is not None
        and ratio >= HEADER_SIZE
        and 0 < len(text) <= HEADER_CHARS
        and "\n" not in text
        and text[-1] not in ".:;,!?"
        and numbering_depth(heading_text(text)) is not None
    )


def below(a: Box, b: Box) -> bool:
    """Whether box ``a`` lies under box ``b`` in the same column: they share some width and
    ``a`` starts where ``b`` ends or lower (within :data:`OVERLAP` of the smaller height)."""
    across = min(a[2], b[2]) - max(a[0], b[0])
    slack = OVERLAP * min(a[3] - a[1], b[3] - b[1])
    return across > 0 and a[1] >= b[3] - slack


def box_order(boxes: Sequence[Box], headings: Sequence[bool]) -> list[int]:
    """The order to place a page's items in for their paths: the reading order, with every
    pair of neighbours of which one is a heading and the first read lies under the second
    (:func:`below`) put back the other way round. Two columns share no width, so a heading
    at the top of the next column stays where it was read."""
    order = list(range(len(boxes)))
    k = 0
    while k + 1 < len(order):
        a, b = order[k], order[k + 1]
        if (headings[a] or headings[b]) and below(boxes[a], boxes[b]):
            order[k], order[k + 1] = b, a
            k += 2
        else:
            k += 1
    return order


class Sections(Step):
    """Gives every item its section path, and headings their level; the path carries across
    pages, so pages must come in order."""

    def __init__(self) -> None:
        self.path: list[Open] = []
        self.body: float | None = None
        self.opened = False  # a title or a numbered heading came
        self.title: float | None = None  # the first title's size relative to the body

    @property
    def section_path(self) -> str:
        """The current path, outermost heading first."""
        return PATH_SEPARATOR.join(h.text for h in self.path)

    @property
    def section(self) -> str:
        """The innermost heading of the current path."""
        return self.path[-1].text if self.path else ""

    def arrive(self, page: Page) -> None:
        self.body = body_size(page.items) or self.body
        items = page.items
        ratios = [self._ratio(it) for it in items]
        texts = [
            heading_text(it.text)
            if not it.furniture and (it.category in HEADINGS or read_as_text(it, r))
            else ""
            for it, r in zip(items, ratios, strict=True)
        ]
        order = box_order([it.element.bbox for it in items], [bool(t) for t in texts])
        placed: dict[int, Item] = {}
        for k, i in enumerate(order):
            after = next((texts[j] for j in order[k + 1 :] if texts[j]), None)
            where = Where(page.info.index, page.info.height, not self.opened, self.title, after)
            placed[i] = self._place(items[i], ratios[i], texts[i], where)
        page.items = [placed[i] for i in range(len(items))]

    def _ratio(self, item: Item) -> float | None:
        size = type_size(item)
        return size / self.body if size is not None and self.body else None

    def _place(self, item: Item, ratio: float | None, text: str, where: Where) -> Item:
        level = 0
        if text:
            level, number = heading_level(item, ratio, self.path, where)
            numbered = number is not None or numbering_depth(text) is not None
            self.opened = self.opened or level == 1 or numbered
            if level == 1 and self.title is None:
                self.title = ratio
            while self.path and self.path[-1].level >= level:
                self.path.pop()
            parent = self.path[-1].id if self.path else ""
            self.path.append(Open(level, text, item.id, ratio, number))
        else:
            parent = self.path[-1].id if self.path else ""
        return replace(
            item,
            heading_level=level,
            section=self.section,
            section_path=self.section_path,
            parent_id=parent,
        )
