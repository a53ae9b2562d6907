"""Heading levels and section paths: which headings each element sits under.

dots.ocr tells only ``Title`` from ``Section-header``; the level of a section header is
inferred by the first rule that says something (see :func:`heading_level`):

1. a ``Title`` is level 1;
2. its numbering: ``3`` or ``III.`` or ``Chapter 3`` is level 2, ``3.2`` or ``A.1`` level 3,
   ``3.2.1`` level 4 (one level per number), ``第3章`` level 2, ``第2节`` level 3;
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

from .page import HEADINGS, Item, Page
from .steps import Step

MAX_LEVEL = 6
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


def numbering_depth(text: str) -> int | None:
    """How deep a heading's numbering is (``3`` 1, ``3.2`` 2, ``A.1`` 2), None if unnumbered."""
    for pattern, depth in _NUMBERING:
        m = pattern.match(text)
        if m and (n := depth(m)) > 0:
            return n
    return None


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


def heading_level(item: Item, ratio: float | None, path: list[Open]) -> int:
    """The level of a heading: the first rule of the module's list that says something."""
    if item.category == "Title":
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


class Sections(Step):
    """Gives every item its section path, and headings their level; the path carries across
    pages, so pages must come in order."""

    def __init__(self) -> None:
        self.path: list[Open] = []
        self.body: float | None = None

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
        page.items = [self._place(item) for item in page.items]

    def _place(self, item: Item) -> Item:
        text = heading_text(item.text) if item.category in HEADINGS else ""
        level = 0
        if text:
            size = type_size(item)
            ratio = size / self.body if size is not None and self.body else None
            level = heading_level(item, ratio, self.path)
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
