"""The run: render pages in one thread, send them concurrently, yield Documents in order.

Rendering and encoding happen in a single worker thread (PDFium is not thread-safe) and run
ahead of the requests by a bounded window; requests run concurrently up to
``max_concurrency``; Documents come out in source and page order however the answers arrive.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from langchain_core.documents import Document
from langchain_core.documents.base import Blob

from .budget import fit_max_pixels
from .client import Client, Retry, Timeouts
from .documents import DocumentBuilder
from .errors import (
    AuthenticationError,
    ContextLengthError,
    DotsOCRError,
    ModelNotServedError,
    ServerUnreachableError,
)
from .extract import Extractor, PageResult, Prepared, prepare
from .pages import Geometry, PageDocument, PageInfo, open_pages, select_pages
from .settings import DotsOCRSettings

logger = logging.getLogger("langchain_dotsocr")
T = TypeVar("T")

# Pages rendered ahead of the requests; each waits encoded (a few hundred KB), not as pixels.
READ_AHEAD = 4


class DownscaleWarning(UserWarning):
    """Pages are sent smaller than asked because the server's context cannot hold them."""


@dataclass
class SourceReport:
    """Per source: pages done, pages that needed help, pages failed, requests sent."""

    source: str
    pages_done: int = 0
    pages_salvaged: int = 0
    pages_failed: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Failure:
    error: DotsOCRError
    info: PageInfo | None = None
    requests: int = 0


_Item = PageResult | _Failure


@dataclass
class _Slot:
    """A place in the output order: a page's future result, or the end of a source."""

    builder: DocumentBuilder
    report: SourceReport
    item: asyncio.Future[_Item] | None = None  # None marks the end of the source


# Errors that no page policy can help: every further page would fail the same way.
FATAL = (AuthenticationError, ServerUnreachableError, ModelNotServedError)


