"""A ``layout_only`` skeleton of a dense page: every element's box and category, no text.

Asked only where it fits: when the elements of the page are few for their text (long
paragraphs), the skeleton's answer (about 16 tokens a cell) costs no more than one part's, and
it gives what the ink alone cannot: where each element begins and ends (no cut splits a
paragraph between its lines) and the model's own reading order for the cells read in parts.
A page of many short elements (a newspaper, a dense scientific page) is read without one:
there the skeleton would cost a large share of the whole answer.
"""

from __future__ import annotations

from ..layout import Box, Cell
from .asking import read_layout
from .context import PageContext
from .reading import Reading

CELL_TOKENS = 16  # a layout_only cell: {"bbox": [x1, y1, x2, y2], "category": "Text"},
MATCH = 0.5  # intersection over the smaller box for a cell to be a skeleton element


async def skeleton(ctx: PageContext, before: Reading | None, budget: float) -> list[Cell]:
    """The skeleton's cells (page-image pixels), or none where it does not fit ``budget``."""
    page = ctx.page
    if not page.whole or ctx.settings.prompt_mode != "layout_all" or before is None:
        return []
    ink, total = page.ink, page.ink.total
    covered = sum(ink.amount(c.bbox) for c in before.cells)
    if len(before.cells) < 2 or total <= 0 or covered <= 0:
        return []
    elements = len(before.cells) * total / covered  # as many per ink as so far
    if elements * CELL_TOKENS > budget:
        return []
    reading = await read_layout(ctx, page.image, mode="layout_only", extraction="skeleton")
    return reading.cells


def skeleton_order(cells: list[Cell], bones: list[Cell]) -> list[Cell]:
    """``cells`` (in a column-aware order) with those that match a skeleton element put in
    the skeleton's order, each in one of the places such cells held; the others stay put."""
    rank: dict[int, int] = {}
    for i, cell in enumerate(cells):
        match = _best(cell.bbox, bones)
        if match is not None:
            rank[i] = match
    places = sorted(rank)
    ordered = sorted(places, key=lambda i: (rank[i], i))
    out = list(cells)
    for place, i in zip(places, ordered, strict=True):
        out[place] = cells[i]
    return out


def _best(box: Box, bones: list[Cell]) -> int | None:
    best, score = None, MATCH
    for k, bone in enumerate(bones):
        b = bone.bbox
        ix = min(box[2], b[2]) - max(box[0], b[0])
        iy = min(box[3], b[3]) - max(box[1], b[1])
        smaller = min((box[2] - box[0]) * (box[3] - box[1]), (b[2] - b[0]) * (b[3] - b[1]))
        if ix > 0 and iy > 0 and smaller > 0 and ix * iy / smaller >= score:
            best, score = k, ix * iy / smaller
    return best
