"""Page labels: the page number a reader cites ("p. 37", "iv"), not the page's index.

The first of these that gives one is the label:

1. the PDF's own page labels (``/PageLabels``, read by PDFium), when it defines them;
2. a number printed in a page header or footer (``37``, ``- 37 -``, ``Page 37 of 120``,
   ``p. 37``, ``Стр. 37``, ``第37页``, ``iv``; or a running head that starts or ends with one,
   ``37 Results`` or ``Annual Report | 37``), when a neighbouring page parsed in the same run
   prints a number of the same kind that differs by as much as the page indices do; a page
   whose number the previous page does not confirm waits for the next page before it leaves;
   the page before the previous one confirms too, so one unreadable or misread number does
   not unconfirm its neighbours;
3. a page whose own number is unreadable or misread, between two pages whose printed
   numbers confirm each other across it (``36``, ?, ``38``), takes the number between them;
   the last page of the source (or the last before a failed page) whose number is
   unreadable, after a page labelled by its printed number, takes the next number (one that
   prints a number that does not follow is not second-guessed). The first page has no such
   rescue: it would have to wait for two pages;
4. else the page's position, from 1 (an image's frame number).

Headers and footers are told by :mod:`.furniture`: a page number read as Text at the foot of
the page counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .page import Page
from .steps import Step

_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_DECOR = r"[\s\-–—~·•|*_\[\]()]*"  # noqa: RUF001 (the characters are meant)
_NUMBER = r"(?P<n>\d{1,5}|[ivxlcdm]{1,8}|[IVXLCDM]{1,8})"
_OF = r"(?:\s*(?:of|/|von|de|di|sur|из)\s*\d{1,5})?"
_PAGE_WORD = (
    r"(?:pages?|pg\.?|pp?\.|seite|s\.|p[aá]gina|p[aá]g\.?|стр\.?|страница|с\.)"  # noqa: RUF001 (the characters are meant)
)
# (pattern, strength): a whole header or footer that is a page number, strongest first.
_PATTERNS = [
    (re.compile(rf"{_DECOR}{_NUMBER}{_OF}{_DECOR}"), 2),
    (re.compile(rf"{_DECOR}{_PAGE_WORD}\s*{_NUMBER}{_OF}{_DECOR}", re.I), 2),
    (re.compile(rf"{_DECOR}第\s*(?P<n>\d{{1,5}})\s*页.*"), 2),
    (re.compile(r"(?P<n>\d{1,4})\s+\S*[^\W\d_].*"), 1),
    (re.compile(r".*[^\W\d_]\S*\s+(?:[|•·–—-]\s*)?(?P<n>\d{1,4})[\s*_]*"), 1),  # noqa: RUF001 (the characters are meant)
]


@dataclass(frozen=True)
class Printed:
    """A page number printed on a page: its value, its kind and how it was written."""

    value: int
    kind: str  # "arabic", "roman" or "ROMAN"
    token: str
    strength: int  # 2: the header or footer is the number; 1: a running head ending in one


def _roman_value(token: str) -> int | None:
    upper = token.upper()
    if not (token.islower() or token.isupper()) or not _ROMAN.fullmatch(upper):
        return None
    total = 0
    for a, b in zip(upper, [*upper[1:], ""], strict=True):
        v = _ROMAN_VALUES[a]
        total += -v if b and _ROMAN_VALUES[b] > v else v
    return total


def printed_number(text: str) -> Printed | None:
    """The page number that ``text`` (a page header or footer) is or ends with, if any."""
    text = " ".join(text.split())
    for pattern, strength in _PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        token = m.group("n")
        if token.isdigit():
            return Printed(int(token), "arabic", str(int(token)), strength)
        value = _roman_value(token)
        if value is not None and strength == 2:
            return Printed(value, "roman" if token.islower() else "ROMAN", token, strength)
    return None


def _candidates(page: Page) -> list[Printed]:
    found = (printed_number(it.text) for it in page.items if it.furniture)
    return sorted((p for p in found if p is not None), key=lambda p: -p.strength)


def _confirmed(
    mine: list[Printed], index: int, other: list[Printed], other_index: int
) -> Printed | None:
    """The first of ``mine`` that a number of ``other`` (page ``other_index``) agrees with."""
    for p in mine:
        for q in other:
            if p.kind == q.kind and q.value - p.value == other_index - index:
                return p
    return None


def _written(value: int, kind: str) -> str:
    """``value`` written as a page number of ``kind``."""
    if kind == "arabic" or value <= 0:
        return str(value)
    out = ""
    for v, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):
        while value >= v:
            out, value = out + letters, value - v
    return out.lower() if kind == "roman" else out


def _next(p: Printed, pages: int) -> Printed:
    """The number printed ``pages`` pages after ``p``, written the same way."""
    value = p.value + pages
    return Printed(value, p.kind, _written(value, p.kind), p.strength)


class PageLabels(Step):
    """Decides each page's ``page_label``."""

    #: Pages kept for confirming: the page that waits, and the two before it.
    KEEP = 3

    def __init__(self) -> None:
        self._printed: dict[int, list[Printed]] = {}
        self._labelled: dict[int, Printed] = {}  # pages labelled by their printed number
        self._order: list[int] = []  # the indices of the pages that arrived, last ones

    def arrive(self, page: Page) -> None:
        index = page.info.index
        mine = self._printed[index] = _candidates(page)
        page.label = " ".join(page.info.label.split())
        if not page.label:
            for before in reversed(self._order[-2:]):
                found = _confirmed(mine, index, self._printed.get(before, []), before)
                if found is not None:
                    self._label(page, found)
                    break
        self._order = [*self._order, index][-self.KEEP :]

    def _label(self, page: Page, found: Printed) -> None:
        page.label = found.token
        self._labelled[page.info.index] = found

    def wants_next(self, page: Page) -> bool:
        if page.label:
            return False
        before = page.info.index - 1
        return bool(self._printed.get(page.info.index)) or before in self._labelled

    def release(self, page: Page, following: Page | None) -> None:
        index = page.info.index
        if not page.label and following is not None:
            after = following.info.index
            mine = self._printed.get(index, [])
            found = _confirmed(mine, index, self._printed.get(after, []), after)
            if found is None:
                found = self._between(index, after)
            if found is not None:
                self._label(page, found)
        elif not page.label and index - 1 in self._labelled:  # the last page a run reaches
            run = self._labelled[index - 1]
            if not any(p.kind == run.kind for p in self._printed.get(index, [])):
                self._label(page, _next(run, 1))
        page.label = page.label or str(index + 1)
        for old in [k for k in self._printed if k not in self._order]:
            del self._printed[old]
        for old in [k for k in self._labelled if k not in self._order]:
            del self._labelled[old]

    def _between(self, index: int, after: int) -> Printed | None:
        """The number of page ``index`` when the page before it and page ``after`` print
        numbers that confirm each other across it."""
        before = self._printed.get(index - 1, [])
        found = _confirmed(before, index - 1, self._printed.get(after, []), after)
        return None if found is None else _next(found, 1)
