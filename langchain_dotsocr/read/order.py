"""Cells read in parts, put back together: each element once, in the page's reading order."""

from __future__ import annotations

from ..layout import Box, Cell

# Two cells of one category whose boxes overlap this much (intersection over the smaller box)
# are one element read twice (a part that held some of what was already read).
SAME = 0.6


def merge(cells: list[Cell]) -> list[Cell]:
    """``cells`` (earlier reads first) without the later reads of an element already there."""
    kept: list[Cell] = []
    for cell in cells:
        same = (c for c in kept if c.category == cell.category)
        if not any(_overlap(c.bbox, cell.bbox) >= SAME for c in same):
            kept.append(cell)
    return kept


def _overlap(a: Box, b: Box) -> float:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def reading_order(cells: list[Cell]) -> list[Cell]:
    """Cells in a column-aware reading order: a recursive cut at the widest gap between them.

    Where a blank band across is widest, top before bottom; where a gutter is widest, left
    before right (a gutter wins a tie, so columns are read one after another). Cells no gap
    separates keep the order they were read in, which was the model's.
    """
    if len(cells) <= 1:
        return list(cells)
    rank = {id(c): i for i, c in enumerate(cells)}
    best: tuple[float, int] | None = None  # the widest gap, and its axis
    for axis in (0, 1):
        for gap, _ in _gaps(cells, axis, rank):
            if best is None or (gap, -axis) > (best[0], -best[1]):
                best = (gap, axis)
    if best is None:
        return list(cells)
    width, axis = best
    groups: list[list[Cell]] = [[]]
    for gap, cell in _gaps(cells, axis, rank, every=True):
        if gap >= width:  # every gap as wide as the widest: one pass for equal gaps
            groups.append([])
        groups[-1].append(cell)
    return [c for g in groups for c in reading_order(sorted(g, key=lambda c: rank[id(c)]))]


def _gaps(
    cells: list[Cell], axis: int, rank: dict[int, int], every: bool = False
) -> list[tuple[float, Cell]]:
    """Along ``axis``: each cell (sorted by its start) with the blank gap before it; only the
    cells after a gap unless ``every``."""
    spans = sorted(cells, key=lambda c: (c.bbox[axis], c.bbox[axis + 2], rank[id(c)]))
    out = []
    reach = spans[0].bbox[axis]
    for c in spans:
        gap = c.bbox[axis] - reach if c is not spans[0] else 0.0
        if every or gap > 0:
            out.append((gap, c))
        reach = max(reach, c.bbox[axis + 2])
    return out
