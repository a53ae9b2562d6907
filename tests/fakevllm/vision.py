"""Finding the scene's elements in an image, with Pillow only.

1. Sample the image on a coarse grid (nearest neighbour) and list its colours; keep those that
   match a palette colour within the tolerance.
2. For each, take the coarse bounding box of its samples, crop the full image around it and
   build a mask of matching pixels; keep only 2x2 blocks that match entirely (this drops the
   1 px lines that anti-aliased edges of *other* boxes can leave in a near colour). Its bounding
   box is the element's core, if it is 4 px or more each way and the colour fills at least
   :data:`_SOLID_SHARE` of it: the
   words a page prints on a box (tests/textpdfs.py) leave holes in its colour, and the blended
   edges of their glyphs can match another palette colour in scattered blocks, never solidly.
3. Place each edge to a fraction of a pixel: across the edge, the pixels blend the colour with
   the white page, and the sum of their coverage (how far each is from white towards the
   colour) is the distance from the edge to the inside. Resampling ringing cancels out in the
   sum. Edges are then rounded to whole pixels.

Boxes are ``(x1, y1, x2, y2)`` integer pixels, x2/y2 exclusive. Elements narrower than about
8 px may be missed; boxes closer than 4 px to another box keep their core edge there. An element
drawn as stripes (a long table) is one element whose ``rows`` are the stripes seen.

Elements come in the model's reading order, column-aware (:func:`reading_order`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops

from .scene import colour_element, element_colour

_SAMPLE_TARGET = 80_000  # pixels of the coarse grid
# The least share of an element's box its colour fills: printed words leave most of it bare
# (a striped table fills 0.6), glyph edges that blend into a palette colour far less.
_SOLID_SHARE = 0.3


@dataclass(frozen=True)
class Element:
    """A detected element: its identity and its box in pixels of the image searched.

    ``text`` is what the element says when it is not the scene's ``element_text`` (the
    reference pages, :mod:`.reference`, or the test's own words, ``FakeVLLM.texts``)."""

    category: str
    n: int
    bbox: tuple[int, int, int, int]
    rows: tuple[tuple[int, int], ...] = ()  # (top, bottom) of each stripe, when striped
    text: str | None = None


def _mask(im: Image.Image, colour: tuple[int, int, int], tolerance: int) -> Image.Image:
    """An L image: 255 where every channel is within ``tolerance`` of ``colour``, else 0."""
    out: Image.Image | None = None
    for channel, target in zip(im.split(), colour, strict=True):
        lut = [255 if abs(v - target) <= tolerance else 0 for v in range(256)]
        m = channel.point(lut)
        out = m if out is None else ImageChops.darker(out, m)
    assert out is not None
    return out


_OUT, _IN = 8, 3  # the most pixels outside / inside the core edge that coverage is summed over
_WHITE_MIN = 245


