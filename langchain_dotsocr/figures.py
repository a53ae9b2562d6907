"""A page's figures: its elements' crops (``images=``) and its pictures' descriptions.

Runs in the pipeline once a page is read (or found in the page cache), while its source is
still open: the crops are cut by the page layer on the render thread, encoded as PNG on a
worker thread, written to the image folder or kept as base64, and the Picture crops are
described (:mod:`.describe`). Nothing here can fail a page: a crop that cannot be cut or
written costs that crop, logged with the source and the page.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

from .atomic import write_atomically
from .cache import PageCache
from .crops import MIME_TYPE, Crop, Figure, crop_region, png_bytes
from .describe import PictureDescriber
from .documents.captions import link_captions
from .errors import DotsOCRError, where
from .imagefiles import crop_file_name
from .layout import Box
from .read import PageResult
from .sanitize import safe_markdown
from .settings import DotsOCRSettings

logger = logging.getLogger("langchain_dotsocr")

# Descriptions at once when max_concurrency is left to the loader (it sizes the model's
# requests by the servers' capacity, which says nothing of the describer's).
DESCRIBE_CONCURRENCY = 16
# Cuts regions (page units) of the page being finished, at the render resolution.
Cut = Callable[[list[Box]], Awaitable[list[Image.Image]]]
# Runs a function in a worker thread and awaits it.
Offload = Callable[..., Awaitable[Any]]


class Figures:
    """What the settings ask of a page's elements beyond the model's answer."""

    def __init__(self, settings: DotsOCRSettings, cache: PageCache | None) -> None:
        self.settings = settings
        self.categories = cropped_categories(settings)
        self.folder = _writable(settings.image_folder) if settings.image_folder else None
        self.describer = (
            PictureDescriber(
                settings.describe_pictures,
                limit=settings.max_concurrency or DESCRIBE_CONCURRENCY,
                timeout=settings.page_timeout,
                cache=cache,
                secrets=(settings.api_key.get_secret_value(),) if settings.api_key else (),
            )
            if settings.describe_pictures is not None
            else None
        )

    @classmethod
    def of(cls, settings: DotsOCRSettings, cache: PageCache | None) -> Figures | None:
        """The figures a run asks for, or None when it asks for none."""
        figures = cls(settings, cache)
        return figures if figures.categories else None

    def wanted(self, result: PageResult) -> list[int]:
        """The indices of the page's elements that get a crop."""
        return [i for i, e in enumerate(result.elements) if e.category in self.categories]

    async def of_page(
        self, result: PageResult, key: str, cut: Cut, offload: Offload
    ) -> dict[int, Figure]:
        """The figures of a read page, by element index (``key``: its source's id key)."""
        wanted = self.wanted(result)
        if not wanted:
            return {}
        info = result.info
        regions = [crop_region(result.elements[i].bbox, info.width, info.height) for i in wanted]
        try:
            images = await cut(regions)
        except DotsOCRError as exc:  # the page's crops are a share of it: its policy's
            result.failures.append(type(exc)(f"the page's crops were not cut: {exc.reason}"))
            return {}
        pngs: list[bytes] = await offload(_pngs, images)
        captions = link_captions(result.elements, info.height)
        crops = [
            Crop(
                png,
                image.width,
                image.height,
                info.source,
                info.index,
                i,
                result.elements[i].category,
                _caption(result, captions, i),
            )
            for i, png, image in zip(wanted, pngs, images, strict=True)
        ]
        out = {}
        for crop in crops:
            out[crop.element_index] = await self._kept(crop, key, offload)
        if self.describer is not None:
            pictures = [c for c in crops if c.category == "Picture"]
            said = await asyncio.gather(*(self.describer(c) for c in pictures),
                                        return_exceptions=True)
            for crop, text in zip(pictures, said, strict=True):
                if isinstance(text, BaseException):
                    if not isinstance(text, DotsOCRError):
                        raise text
                    box = result.elements[crop.element_index].bbox
                    where = "box " + ",".join(f"{v:.0f}" for v in box) + f" {info.unit}"
                    result.failures.append(DotsOCRError(
                        f"the description of the Picture at {where} was not made: {text.reason}"
                    ))
                    continue
                kept = out[crop.element_index]
                out[crop.element_index] = Figure(
                    kept.image_path, kept.image_base64, kept.image_mime_type, text
                )
        return out

    async def _kept(self, crop: Crop, key: str, offload: Offload) -> Figure:
        """Where the crop is kept: a file, base64, or (cut for a description only) nowhere."""
        if self.settings.images is None or crop.category not in self.settings.image_categories:
            return Figure()
        if self.folder is None:
            return Figure(image_base64=crop.base64, image_mime_type=MIME_TYPE)
        path = self.folder / crop_file_name(crop.source, key, crop.page, crop.element_index)
        try:
            await offload(write_atomically, path, crop.png)
        except OSError as exc:
            logger.warning(
                "%s: crop not written to %s (%s)", where(crop.source, crop.page), path, exc
            )
            return Figure()
        return Figure(image_path=os.fspath(path), image_mime_type=MIME_TYPE)


def cropped_categories(settings: DotsOCRSettings) -> frozenset[str]:
    """The categories whose elements the settings have cut from their page (kept as images,
    or described); empty when they ask for no figures."""
    cropped = set(settings.image_categories) if settings.images is not None else set()
    if settings.describe_pictures is not None:
        cropped.add("Picture")
    return frozenset(cropped - settings.excluded())


def _writable(folder: str) -> Path:
    """The crops' folder, made and tried once: a folder that cannot be written is said when
    the run starts, not as one warning per crop (which the CLI does not show)."""
    path = Path(folder).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"images={folder!r}: crops cannot be written there ({reason})"
        raise OSError(exc.errno, message) from exc
    return path


def _caption(result: PageResult, captions: dict[int, int], figure: int) -> str:
    texts = [result.elements[c].text or "" for c, f in sorted(captions.items()) if f == figure]
    return "\n".join(safe_markdown(t.strip()) for t in texts if t.strip())


def _pngs(images: list[Image.Image]) -> list[bytes]:
    return [png_bytes(image) for image in images]
