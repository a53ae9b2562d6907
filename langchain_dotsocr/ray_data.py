"""The loader's pipeline on a Ray cluster, built on Ray Data's plain primitives.

Install with ``pip install "langchain-dotsocr[ray]"``; nothing else in the package imports
this module. The stages are the loader's own, spread over the cluster::

    ray.data.read_binary_files(paths)        files, local or cloud paths
      -> flat_map(render_pages)              page rows: the package's renderer, one row a page
      -> map(PageReader, actor pool)         result rows: the package's async client in each
                                             actor (streaming, loop cut, budgets, fallbacks,
                                             dense pages, several servers)
      -> documents(results)                  LangChain Documents on the driver, in order
      -> document_rows(results)              or one row per Document, for write_parquet /
                                             write_json by Ray

A page that fails becomes a row with its ``error`` (and ``error_type``); one bad page or file
never fails the dataset. Rows never carry the API key, and only page rows carry the image.

To run dots.ocr engines inside the cluster instead of calling servers, build requests with
:func:`engine_request` and turn Ray Data's vLLM engine processor's ``generated_text`` into the
same result rows with :func:`result_of_answer` (the README has the recipe).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

import ray
import ray.data
from langchain_core.documents import Document

from .documents import DocumentBuilder
from .encode import EncodedImage, decode_image
from .errors import DotsOCRError, PageError, ServerError
from .identity import SourceId, answer_key, content_hash
from .layout import Element, decode_answer
from .pages import Geometry, PageInfo, open_pages, select_pages
from .pipeline import geometry_for
from .prompts import chat_body, prompt_text
from .read import PageResult, Prepared, Reader, prepare
from .read.ink import COARSE, ink_map
from .read.reader import elements_of
from .servers import Servers
from .settings import DotsOCRSettings

__all__ = [
    "ROWS_PER_ACTOR",
    "PageReader",
    "document_rows",
    "documents",
    "engine_request",
    "read_pages",
    "render_pages",
    "result_of_answer",
]

#: Pages one actor reads at once: Ray Data runs this many rows of an async UDF per actor.
ROWS_PER_ACTOR = 16
#: CPUs a reader actor reserves: it mostly waits on the servers, and a whole CPU each would
#: leave none for reading and rendering on a small cluster.
READER_CPUS = 0.25
# Every page row has these keys (None where unknown), so rows of one dataset share a schema.
PAGE_ROW: dict[str, Any] = dict.fromkeys(
    (
        "source", "page", "total_pages", "page_width", "page_height", "coordinate_unit",
        "natural_pixels", "image", "image_width", "image_height", "whole", "digest", "answer",
        "error", "error_type",
    )
)
_DATA_URL = re.compile(r"data:[\w/.+-]+;base64,[A-Za-z0-9+/=]*")


def read_pages(
    paths: str | Sequence[str], *, actors: int = 2, **settings: Any
) -> ray.data.Dataset:
    """A dataset of result rows, one per page (or per file that cannot be opened).

    Args:
        paths: files or folders, local or cloud (anything ``ray.data.read_binary_files``
            reads).
        actors: readers in the pool; each keeps up to :data:`ROWS_PER_ACTOR` pages in flight,
            so ``actors * 16`` should cover what the servers run at once.
        **settings: the loader's settings (``base_url`` with several servers, ``dpi``, ...).
            ``max_concurrency`` is per actor, and defaults to :data:`ROWS_PER_ACTOR`.

    The servers are discovered once here, on the driver, to size the pages for the smallest
    context; each actor discovers them again for its own client.
    """
    s = DotsOCRSettings(**settings)
    if s.max_concurrency is None:
        s = s.model_copy(update={"max_concurrency": ROWS_PER_ACTOR})
    geometry, model = asyncio.run(_discover(s))
    files = ray.data.read_binary_files(
        paths if isinstance(paths, str) else list(paths), include_paths=True
    )
    answer = answer_key(s, model, geometry)  # with each file's hash: the Documents' ids
    render = functools.partial(render_pages, settings=s, geometry=geometry, answer=answer)
    pages = files.flat_map(render)
    # A file's pages come out as one block, and a block goes to one actor: cut them into
    # blocks of an actor's share so that every actor gets pages (streaming, no shuffle).
    pages = pages.repartition(target_num_rows_per_block=ROWS_PER_ACTOR)
    reader: Any = PageReader  # Ray takes a class for an actor pool; its hints say callable
    return pages.map(
        reader,
        fn_constructor_kwargs={"settings": s, "geometry": geometry},
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=READER_CPUS,
    )


async def _discover(settings: DotsOCRSettings) -> tuple[Geometry, str]:
    servers = Servers(settings)
    try:
        await servers.start()
        return geometry_for(settings, servers.max_model_len), servers.model
    finally:
        await servers.aclose()


def render_pages(
    row: dict[str, Any], settings: DotsOCRSettings, geometry: Geometry, answer: str = ""
) -> list[dict[str, Any]]:
    """Page rows of one file row (``bytes``, ``path``): the page encoded as the loader sends it.

    ``answer`` is the run's :func:`~langchain_dotsocr.identity.answer_key` (with the file's
    hash it names the Documents as the loader does). A file that cannot be opened gives one
    row with ``page=-1`` and its error; a page that cannot be rendered gives its row with
    the error.
    """
    source, data = str(row["path"]), bytes(row["bytes"])
    file = PAGE_ROW | {"source": source, "answer": answer}
    password = settings.password.get_secret_value() if settings.password else None
    try:
        document = open_pages(data, source, password=password)
    except DotsOCRError as exc:
        return [_error_row(file | {"page": -1}, exc.located(source, None))]
    file["digest"] = content_hash(data)
    rows = []
    try:
        for index in select_pages(document.total, settings.pages):
            where = file | {"page": index, "total_pages": document.total}
            try:
                page = prepare(
                    document.render(index, geometry), settings.image_format, settings.jpeg_quality
                )
            except DotsOCRError as exc:
                rows.append(_error_row(where, exc.located(source, index, document.total)))
                continue
            rows.append(file | _page_row(page))
    finally:
        document.close()
    return rows


def _page_row(page: Prepared) -> dict[str, Any]:
    info = page.info
    return {
        "source": info.source,
        "page": info.index,
        "total_pages": info.total,
        "page_width": info.width,
        "page_height": info.height,
        "coordinate_unit": info.unit,
        "natural_pixels": info.natural_pixels,
        "image": page.image.url,
        "image_width": page.width,
        "image_height": page.height,
        "whole": page.whole,
        "error": None,
        "error_type": None,
    }


def _error_row(where: dict[str, Any], error: BaseException) -> dict[str, Any]:
    return where | {"error": _message(error), "error_type": type(error).__name__}


def _message(error: BaseException) -> str:
    text = error.reason if isinstance(error, DotsOCRError) else str(error)
    return _DATA_URL.sub("data:<image>", text)[:2000]


def _prepared(row: dict[str, Any]) -> Prepared:
    """The page of a page row as the readers take it: the image sent, and its ink (mapped
    again from the image: a map does not travel well as a column)."""
    image = EncodedImage(row["image"], int(row["image_width"]), int(row["image_height"]))
    ink = ink_map(decode_image(image), COARSE)
    return Prepared(_info(row), image, ink, bool(row["whole"]))


def _info(row: dict[str, Any]) -> PageInfo:
    return PageInfo(
        row["source"],
        int(row["page"]),
        int(row["total_pages"]),
        float(row["page_width"]),
        float(row["page_height"]),
        row["coordinate_unit"],
        int(row["natural_pixels"]),
    )


class PageReader:
    """An actor that reads pages with the package's own async client and server pool."""

    def __init__(self, settings: DotsOCRSettings, geometry: Geometry | None = None) -> None:
        self.settings = settings
        self.geometry = geometry or Geometry(dpi=settings.dpi)
        self._servers: Servers | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None

    async def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """A page row in, its result row out (``result`` JSON, or ``error``); no image."""
        out = {k: v for k, v in row.items() if k != "image"}
        if row.get("error"):
            return out | {"result": None, "model": None}
        info = _info(row)
        try:
            servers = await self._started()
            page = await asyncio.to_thread(_prepared, row)
            result = PageResult(info)
            try:
                # Pixel work (dense pages) runs in a thread: the actor's loop keeps streaming.
                reader = Reader(servers, self.settings, self.geometry, asyncio.to_thread)
                await reader.read(page, result)
            except DotsOCRError as exc:
                located = exc.located(info.source, info.index, info.total)
                return _error_row(out, located) | {"result": None, "model": servers.model}
            return out | {"result": result_json(result), "model": servers.model}
        except Exception as exc:  # one bad page never fails the dataset
            return _error_row(out, exc) | {"result": None, "model": None}

    async def _started(self) -> Servers:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a client belongs to one event loop
            self._loop, self._servers, self._starting = loop, None, asyncio.Lock()
        assert self._starting is not None
        async with self._starting:
            if self._servers is None:
                servers = Servers(self.settings)
                await servers.start()
                self._servers = servers
        return self._servers


