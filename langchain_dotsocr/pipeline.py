"""The run: render pages in one thread, send them concurrently, yield Documents in order.

PDFium is not thread-safe, so pages are rendered by a single worker thread; encoding (which
releases the GIL in Pillow) runs on a small pool beside it. At most ``READ_AHEAD`` pages are
held as pixels, and at most ``slots + READ_AHEAD`` pages are between the renderer and the
caller, where ``slots`` is the requests the servers take at once (``max_concurrency``, or the
capacity found so far), so memory follows the servers' capacity, never the batch's length.
Documents come out in source and page order however the answers arrive.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from PIL import Image

from .budget import fit_max_pixels
from .cache import PageCache
from .documents import DocumentBuilder
from .errors import (
    ContextLengthError,
    DotsOCRError,
    where,
)
from .figures import Figures
from .identity import SourceId, answer_key, content_hash
from .layout import Box
from .limiter import Gate
from .pages import Geometry, PageDocument, PageImage, PageInfo, open_pages, read_blob, select_pages
from .progress import Progress
from .read import FATAL, PageResult, Prepared, Reader, prepare
from .servers import Servers, Tally
from .settings import DotsOCRSettings

logger = logging.getLogger("langchain_dotsocr")
T = TypeVar("T")

# Pages held as pixels at once (rendered, not yet encoded).
READ_AHEAD = 4


class DownscaleWarning(UserWarning):
    """Pages are sent smaller than asked because the server's context cannot hold them."""


@dataclass
class SourceReport:
    """Per source: pages done, pages that needed help, pages failed, requests sent.

    ``pages_salvaged`` counts every page not read by its first answer alone (asked again, read
    in parts, plain OCR, or salvaged); ``pages_tiled`` those read in parts;
    ``pages_incomplete`` the pages that came out without a share that a request failed to read
    (a part, a band, a picture's text: each failure also went through ``on_error``).
    ``prompt_tokens`` and ``completion_tokens`` are what the server reported for the run's
    requests. ``problems``: what went wrong on pages that came out, that no error tells (an
    answer cut at the budget, cells dropped for an unusable box, a table's text left out),
    as ``"page 3 of 10 (page=2): ..."`` in page order; a cached page's too (each is also
    logged at INFO).
    """

    source: str
    pages_done: int = 0
    pages_salvaged: int = 0
    pages_failed: int = 0
    pages_incomplete: int = 0
    pages_cached: int = 0
    pages_tiled: int = 0
    requests: int = 0
    #: Pages whose text came from their text layer (``"layer"``: at least one element) or
    #: from the model alone (``"model"``), and elements by where their text came from.
    pages_by_text_source: dict[str, int] = field(default_factory=dict)
    elements_by_text_source: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Elements by how they were read (``layout``, ``retried``, ``tiled``, ``grounded``, ...).
    extractions: dict[str, int] = field(default_factory=dict)
    #: Tries sent to each server (by URL), transport retries and failovers included.
    requests_by_server: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def count(self, tally: Tally) -> None:
        """Add what a page's requests cost."""
        self.requests += tally.requests
        self.prompt_tokens += tally.prompt_tokens
        self.completion_tokens += tally.completion_tokens
        for url, n in tally.by_server.items():
            self.requests_by_server[url] = self.requests_by_server.get(url, 0) + n


@dataclass
class _Failure:
    error: DotsOCRError
    info: PageInfo | None = None
    tally: Tally = field(default_factory=Tally)


_Item = PageResult | _Failure


@dataclass
class _Slot:
    """A place in the output order: a page's future result, or the end of a source."""

    builder: DocumentBuilder
    report: SourceReport
    item: asyncio.Future[_Item] | None = None  # None marks the end of the source
    cached: bool = False


@dataclass
class _Source:
    """An opened source; closed once its pages are scheduled and none still needs it open
    (a page's crops are cut from it after the page is read)."""

    name: str
    document: PageDocument
    identity: SourceId
    users: int = 0  # pages in flight
    scheduled: bool = False
    closed: bool = False


