"""One page being read: its servers and settings, its cost, its pixels when a reader needs them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image

from ..client import Answer
from ..encode import EncodedImage, decode_image
from ..errors import DotsOCRError
from ..pages import Geometry
from ..servers import Request, Servers
from ..settings import DotsOCRSettings
from .ink import FINE, Box, Ink, ink_map
from .page import PageResult, Prepared
from .watch import watcher

T = TypeVar("T")
# Runs a function in a worker thread (the run's encode pool) and awaits it.
Offload = Callable[..., Awaitable[Any]]


async def _inline(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


@dataclass
class PageContext:
    """What every way of reading one page shares."""

    page: Prepared
    result: PageResult
    servers: Servers
    settings: DotsOCRSettings
    geometry: Geometry
    offload: Offload = _inline
    _pixels: Image.Image | None = field(default=None, repr=False)
    _ink: Ink | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _answers: int = field(default=0, repr=False)

    @property
    def group(self) -> object:
        return self.page.info  # a page's requests share the slots as one

    def next_answer(self) -> int:
        """A number for the page's next answer (1, 2, ...): its cells carry it, so merging
        never takes two cells of one answer for one element. Per page: nothing shared between
        pages or processes."""
        self._answers += 1
        return self._answers

    def note(self, problem: str) -> None:
        """Something went wrong on the page that costs no request's share of it (the run
        reports and logs it; see :attr:`.page.PageResult.problems`)."""
        self.result.problems.append(problem)

    def points(self, box: Box) -> str:
        """``box`` (pixels of the page image) in page units, to name a region in a message."""
        info, page = self.page.info, self.page
        sx, sy = info.width / page.width, info.height / page.height
        x0, y0, x1, y1 = box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy
        return f"box {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f} {info.unit}"

    def lost(self, what: str, error: DotsOCRError) -> None:
        """A request for ``what`` failed and its share of the page is missing: kept for the
        page's error policy, which tells the user (unless a later way of reading the page
        makes up for it: then it is only a problem, see :meth:`.reader.Reader.read`)."""
        self.result.failures.append(type(error)(f"{what} was not read: {error.reason}"))

    async def pixels(self) -> Image.Image:
        """The page image, decoded again from what was sent (once, when first needed)."""
        async with self._lock:
            if self._pixels is None:
                self._pixels = await self.offload(decode_image, self.page.image)
            return self._pixels

    async def ink(self) -> Ink:
        """The fine ink map of the page, for cutting it into parts."""
        pixels = await self.pixels()
        async with self._lock:
            if self._ink is None:
                self._ink = await self.offload(ink_map, pixels, FINE)
            return self._ink

    async def ask(
        self,
        image: EncodedImage,
        mode: str,
        *,
        box: tuple[int, int, int, int] | None = None,
        temperature: float | None = None,
        ink: Ink | None = None,
        area: Box | None = None,
    ) -> Answer | None:
        """One request, watched for loops (and, given the ink under it, for overflow);
        ``None`` when ``page_timeout`` passed."""
        request = Request(image, mode, box, temperature, group=self.group)
        try:
            return await self.servers.ask(
                request, self.result.tally, lambda budget: watcher(budget, ink, area)
            )
        except TimeoutError:
            self.note(f"no complete answer within page_timeout={self.settings.page_timeout}s")
            return None
