"""The text inside pictures (``ocr_pictures=True``): each Picture region read with the
grounding prompt, while the page's encoded image is still at hand.

dots.ocr's layout answer gives a Picture no text, though charts and diagrams hold labels, axes
and values worth finding. The grounding prompt reads the text inside one box. Each Picture is
asked on the page image as it was sent (the server's prefix cache prefills that image once
for all of them); a page read in parts asks on a crop around the picture. Requests of a page
run at once, within its fair share of the run's slots. A failed or cut answer costs that
picture's text, not the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ..encode import EncodedImage, encode_image
from ..errors import FATAL, DotsOCRError
from ..layout import Cell
from ..pages import crop_part, part_fits
from .context import PageContext
from .reading import Reading


async def read_picture_texts(ctx: PageContext, reading: Reading) -> Reading:
    """``reading`` with the text inside each of its Picture cells, where there is some."""
    pictures = [
        i
        for i, c in enumerate(reading.cells)
        if c.category == "Picture" and c.text_source != "layer"  # the layer's text is read
    ]
    if not pictures:
        return reading
    texts = await asyncio.gather(*(picture_text(ctx, reading.cells[i]) for i in pictures))
    cells = list(reading.cells)
    for i, text in zip(pictures, texts, strict=True):
        if text:
            cells[i] = replace(cells[i], text=text)
    return replace(reading, cells=cells)


async def picture_text(ctx: PageContext, cell: Cell) -> str:
    """The text inside one Picture cell (page-image pixels), ``""`` if none or if it failed."""
    box = cell.bbox
    image: EncodedImage
    if ctx.page.whole:
        image, inside = ctx.page.image, box
    elif part_fits(box, ctx.geometry):
        pixels = await ctx.pixels()
        crop, at = await ctx.offload(crop_part, pixels, box, box, ctx.geometry)
        image = await ctx.offload(encode_image, crop)
        inside = (box[0] - at[0], box[1] - at[1], box[2] - at[0], box[3] - at[1])
    else:
        ctx.note("a picture too big for one image: its text is not read")
        return ""
    grounding = (round(inside[0]), round(inside[1]), round(inside[2]), round(inside[3]))
    if grounding[2] <= grounding[0] or grounding[3] <= grounding[1]:
        return ""
    try:
        answer = await ctx.ask(image, "grounding", box=grounding)
    except FATAL:
        raise
    except DotsOCRError as exc:
        ctx.lost(f"the text inside the Picture at {ctx.points(box)}", exc)
        return ""
    if answer is None or answer.finish_reason != "stop":
        ctx.note("the text inside a picture came back incomplete and is left out")
        return ""
    return answer.text.strip()
