"""One page in, its elements (or text) out: budget the request, send it, decode the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from .client import Answer
from .encode import EncodedImage, ImageFormat, encode_image
from .errors import (
    AuthenticationError,
    DotsOCRError,
    ModelNotServedError,
    PageError,
    ServerUnreachableError,
)
from .layout import Cell, Element, decode_answer, to_elements
from .pages import PageImage, PageInfo
from .repetition import LoopDetector
from .sanitize import clean_table
from .servers import Request, Servers, Tally
from .settings import DotsOCRSettings


@dataclass(frozen=True)
class Prepared:
    """A page encoded for sending; the pixels are no longer held."""

    info: PageInfo
    image: EncodedImage

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def prepare(page: PageImage, fmt: ImageFormat = "png", quality: int = 90) -> Prepared:
    """Encode a rendered page (runs in a worker thread, off the event loop)."""
    return Prepared(page.info, encode_image(page.image, fmt, quality))


@dataclass
class PageResult:
    """What one page gave: elements for the layout modes, text for ``ocr``."""

    info: PageInfo
    elements: list[Element] = field(default_factory=list)
    text: str | None = None
    extraction: str = "layout"
    problems: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    @property
    def requests(self) -> int:
        """Requests sent for the page (transport retries not counted)."""
        return self.tally.requests


T = TypeVar("T")

# Errors no fallback can help: every further request would fail the same way.
FATAL = (AuthenticationError, ServerUnreachableError, ModelNotServedError)

# A second look at a page that looped or broke: sampling moves the model off its loop.
RETRY_TEMPERATURE = 0.5
# Grounding requests of one page in flight at once.
GROUNDING_CONCURRENCY = 8


@dataclass
class _Layout:
    cells: list[Cell]
    complete: bool


class Extractor:
    """Turns prepared pages into results against one discovered server.

    A layout answer that is not complete (truncated, looping, invalid, or past the page
    deadline) is salvaged cell by cell, then the page is tried again: the same prompt at a
    higher temperature, then ``layout_only`` with a grounding request per text region, then
    plain ``ocr``. The first complete answer wins; if none is complete the salvaged cells are
    kept. ``extraction`` says which way the page was read.
    """

    def __init__(self, servers: Servers, settings: DotsOCRSettings) -> None:
        self.servers = servers
        self.settings = settings

    async def extract(self, page: Prepared, result: PageResult) -> PageResult:
        """Fill ``result`` for ``page``; raises a :class:`DotsOCRError` when the page fails."""
        mode = self.settings.prompt_mode
        if mode == "ocr":
            answer = await self._timed(self.ask(page, "ocr", result), result)
            if answer is None or not _complete(answer, result):
                raise PageError("no complete OCR answer: " + "; ".join(result.problems))
            result.text, result.extraction = answer.text.strip(), "ocr"
            return result
        first = await self._layout(page, mode, result)
        if first.complete and first.cells:
            return self._done(result, page, first.cells, "layout")
        salvaged = first.cells
        # From here on a request that fails costs only its own step: the salvaged cells stay.
        retry = await self._fallback(self._layout(page, mode, result, RETRY_TEMPERATURE), result)
        if retry is not None:
            if retry.complete and (retry.cells or first.complete):
                # Twice empty: a blank page, not a failure.
                extraction = "retried" if retry.cells else "layout"
                return self._done(result, page, retry.cells, extraction)
            salvaged = max(salvaged, retry.cells, key=len)
        if mode == "layout_all":
            grounded = await self._fallback(self._grounded(page, result), result)
            if grounded:
                return self._done(result, page, grounded, "grounded")
            answer = await self._fallback(
                self._timed(self.ask(page, "ocr", result), result), result
            )
            if answer is not None and _complete(answer, result) and answer.text.strip():
                whole = Cell(
                    "Text", (0.0, 0.0, float(page.width), float(page.height)), answer.text.strip()
                )
                return self._done(result, page, [whole], "ocr")
        if salvaged:
            return self._done(result, page, salvaged, "salvaged")
        raise PageError("no usable answer after every fallback: " + "; ".join(result.problems))

    async def _fallback(self, call: Awaitable[T], result: PageResult) -> T | None:
        """One fallback step; a page-level error ends the step, not the page."""
        try:
            return await call
        except FATAL:
            raise
        except DotsOCRError as exc:
            result.problems.append(f"fallback failed: {exc.reason}")
            return None

    def _done(
        self, result: PageResult, page: Prepared, cells: list[Cell], extraction: str
    ) -> PageResult:
        result.elements = elements_of(cells, page, self.settings)
        result.extraction = extraction
        return result

    async def _layout(
        self, page: Prepared, mode: str, result: PageResult, temperature: float | None = None
    ) -> _Layout:
        answer = await self._timed(self.ask(page, mode, result, temperature=temperature), result)
        if answer is None:
            return _Layout([], False)
        decoded = decode_answer(answer.text, page.width, page.height)
        result.problems.extend(decoded.problems)
        return _Layout(decoded.cells, decoded.complete and _complete(answer, result))

    async def _grounded(self, page: Prepared, result: PageResult) -> list[Cell] | None:
        regions = await self._layout(page, "layout_only", result)
        if not regions.complete or not regions.cells:  # nothing found is no help here
            return None
        gate = asyncio.Semaphore(GROUNDING_CONCURRENCY)

        async def read(cell: Cell) -> Cell:
            if cell.category == "Picture":
                return cell
            x0, y0, x1, y1 = (round(v) for v in cell.bbox)
            async with gate:
                answer = await self._timed(
                    self.ask(page, "grounding", result, box=(x0, y0, x1, y1)), result
                )
            if answer is None or not _complete(answer, result):
                raise _Incomplete
            return Cell(cell.category, cell.bbox, answer.text.strip())

        try:
            # A task group cancels the other reads as soon as one fails: none outlives the page.
            async with asyncio.TaskGroup() as group:
                reads = [group.create_task(read(c)) for c in regions.cells]
        except BaseExceptionGroup as failed:
            errors = failed.exceptions
            fatal = [e for e in errors if isinstance(e, FATAL)]
            if fatal:
                raise fatal[0] from failed
            if not all(isinstance(e, (_Incomplete, DotsOCRError)) for e in errors):
                raise
            result.problems.extend(e.reason for e in errors if isinstance(e, DotsOCRError))
            return None
        return [r.result() for r in reads]

    async def _timed(self, call: Awaitable[Answer], result: PageResult) -> Answer | None:
        """Await one request (``ask`` applies the deadline); ``None`` when the deadline passed."""
        try:
            return await call
        except TimeoutError:
            result.problems.append(
                f"no complete answer within page_timeout={self.settings.page_timeout}s"
            )
            return None

    async def ask(
        self,
        page: Prepared,
        mode: str,
        result: PageResult,
        box: tuple[int, int, int, int] | None = None,
        temperature: float | None = None,
    ) -> Answer:
        """One request about ``page``, watched for loops."""
        request = Request(page.image, mode, box, temperature, group=page.info)
        return await self.servers.ask(request, result.tally, lambda budget: LoopDetector().feed)


def elements_of(cells: list[Cell], page: Prepared, settings: DotsOCRSettings) -> list[Element]:
    """The page's elements from the model's cells: tables sanitised, boxes in page units."""
    if settings.sanitize_tables:
        cells = [
            replace(c, text=clean_table(c.text)) if c.category == "Table" and c.text else c
            for c in cells
        ]
    return to_elements(cells, page.info, page.width, page.height)


class _Incomplete(Exception):
    """A grounding answer was not complete."""


def _complete(answer: Answer, result: PageResult) -> bool:
    if answer.finish_reason == "stop":
        return True
    result.problems.append(f"answer ended with finish_reason={answer.finish_reason!r}")
    return False
