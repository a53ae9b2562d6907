"""The loader's pipeline on a Ray cluster, built on Ray Data's plain primitives.

Install with ``pip install "langchain-dotsocr[ray]"``; nothing else in the package imports
this one. Its modules: :mod:`.rows` (rows to and from pages and results), :mod:`.reader` (the
actor), :mod:`.output` (Documents), :mod:`.engines` (engines inside the cluster). The
stages are the loader's own, spread over the cluster::

    ray.data.read_binary_files(paths)        files, local or cloud paths
      -> flat_map(render_pages)              page rows: the package's renderer, one row a page
      -> repartition(16 rows a block)        so that every actor gets pages (streaming)
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
from collections.abc import Sequence
from typing import Any

import ray
import ray.data

from ..identity import answer_key
from ..pages import Geometry
from ..pipeline import geometry_for
from ..servers import Servers
from ..settings import DotsOCRSettings
from .engines import engine_request, result_of_answer
from .output import document_rows, documents, without_figures
from .reader import READER_CPUS, ROWS_PER_ACTOR, PageReader
from .rows import PAGE_ROW, render_pages

__all__ = [
    "PAGE_ROW",
    "ROWS_PER_ACTOR",
    "PageReader",
    "document_rows",
    "documents",
    "engine_request",
    "read_pages",
    "render_pages",
    "result_of_answer",
]


def read_pages(
    paths: str | Sequence[str], *, actors: int = 2, **settings: Any
) -> ray.data.Dataset:
    """A dataset of result rows, one per page (or per file that cannot be opened).

    Args:
        paths: files or folders, local or cloud (anything ``ray.data.read_binary_files``
            reads).
        actors: readers in the pool; each keeps up to :data:`ROWS_PER_ACTOR` pages in flight,
            so ``actors * 16`` should cover what the servers run at once.
        **settings: the loader's settings (``base_url`` with several servers, ``dpi``,
            ``ocr_pictures``, ...). ``max_concurrency`` is per actor, and defaults to
            :data:`ROWS_PER_ACTOR`. ``images`` and ``describe_pictures`` are refused with a
            ``ValueError``: crops are cut from the source file after a page is read, and the
            rows do not carry the file (use :class:`DotsOCRLoader` for them).

    The servers are discovered once here, on the driver, to size the pages for the smallest
    context; each actor discovers them again for its own client.
    """
    s = without_figures(DotsOCRSettings(**settings))
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


