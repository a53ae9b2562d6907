"""The loader's pipeline on a Ray cluster, built on Ray Data's plain primitives.

Install with ``pip install "langchain-dotsocr[ray]"``; nothing else in the package imports
this one. Its modules: :mod:`.rows` (rows to and from pages and results), :mod:`.reader` (the
actor), :mod:`.output` (Documents), :mod:`.engines` (engines inside the cluster). The
stages are the loader's own, spread over the cluster::

    ray.data.read_binary_files(paths)        files, local or cloud paths
      -> flat_map(render_pages)              page rows: the package's renderer, one row a page
                                             (with its PDF text layer, text_layer="auto")
      -> repartition(16 rows a block)        so that every actor gets pages (streaming)
      -> map(PageReader, actor pool)         result rows: the package's async client in each
                                             actor (streaming, loop cut, budgets, fallbacks,
                                             dense pages, several servers)
      -> documents(results)                  LangChain Documents on the driver, in order
      -> document_rows(results)              or one row per Document, for write_parquet /
                                             write_json by Ray

A page that fails becomes a row with its ``error`` (and ``error_type``); one bad page or file
never fails the dataset. Rows never carry the API key, and only page rows carry the image
(and, with crops or descriptions asked, the page alone in a file: the actor cuts the crops
from it at the render resolution, as the loader cuts them from the source).

To run dots.ocr engines inside the cluster instead of calling servers, build requests with
:func:`engine_request` and turn Ray Data's vLLM engine processor's ``generated_text`` into the
same result rows with :func:`result_of_answer` (the README has the recipe).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import Any

import ray
import ray.data

from ..crops import Describer
from ..figures import cropped_categories
from ..identity import answer_key
from ..pages import Geometry
from ..pipeline import geometry_for
from ..servers import Servers
from ..settings import DotsOCRSettings
from .engines import engine_request, result_of_answer
from .output import document_rows, documents
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
    paths: str | Sequence[str],
    *,
    actors: int = 2,
    describer: Callable[[], Describer] | None = None,
    **settings: Any,
) -> ray.data.Dataset:
    """A dataset of result rows, one per page (or per file that cannot be opened).

    Args:
        paths: files or folders, local or cloud (anything ``ray.data.read_binary_files``
            reads).
        actors: readers in the pool; each keeps up to :data:`ROWS_PER_ACTOR` pages in flight,
            so ``actors * 16`` should cover what the servers run at once.
        describer: makes the picture describer in each actor (a chat model's class, or a
            function that builds one), for a describer that cannot be pickled, as a chat model
            holding a client cannot; ``describe_pictures=`` is pickled to the actors instead.
        **settings: the loader's settings (``base_url`` with several servers, ``dpi``,
            ``ocr_pictures``, ``images``, ``describe_pictures``, ``text_layer``: with
            ``"auto"``, the default, each PDF page's text layer is read beside its render and
            travels in its row to the actors, which read the page as the loader does, ...).
            ``max_concurrency`` is per actor, and defaults to :data:`ROWS_PER_ACTOR`.
            ``images=FOLDER`` is written by the actors: give a folder every node writes to (a
            shared file system).

    Returns:
        The result rows (see :mod:`.rows`), for :func:`documents` or :func:`document_rows`.

    Raises:
        ValueError: ``describe_pictures=`` cannot be pickled (pass ``describer=``), or both
            are given.

    The servers are discovered once here, on the driver, to size the pages for the smallest
    context; each actor discovers them again for its own client.
    """
    s = DotsOCRSettings(**settings)
    _check_describer(s, describer)
    if s.max_concurrency is None:
        s = s.model_copy(update={"max_concurrency": ROWS_PER_ACTOR})
    page_files = bool(cropped_categories(s)) or (
        describer is not None and "Picture" not in s.excluded()
    )
    geometry, model = asyncio.run(_discover(s))
    files = ray.data.read_binary_files(
        paths if isinstance(paths, str) else list(paths), include_paths=True
    )
    answer = answer_key(s, model, geometry)  # with each file's hash: the Documents' ids
    render = functools.partial(
        render_pages,
        settings=s.model_copy(update={"describe_pictures": None}),  # not shipped to renderers
        geometry=geometry,
        answer=answer,
        page_files=page_files,
    )
    pages = files.flat_map(render)
    # A file's pages come out as one block, and a block goes to one actor: cut them into
    # blocks of an actor's share so that every actor gets pages (streaming, no shuffle).
    pages = pages.repartition(target_num_rows_per_block=ROWS_PER_ACTOR)
    reader: Any = PageReader  # Ray takes a class for an actor pool; its hints say callable
    return pages.map(
        reader,
        fn_constructor_kwargs={"settings": s, "geometry": geometry, "describer": describer},
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=READER_CPUS,
    )


def _check_describer(s: DotsOCRSettings, describer: Callable[[], Describer] | None) -> None:
    """Refuse, before anything runs, a describer Ray could not send to its actors."""
    if describer is not None and s.describe_pictures is not None:
        raise ValueError("give describe_pictures= or describer=, not both")
    if s.describe_pictures is None:
        return
    pickle: Callable[[object], bytes] = ray.cloudpickle.dumps  # how Ray sends it
    try:
        pickle(s.describe_pictures)
    except Exception as exc:  # its type only: a describer's message may quote its secrets
        raise ValueError(
            f"describe_pictures= cannot be sent to Ray's actors ({type(exc).__name__}: it "
            "cannot be pickled, as a chat model holding a client cannot); pass "
            "describer=a function that makes it (or its class), and each actor makes its own"
        ) from None


async def _discover(settings: DotsOCRSettings) -> tuple[Geometry, str]:
    servers = Servers(settings)
    try:
        await servers.start()
        return geometry_for(settings, servers.max_model_len), servers.model
    finally:
        await servers.aclose()


