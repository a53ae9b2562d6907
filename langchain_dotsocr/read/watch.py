"""Watch a streamed layout answer: cut it when it loops, or when it will not fit its budget.

The overflow estimate: the cells come in reading order, so the ink inside the cells received
so far is how far through the image the answer has got. The tokens the latest cells cost per
pixel of their ink, times the ink not yet covered, is what the rest of the answer will cost.
When the tokens spent plus that exceed the budget (with a margin that leans towards
switching), the answer is cut and the page goes to the dense-page path at once, instead of
spending the whole budget first. The rate comes from the latest cells, not from all of them, so
a title or a picture at the top (much ink for few tokens) does not hide a dense body below.

How it errs: ink stands for text, so it is early when the latest cells are dense markup for
little ink (a table: more tokens per ink than the rest) and late when they are much ink for few
tokens (a large picture, bold display type) with dense text to come. Early costs little: the
rest of the page is read in parts, each cell once, in parallel. Late costs what it missed.
"""

from __future__ import annotations

import itertools
import json
import re

from ..client import Watcher
from ..layout import judge_box
from ..repetition import LoopDetector
from .ink import Box, Ink

CHECK_EVERY = 1024  # characters between estimates
MIN_CELLS = 8  # cells in the window the rate is measured over ...
MIN_SHARE = 0.02  # ... and the share of the image's ink they cover
# Switch when the estimated length passes this share of the budget: a page that would just fit
# is read in tiles, which costs little more and is faster, while one that just would not costs
# the whole budget.
SWITCH_AT = 0.9

_CELL_START = re.compile(r'\{\s*"bbox"')
OVERFLOW = "overflow: "
LOOP = "loop: "


class OverflowWatch:
    """Estimates an answer's length from the ink its cells cover; names an overflow early."""

    def __init__(self, budget: int, ink: Ink, area: Box | None = None) -> None:
        self.budget = budget
        self.ink = ink
        # Where the image sent lies on the page the ink map is of (all of it by default).
        self.area = area or (0.0, 0.0, float(ink.image.width * ink.scale),
                             float(ink.image.height * ink.scale))
        self.total = ink.amount(self.area)
        self.text = ""
        self._checked = 0
        self._pos = 0
        self.cells = 0
        self.covered = 0.0
        # (cells, covered, tokens) at the start of the window the rate is measured over.
        self._window = (0, 0.0, 0)

    def feed(self, delta: str, tokens: int) -> str | None:
        self.text += delta
        if len(self.text) - self._checked < CHECK_EVERY or self.total <= 0:
            return None
        self._checked = len(self.text)
        self._take_cells()
        cells, covered, spent = self._window
        if self.cells - cells < MIN_CELLS or (self.covered - covered) < MIN_SHARE * self.total:
            return None
        if tokens < min(1024, self.budget // 4):
            return None
        rate = (tokens - spent) / (self.covered - covered)
        estimate = tokens + rate * max(0.0, self.total - self.covered)
        # The next window starts halfway through this one: the rate follows the page.
        self._window = (
            (cells + self.cells) // 2,
            (covered + self.covered) / 2,
            (spent + tokens) // 2,
        )
        if estimate <= SWITCH_AT * self.budget:
            return None
        share = self.covered / self.total
        return (
            f"{OVERFLOW}{tokens} tokens read {share:.0%} of the image's ink: about "
            f"{estimate:.0f} needed, {self.budget} allowed"
        )

    def _take_cells(self) -> None:
        starts = [m.start() for m in _CELL_START.finditer(self.text, self._pos)]
        dx, dy = self.area[0], self.area[1]
        for begin, end in itertools.pairwise(starts):
            self._pos = end
            raw = self.text[begin:end].rstrip().rstrip(",").rstrip()
            try:
                cell = json.loads(raw)
            except ValueError:
                continue
            box, _ = judge_box(cell.get("bbox") if isinstance(cell, dict) else None, 10**6, 10**6)
            if box is None:
                continue
            self.cells += 1
            self.covered += self.ink.amount((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy))


def watcher(budget: int, ink: Ink | None, area: Box | None = None) -> Watcher:
    """A fresh watcher for one try: loops always, overflow when the page's ink is known.

    ``area``: where the image sent lies on the page, when it is a part of the page.
    """
    loops = LoopDetector()
    overflow = OverflowWatch(budget, ink, area) if ink is not None else None

    def feed(delta: str, tokens: int) -> str | None:
        reason = loops.feed(delta, tokens)
        if reason is None and overflow is not None:
            reason = overflow.feed(delta, tokens)
        return reason

    return feed
