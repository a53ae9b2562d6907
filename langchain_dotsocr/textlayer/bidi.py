"""Right-to-left writing in the layer: from the order things sit on the page to the order they
are read.

:mod:`.lines` orders a line's characters and words by their place on the page, left to right,
which is the reading order of Latin, Cyrillic, Greek and CJK but the reverse of Hebrew's and
Arabic's. A line whose letters are mostly right-to-left (Unicode bidi classes R and AL) is read
from the right, except that runs of left-to-right letters and digits inside it (a Latin name, a
number) keep their order; in a left-to-right line, runs of right-to-left letters are reversed.
Punctuation and spaces (neutral) go with the run around them. This is the visual-to-logical
inverse of the Unicode bidi algorithm for one level of embedding, which is what a printed line
holds in practice.

Mirrored characters (brackets) need nothing: PDFium already gives a right-to-left glyph its
mirrored code (the ``(`` drawn at a Hebrew word's left edge reads as ``)``), so reversing restores
the text as written; tests check this against PDFium.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

Direction = Literal["R", "L", "N"]
T = TypeVar("T")
# The blocks of right-to-left scripts (Hebrew to Arabic Extended, their presentation forms,
# and the historic ones of the supplementary planes): text without any reads as it sits.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff"
                  "\U0001e800-\U0001efff]")


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds a character of a right-to-left script (one regex scan)."""
    return _RTL.search(text) is not None


def read_order(items: Sequence[T], text_of: Callable[[T], str],
               base: Direction | None = None) -> list[T]:
    """``items`` (left to right on the page) in reading order: :func:`logical` with each
    item's direction from its text and the line's from all of it (or ``base``); as they sit
    in a left-to-right line without a right-to-left character, the usual case, without a
    look at each."""
    texts = [text_of(item) for item in items]
    whole = "".join(texts)
    if base != "R" and not has_rtl(whole):
        return list(items)
    return logical(items, [direction(t) for t in texts], base or direction(whole))


def direction(text: str) -> Direction:
    """The direction of ``text`` as a whole: that of most of its letters (``R`` for Hebrew,
    Arabic and the other right-to-left scripts, bidi classes R and AL); without letters, ``L``
    when it has digits (numbers read left to right in either script), else ``N``
    (punctuation, spaces, marks)."""
    right = left = digits = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            right += 1
        elif kind == "L":
            left += 1
        elif kind in ("EN", "AN"):
            digits += 1
    if right or left:
        return "R" if right > left else "L"
    return "L" if digits else "N"


def logical(items: Sequence[T], directions: Sequence[Direction], base: Direction) -> list[T]:
    """``items``, in the order they sit on the page (left to right), in the order they are read
    in a line of direction ``base`` (``N`` reads as ``L``). ``directions``: each item's own."""
    if base == "R":
        items, directions = items[::-1], directions[::-1]
    against: Direction = "L" if base == "R" else "R"
    out = list(items)
    for start, end in _runs(directions, against):
        out[start:end] = out[start:end][::-1]
    return out


def _runs(directions: Sequence[Direction], kind: Direction) -> list[tuple[int, int]]:
    """The spans of ``kind`` items with only neutral items between them."""
    spans: list[tuple[int, int]] = []
    start = last = -1
    for i, d in enumerate(directions):
        if d == kind:
            start = i if start < 0 else start
            last = i
        elif d != "N" and start >= 0:
            spans.append((start, last + 1))
            start = -1
    if start >= 0:
        spans.append((start, last + 1))
    return spans
