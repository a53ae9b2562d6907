"""Documents to files, as the command line writes them.

JSON Lines (one Document a line), Markdown (one file per source, from page-mode Documents) and
layout JSON (one file per page, from element-mode Documents: the model's cells in page units).
Documents stream through: only one source (Markdown) or one page (layout) is held at a time.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from langchain_core.documents import Document

from .documents import PAGE_SEPARATOR

PAGE_KEYS = ("source", "page", "total_pages", "page_width", "page_height", "coordinate_unit")


def is_error(doc: Document) -> bool:
    """Whether ``doc`` stands for a failed page or source (``on_error="mark"``)."""
    return doc.metadata.get("category") == "Error"


def record(doc: Document) -> dict[str, Any]:
    """A Document as a JSON object: ``page_content`` and ``metadata`` (and ``id`` if set)."""
    out: dict[str, Any] = {"page_content": doc.page_content, "metadata": doc.metadata}
    if doc.id is not None:
        out["id"] = doc.id
    return out


def write_jsonl(docs: Iterable[Document], stream: TextIO) -> int:
    """Write one JSON object per Document; returns how many were written."""
    count = 0
    for doc in docs:
        stream.write(json.dumps(record(doc), ensure_ascii=False) + "\n")
        count += 1
    stream.flush()
    return count


def by_source(docs: Iterable[Document]) -> Iterator[list[Document]]:
    """Consecutive Documents of one source, source by source."""
    for _, group in itertools.groupby(docs, key=lambda d: d.metadata.get("source")):
        yield list(group)


def by_page(docs: Iterable[Document]) -> Iterator[list[Document]]:
    """Consecutive Documents of one page, page by page."""
    key = lambda d: (d.metadata.get("source"), d.metadata.get("page"))  # noqa: E731
    for _, group in itertools.groupby(docs, key=key):
        yield list(group)


def markdown(pages: list[Document]) -> str:
    """The Markdown of one source from its page-mode Documents, pages joined by
    :data:`PAGE_SEPARATOR`; a failed page is an HTML comment that names it."""
    parts = []
    for doc in pages:
        if is_error(doc):
            reason = one_line(str(doc.metadata.get("error", ""))).replace("--", "- -")
            page = doc.metadata.get("page", -1)
            where = f"page={page} " if page >= 0 else ""
            parts.append(f"<!-- {where}failed: {reason} -->")
        else:
            parts.append(doc.page_content)
    return PAGE_SEPARATOR.join(parts) + "\n"


def layout(elements: list[Document]) -> dict[str, Any]:
    """One page's layout from its element-mode Documents: page size and unit, and the cells
    (``bbox``, ``category``, ``text``) in reading order; a failed page gives its ``error``."""
    first = elements[0].metadata
    out: dict[str, Any] = {k: first[k] for k in PAGE_KEYS if k in first}
    if is_error(elements[0]):
        return out | {"error": first.get("error"), "error_type": first.get("error_type")}
    out["elements"] = []
    for doc in elements:
        meta = doc.metadata
        cell: dict[str, Any] = {"bbox": meta.get("bbox"), "category": meta.get("category")}
        if meta.get("category") != "Picture" and meta.get("prompt_mode") != "layout_only":
            cell["text"] = doc.page_content
        out["elements"].append(cell)
    return out


def layout_json(page: dict[str, Any]) -> str:
    """A page's layout as JSON text: one key a line, one element a line."""
    head = json.dumps({k: v for k, v in page.items() if k != "elements"}, ensure_ascii=False,
                      indent=1)
    if "elements" not in page:
        return head + "\n"
    cells = ",\n  ".join(json.dumps(e, ensure_ascii=False) for e in page["elements"])
    return head[:-2] + f',\n "elements": [\n  {cells}\n ]\n}}\n'


class FileNames:
    """One file name stem per source, from its file name, made unique within a run."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._names: dict[str, str] = {}

    def __call__(self, source: str) -> str:
        if source not in self._names:
            stem = Path(source).stem or "document"
            name, n = stem, 1
            while name in self._taken:
                n += 1
                name = f"{stem}-{n}"
            self._taken.add(name)
            self._names[source] = name
        return self._names[source]


def failure_line(errors: list[Document]) -> str:
    """One line for a source's failed pages (Error Documents): which pages, and the first
    reason; or the reason the whole source failed."""
    meta = errors[0].metadata
    source, reason = meta.get("source"), one_line(str(meta.get("error", "")))
    if meta.get("page", -1) < 0:
        return f"{source}: {reason}"
    pages = ", ".join(str(d.metadata.get("page")) for d in errors)
    total = meta.get("total_pages")
    of = f" of {total}" if total else ""
    return f"{source}: {len(errors)}{of} page(s) failed (page={pages}): {reason}"


def one_line(text: str) -> str:
    """``text`` with its whitespace, newlines included, collapsed to single spaces."""
    return " ".join(text.split())
