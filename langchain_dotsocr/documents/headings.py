"""Heading levels and section paths: which headings each element sits under.

dots.ocr tells only ``Title`` from ``Section-header``, and now and then reads a section header
as ``Text``: a numbered line set bigger than the body text is taken for one whatever its
category (:func:`read_as_text`). The level of a section header is inferred by the first rule
that says something (see :func:`heading_level`):

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
   read with one character wrong (``2.3.l``, ``2,3.1``, ``2.r``) counts as meant (see
   :func:`mended_number`);
3. its Markdown marks, when the model wrote three or more ``#`` (one or two are what it writes
   for any section header, so they say nothing);
4. its size relative to the body text (the page's Text and List-item elements, or the last
   page that had some): about as big as a heading on the current path, it is that heading's
   sibling; smaller than the deepest one, it goes below it; bigger, it goes up;
5. else level 2.

Levels are capped at 6, Markdown's deepest.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

from .furniture import BAND
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

_ROMAN = r"(?=[IVXLCDM])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_CJK_NUMBER = r"[0-9一二三四五六七八九十百零〇]+"  # noqa: RUF001 (the characters are meant)
_SUBNUMBERS = r"((?:\.\d{1,3})*)"  # the ".2.1" after a first number


def _count_numbers(text: str) -> int:
    return len(re.findall(r"\d+", text))


# (pattern, depth of a match): tried in order on the heading's text without its '#' marks.
_NUMBERING: list[tuple[re.Pattern[str], Callable[[re.Match[str]], int]]] = [
    (
        re.compile(
            rf"(?:chapter|part|kapitel|chapitre|cap[ií]tulo|глава|часть)\s+(?:\d{{1,3}}|{_ROMAN}|[A-Z])\b",
            re.I,
        ),
        lambda m: 1,
    ),
    (
        re.compile(r"(?:section|abschnitt|раздел|§)\s*(\d{1,3}(?:\.\d{1,3})*)", re.I),
        lambda m: _count_numbers(m.group(1)),
    ),
    (
        re.compile(
            r"(?:appendix|annex|anhang|annexe|приложение)\s+(?:[A-ZА-Я]|\d{1,3})\b" + _SUBNUMBERS,  # noqa: RUF001 (the characters are meant)
            re.I,
        ),
        lambda m: 1 + _count_numbers(m.group(1)),
    ),
    (re.compile(rf"第\s*{_CJK_NUMBER}\s*[章篇部]"), lambda m: 1),
    (re.compile(rf"第\s*{_CJK_NUMBER}\s*[节節]"), lambda m: 2),
    (re.compile(r"[一二三四五六七八九十]+\s*[、.．]"), lambda m: 1),  # noqa: RUF001 (the characters are meant)
    (re.compile(r"[（(]\s*[一二三四五六七八九十]+\s*[)）]"), lambda m: 2),  # noqa: RUF001 (the characters are meant)
    (re.compile(r"(\d{1,3}(?:\.\d{1,3})*)[.)]?(?=\s|$)"), lambda m: _count_numbers(m.group(1))),
    (
        re.compile(r"[A-Z](?:((?:\.\d{1,3})+)\.?|[.)])(?=\s|$)"),
        lambda m: 1 + _count_numbers(m.group(1) or ""),
    ),
    (
        re.compile(_ROMAN + r"(?:((?:\.\d{1,3})+)\.?|[.)])(?=\s|$)"),
        lambda m: 1 + _count_numbers(m.group(1) or ""),
    ),
]


def heading_text(text: str) -> str:
    """A heading's text as it goes into a path: no ``#`` marks, emphasis or line breaks."""
    text = text.strip().lstrip("#").strip()
    text = re.sub(r"\*\*|__", "", text)
    return " ".join(text.split())


_NUMBER_LIKE = re.compile(r"[0-9lI|Oo,.:;]+(?=[\s)]|$)")
_MISREAD = str.maketrans("lI|Oo,:;", "11100...")


def mended_number(text: str) -> str:
    """``text`` with its leading section number mended when one character of it was misread
    (``2.3.l`` → ``2.3.1``, ``2,3.1`` → ``2.3.1``): a run of digits and dots with at most one
    character that a model reads for a digit or a dot; anything else is left as it is."""
    m = _NUMBER_LIKE.match(text)
    if m is None:
        return text
    token = m.group(0)
    wrong = sum(1 for ch in token if not (ch.isdigit() or ch == "."))
    if wrong != 1 or not any(ch.isdigit() for ch in token) or token[-1] in ",:;":
        return text
    mended = token.translate(_MISREAD)
    if not re.fullmatch(r"\d{1,3}(?:\.\d{1,3})*\.?", mended):
        return text
    return mended + text[m.end() :]


def numbering_depth(text: str) -> int | None:
    """How deep a heading's numbering is (``3`` 1, ``3.2`` 2, ``A.1`` 2), None if unnumbered;
    a number with one misread character counts as meant (:func:`mended_number`)."""
    text = mended_number(text)
    for pattern, depth in _NUMBERING:
        m = pattern.match(text)
        if m and (n := depth(m)) > 0:
            return n
    return _misread_depth(text)


_GROUPS = re.compile(r"(\w{1,3}(?:\.\w{1,3})+)\.?(?=\s)")


def _misread_depth(text: str) -> int | None:
    """The depth of a number of two or more groups one of which was read as a letter
    (``2.r``, ``k.3.1``): the groups count, whatever that one says."""
    m = _GROUPS.match(text)
    if m is None:
        return None
    groups = m.group(1).split(".")
    wrong = [g for g in groups if not g.isdigit()]
    if len(wrong) != 1 or len(wrong[0]) != 1 or not wrong[0].isalpha():
        return None
    return len(groups)


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
    numbered heading came before it, and the first title's size (relative to the body)."""

    page: int
    height: float
    first: bool
    title: float | None = None


def heading_level(
    item: Item, ratio: float | None, path: list[Open], where: Where | None = None
) -> int:
    """The level of a heading: the first rule of the module's list that says something
    (without ``where``, a ``Title`` is taken to look like one)."""
    if item.category == "Title" if where is None else looks_like_title(item, ratio, where):
        return 1
    text = heading_text(item.text)
    depth = numbering_depth(text)
    if depth is not None:
        level = 1 + depth
    elif (marks := markdown_depth(item.text.strip())) is not None:
        level = marks
    elif ratio is not None:
        level = level_by_size(ratio, path)
    else:
        level = 2
    return min(level, MAX_LEVEL)


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
        page.items = [self._place(item, page) for item in page.items]

    def _place(self, item: Item, page: Page) -> Item:
        size = type_size(item)
        ratio = size / self.body if size is not None and self.body else None
        heading = item.category in HEADINGS or read_as_text(item, ratio)
        text = heading_text(item.text) if heading and not item.furniture else ""
        level = 0
        if text:
            where = Where(page.info.index, page.info.height, not self.opened, self.title)
            level = heading_level(item, ratio, self.path, where)
            self.opened = self.opened or level == 1 or numbering_depth(text) is not None
            if level == 1 and self.title is None:
                self.title = ratio
            while self.path and self.path[-1].level >= level:
                self.path.pop()
            parent = self.path[-1].id if self.path else ""
            self.path.append(Open(level, text, item.id, ratio))
        else:
            parent = self.path[-1].id if self.path else ""
        return replace(
            item,
            heading_level=level,
            section=self.section,
            section_path=self.section_path,
            parent_id=parent,
        )
