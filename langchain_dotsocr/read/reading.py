"""A way of reading a page gives a Reading; one rule says which of two readings to keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..layout import Cell

# Why a reading is not complete:
#   loop      the watcher cut a runaway answer (or the same prompt would loop again)
#   overflow  the answer outgrew its output budget without repeating itself
#   broken    the answer ended but was not valid, or had broken boxes
#   timeout   no answer within page_timeout
#   empty     an empty answer, which is also the model's silent failure
#   tiles     a page the model cannot take whole (only read in parts)
Cause = Literal["loop", "overflow", "broken", "timeout", "empty", "tiles"]


@dataclass
class Reading:
    """What one way of reading a page gave: cells (page-image pixels) or, for OCR, text."""

    cells: list[Cell] = field(default_factory=list)
    complete: bool = False
    cause: Cause | None = None
    text: str | None = None  # the plain-text modes
    extraction: str = "ocr"  # how the text of the plain-text modes was read
    tokens: int = 0  # output tokens spent on it
    open: Cell | None = None  # the cell a cut answer ended in, when its box was written

    @property
    def boxed(self) -> int:
        """Cells with a box of the element (not a whole-page OCR blob)."""
        return sum(1 for c in self.cells if c.extraction != "ocr")

    @property
    def chars(self) -> int:
        """Characters of text it carries."""
        if self.text is not None:
            return len(self.text)
        return sum(len(c.text or "") for c in self.cells)


def better(new: Reading, old: Reading | None) -> bool:
    """Whether ``new`` replaces ``old``: only if it carries more.

    More cells with boxes first, then more text, then completeness. So a fallback never trades
    structure for less: a whole-page OCR blob (no box) never replaces cells with boxes, and a
    re-read that dropped cells does not replace the first answer's.
    """
    if old is None:
        return True
    return (new.boxed, new.chars, new.complete) > (old.boxed, old.chars, old.complete)
