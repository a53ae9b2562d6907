"""Plain text: the ``ocr`` prompt for a whole page, or for a page read in parts."""

from __future__ import annotations

from ..budget import text_tokens
from ..encode import EncodedImage, encode_image
from ..pages import crop_part, part_fits
from .context import PageContext
from .dense import MAX_DEPTH, PRIOR_RATE, PROBES, part_target
from .ink import Box
from .plan import Part, Planner
from .reading import Cause, Reading
from .together import together

TRUSTED_TOKENS = 64  # a first part's answer needs this many tokens before its rate is trusted


async def _ocr(ctx: PageContext, image: EncodedImage) -> Reading:
    answer = await ctx.ask(image, "ocr")
    if answer is None:
        return Reading(cause="timeout")
    text = answer.text.strip()
    if answer.finish_reason != "stop":
        ctx.note(f"answer ended with finish_reason={answer.finish_reason!r}")
        cause: Cause = "loop" if (answer.finish_reason or "").startswith("loop") else "overflow"
        return Reading(text=text, cause=cause, tokens=answer.completion_tokens or 0)

    tokens = answer.completion_tokens or text_tokens(answer.text)
    return Reading(text=text, complete=True, cause=None if text else "empty", tokens=tokens)


async def read_ocr(ctx: PageContext) -> Reading:
    """The page's text in one request."""
    return await _ocr(ctx, ctx.page.image)


async def read_ocr_in_parts(ctx: PageContext) -> Reading:
    """The page's text read in parts, joined in reading order: for a page whose text does not
    fit one answer, or a page the model cannot take whole. The first part is read alone, and
    the rest planned by what its text cost per ink."""
    ink = await ctx.ink()
    pixels = await ctx.pixels()
    page = (0.0, 0.0, float(pixels.width), float(pixels.height))

    def planner(rate: float, read: list[Box]) -> Planner:
        return Planner(
            ink,
            known=[],
            read=read,
            rate=rate,
            target=part_target(ctx),
            fits=lambda box: part_fits(box, ctx.geometry),
        )

    async def read(part: Part, rate: float, depth: int = 0) -> list[Reading]:
        image, _ = await ctx.offload(crop_part, pixels, part.box, part.room, ctx.geometry)
        reading = await _ocr(ctx, await ctx.offload(encode_image, image))
        if reading.cause != "overflow" or depth >= MAX_DEPTH:
            return [reading]
        # Cut by its budget: the part needs more than the tokens it spent. Again in smaller parts
        # (where a cut can be made), planned by at least that rate.
        rate = max(2 * rate, reading.tokens / max(1.0, ink.amount(part.box)))
        smaller = planner(rate, []).plan(part.room)
        if len(smaller) < 2:
            return [reading]
        return _flat(await together(read(p, rate, depth + 1) for p in smaller))

    rate = PRIOR_RATE
    parts = planner(rate, []).plan(page)
    readings: list[Reading] = []
    done: list[Box] = []
    for _ in range(PROBES):  # parts alone until one tells the tokens per ink
        if rate != PRIOR_RATE or len(parts) < 2:
            break
        probe = await read(parts[0], rate)
        readings += probe
        done.append(parts[0].box)
        tokens, spent = sum(r.tokens for r in probe), ink.amount(parts[0].box)
        if all(r.complete for r in probe) and tokens >= TRUSTED_TOKENS and spent:
            rate = tokens / spent
        parts = planner(rate, done).plan(page)
    readings += _flat(await together(read(p, rate) for p in parts))
    text = "\n\n".join(r.text for r in readings if r.text)
    complete = all(r.complete for r in readings)
    tiles: Cause | None = None if complete else "tiles"
    return Reading(text=text, complete=complete, cause=tiles, extraction="tiled")


def _flat(groups: list[list[Reading]]) -> list[Reading]:
    return [r for group in groups for r in group]
