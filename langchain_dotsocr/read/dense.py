"""The dense-page path: a page whose answer does not fit one request, read in parts.

It builds on what the page already gave: the cells of the cut answer are kept, and only the
ink no cell covers is read again. The page is cut along blank bands of that unread ink
(:mod:`.plan`) into parts whose answers should each fit a share of the budget, judged by the
tokens per ink the first answer spent (or a prior when there was none). The parts are read at
once, at full resolution (one crop each, the cells already read whited out), sharing the run's
slots fairly with other pages. A part whose answer still does not fit is cut again, building on
what it gave; a single region no cut can reach is read in bands (:mod:`.bands`). Where no band
is blank (a newspaper), the cut goes through the line with the least ink, the cells it cut in
two are dropped, and a next round reads them whole (:data:`ROUNDS`). The cells come back once
each (:func:`.order.merge`), in a column-aware reading order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from PIL import Image

from ..budget import FACTOR, output_budget
from ..encode import encode_image
from ..errors import FATAL, DotsOCRError
from ..layout import Box, Cell
from ..pages import Geometry, crop_part, part_fits
from .asking import read_layout
from .bands import read_bands
from .context import PageContext
from .ink import Ink
from .order import merge, reading_order
from .plan import Part, Planner
from .reading import Reading, better
from .skeleton import skeleton, skeleton_order
from .together import together
from .unread import clipped, masked, reach

# Output tokens per pixel of ink before any answer tells: about twice what a 10-pt text page at
# 200 dpi spends, so first parts come out small rather than too big.
PRIOR_RATE = 1 / 150
# A part should need at most this many output tokens (and half its budget): parts decode at
# once, so smaller parts bring a dense page back sooner.
PART_TOKENS = 2048
MIN_CELLS = 2  # cells an answer needs before its tokens per ink are trusted
PROBES = 2  # parts read alone, at most, to learn the tokens per ink before the rest
MAX_DEPTH = 4  # a part is cut again at most this many times
RETRY_TEMPERATURE = 0.5
# Rounds of parts over what is still unread after the first: the cells a forced cut went
# through, read whole; more rounds only while a round still finds cells (or cuts some).
ROUNDS = 3


@dataclass
class _Plan:
    ink: Ink
    rate: float
    target: float
    opened: tuple[Cell, ...] = ()  # cells answers were cut in: regions too long to read whole
    bones: tuple[Box, ...] = ()  # the skeleton's elements: no cut through one
    # Parts later rounds leave be: a request that failed for good (its loss is noted; a request
    # is tried again by the client's retries, not by planning it again), or ink with nothing
    # legible in it (a rule, a stamp: empty twice).
    settled: list[Box] = field(default_factory=list)
    # Where cells cut in two by a forced cut lie (reaching across the cut): the next round
    # reads them whole, and no cut goes through them again.
    cut: list[Box] = field(default_factory=list)
    _reach: dict[Box, Box] = field(default_factory=dict)  # each read cell's box, as far as its ink

    def reached(self, cells: list[Cell]) -> list[Box]:
        """The boxes of ``cells`` as far as their ink reaches (:func:`.unread.reach`)."""
        for c in cells:
            if c.bbox not in self._reach:
                self._reach[c.bbox] = reach(c.bbox, self.ink)
        return [self._reach[c.bbox] for c in cells]

    @property
    def known(self) -> list[Box]:
        """Boxes no cut may pass through: elements known to be one, not yet read whole."""
        return [c.bbox for c in self.opened] + list(self.bones) + self.cut


async def read_dense(ctx: PageContext, before: Reading | None) -> Reading:
    """The page read in parts, on top of ``before`` (the cut answer, if any)."""
    ink = await ctx.ink()
    kept = list(before.cells) if before else []
    opened = (before.open,) if before and before.open else ()
    plan = _Plan(ink, _rate(ink, before), part_target(ctx), opened)
    pixels = await ctx.pixels()
    page: Box = (0.0, 0.0, float(pixels.width), float(pixels.height))
    parts = _planner(ctx, plan, kept).plan(page)
    bones = await skeleton(ctx, before, plan.target) if parts else []
    if bones:  # the elements' own boxes: no cut through one
        plan = replace(plan, bones=tuple(b.bbox for b in bones))
        parts = _planner(ctx, plan, kept).plan(page)
    probed = True
    for _ in range(PROBES):
        if plan.rate != PRIOR_RATE or len(parts) < 2:
            break
        # Nothing told the tokens per ink yet: read the first part alone and plan the rest by
        # what it cost, so a page unlike the prior is not cut into needlessly many parts.
        probe = await _read_part(ctx, plan, parts[0], kept, 0)
        probed = probed and probe.complete
        kept = kept + probe.cells
        plan = replace(plan, rate=_rate(ink, probe))
        parts = _planner(ctx, plan, kept).plan(page)
    complete = probed
    for _ in range(1 + ROUNDS):
        cut = len(plan.cut)
        reading = await _read_parts(ctx, plan, parts, kept, 0)
        complete = complete and reading.complete
        kept = kept + reading.cells
        found = reading.cells or len(plan.cut) > cut  # cells kept, or cells to read whole
        parts = _planner(ctx, plan, kept).plan(page) if found else []
        if not parts:
            break
    else:  # still finding cells when the rounds ran out
        complete = False
    cells = skeleton_order(reading_order(merge(kept)), bones)
    return Reading(cells, complete=complete, cause=None if complete else "tiles")


def part_target(ctx: PageContext) -> float:
    """Output tokens one part may need: :data:`PART_TOKENS`, or half what a part's answer may
    have on this server, whichever is less."""
    s = ctx.settings
    limit = ctx.servers.max_model_len
    budget = s.max_tokens
    if limit is not None:
        largest = ctx.geometry.max_pixels // (FACTOR * FACTOR) + 512  # image and prompt
        budget = max(256, output_budget(limit, largest, s.max_tokens))
    return min(PART_TOKENS, budget / 2)


def _rate(ink: Ink, reading: Reading | None, floor: float = PRIOR_RATE) -> float:
    """Output tokens per pixel of ink the reading spent, if it has enough cells to tell."""
    if reading is None or len(reading.cells) < MIN_CELLS or reading.tokens <= 0:
        return floor
    covered = sum(ink.amount(c.bbox) for c in reading.cells)
    return reading.tokens / covered if covered > 0 else floor


def _planner(ctx: PageContext, plan: _Plan, have: list[Cell]) -> Planner:
    return Planner(
        plan.ink,
        known=plan.known,
        read=plan.reached(have) + plan.settled,
        rate=plan.rate,
        target=plan.target,
        fits=lambda box: part_fits(box, ctx.geometry),
        forced=True,
    )


async def _read_parts(
    ctx: PageContext, plan: _Plan, parts: list[Part], kept: list[Cell], depth: int
) -> Reading:
    # At once: an error no part can survive cancels the others, none outlives the page.
    readings = await together(_read_part(ctx, plan, p, kept, depth) for p in parts)
    cells = [c for r in readings for c in r.cells]
    return Reading(cells, complete=all(r.complete for r in readings))


async def _read_part(
    ctx: PageContext, plan: _Plan, part: Part, kept: list[Cell], depth: int
) -> Reading:
    """One part; a request that fails costs the part, not the page (the rest is kept)."""
    try:
        return await _read_part_once(ctx, plan, part, kept, depth)
    except FATAL:
        raise
    except DotsOCRError as exc:
        ctx.lost(f"a part of the page ({ctx.points(part.box)})", exc)
        plan.settled.append(part.room)
        return Reading(cause="broken")


async def _read_part_once(
    ctx: PageContext, plan: _Plan, part: Part, kept: list[Cell], depth: int
) -> Reading:
    region = next((c for c in plan.opened if part.single and _fills(c.bbox, part.box)), None)
    if region is not None:  # known to be one region too long for an answer: no second try
        return await _region_in_bands(ctx, plan, region, Reading())
    pixels = await ctx.pixels()
    read = plan.reached(kept)
    image, box = await ctx.offload(_crop, pixels, part, read, ctx.geometry)
    encoded = await ctx.offload(encode_image, image)
    reading = await read_layout(ctx, encoded, area=box, extraction="tiled", ink=plan.ink)
    if reading.cause in ("loop", "broken", "timeout", "empty"):
        again = await read_layout(
            ctx, encoded, area=box, extraction="tiled", temperature=RETRY_TEMPERATURE
        )
        if again.cause == "empty" and reading.cause == "empty":
            again.complete = True  # empty twice: nothing legible there
        if better(again, reading):
            reading = again
    if reading.complete and not reading.cells:
        plan.settled.append(part.room)
    if part.soft:  # a cell a forced cut went through: the next round reads it whole
        whole = []
        for c in reading.cells:
            reach = clipped(c.bbox, part, plan.ink)
            if reach is None:
                whole.append(c)
            else:
                plan.cut.append(reach)
        reading.cells = whole
    if reading.complete or depth >= MAX_DEPTH:
        return reading
    return await _deeper(ctx, plan, part, kept, reading, depth)


async def _deeper(
    ctx: PageContext, plan: _Plan, part: Part, kept: list[Cell], reading: Reading, depth: int
) -> Reading:
    """A part whose answer did not fit: keep what it gave and read the rest in smaller parts,
    or in bands when it is one region no cut can reach."""
    cut = reading.open
    if cut is not None and _fills(cut.bbox, part.box):
        return await _region_in_bands(ctx, plan, cut, reading)
    have = kept + reading.cells
    # An overflow: the estimate was short for this part; learn from its answer, or assume twice
    # the rate. A loop or a time-out: the same estimate, the rest in other parts.
    floor = plan.rate
    if reading.cause == "overflow":  # it needs more than it spent: at least that rate
        floor = max(2 * plan.rate, reading.tokens / max(1.0, plan.ink.amount(part.box)))
    rate = _rate(plan.ink, reading, floor=floor)
    opened = plan.opened + ((cut,) if cut else ())
    deeper = replace(plan, rate=rate, opened=opened)
    parts = _planner(ctx, deeper, have).plan(part.room, part.soft)
    if len(parts) == 1 and _fills(parts[0].box, part.box):
        if parts[0].single and reading.cause == "overflow":
            # No cut reaches inside, not even through ink: one region (the cell the answer was
            # cut in, when it fills what is left) whose text outgrows the budget.
            whole = cut is not None and _fills(cut.bbox, parts[0].box)
            region = cut if cut is not None and whole else Cell("Text", parts[0].box, None)
            return await _region_in_bands(ctx, plan, region, reading)
        return reading  # the same part again would answer the same: keep what it gave
    rest = await _read_parts(ctx, deeper, parts, have, depth + 1)
    return Reading(reading.cells + rest.cells, complete=rest.complete)


def _crop(
    pixels: Image.Image, part: Part, read: list[Box], geometry: Geometry
) -> tuple[Image.Image, Box]:
    """The part's image, the cells already read whited out, and where it lies on the page."""
    image, area = crop_part(pixels, part.box, part.room, geometry)
    box: Box = (float(area[0]), float(area[1]), float(area[2]), float(area[3]))
    return masked(image, box, read), box


def _fills(box: Box, part: Box) -> bool:
    """Whether ``box`` fills most of ``part``: it alone is why the part's answer did not fit."""
    ix = min(box[2], part[2]) - max(box[0], part[0])
    iy = min(box[3], part[3]) - max(box[1], part[1])
    return ix > 0 and iy > 0 and ix * iy >= 0.5 * (part[2] - part[0]) * (part[3] - part[1])


async def _region_in_bands(
    ctx: PageContext, plan: _Plan, region: Cell, reading: Reading
) -> Reading:
    others = [c for c in reading.cells if c.bbox != region.bbox]
    if ctx.settings.prompt_mode == "layout_only":  # no text to read: the box is the answer
        return Reading([*others, Cell(region.category, region.bbox, None, "tiled")], complete=True)
    bands = await read_bands(ctx, region.bbox, region.category, plan.ink, plan.rate, plan.target)
    return Reading(others + bands.cells, complete=bands.complete)
