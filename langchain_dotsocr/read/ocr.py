"""Plain text: the ``ocr`` prompt for a whole page, or for a page read in parts."""

from __future__ import annotations

import asyncio

from ..encode import EncodedImage, encode_image
from ..pages import crop_part, part_fits
from .context import PageContext
from .dense import PRIOR_RATE, part_target
from .plan import Planner
from .reading import Cause, Reading


async def _ocr(ctx: PageContext, image: EncodedImage) -> Reading:
    answer = await ctx.ask(image, "ocr")
    if answer is None:
        return Reading(cause="timeout")
    text = answer.text.strip()
    if answer.finish_reason != "stop":
        ctx.note(f"answer ended with finish_reason={answer.finish_reason!r}")
        cause: Cause = "loop" if (answer.finish_reason or "").startswith("loop") else "overflow"
        return Reading(text=text, cause=cause, tokens=answer.completion_tokens or 0)
    return Reading(text=text, complete=True, cause=None if text else "empty")


async def read_ocr(ctx: PageContext) -> Reading:
    """The page's text in one request."""
    return await _ocr(ctx, ctx.page.image)


async def read_ocr_in_parts(ctx: PageContext) -> Reading:
    """The page's text read in parts, joined in reading order: for a page whose text does not
    fit one answer, or a page the model cannot take whole."""
    ink = await ctx.ink()
    pixels = await ctx.pixels()
    planner = Planner(
        ink,
        known=[],
        read=[],
        rate=PRIOR_RATE,
        target=part_target(ctx),
        fits=lambda box: part_fits(box, ctx.geometry),
    )
    parts = planner.plan((0.0, 0.0, float(pixels.width), float(pixels.height)))

    async def read(box: tuple[float, ...], room: tuple[float, ...]) -> Reading:
        image, _ = await ctx.offload(crop_part, pixels, box, room, ctx.geometry)
        return await _ocr(ctx, await ctx.offload(encode_image, image))

    readings = await asyncio.gather(*(read(p.box, p.room) for p in parts))
    text = "\n\n".join(r.text for r in readings if r.text)
    complete = all(r.complete for r in readings)
    tiles: Cause | None = None if complete else "tiles"
    return Reading(text=text, complete=complete, cause=tiles, extraction="tiled")