class Run:
    """One load over some sources: owns the HTTP client, the render thread and the report."""

    def __init__(self, settings: DotsOCRSettings, reports: dict[str, SourceReport]) -> None:
        self.settings = settings
        self.reports = reports
        self._render = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dotsocr-render")
        self._warned = False

    async def _in_render_thread(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._render, fn, *args)

    async def documents(self, blobs: Iterable[Blob]) -> AsyncIterator[Document]:
        s = self.settings
        client = Client(
            s.base_url,
            s.api_key.get_secret_value() if s.api_key else None,
            timeouts=Timeouts(s.connect_timeout, s.read_timeout, s.page_timeout),
            retry=Retry(tries=s.max_retries, base=s.retry_backoff),
            max_connections=s.max_concurrency,
        )
        producer: asyncio.Task[None] | None = None
        tasks: set[asyncio.Task[None]] = set()
        try:
            server = await client.discover(s.model, s.max_model_len)
            extractor = Extractor(client, server, s)
            geometry = self._geometry(server.max_model_len)
            order: asyncio.Queue[_Slot | None] = asyncio.Queue()
            window = asyncio.Semaphore(s.max_concurrency + READ_AHEAD)
            slots = asyncio.Semaphore(s.max_concurrency)
            producer = asyncio.create_task(
                self._produce(blobs, geometry, extractor, order, window, slots, tasks, server.model)
            )
            while (slot := await order.get()) is not None:
                if slot.item is None:
                    for doc in slot.builder.finish():
                        yield doc
                    continue
                item = await slot.item
                window.release()
                for doc in self._emit(item, slot):
                    yield doc
            await producer
        finally:
            for task in [*tasks, *([producer] if producer else [])]:
                task.cancel()
            await asyncio.gather(*tasks, *([producer] if producer else []), return_exceptions=True)
            await client.aclose()
            self._render.shutdown(wait=True)

    def _geometry(self, max_model_len: int | None) -> Geometry:
        s = self.settings
        max_pixels = s.max_pixels
        if max_model_len is not None and s.downscale_to_fit:
            max_pixels = fit_max_pixels(max_model_len, s.prompt_mode, s.max_pixels)
            if max_pixels < s.min_pixels:
                raise ContextLengthError(
                    f"the server's max_model_len of {max_model_len} cannot hold even the "
                    "smallest page image with its prompt and an answer; start vLLM with a larger "
                    "--max-model-len (see docker-compose-vllm.yml)"
                )
        return Geometry(dpi=s.dpi, min_pixels=s.min_pixels, max_pixels=max_pixels)

    async def _produce(
        self,
        blobs: Iterable[Blob],
        geometry: Geometry,
        extractor: Extractor,
        order: asyncio.Queue[_Slot | None],
        window: asyncio.Semaphore,
        slots: asyncio.Semaphore,
        tasks: set[asyncio.Task[None]],
        model: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        for blob in blobs:
            source = str(blob.source or getattr(blob, "path", None) or "<bytes>")
            report = self.reports.setdefault(source, SourceReport(source))
            builder = DocumentBuilder(self.settings, model)
            try:
                document = await self._in_render_thread(self._open, blob, source)
            except DotsOCRError as exc:
                await window.acquire()
                failed: asyncio.Future[_Item] = loop.create_future()
                failed.set_result(_Failure(exc.located(source, None)))
                await order.put(_Slot(builder, report, failed))
                await order.put(_Slot(builder, report))
                continue
            try:
                for index in select_pages(document.total, self.settings.pages):
                    await window.acquire()
                    future: asyncio.Future[_Item] = loop.create_future()
                    await order.put(_Slot(builder, report, future))
                    try:
                        page = await self._in_render_thread(
                            self._prepare, document, index, geometry
                        )
                    except DotsOCRError as exc:
                        future.set_result(_Failure(exc.located(source, index, document.total)))
                        continue
                    task = asyncio.create_task(self._extract(extractor, page, future, slots))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                await self._in_render_thread(document.close)
            await order.put(_Slot(builder, report))
        await order.put(None)

    def _open(self, blob: Blob, source: str) -> PageDocument:
        password = self.settings.password
        return open_pages(
            blob.as_bytes(), source, password=password.get_secret_value() if password else None
        )

    def _prepare(self, document: PageDocument, index: int, geometry: Geometry) -> Prepared:
        page = document.render(index, geometry)
        self._warn_downscaled(page.info, geometry)
        return prepare(page)

    def _warn_downscaled(self, info: PageInfo, geometry: Geometry) -> None:
        s = self.settings
        if self._warned or geometry.max_pixels >= s.max_pixels:
            return
        if info.natural_pixels <= geometry.max_pixels:
            return
        self._warned = True
        warnings.warn(
            f"{info.source}: pages are downscaled to at most {geometry.max_pixels} pixels "
            f"(asked: {info.natural_pixels}) so the image, the prompt and at least 1024 output "
            "tokens fit the server's max_model_len. Start vLLM with a larger --max-model-len "
            "(`dotsocr check` or the README says how much) to parse at full resolution.",
            DownscaleWarning,
            stacklevel=2,
        )

    async def _extract(
        self,
        extractor: Extractor,
        page: Prepared,
        future: asyncio.Future[_Item],
        slots: asyncio.Semaphore,
    ) -> None:
        result = PageResult(page.info)
        info = page.info
        item: _Item
        async with slots:
            try:
                await extractor.extract(page, result)
                item = result
            except DotsOCRError as exc:
                item = _Failure(
                    exc.located(info.source, info.index, info.total), info, result.requests
                )
            except BaseException as exc:
                future.set_exception(exc)
                raise
        future.set_result(item)

    def _emit(self, item: _Item, slot: _Slot) -> list[Document]:
        report = slot.report
        report.requests += item.requests
        if isinstance(item, PageResult):
            report.pages_done += 1
            if item.extraction not in ("layout", "ocr"):
                report.pages_salvaged += 1
            return slot.builder.page(item)
        report.pages_failed += 1
        report.errors.append(str(item.error))
        if self.settings.on_error == "raise" or isinstance(item.error, FATAL):
            raise item.error
        logger.warning("%s", item.error)
        if self.settings.on_error == "mark":
            return [slot.builder.failed(item.error, item.info)]
        return []