class Run:
    """One load over some sources: owns the HTTP client, the threads and the reports."""

    def __init__(self, settings: DotsOCRSettings, reports: dict[str, SourceReport]) -> None:
        self.settings = settings
        self.reports = reports
        self.cache = PageCache(settings.cache_dir) if settings.cache_dir else None
        self._render = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dotsocr-render")
        self._encode = ThreadPoolExecutor(
            max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="dotsocr-encode"
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.figures: Figures | None = None
        self._warned = False
        self.model = ""
        self._answer = ""  # the answer key of the run (see identity.answer_key)

    async def _run_in(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def documents(self, blobs: Iterable[Blob]) -> AsyncIterator[Document]:
        s = self.settings
        servers = Servers(s)
        progress = Progress(s.show_progress)
        producer: asyncio.Task[None] | None = None
        try:
            await servers.start()
            self.model = servers.model
            self.figures = Figures.of(s, self.cache)
            geometry = self._geometry(servers.max_model_len)
            self._answer = answer_key(s, self.model, geometry)
            reader = Reader(servers, s, geometry, functools.partial(self._run_in, self._encode))
            order: asyncio.Queue[_Slot | None] = asyncio.Queue()
            # Pages between renderer and caller follow the slots the servers take.
            window = Gate(lambda: servers.limiter.limit + READ_AHEAD)
            servers.limiter.resized = window.wake

            async def produce() -> None:
                try:
                    await self._produce(blobs, geometry, reader, order, window, progress)
                finally:
                    # Always close the order, so the consumer never waits for a producer that
                    # died: it meets the failed page's exception, or the producer's own.
                    order.put_nowait(None)

            producer = asyncio.create_task(produce())
            while (slot := await order.get()) is not None:
                if slot.item is None:
                    for doc in slot.builder.finish():
                        yield doc
                    continue
                item = await slot.item
                window.release()
                progress.done(1, servers.requests_by_server())
                for doc in self._emit(item, slot):
                    yield doc
            await producer
        finally:
            pending = [*self._tasks, *([producer] if producer else [])]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await servers.aclose()
            progress.close()
            # Not wait=True: that would block the caller's event loop on a render in progress.
            self._render.shutdown(wait=False, cancel_futures=True)
            self._encode.shutdown(wait=False, cancel_futures=True)

    def _geometry(self, max_model_len: int | None) -> Geometry:
        return geometry_for(self.settings, max_model_len)

    async def _produce(
        self,
        blobs: Iterable[Blob],
        geometry: Geometry,
        reader: Reader,
        order: asyncio.Queue[_Slot | None],
        window: Gate,
        progress: Progress,
    ) -> None:
        loop = asyncio.get_running_loop()
        raw = asyncio.Semaphore(READ_AHEAD)
        for blob in blobs:
            name = str(blob.source or getattr(blob, "path", None) or "<bytes>")
            report = self.reports.setdefault(name, SourceReport(name))
            try:
                source = await self._run_in(self._render, self._open, blob, name)
            except DotsOCRError as exc:
                unread = SourceId.of_name(name, self._answer)
                builder = DocumentBuilder(self.settings, self.model, unread)
                await window.acquire()
                progress.add(1)
                failed: asyncio.Future[_Item] = loop.create_future()
                failed.set_result(_Failure(exc.located(name, None)))
                await order.put(_Slot(builder, report, failed))
                await order.put(_Slot(builder, report))
                continue
            builder = DocumentBuilder(self.settings, self.model, source.identity)
            try:
                indices = select_pages(source.document.total, self.settings.pages)
                progress.add(len(indices))
                for index in indices:
                    await window.acquire()
                    future: asyncio.Future[_Item] = loop.create_future()
                    key = self._key(source, index)
                    hit = self.cache.get(key, name) if self.cache and key else None
                    await order.put(_Slot(builder, report, future, cached=hit is not None))
                    if hit is not None:
                        if self.figures is None:
                            future.set_result(hit)
                        else:  # a cached page still yields its crops: cut them from the file
                            self._start(self._cached(hit, future, source), source)
                        continue
                    await raw.acquire()
                    try:
                        page = await self._run_in(
                            self._render, self._render_page, source.document, index, geometry
                        )
                    except DotsOCRError as exc:
                        raw.release()
                        total = source.document.total
                        future.set_result(_Failure(exc.located(name, index, total)))
                        continue
                    except BaseException as exc:  # a bug or MemoryError: fail loudly, not hang
                        _fail(future, exc)
                        raise
                    self._start(self._page(reader, page, future, raw, key, source), source)
            finally:
                source.scheduled = True
                await self._close_if_done(source)
            await order.put(_Slot(builder, report))

    def _start(self, work: Coroutine[Any, Any, None], source: _Source) -> None:
        """Run a page's work as a task; the source stays open until it ends (its crops are
        cut from the source once the page is read)."""
        source.users += 1

        async def holding() -> None:
            try:
                await work
            finally:
                source.users -= 1
                await self._close_if_done(source)

        task = asyncio.create_task(holding())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_if_done(self, source: _Source) -> None:
        if source.scheduled and source.users == 0 and not source.closed:
            source.closed = True
            await self._run_in(self._render, source.document.close)

    async def _finish(self, result: PageResult, source: _Source) -> None:
        """Cut the crops of a read page and describe its pictures (with figures asked)."""
        if self.figures is None:
            return
        index = result.info.index

        async def cut(regions: list[Box]) -> list[Image.Image]:
            crops = source.document.crops
            images: list[Image.Image] = await self._run_in(
                self._render, crops, index, regions, self.settings.dpi
            )
            return images

        result.figures = await self.figures.of_page(
            result, source.identity.key, cut, functools.partial(self._run_in, self._encode)
        )

    async def _cached(
        self, hit: PageResult, future: asyncio.Future[_Item], source: _Source
    ) -> None:
        try:
            await self._finish(hit, source)
        except BaseException as exc:
            _fail(future, exc)
            raise
        future.set_result(hit)

    def _key(self, source: _Source, index: int) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key(source.identity, index)

    def _open(self, blob: Blob, name: str) -> _Source:
        data = read_blob(blob, name)
        password = self.settings.password
        document = open_pages(
            data, name, password=password.get_secret_value() if password else None
        )
        return _Source(name, document, SourceId.of_content(content_hash(data), self._answer))

    def _render_page(self, document: PageDocument, index: int, geometry: Geometry) -> PageImage:
        page = document.render(index, geometry, layer=self.settings.text_layer == "auto")
        if page.layer_problem:  # nothing is lost: the model reads the page as with "off"
            logger.warning(
                "%s: its text layer cannot be read (%s); the model reads every word",
                where(page.info.source, index, page.info.total), page.layer_problem,
            )
        if page.whole:  # a long page is kept at full resolution: nothing is downscaled
            self._warn_downscaled(page.info, geometry)
        return page

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

    async def _page(
        self,
        reader: Reader,
        page: PageImage,
        future: asyncio.Future[_Item],
        raw: asyncio.Semaphore,
        key: str | None,
        source: _Source,
    ) -> None:
        info = page.info
        result = PageResult(info)
        item: _Item
        try:
            try:
                s = self.settings
                prepared: Prepared = await self._run_in(
                    self._encode, prepare, page, s.image_format, s.jpeg_quality
                )
            finally:
                raw.release()
            del page  # the pixels are no longer needed: only the encoded page waits
            await reader.read(prepared, result)
            item = result
            if self.cache and key:
                await self._run_in(self._encode, self._store, key, result)
            await self._finish(result, source)
        except DotsOCRError as exc:
            item = _Failure(exc.located(info.source, info.index, info.total), info, result.tally)
        except BaseException as exc:
            _fail(future, exc)
            raise
        future.set_result(item)

    def _store(self, key: str, result: PageResult) -> None:
        """Cache a page; a cache that cannot be written costs the cache, not the page."""
        assert self.cache is not None
        try:
            self.cache.put(key, result)
        except OSError as exc:
            info = result.info
            logger.warning("%s: not cached (%s)", where(info.source, info.index, info.total), exc)

    def _emit(self, item: _Item, slot: _Slot) -> Iterator[Document]:
        report = slot.report
        report.count(item.tally)
        if isinstance(item, PageResult):
            report.pages_done += 1
            report.pages_cached += slot.cached
            normal = "ocr" if self.settings.prompt_mode == "ocr" else "layout"
            if item.extraction != normal:
                report.pages_salvaged += 1
            report.pages_tiled += item.extraction == "tiled"
            for element in item.elements:
                way = element.extraction
                report.extractions[way] = report.extractions.get(way, 0) + 1
                by = report.elements_by_text_source
                by[element.text_source] = by.get(element.text_source, 0) + 1
            source = "layer" if any(e.text_source == "layer" for e in item.elements) else "model"
            pages = report.pages_by_text_source
            pages[source] = pages.get(source, 0) + 1
            for line in item.noted():  # told once, as the page leaves (cached or not)
                report.problems.append(line)
                logger.info("%s, %s", item.info.source, line)
            yield from slot.builder.page(item)
            for failure in item.failures:  # what the page lacks: the read part is out first
                info = item.info
                yield from self._failed(failure.located(info.source, info.index, info.total),
                                        slot, info, held=False)
            report.pages_incomplete += bool(item.failures)
            return
        report.pages_failed += 1
        yield from self._failed(item.error, slot, item.info, held=True)

    def _failed(
        self, error: DotsOCRError, slot: _Slot, info: PageInfo | None, held: bool
    ) -> Iterator[Document]:
        """A failure through ``on_error``: raised, marked by an Error Document, or logged.
        ``held``: a whole page failed (not a share of a page that came out)."""
        report = slot.report
        report.errors.append(str(error))
        stop = self.settings.on_error == "raise" or isinstance(error, FATAL)
        mark = not stop and self.settings.on_error == "mark"
        if held or stop:  # a page held back was read whole (or the run ends): it leaves first
            yield from slot.builder.failed(error, info, mark)
        elif mark and info is not None:
            yield from slot.builder.part_failed(error, info)
        if stop:
            raise error
        logger.warning("%s", error)


def geometry_for(settings: DotsOCRSettings, max_model_len: int | None) -> Geometry:
    """How pages are rendered for a context of ``max_model_len`` (the smallest of the servers',
    so that every server can take every page): downscaled to fit when allowed."""
    s = settings
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


def _fail(future: asyncio.Future[_Item], exc: BaseException) -> None:
    """Pass a page's unexpected end to whoever awaits it; a cancelled run leaves no noise."""
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
