"""A PDF page with a trusted text layer (``text_layer="auto"``): the model gives the layout,
the layer gives the words.

The page is asked ``layout_only`` (boxes, categories, reading order: a short answer), and each
element takes its text from what the layer holds inside its box (:mod:`.layertext` formats
it as the model writes it). What a layer cannot give comes from the model in focused requests
on the page image as it was sent (the server's prefix cache prefills the image once for all of
them), each with the grounding prompt on the element's box:

- a Formula: its LaTeX;
- a Table: its structure as HTML. The grounding prompt on a table's box gives "the text
  only" (reference/answer-examples.md), which for a table is its markup as ``layout_all``
  writes it: one request for the box. Nothing published says the model always answers so,
  so an answer without a ``<table`` is not taken as the table: its crop is then read with
  ``layout_all``, the prompt the model writes tables in HTML for, and its Table cell's HTML
  kept (the grounding words stay when that fails too). The model's cells are kept, with each
  misread word replaced by the layer's word it is clearly a misreading of
  (:mod:`.tablewords`: the HTML carries no cell boxes to put the layer's words in by place);
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

from ..encode import encode_image
from ..errors import FATAL, DotsOCRError
from ..layout import Box, Cell
from ..pages import crop_part
from .asking import read_layout
from .context import PageContext
from .layertext import as_model_writes
from .reading import Reading
from .tablewords import with_layer_words

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
        box = to_points(ctx, cell.bbox)
        text = layer.text_in(box)
        if text and not layer.lacks(box):
            return replace(cell, text=as_model_writes(cell.category, text), text_source="layer")
    text = await _model_text(ctx, cell)
    if cell.category == "Table" and text:  # the layer's exact words where they fit
        words = [w.text for w in layer.words_in(to_points(ctx, cell.bbox))]
        text = with_layer_words(text, words)
    return replace(cell, text=text, text_source="model")


async def _model_text(ctx: PageContext, cell: Cell) -> str | None:
    """The model's reading of one cell's box (grounding), ``None`` when it failed."""
    what = f"the {cell.category} at {ctx.points(cell.bbox)}"
    try:
        text = await _ground(ctx, cell.bbox)
        if cell.category == "Table" and text and "<table" not in text.lower():
            text = await _table_of_crop(ctx, cell) or text
    except FATAL:
        raise
    except DotsOCRError as exc:
        ctx.lost(what, exc)
        return None
    if text is None:
        ctx.note(f"{what}: no complete answer, its text is left out")
    return text


async def _table_of_crop(ctx: PageContext, cell: Cell) -> str | None:
    """The HTML of the Table the model finds in ``cell``'s crop read as a page (``layout_all``)."""
    pixels = await ctx.pixels()
    whole = (0.0, 0.0, float(pixels.width), float(pixels.height))
    image, area = await ctx.offload(crop_part, pixels, cell.bbox, whole, ctx.geometry)
    encoded = await ctx.offload(encode_image, image)
    box: Box = (float(area[0]), float(area[1]), float(area[2]), float(area[3]))
    reading = await read_layout(ctx, encoded, area=box, mode="layout_all")
    tables = [c for c in reading.cells if c.category == "Table" and c.text]
    best = max(tables, key=lambda c: _overlap(c.bbox, cell.bbox), default=None)
    return best.text if best is not None else None


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


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
