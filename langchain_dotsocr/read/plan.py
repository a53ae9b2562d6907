"""Cut a page into parts whose answers fit, along blank rows and columns, never through a line.

The cut is recursive (an XY-cut): a part whose estimated answer exceeds the target, or whose
image the model cannot take, is cut at the best blank band inside it, and each side is planned
again. The parts come out in the order of the cuts (top before bottom, left before right), which
is a column-aware reading order. A cut never passes through a known cell (one already read, or
the cell an answer was cut in), so an element is never split in two when its box is known.

Which band: first one that parts what is already read from what is not (nothing is read twice),
then the widest (the gutter between columns before the gap between paragraphs, the gap between
paragraphs before the gap between lines), then the one that halves the work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from .ink import Box, Ink

# Ink a received cell's box is grown by when its ink counts as read (the model's boxes are
# tight, anti-aliased edges are not).
READ_MARGIN = 4.0
# A part with no more unread ink than this (page pixels: less than a couple of characters, more
# than specks of dust) is already read. Absolute, not a share: one unread line in a column of
# read ones is a small share and still must be read.
SPECKS = 100.0


@dataclass(frozen=True)
class Part:
    """A part of the page to read (page pixels): the box of its ink, the blank room around it
    up to the cuts, and whether no cut was possible."""

    box: Box
    room: Box
    single: bool = False


@dataclass(frozen=True)
class _Cut:
    at: float
    axis: int  # 1: a horizontal cut (split on y), 0: a vertical one (split on x)
    parts_read: bool  # one side holds only what is already read
    width: float
    balance: float


class Planner:
    """Plans the parts of a page (or of a part) from its ink and the cells known on it."""

    def __init__(
        self,
        ink: Ink,
        *,
        known: list[Box],
        read: list[Box],
        rate: float,
        target: float,
        fits: Callable[[Box], bool],
    ) -> None:
        self.ink = ink
        self.unread = ink.without(read, READ_MARGIN) if read else ink
        self.known = known
        self.rate = rate  # output tokens per pixel of ink
        self.target = target  # output tokens one part may need
        self.fits = fits

    def cost(self, box: Box) -> float:
        """Estimated output tokens to read ``box``."""
        return self.rate * self.ink.amount(box)

    def is_read(self, box: Box) -> bool:
        return self.unread.amount(box) <= SPECKS

    def plan(self, box: Box) -> list[Part]:
        """The parts of ``box`` still to read, in reading order."""
        room = box
        trimmed = self.ink.trim(box)
        if trimmed is None or self.is_read(trimmed):
            return []
        box = trimmed
        partly_read = self.ink.amount(box) - self.unread.amount(box) > SPECKS
        if self.cost(box) <= self.target and self.fits(box):
            cut = self._cut(box) if partly_read else None
            if cut is None or not cut.parts_read:
                return [Part(box, room)]
        else:
            cut = self._cut(box)
            if cut is None:
                return [Part(box, room, single=True)]
        first, second = _split(room, cut)  # the blank room around the ink goes with it
        return self.plan(first) + self.plan(second)

    def _cut(self, box: Box) -> _Cut | None:
        cuts = [c for axis in (0, 1) for c in self._cuts(box, axis)]
        if not cuts:
            return None
        widest = max(c.width for c in cuts)
        # Widths in four classes of the widest, so the balance decides between equals.
        return max(
            cuts, key=lambda c: (c.parts_read, int(4 * c.width / widest), c.balance, -c.axis)
        )

    def _cuts(self, box: Box, axis: int) -> list[_Cut]:
        gaps = self.ink.gaps(box, axis)
        if not gaps:
            return []
        ink = list(accumulate(self.ink.profile(box, axis)))
        unread = list(accumulate(self.unread.profile(box, axis)))
        origin = self.ink.offset_of(box, axis)
        scale = self.ink.scale
        out = []
        for g0, g1 in gaps:
            free = self._free(box, axis, g0, g1)
            if free is None:
                continue
            at, width = free
            k = min(len(ink) - 1, max(0, int((at - origin) // scale)))
            before, after = ink[k], ink[-1] - ink[k]
            read_before = unread[k] <= SPECKS
            read_after = unread[-1] - unread[k] <= SPECKS
            parts_read = read_before != read_after
            balance = min(before, after) / max(before, after, 1.0)
            out.append(_Cut(at, axis, parts_read, width, balance))
        return out

    def _free(self, box: Box, axis: int, g0: float, g1: float) -> tuple[float, float] | None:
        """The middle and width of the widest stretch of a gap that crosses no known cell."""
        lo, hi = box[1 - axis], box[3 - axis]  # the extent the cut line runs along
        blocked = sorted(
            (k[axis], k[axis + 2])
            for k in self.known
            if k[axis] < g1 and k[axis + 2] > g0 and k[1 - axis] < hi and k[3 - axis] > lo
        )
        best: tuple[float, float] | None = None
        start = g0
        for b0, b1 in [*blocked, (g1, g1)]:
            if b0 > start and (best is None or b0 - start > best[1]):
                best = ((start + b0) / 2, b0 - start)
            start = max(start, b1)
        return best


def _split(box: Box, cut: _Cut) -> tuple[Box, Box]:
    x0, y0, x1, y1 = box
    if cut.axis == 1:
        return (x0, y0, x1, cut.at), (x0, cut.at, x1, y1)
    return (x0, y0, cut.at, y1), (cut.at, y0, x1, y1)