def _coverage(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> float:
    """How much of ``pixel`` is ``colour`` rather than white (0 white, 1 the colour)."""
    return sum(255 - p for p in pixel[:3]) / sum(255 - c for c in colour)


def _is_white(pixel: tuple[int, ...]) -> bool:
    return min(pixel[:3]) >= _WHITE_MIN


def _edge(
    im: Image.Image,
    colour: tuple[int, int, int],
    core: int,
    lines: list[int],
    vertical: bool,
    low: bool,
    limit: int,
) -> int:
    """One edge of a box to the nearest pixel boundary, or ``core`` where it cannot be measured.

    ``vertical``: the edge is a vertical line (left/right) scanned along rows ``lines``.
    ``low``: the edge is the left or top one. ``limit``: the image width or height.
    """
    estimates = []
    step = -1 if low else 1
    for line in lines:

        def pixel(i: int, line: int = line) -> tuple[int, ...]:
            p = im.getpixel((i, line) if vertical else (line, i))
            if isinstance(p, tuple):
                return tuple(int(v or 0) for v in p)
            return (int(p or 0),) * 3

        # Walk outwards from the core to the first white pixel: the blend lies between.
        outer = core - 1 if low else core
        while 0 <= outer < limit and abs(outer - core) <= _OUT and not _is_white(pixel(outer)):
            outer += step
        if not (0 <= outer < limit and _is_white(pixel(outer))):
            continue
        inner = min(limit, core + _IN) if low else max(0, core - _IN)
        a, b = (outer, inner) if low else (inner, outer + 1)
        covered = sum(_coverage(pixel(i), colour) for i in range(a, b))
        estimates.append(b - covered if low else a + covered)
    if not estimates:
        return core
    estimates.sort()
    return math.floor(estimates[len(estimates) // 2] + 0.5)


def reading_order(elements: list[Element]) -> list[Element]:
    """Elements in reading order: a recursive cut at the widest gap between them.

    Where a horizontal gap (a blank band across) is widest, top before bottom; where a vertical
    gap (a gutter) is widest, left before right; a vertical gap wins a tie, so columns are read
    one after the other. Elements no gap separates go top to bottom, then left to right.
    """
    if len(elements) <= 1:
        return list(elements)
    cuts = []
    for axis in (0, 1):  # 0: a vertical gap (split on x), 1: a horizontal gap (split on y)
        spans = sorted(elements, key=lambda e: (e.bbox[axis], e.bbox[axis + 2]))
        reach = spans[0].bbox[axis + 2]
        for i, e in enumerate(spans[1:], start=1):
            if e.bbox[axis] > reach:
                cuts.append((e.bbox[axis] - reach, -axis, axis, spans[:i], spans[i:]))
            reach = max(reach, e.bbox[axis + 2])
    if not cuts:
        return sorted(elements, key=lambda e: (e.bbox[1], e.bbox[0], e.category, e.n))
    _gap, _tie, _axis, first, second = max(cuts, key=lambda c: (c[0], c[1]))
    return reading_order(first) + reading_order(second)


def _runs(flags: list[int] | tuple[int, ...]) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of non-zero flags."""
    runs, start = [], None
    for i, f in enumerate(flags):
        if f and start is None:
            start = i
        elif not f and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(flags)))
    return runs


def detect(image: Image.Image, tolerance: int = 4) -> list[Element]:
    """Every scene element visible in ``image``, in reading order."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    w, h = rgb.size
    step = max(1, int(math.sqrt(w * h / _SAMPLE_TARGET)))
    sw, sh = max(1, w // step), max(1, h // step)
    small = rgb.resize((sw, sh), Image.Resampling.NEAREST) if step > 1 else rgb
    colours = small.getcolors(sw * sh) or []
    found: set[tuple[str, int]] = set()
    for _count, value in colours:
        key = colour_element(value, tolerance)  # type: ignore[arg-type]
        if key is not None:
            found.add(key)

    sx, sy = w / sw, h / sh
    margin_x, margin_y = math.ceil(sx) + 2, math.ceil(sy) + 2
    elements = []
    for category, n in found:
        colour = element_colour(category, n)
        coarse = _mask(small, colour, tolerance).getbbox()
        if coarse is None:
            continue
        cx0 = max(0, math.floor(coarse[0] * sx) - margin_x)
        cy0 = max(0, math.floor(coarse[1] * sy) - margin_y)
        cx1 = min(w, math.ceil(coarse[2] * sx) + margin_x)
        cy1 = min(h, math.ceil(coarse[3] * sy) + margin_y)
        fine = _mask(rgb.crop((cx0, cy0, cx1, cy1)), colour, tolerance)
        solid = fine.reduce(2).point(lambda v: 255 if v == 255 else 0)
        half = solid.getbbox()
        if half is None:
            continue
        # A box is solid colour but for the words printed on it; scattered blocks of a colour
        # are the anti-aliased edges of glyphs on another box blending into a near colour.
        area = (half[2] - half[0]) * (half[3] - half[1])
        if min(half[2] - half[0], half[3] - half[1]) < 2 or (
            solid.crop(half).histogram()[255] < _SOLID_SHARE * area
        ):
            continue
        x0, y0 = cx0 + 2 * half[0], cy0 + 2 * half[1]
        x1, y1 = cx0 + 2 * half[2], cy0 + 2 * half[3]
        stripes = [(cy0 + 2 * a, cy0 + 2 * b) for a, b in _runs(solid.getprojection()[1])]
        if len(stripes) > 1:  # measure the sides across stripes, not across the gaps
            picked = (stripes[0], stripes[len(stripes) // 2], stripes[-1])
            rows = [(a + b) // 2 for a, b in picked]
        else:
            stripes = []
            rows = [y0 + (y1 - y0) * k // 4 for k in (1, 2, 3)]
        cols = [x0 + (x1 - x0) * k // 4 for k in (1, 2, 3)]
        bbox = (
            _edge(rgb, colour, x0, rows, vertical=True, low=True, limit=w),
            _edge(rgb, colour, y0, cols, vertical=False, low=True, limit=h),
            _edge(rgb, colour, x1, rows, vertical=True, low=False, limit=w),
            _edge(rgb, colour, y1, cols, vertical=False, low=False, limit=h),
        )
        elements.append(Element(category, n, bbox, tuple(stripes)))
    return reading_order(elements)