def result_json(result: PageResult) -> str:
    """A page's result as the JSON text of a result row's ``result``."""
    return json.dumps(
        {
            "elements": [asdict(e) for e in result.elements],
            "text": result.text,
            "extraction": result.extraction,
            "problems": result.problems,
            "requests": result.tally.requests,
            "requests_by_server": result.tally.by_server,
        },
        ensure_ascii=False,
    )


def _result(row: dict[str, Any]) -> PageResult:
    data = json.loads(row["result"])
    result = PageResult(_info(row))
    result.elements = [
        Element(e["category"], e["text"], tuple(e["bbox"]), e["extraction"])
        for e in data["elements"]
    ]
    result.text = data["text"]
    result.extraction = data["extraction"]
    result.problems = data["problems"]
    return result


def _error(row: dict[str, Any]) -> DotsOCRError:
    kind = {c.__name__: c for c in (DotsOCRError, PageError, ServerError)}
    error = kind.get(str(row["error_type"]), DotsOCRError)(str(row["error"]))
    page = int(row["page"])
    return error.located(row["source"], page if page >= 0 else None, row["total_pages"])


def documents(results: ray.data.Dataset, **settings: Any) -> Iterator[Document]:
    """The Documents of result rows, on the driver, in source and page order, exactly as the
    loader makes them (sections carried across pages); failed pages follow ``on_error``."""
    s = DotsOCRSettings(**settings)
    rows = results.sort(["source", "page"]).iter_rows()
    for _, group in itertools.groupby(rows, key=lambda r: r["source"]):
        yield from _source_documents(list(group), s)


