"""A scanned newspaper page: many narrow columns of small text elements and no blank band to
cut along.

A newspaper is the page an XY-cut cannot take apart: its columns' lines do not line up (each
article sets its own), so no row is blank across the page, and headlines span two columns, so
no gutter runs from top to bottom. Only the masthead and the folio stand apart. The body is
:data:`COLUMNS` columns of one-line blocks, alternate columns half a line lower (a blank row of
one column is ink in the next), and headlines over two columns at staggered heights, each
gutter crossed at least once. Drawn as an image (``make_pdf``'s default), like a scan.
"""

from __future__ import annotations

from .scene import Box, PageSpec, dense_ids, page_footer_box

COLUMNS = 8
WIDTH, HEIGHT = 792.0, 1224.0  # Tabloid, points
MARGIN = 36.0
GUTTER = 6.0
BLOCK = 0.62  # a block's share of its line pitch; the rest is the gap under it


def newspaper_page(pitch: float = 10.2, page_n: int = 0) -> PageSpec:
    """The page; ``pitch`` (points) sets how many blocks each column holds."""
    top, bottom = MARGIN + 40.0, HEIGHT * 0.95 - 12.0
    width = (WIDTH - 2 * MARGIN - (COLUMNS - 1) * GUTTER) / COLUMNS
    left = [MARGIN + c * (width + GUTTER) for c in range(COLUMNS)]
    # Two headlines over each gutter, all at different heights (one in 14 of the column apart):
    # no two overlap, and each column is crossed at other heights by its two gutters.
    span = bottom - top - 2 * pitch
    heads = [
        (c, top + (0.05 + 0.9 * ((2 * c + 7 * k) % 14 + 0.5) / 14) * span)
        for k in range(2)
        for c in range(COLUMNS - 1)
    ]
    head_boxes = [(left[c], y, left[c] + 2 * width + GUTTER, y + 1.6 * pitch) for c, y in heads]
    slots = []
    for c in range(COLUMNS):
        y = top + (pitch / 2 if c % 2 else 0.0)
        while y + BLOCK * pitch <= bottom:
            box = (left[c], y, left[c] + width, y + BLOCK * pitch)
            if not any(_near(box, h, 0.3 * pitch) for h in head_boxes):
                slots.append(box)
            y += pitch
    ids = dense_ids(len(slots))
    boxes = [Box("Title", 0, MARGIN, MARGIN, WIDTH - MARGIN, MARGIN + 28)]
    # Reading order: column by column, a headline where its first column reaches it.
    items = [(c, y, "head", k) for k, (c, y) in enumerate(heads)]
    items += [(round((s[0] - MARGIN) / (width + GUTTER)), s[1], "block", k)
              for k, s in enumerate(slots)]
    for _, _, kind, k in sorted(items):
        if kind == "head":
            x0, y0, x1, y1 = head_boxes[k]
            boxes.append(Box("Title", 1 + k, x0, round(y0, 2), x1, round(y1, 2)))
        else:
            x0, y0, x1, y1 = slots[k]
            category, n = ids[k]
            boxes.append(Box(category, n, round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)))
    boxes.append(page_footer_box(page_n, WIDTH, HEIGHT))
    return PageSpec(WIDTH, HEIGHT, tuple(boxes))


def _near(a: tuple[float, ...], b: tuple[float, ...], margin: float) -> bool:
    return (
        a[0] < b[2] and b[0] < a[2] and a[1] < b[3] + margin and b[1] - margin < a[3]
    )
