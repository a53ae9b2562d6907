"""What is read and what is not, on a page read in parts.

A read cell covers its ink as far as that ink goes on past the box (:func:`reach`), so a box the
model drew a few pixels inside its element still covers all of it, and a neighbour beyond a
blank line keeps its own. A part's image shows the read cells whited out (:func:`masked`). A
cell at a part's soft side (a forced cut through ink, :mod:`.plan`) was cut in two when the ink
goes on across that side (:func:`clipped`).
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from .ink import Box, Ink
from .plan import Part

# How far past its box (page pixels, plus GROW of its size) a read cell's ink may reach: its
# anti-aliased edges, and the element itself where the model's box fell inside it (the noisy
# double moves edges by 3 px plus 1% of the size). Only over ink: never across a blank line.
REACH = 12.0
GROW = 0.02
# A cell whose edge lies this close (page pixels, plus GROW of its size) to a soft side of its
# part was cut by that side.
CLIP = 6.0
# Ink of a map line (map pixels; a quarter of a short line) past which a cell's ink goes on.
LINE_SPECKS = 2


def reach(box: Box, ink: Ink) -> Box:
    """``box`` grown over the ink that goes on past its edges, line by line of the map, up to
    :data:`REACH` (plus :data:`GROW` of its size): a read cell's whole ink, and not a pixel of
    a neighbour beyond a blank line, however small the print."""
    out = list(box)
    s = ink.scale
    for side in range(4):
        axis = side % 2
        limit = REACH + GROW * (box[axis + 2] - box[axis])
        outward = 1 if side >= 2 else -1
        edge = box[side]
        while abs(edge - box[side]) < limit:
            a, b = sorted((edge, edge + outward * s))
            line = (a, box[1], b, box[3]) if axis == 0 else (box[0], a, box[2], b)
            area = (line[2] - line[0]) * (line[3] - line[1])
            if ink.amount(line) <= min(LINE_SPECKS * s * s, area / 4):  # blank, or specks
                break
            edge += outward * s
        out[side] = edge
    return (out[0], out[1], out[2], out[3])


def masked(image: Image.Image, area: Box, read: list[Box]) -> Image.Image:
    """``image`` (of ``area`` of the page) with the cells already ``read`` (their boxes as far
    as their ink reaches, :func:`reach`) whited out, as the plan treats them: the model is shown
    only what is left to read."""
    draw = ImageDraw.Draw(image)
    for box in read:
        x0, y0, x1, y1 = box
        if x1 <= area[0] or y1 <= area[1] or x0 >= area[2] or y0 >= area[3]:
            continue
        draw.rectangle(
            (x0 - area[0], y0 - area[1], x1 - area[0] - 1, y1 - area[1] - 1), fill="white"
        )
    return image


def clipped(box: Box, part: Part, ink: Ink) -> Box | None:
    """Whether a cell of ``box`` read in ``part`` was cut in two by one of its soft sides: it
    reaches that side (:data:`CLIP`) and the page's ``ink`` goes on right across it (in the
    map's first line past the side: not a neighbour beyond the blank of a gutter).

    Returns ``None`` for a whole cell; for a cut one, its box reaching :data:`CLIP` across the
    sides that cut it: where an element is known to lie, so no later cut goes there again.
    """
    reach = list(box)
    for side in part.soft:
        axis = side % 2  # 0: a left or right side, 1: a top or bottom one
        extent = box[axis + 2] - box[axis]
        edge = part.room[side]
        if abs(box[side] - edge) > CLIP + GROW * extent:
            continue
        beyond = (edge, edge + ink.scale) if side >= 2 else (edge - ink.scale, edge)
        strip = (
            (beyond[0], box[1], beyond[1], box[3]) if axis == 0
            else (box[0], beyond[0], box[2], beyond[1])
        )
        if ink.amount(strip) > 0:
            reach[side] = edge + 2 * CLIP if side >= 2 else edge - 2 * CLIP
    out = (reach[0], reach[1], reach[2], reach[3])
    return out if out != box else None