def _source_documents(rows: list[dict[str, Any]], s: DotsOCRSettings) -> Iterator[Document]:
    """A source's Documents from its rows in page order, as the loader's run emits them."""
    first, model = rows[0], next((r["model"] for r in rows if r.get("model")), s.model or "")
    answer = first["answer"] or ""
    identity = (
        SourceId.of_content(first["digest"], answer)
        if first["digest"]
        else SourceId.of_name(first["source"], answer)
    )
    builder = DocumentBuilder(s, model, identity)
    for row in rows:
        if not row.get("error"):
            yield from builder.page(_result(row))
            continue
        error = _error(row)
        info = _info(row) if row["page"] >= 0 and row["page_width"] is not None else None
        # A page held back before the failure was read whole: it leaves first.
        yield from builder.failed(error, info, s.on_error == "mark")
        if s.on_error == "raise":
            raise error
    yield from builder.finish()


def document_rows(results: ray.data.Dataset, **settings: Any) -> ray.data.Dataset:
    """One row per Document (``page_content``, ``id`` and each metadata key as a column), made
    by Ray per source, for ``write_parquet`` or ``write_json``; failed pages follow
    ``on_error`` (``"raise"`` is taken as ``"mark"``: a dataset keeps its errors as rows)."""
    s = DotsOCRSettings(**settings)
    if s.on_error == "raise":
        s = s.model_copy(update={"on_error": "mark"})
    return results.groupby("source").map_groups(
        functools.partial(_rows_of_source, settings=s), batch_format="pyarrow"
    )


def _rows_of_source(batch: Any, settings: DotsOCRSettings) -> Any:
    import pyarrow as pa

    rows = sorted(batch.to_pylist(), key=lambda r: int(r["page"]))
    out = [
        {"id": d.id, "page_content": d.page_content, **d.metadata}
        for d in _source_documents(rows, settings)
    ]
    # Every key of any Document is a column (from_pylist would take the first row's keys).
    keys = dict.fromkeys(k for row in out for k in row)
    return pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in out])


# -- engines inside the cluster ------------------------------------------------------------------


def engine_request(row: dict[str, Any], settings: DotsOCRSettings) -> dict[str, Any]:
    """What Ray Data's vLLM engine processor needs for a page row: ``messages`` (image first,
    then the prompt, as the loader sends them) and ``sampling_params``."""
    body = chat_body(
        model=settings.model or "",
        image_url=row["image"],
        text=prompt_text(settings.prompt_mode, None),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
    )
    return {
        "messages": body["messages"],
        "sampling_params": {
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        },
    }


def result_of_answer(
    row: dict[str, Any], answer: str, settings: DotsOCRSettings, model: str = ""
) -> dict[str, Any]:
    """A result row from a page row and the model's whole answer (``generated_text``).

    The answer is decoded cell by cell as the loader does; without a stream there is no loop
    cut and no fallback, so an incomplete answer keeps what it salvaged (``salvaged``), and
    one with nothing usable becomes an error row.
    """
    # Only the page's own columns: the engine's (messages with the image, tokens) stay behind.
    out = {k: row[k] for k in PAGE_ROW if k != "image"} | {"model": model}
    info = _info(row)
    result = PageResult(info)
    width, height = int(row["image_width"]), int(row["image_height"])
    if settings.prompt_mode == "ocr":
        result.text, result.extraction = answer.strip(), "ocr"
        return out | {"result": result_json(result), "error": None, "error_type": None}
    decoded = decode_answer(answer, width, height)
    if not decoded.cells and not decoded.complete:
        error = PageError("no usable answer: " + "; ".join(decoded.problems))
        located = error.located(info.source, info.index, info.total)
        return _error_row(out, located) | {"result": None}
    result.elements = elements_of(decoded.cells, _prepared(row), settings)
    result.extraction = "layout" if decoded.complete else "salvaged"
    result.problems = decoded.problems
    return out | {"result": result_json(result), "error": None, "error_type": None}
