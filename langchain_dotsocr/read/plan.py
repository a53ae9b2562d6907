"""Cut a page into parts whose answers fit, along blank rows and columns, only over what is
still unread.

The plan is made on the page's ink with every cell already read taken out (as far as its ink
reaches, :func:`.unread.reach`): the parts' images have those cells whited out too
(:func:`.unread.masked`), so the model sees only what is left, and nothing is read twice.

The cut is recursive (an XY-cut): a part whose estimated answer exceeds the target, or whose
image the model cannot take, is cut at the best blank band of its unread ink, and each side is
planned again. The parts come out in the order of the cuts (top before bottom, left before
right), which is a column-aware reading order. A cut never passes through a known cell (the
cell an answer was cut in, a skeleton's element), so an element is never split in two when its
box is known. Which band: the widest (the gutter between columns before the gap between
paragraphs, the gap between paragraphs before the gap between lines), then the one that halves
the work.

A region with no blank band at all (a newspaper: its columns' lines do not line up, headlines
span the gutters) is cut anyway when ``forced`` is allowed: along the line with the least unread
ink near the middle (a gutter crossed only by a headline), never through a known cell. Such a
cut is a part's *soft* side: a cell at a soft side was cut in two by it, so it is not kept
(:func:`.unread.clipped`) and the next round reads it whole, its neighbours now whited out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from .ink import Box, Ink

# A part with no more unread ink than this (page pixels: less than a couple of characters, more
# than specks of dust) is already read. Absolute, not a share: one unread line in a column of
# read ones is a small share and still must be read.
SPECKS = 100.0


@dataclass(frozen=True)
class Part:
    """A part of the page to read (page pixels): the box of its ink, the room around it up to
    the cuts, whether no cut was possible, and which sides of the room are soft (0 left, 1 top,
    2 right, 3 bottom: cut through ink, see the module's docstring)."""

    box: Box
    room: Box
    single: bool = False
    soft: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Cut:
    at: float
    axis: int  # 1: a horizontal cut (split on y), 0: a vertical one (split on x)
    width: float
    balance: float
    soft: bool = False  # through ink: no blank band was there


class Planner:
    """Plans the parts of a page (or of a part) from its ink and the cells known on it."""

    def __init__(
        self,
        ink: Ink,
        *,
        known: list[Box],
        read: list[Box],  # the read cells' boxes, as far as their ink reaches
        rate: float,
        target: float,
        fits: Callable[[Box], bool],
        forced: bool = False,
    ) -> None:
        self.ink = ink.without(read) if read else ink  # what is unread
        self.known = known
        self.rate = rate  # output tokens per pixel of ink
        self.target = target  # output tokens one part may need
        self.fits = fits
        # Cut through ink where no band is blank: only where the answers have boxes, so a cell
        # cut in two can be told and read again (plain text cannot).
        self.forced = forced

    def cost(self, box: Box) -> float:
        """Estimated output tokens to read what is unread in ``box``."""
        return self.rate * self.ink.amount(box)

    def is_read(self, box: Box) -> bool:
        return self.ink.amount(box) <= SPECKS

    def plan(self, box: Box, soft: tuple[int, ...] = ()) -> list[Part]:
        """The parts of ``box`` still to read, in reading order (``soft``: its soft sides)."""
        room = box
        trimmed = self.ink.trim(box)
        if trimmed is None or self.is_read(trimmed):
            return []
        box = trimmed
        if self.cost(box) <= self.target and self.fits(box):
            return [Part(box, room, soft=soft)]
        cut = self._cut(box) or (self._forced(box) if self.forced else None)
        if cut is None:
            return [Part(box, room, single=True, soft=soft)]
        first, second = _split(room, cut)  # the blank room around the ink goes with it
        return self.plan(first, _sides(soft, cut, 0)) + self.plan(second, _sides(soft, cut, 1))

    def _cut(self, box: Box) -> _Cut | None:
        cuts = [c for axis in (0, 1) for c in self._cuts(box, axis)]
        if not cuts:
            return None
        widest = max(c.width for c in cuts)
        # Widths in four classes of the widest, so the balance decides between equals.
        return max(cuts, key=lambda c: (int(4 * c.width / widest), c.balance, -c.axis))

    def _forced(self, box: Box) -> _Cut | None:
        """The line of the middle half of ``box`` with the least ink per length (a gutter
        crossed by a headline before a row through lines of text), crossing no known cell."""
        best: tuple[float, float, _Cut] | None = None
        for axis in (0, 1):
            profile = self.ink.profile(box, axis)
            origin, scale = self.ink.offset_of(box, axis), self.ink.scale
            length = max(1.0, box[3 - axis] - box[1 - axis])
            lines = len(profile)
            for i in range(lines // 4, lines - lines // 4):
                at = origin + i * scale + scale / 2
                key = (profile[i] / length, abs(i - lines / 2) / lines)
                if best is not None and key >= best[:2]:
                    continue
                if box[axis] < at < box[axis + 2] and not self._crosses_known(box, axis, at):
                    best = (*key, _Cut(at, axis, 0.0, 0.0, soft=True))
        return best[2] if best else None

    def _crosses_known(self, box: Box, axis: int, at: float) -> bool:
        lo, hi = box[1 - axis], box[3 - axis]
        return any(
            k[axis] < at < k[axis + 2] and k[1 - axis] < hi and k[3 - axis] > lo
            for k in self.known
        )

    def _cuts(self, box: Box, axis: int) -> list[_Cut]:
        gaps = self.ink.gaps(box, axis)
        if not gaps:
            return []
        ink = list(accumulate(self.ink.profile(box, axis)))
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
            balance = min(before, after) / max(before, after, 1.0)
            out.append(_Cut(at, axis, width, balance))
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


def _sides(soft: tuple[int, ...], cut: _Cut, half: int) -> tuple[int, ...]:
    """The soft sides of one half of a room cut by ``cut`` (``half`` 0: left or top)."""
    side = cut.axis + 2 if half == 0 else cut.axis  # the side the cut makes
    kept = tuple(s for s in soft if s != side)
    return (*kept, side) if cut.soft else kept
