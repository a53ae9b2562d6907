"""A PDF page with a trusted text layer (``text_layer="auto"``): the model gives the layout,
the layer gives the words.

The page is asked ``layout_only`` (boxes, categories, reading order: a short answer), and each
element takes its text from what the layer holds inside its box (:mod:`.layertext` formats
it as the model writes it). What a layer cannot give comes from the model in focused requests
on the page image as it was sent (the server's prefix cache prefills the image once for all of
them), each with the grounding prompt on the element's box:

- a Formula: its LaTeX;
- a Table: its structure as HTML. dots.ocr answers the grounding prompt on a table's box with
  the table's HTML, as the ``layout_all`` answer gives it (reference/answer-examples.md:
  grounding gives "the text only", which for a table is its markup): one request for the box
  alone, where reading the table's crop with ``layout_all`` would ask for a whole page layout
  of one element. The model's cell text is kept: mapping the layer's words to cells needs
  the cells' boxes, which the HTML does not carry;
- a text element whose box holds no layer text (a scanned paragraph pasted into a digital
  page): its text.

A Picture needs nothing; with ``ocr_pictures`` its text comes from the layer where the layer
has some inside it. A page whose layer is an invisible OCR layer (verdict ``"check"``) is
trusted only after the model's grounding reading of a sample of its boxes agrees with the
layer there; otherwise it is read as with ``text_layer="off"``. Every cell says where its text
came from (``text_source``). A focused request that fails costs its element's text, and
follows ``on_error`` like any part of a page (:meth:`.PageContext.lost`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from ..errors import FATAL, DotsOCRError
from ..layout import Box, Cell
from .asking import read_layout
from .context import PageContext
from .layertext import as_model_writes
from .reading import Reading

# The model reads these on their box: the layer holds their glyphs, not their structure.
FOCUSED = frozenset({"Table", "Formula"})
# Verdicts of the layer under which the fusion reads the page (``"check"`` after its check).
USABLE = frozenset({"trusted", "check"})


def uses_layer(ctx: PageContext) -> bool:
    """Whether the page is read with its text layer."""
    layer = ctx.page.layer
    return (
        ctx.settings.text_layer == "auto"
        and ctx.settings.prompt_mode == "layout_all"
        and ctx.page.whole
        and layer is not None
        and layer.trust.level in USABLE
    )


async def read_layered(ctx: PageContext) -> Reading | None:
    """The page's cells with the layer's text, or ``None`` when the layer fails its check
    (the page is then read by the model as usual)."""
    layer = ctx.page.layer
    if layer.trust.level == "check" and not await _layer_agrees(ctx, layer):
        return None
    reading = await read_layout(ctx, ctx.page.image, mode="layout_only")
    if not reading.complete:  # the usual fallbacks (asked again, in parts) take it from here
        return reading
    cells = await asyncio.gather(*(_with_text(ctx, layer, c) for c in reading.cells))
    return replace(reading, cells=list(cells))


def to_points(ctx: PageContext, box: Box) -> Box:
    """A box in pixels of the page image in page units (the layer's frame)."""
    sx = ctx.page.info.width / ctx.page.width
    sy = ctx.page.info.height / ctx.page.height
    return (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


def to_pixels(ctx: PageContext, box: Box) -> Box:
    """A box in page units in pixels of the page image."""
    sx = ctx.page.width / ctx.page.info.width
    sy = ctx.page.height / ctx.page.info.height
    return (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


async def _with_text(ctx: PageContext, layer: Any, cell: Cell) -> Cell:
    if cell.category == "Picture":
        text = layer.text_in(to_points(ctx, cell.bbox)) if ctx.settings.ocr_pictures else ""
        return replace(cell, text=text, text_source="layer") if text else cell
    if cell.category not in FOCUSED:
        text = layer.text_in(to_points(ctx, cell.bbox))
        if text:
            return replace(cell, text=as_model_writes(cell.category, text), text_source="layer")
    return replace(cell, text=await _model_text(ctx, cell), text_source="model")


async def _model_text(ctx: PageContext, cell: Cell) -> str | None:
    """The model's reading of one cell's box (grounding), ``None`` when it failed."""
    what = f"the {cell.category} at {ctx.points(cell.bbox)}"
    try:
        text = await _ground(ctx, cell.bbox)
    except FATAL:
        raise
    except DotsOCRError as exc:
        ctx.lost(what, exc)
        return None
    if text is None:
        ctx.note(f"{what}: no complete answer, its text is left out")
    return text


async def _ground(ctx: PageContext, box: Box) -> str | None:
    """The grounding answer for ``box`` (pixels), ``None`` when cut or timed out."""
    grounding = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))
    if grounding[2] <= grounding[0] or grounding[3] <= grounding[1]:
        return ""
    answer = await ctx.ask(ctx.page.image, "grounding", box=grounding)
    if answer is None or answer.finish_reason != "stop":
        return None
    return answer.text.strip()


async def _layer_agrees(ctx: PageContext, layer: Any) -> bool:
    """Whether an invisible OCR layer says what the model reads on a sample of its boxes."""
    from ..textlayer import agrees, sample_boxes

    boxes = sample_boxes(layer)
    if not boxes:
        ctx.note("the page's OCR text layer has nothing to check it by: read by the model")
        return False
    try:
        readings = await asyncio.gather(*(_ground(ctx, to_pixels(ctx, b)) for b in boxes))
    except FATAL:
        raise
    except DotsOCRError as exc:
        ctx.note(f"the check of the page's OCR text layer failed ({exc.reason}): read by the model")
        return False
    for box, model in zip(boxes, readings, strict=True):
        if model is None or not agrees(layer.text_in(box), model):
            ctx.note(
                "the page's OCR text layer disagrees with the model at "
                f"{ctx.points(to_pixels(ctx, box))}: read by the model"
            )
            return False
    return True
