"""What cutting cannot reach: one region whose text alone outgrows the budget, read in bands.

A long table (or any single region) has no blank band between elements to cut along. Its
rows are cut into bands at the lines with the least ink (the gaps or rules between table rows),
and each band is read with the grounding prompt on one image of the whole region, so the
server's prefix cache prefills that image once. The bands' answers are joined in order: the
rows of table answers into one table, other text line by line.
"""

from __future__ import annotations

import itertools
import math
import re

from ..encode import encode_image
from ..errors import FATAL, DotsOCRError
from ..layout import Box, Cell
from ..pages import crop_part, part_fits
from .context import PageContext
from .ink import Ink
from .reading import Reading
from .together import together

_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
MAX_DEPTH = 3  # a band whose answer is cut is halved, at most this many times


async def read_bands(
    ctx: PageContext, region: Box, category: str, ink: Ink, rate: float, target: float
) -> Reading:
    """The region as one cell whose text is its bands' answers joined."""
    pixels = await ctx.pixels()
    geometry = ctx.geometry
    whole = part_fits(region, geometry)
    if whole:
        image, area = await ctx.offload(crop_part, pixels, region, region, geometry)
        encoded = await ctx.offload(encode_image, image)
    count = max(2, math.ceil(rate * ink.amount(region) / target))

    async def band(box: Box, depth: int) -> tuple[list[str], bool]:
        if whole:
            target_image, inside = encoded, (box[0] - area[0], box[1] - area[1],
                                              box[2] - area[0], box[3] - area[1])
        else:  # the region is too big for one image: each band is an image of its own
            crop, at = await ctx.offload(crop_part, pixels, box, box, geometry)
            target_image = await ctx.offload(encode_image, crop)
            inside = (box[0] - at[0], box[1] - at[1], box[2] - at[0], box[3] - at[1])
        grounding = (round(inside[0]), round(inside[1]), round(inside[2]), round(inside[3]))
        try:
            answer = await ctx.ask(target_image, "grounding", box=grounding)
        except FATAL:
            raise
        except DotsOCRError as exc:  # costs this band, not the region's other bands
            ctx.lost(f"a band of a {category} ({ctx.points(box)})", exc)
            return [], False
        if answer is not None and answer.finish_reason == "stop":
            return [answer.text.strip()], True
        halves = cut_bands(ink, box, 2)
        if depth >= MAX_DEPTH or len(halves) < 2:
            return [answer.text.strip()] if answer is not None else [], False
        parts = await together(band(h, depth + 1) for h in halves)
        return [t for texts, _ in parts for t in texts], all(ok for _, ok in parts)

    results = await together(band(b, 0) for b in cut_bands(ink, region, count))
    texts = [t for texts, _ in results for t in texts if t]
    complete = all(ok for _, ok in results)
    return Reading([Cell(category, region, join(category, texts), "grounded")], complete=complete)


def cut_bands(ink: Ink, region: Box, count: int) -> list[Box]:
    """``region`` cut across into about ``count`` bands at the lines with the least ink near
    even steps (the blank gaps or rules between rows; never a line full of text if avoidable)."""
    profile = ink.profile(region, 1)
    lines = len(profile)
    if lines < 2 * count:
        count = max(1, lines // 2)
    origin, scale = ink.offset_of(region, 1), ink.scale
    cuts: list[float] = []
    for k in range(1, count):
        ideal = k * lines / count
        lo, hi = int(ideal - lines / (3 * count)), int(ideal + lines / (3 * count)) + 1
        window = range(max(1, lo), min(lines - 1, hi))
        if not window:
            continue
        best = min(window, key=lambda i: (profile[i], abs(i - ideal)))
        at = origin + best * scale + scale / 2
        if region[1] < at < region[3] and (not cuts or at > cuts[-1]):
            cuts.append(at)
    edges = [region[1], *cuts, region[3]]
    return [(region[0], a, region[2], b) for a, b in itertools.pairwise(edges)]


def join(category: str, texts: list[str]) -> str:
    """The bands' answers as one text: table rows in one table, else one line each."""
    if category == "Table":
        rows = [_ROW.findall(t) for t in texts]
        if rows and all(rows):
            return "<table>" + "".join(r for band in rows for r in band) + "</table>"
    return "\n".join(texts)
