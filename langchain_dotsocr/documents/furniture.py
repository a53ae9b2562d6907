"""Page furniture: running heads, page numbers and footers, whatever category they were read as.

A model confuses a page number with Text and a running head with Section-header now and then,
so the category alone cannot say what is furniture. An element is furniture when it is read
as ``Page-header`` or ``Page-footer``, or when it lies in the top or bottom
:data:`BAND` of its page, is short (one line of at most :data:`MAX_CHARS` characters) and
either is a bare page number (``12``, ``- 12 -``, ``Page 12 of 40``) or repeats, in the same
band, the text of an element of the page before (a running head), within
:data:`SIMILAR` of it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rapidfuzz.distance import Levenshtein

from ..layout import Element
from ..prompts import PAGE_FURNITURE
from .page import Page
from .steps import Step

#: The share of the page's height, at the top and at the bottom, where furniture stands.
BAND = 0.08
#: The longest text a running head or footer read under another category may have.
MAX_CHARS = 80
#: Normalised edit distance below which two running heads are the same one.
SIMILAR = 0.25
_BARE_NUMBER = re.compile(
    r"[\s\-–—|·•*_\[\]()]*(?:(?:page|p\.|pg\.?|seite|s\.|стр\.?|с\.)\s*)?"  # noqa: RUF001 (meant)
    r"(?:\d{1,5}|[ivxlcdm]{1,8}|[IVXLCDM]{1,8})(?:\s*(?:of|/|из|von)\s*\d{1,5})?"
    r"[\s\-–—|·•*_\[\]()]*",  # noqa: RUF001 (the characters are meant)
    re.I,
)


def band(element: Element, page_height: float) -> str | None:
    """``"top"`` or ``"bottom"`` when the element lies wholly in that band of the page."""
    if page_height <= 0:
        return None
    if element.bbox[3] <= BAND * page_height:
        return "top"
    if element.bbox[1] >= (1 - BAND) * page_height:
        return "bottom"
    return None


def _short(text: str) -> bool:
    return 0 < len(text) <= MAX_CHARS and "\n" not in text.strip()


def _plain(text: str) -> str:
    return " ".join(text.strip().lstrip("#").replace("*", "").split()).lower()


class Furniture(Step):
    """Marks each page's furniture (``Item.furniture``), remembering the last page's bands
    for running heads; the first step, so that every other step can go by the mark."""

    def __init__(self) -> None:
        self._before: dict[str, list[str]] = {"top": [], "bottom": []}
        self._index: int | None = None
        self._seen: dict[str, list[str]] = {"top": [], "bottom": []}

    def arrive(self, page: Page) -> None:
        flags = self.page(page.info.index, [it.element for it in page.items], page.info.height)
        page.items = [replace(it, furniture=f) for it, f in zip(page.items, flags, strict=True)]

    def page(self, index: int, elements: list[Element], page_height: float) -> list[bool]:
        """Which of a page's elements are furniture; pages must come in order."""
        if self._index is not None and index == self._index + 1:
            self._before = self._seen
        elif self._index != index:
            self._before = {"top": [], "bottom": []}
        self._index = index
        self._seen = {"top": [], "bottom": []}
        out = []
        for element in elements:
            where = band(element, page_height)
            text = element.text or ""
            if where is not None and _short(text):
                self._seen[where].append(_plain(text))
            out.append(element.category in PAGE_FURNITURE or self._looks_so(element, where))
        return out

    def _looks_so(self, element: Element, where: str | None) -> bool:
        text = element.text or ""
        if where is None or not _short(text) or element.category in ("Table", "Picture"):
            return False
        if _BARE_NUMBER.fullmatch(_plain(text)):
            return True
        plain = _plain(text)
        return any(
            Levenshtein.normalized_distance(plain, other) <= SIMILAR
            for other in self._before[where]
        )


def is_furniture(element: Element, page_height: float) -> bool:
    """Furniture on a page seen alone: its category, or a bare page number in a band."""
    if element.category in PAGE_FURNITURE:
        return True
    where = band(element, page_height)
    text = element.text or ""
    return (
        where is not None
        and _short(text)
        and element.category not in ("Table", "Picture")
        and _BARE_NUMBER.fullmatch(_plain(text)) is not None
    )
