"""Result rows to Documents: on the driver, or per source on the cluster."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import ray
import ray.data
from langchain_core.documents import Document

from ..chunks import DotsOCRChunker
from ..documents import DocumentBuilder
from ..read import PageResult
from ..settings import DotsOCRSettings
from .rows import page_info, page_result, row_error, source_id

logger = logging.getLogger(__name__)


def documents(results: ray.data.Dataset, **settings: Any) -> Iterator[Document]:
    """The Documents of result rows, on the driver, in source and page order, exactly as the
    loader makes them (sections carried across pages, captions linked, tables joined across
    pages, crops and descriptions as the actors made them); failed pages follow ``on_error``."""
    s = DotsOCRSettings(**settings)
    rows = results.sort(["source", "page"]).iter_rows()
    for _, group in itertools.groupby(rows, key=lambda r: r["source"]):
        yield from _source_documents(list(group), s)


def _source_documents(rows: list[dict[str, Any]], s: DotsOCRSettings) -> Iterator[Document]:
    """A source's Documents from its rows in page order, as the loader's run emits them."""
    model = next((r["model"] for r in rows if r.get("model")), s.model or "")
    docs = _elements(rows, s, DocumentBuilder(s, model, source_id(rows[0])))
    if s.mode == "chunk":  # grouped as the loader groups them
        docs = DotsOCRChunker.from_settings(s).lazy_transform(docs)
    yield from docs


def _elements(
    rows: list[dict[str, Any]], s: DotsOCRSettings, builder: DocumentBuilder
) -> Iterator[Document]:
    for row in rows:
        if not row.get("error"):
            result = page_result(row)
            for line in result.noted():  # as the loader tells them
                logger.info("%s, %s", result.info.source, line)
            yield from builder.page(result)
            yield from _lost_shares(result, s, builder)
            continue
        error = row_error(row)
        info = page_info(row) if row["page"] >= 0 and row["page_width"] is not None else None
        # A page held back before the failure was read whole: it leaves first.
        yield from builder.failed(error, info, s.on_error == "mark")
        if s.on_error == "raise":
            raise error
    yield from builder.finish()


def _lost_shares(
    result: PageResult, s: DotsOCRSettings, builder: DocumentBuilder
) -> Iterator[Document]:
    """The shares of a page that came out without them (a band, a part, a picture's words),
    through ``on_error`` as the loader takes them: raised after what was read, marked, logged."""
    info = result.info
    for failure in result.failures:
        error = failure.located(info.source, info.index, info.total)
        if s.on_error == "raise":
            yield from builder.failed(error, info, mark=False)  # the held page first
            raise error
        if s.on_error == "mark":
            yield from builder.part_failed(error, info)
        else:
            logger.warning("%s", error)


def document_rows(results: ray.data.Dataset, **settings: Any) -> ray.data.Dataset:
    """One row per Document (``page_content``, ``id`` and each metadata key as a column), made
    by Ray per source, for ``write_parquet`` or ``write_json``; failed pages follow
    ``on_error`` (``"raise"`` is taken as ``"mark"``: a dataset keeps its errors as rows)."""
    s = DotsOCRSettings(**settings)
    if s.on_error == "raise":
        s = s.model_copy(update={"on_error": "mark"})
    s = s.model_copy(update={"describe_pictures": None})  # the actors described: not shipped
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


