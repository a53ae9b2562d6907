"""Ask for the layout of an image (the page or a part of it) and judge the answer."""

from __future__ import annotations

from dataclasses import replace

from ..budget import text_tokens
from ..client import Answer
from ..encode import EncodedImage
from ..layout import Box, Cell, decode_answer, open_cell
from .context import PageContext
from .ink import Ink
from .order import SAME, overlap
from .reading import Cause, Reading
from .watch import LOOP, OVERFLOW


async def read_layout(
    ctx: PageContext,
    image: EncodedImage,
    *,
    area: Box | None = None,
    extraction: str = "layout",
    temperature: float | None = None,
    ink: Ink | None = None,
    mode: str | None = None,
) -> Reading:
    """The cells of ``image``, in page-image pixels.

    ``area`` is where the image lies on the page (a part of it; the rest of the image is white
    padding): boxes are moved there and kept inside it. ``ink`` (of the page) lets the watcher
    see an overflow coming. ``mode``: another prompt than the settings' (a skeleton).
    """
    mode = mode or ctx.settings.prompt_mode
    x0, y0 = (area[0], area[1]) if area else (0.0, 0.0)
    answer = await ctx.ask(image, mode, temperature=temperature, ink=ink, area=area)
    if answer is None:
        return Reading(cause="timeout")
    decoded = decode_answer(answer.text, image.width, image.height)
    ctx.result.problems.extend(decoded.problems)
    number = ctx.next_answer()
    cells = [_place(c, x0, y0, area, extraction, number) for c in decoded.cells]
    cause = judge(answer, decoded.complete, bool(cells))
    if cause == "loop":  # the loop's copies are no elements: they would count as more cells
        cells = unrepeated(cells)
    if answer.finish_reason not in (None, "stop"):
        ctx.note(f"answer ended with finish_reason={answer.finish_reason!r}")
    cut = open_cell(answer.text, image.width, image.height) if cause == "overflow" else None
    return Reading(
        cells,
        complete=cause is None,
        cause=cause,
        tokens=answer.completion_tokens or text_tokens(answer.text),
        open=_place(cut, x0, y0, area, extraction, number) if cut else None,
    )


def judge(answer: Answer, valid: bool, any_cells: bool) -> Cause | None:
    """Why an answer is not complete, or ``None`` when it is."""
    reason = answer.finish_reason or ""
    if reason.startswith(LOOP):
        return "loop"
    if reason.startswith(OVERFLOW) or reason == "length":
        # Cut by the budget, and the loop watcher saw no repetition: the answer is just long.
        return "overflow"
    if reason != "stop" or not valid:
        return "broken"
    if not any_cells:
        return "empty"
    return None


def unrepeated(cells: list[Cell]) -> list[Cell]:
    """A looping answer's cells without the loop: of consecutive cells with one category and
    one text, only the first, and no cell of a category over most of an earlier one of that
    category, kept or not (a copy in place). Earlier copies count too because a loop's copies
    creep down the page a few pixels at a time: each lies over the one before it, while one
    far down the chain no longer lies over the cell the loop started from."""
    out: list[Cell] = []
    seen: list[Cell] = []
    for cell in cells:
        again = bool(out and cell.text) and (out[-1].category, out[-1].text) == (
            cell.category, cell.text
        )
        copy = again or any(
            c.category == cell.category and overlap(c.bbox, cell.bbox) >= SAME for c in seen
        )
        seen.append(cell)
        if not copy:
            out.append(cell)
    return out


def _place(
    cell: Cell, x0: float, y0: float, area: Box | None, extraction: str, answer: int
) -> Cell:
    bx0, by0, bx1, by1 = cell.bbox
    box = (bx0 + x0, by0 + y0, bx1 + x0, by1 + y0)
    if area is not None:  # the padding is not page: keep the box on the part it was read in
        box = (
            min(max(box[0], area[0]), area[2]),
            min(max(box[1], area[1]), area[3]),
            min(max(box[2], area[0]), area[2]),
            min(max(box[3], area[1]), area[3]),
        )
    return replace(cell, bbox=box, extraction=extraction, answer=answer)
