"""Region OCR: the text inside one box of a page, the box in page units.

The box is what a user draws in a PDF viewer: PDF points for a PDF page, pixels of the image
(as displayed, after its EXIF orientation) for an image, top-left origin: the units of every
``bbox`` the loader gives. The page is rendered as the loader renders it, the box is mapped to
the pixels of that image, and the model is asked with its grounding prompt on the whole page
(a long page, read in parts by the loader: on a crop around the box). One request; transport
faults are retried and a loop is cut as for any page.
"""

from __future__ import annotations

import asyncio
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents.base import Blob
from typing_extensions import Unpack

from ._sync import run_in_thread
from .encode import EncodedImage, encode_image
from .errors import DotsOCRError, PageError
from .pages import Geometry, crop_part, open_pages, part_fits, read_blob
from .pipeline import geometry_for
from .read.watch import watcher
from .sanitize import safe_markdown
from .servers import Request, Servers, Tally
from .settings import DotsOCROptions, DotsOCRSettings

Source = str | Path | bytes | Blob


@dataclass(frozen=True)
class _Target:
    """The image to send and the box in its pixels."""

    image: EncodedImage
    box: tuple[int, int, int, int]
    index: int
    total: int


def read_region(
    source: Source,
    page: int,
    bbox: Sequence[float],
    *,
    name: str | None = None,
    **settings: Unpack[DotsOCROptions],
) -> str:
    """The text inside ``bbox`` on ``page`` of ``source``, read by the model.

    Args:
        source: a PDF or an image, as a path, bytes or a Blob.
        page: 0-based page index; negative counts from the end.
        bbox: ``(x0, y0, x1, y1)`` in page units, top-left origin: PDF points for a PDF,
            pixels of the image (as displayed) for an image, as in every Document's ``bbox``.
            A box reaching past the page is cut at its edge.
        name: names ``bytes`` in error messages (default ``"<bytes>"``).
        **settings: settings of :class:`DotsOCRLoader` (``base_url``, ``dpi``, ...).

    Returns:
        The region's text (Markdown, made safe as every element's text; tables as HTML).

    Raises:
        PageError: no such page, a box with no area on the page, or an answer that did not
            come back whole (cut by the budget or a loop).
        ServerError: the server failed the request; the message names the source and page.
    """
    return run_in_thread(lambda: aread_region(source, page, bbox, name=name, **settings))


async def aread_region(
    source: Source,
    page: int,
    bbox: Sequence[float],
    *,
    name: str | None = None,
    **settings: Unpack[DotsOCROptions],
) -> str:
    """The async twin of :func:`read_region`, run on the caller's event loop."""
    config = DotsOCRSettings(**settings)  # type: ignore[arg-type]
    data, label = _bytes_of(source, name)
    servers = Servers(config)
    try:
        await servers.start()
        geometry = geometry_for(config, servers.max_model_len)
        target = await asyncio.to_thread(_target, data, label, page, bbox, config, geometry)
        try:
            request = Request(target.image, "grounding", target.box)
            answer = await servers.ask(request, Tally(), lambda budget: watcher(budget, None))
        except DotsOCRError as exc:
            raise exc.located(label, target.index, target.total) from exc
    finally:
        await servers.aclose()
    if answer.finish_reason != "stop":
        raise PageError(
            f"the text of the region {list(bbox)} did not come back whole "
            f"(finish_reason={answer.finish_reason!r}): it may be too long for one answer",
            source=label,
            page=target.index,
            total_pages=target.total,
        )
    return safe_markdown(answer.text.strip(), tables=config.sanitize_tables)


def _bytes_of(source: Source, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "<bytes>"
    if isinstance(source, Blob):
        label = name or str(source.source or "<blob>")
        return read_blob(source, label), label
    label = name or str(source)
    return read_blob(Blob.from_path(source), label), label


def _four_numbers(bbox: Sequence[float]) -> list[float] | None:
    """The box as four finite floats (numpy's numbers too), or None."""
    try:
        values = list(bbox)
    except TypeError:
        return None
    real = [isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values]
    if len(values) != 4 or not all(real):
        return None
    floats = [float(v) for v in values]
    return floats if all(math.isfinite(v) for v in floats) else None


def _target(
    data: bytes,
    label: str,
    page: int,
    bbox: Sequence[float],
    config: DotsOCRSettings,
    geometry: Geometry,
) -> _Target:
    """Render the page as the loader does and place the box on the image to send."""
    password = config.password.get_secret_value() if config.password else None
    pages = open_pages(data, label, password=password)
    try:
        total = pages.total
        if not -total <= page < total:
            raise PageError(f"there is no page={page}: it has {total} page(s)", source=label)
        index = page % total

        def fail(reason: str) -> PageError:
            return PageError(reason, source=label, page=index, total_pages=total)

        values = _four_numbers(bbox)
        if values is None:
            raise fail(f"a box is four numbers x0, y0, x1, y1, not {bbox!r}")
        rendered = pages.render(index, geometry)  # (the box is checked first: a render costs)
    finally:
        pages.close()
    info, image = rendered.info, rendered.image
    x0, y0 = max(0.0, float(values[0])), max(0.0, float(values[1]))
    x1, y1 = min(info.width, float(values[2])), min(info.height, float(values[3]))
    if x1 <= x0 or y1 <= y0:
        raise fail(
            f"the box {values} has no area on the page "
            f"({info.width:g} x {info.height:g} {info.unit}, top-left origin)"
        )
    sx, sy = image.width / info.width, image.height / info.height
    box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    if rendered.whole:
        encoded = encode_image(image, config.image_format, config.jpeg_quality)
        at = (0, 0)
    elif part_fits(box, geometry):
        crop, (ax, ay, _, _) = crop_part(image, box, box, geometry)
        encoded, at = encode_image(crop), (ax, ay)
    else:
        raise fail("the region is too big for one image of the model: draw a smaller box")
    grounding = (
        max(0, math.floor(box[0] - at[0])),
        max(0, math.floor(box[1] - at[1])),
        min(encoded.width, math.ceil(box[2] - at[0])),
        min(encoded.height, math.ceil(box[3] - at[1])),
    )
    return _Target(encoded, grounding, index, total)
