"""Cells read in parts, put back together: each element once, in the page's reading order."""

from __future__ import annotations

from ..layout import Box, Cell

# Two cells of different answers are one region read twice when their boxes overlap this much
# (intersection over the smaller box) and their areas are within AREAS of each other, whatever
# category each answer gave it: a model confuses neighbouring categories (Text and List-item,
# Caption and Text), and a part that held some of what was already read reads it again. A cell
# half the other's size is still the same region (a paragraph one answer split in two); a line
# inside a whole column is not.
SAME = 0.6
AREAS = 2.5
# The later reading replaces the earlier only when it carries this much more text: the
# earlier one saw the region in more context (the whole page before a part), so a tie keeps it.
CLEARLY = 1.5


def merge(cells: list[Cell]) -> list[Cell]:
    """``cells`` (earlier answers first), each region once.

    A cell is dropped as a second reading of a kept cell of another answer (:data:`SAME`,
    :data:`AREAS`), or takes that cell's place when it carries clearly more text
    (:data:`CLEARLY`: the other was cut short or read as a picture). Cells of one answer are
    never merged with each other: the model gave them as distinct elements, even overlapping.
    """
    kept: list[Cell] = []
    for cell in cells:
        i = next((i for i, c in enumerate(kept) if _same(c, cell)), None)
        if i is None:
            kept.append(cell)
        elif len(cell.text or "") > CLEARLY * len(kept[i].text or ""):
            kept[i] = cell
    return kept


def _same(a: Cell, b: Cell) -> bool:
    if a.answer == b.answer and a.answer != 0:
        return False
    areas = sorted((_area(a.bbox), _area(b.bbox)))
    return areas[1] <= AREAS * areas[0] and overlap(a.bbox, b.bbox) >= SAME


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def overlap(a: Box, b: Box) -> float:
    """Intersection of ``a`` and ``b`` over the smaller of them."""
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    smaller = min(_area(a), _area(b))
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
