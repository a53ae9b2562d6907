"""A chunk's metadata and id: where its elements are, for highlighting and re-indexing.

All values are scalars but ``bbox`` (four floats, as on element Documents); ``element_ids``
and ``categories`` are strings joined by commas, ``page_boxes`` the string element Documents
use (``"page:x0,y0,x1,y1;..."``), one box per element and page, in reading order.

The id is a UUID 5 of the chunk's source, the places of its elements (page and position in
the page's reading order), its text and the chunk settings. Not the element ids: those hash
the whole file, so after an edit to one page every element id changes, while the chunks of
the other pages keep theirs. ``chunk_index`` counts within the chunk's section for the same
reason: a chunk added in one section moves no other section's numbers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document

from ..documents.metadata import DECIMALS, page_boxes
from ..identity import NAMESPACE
from .units import Box, Element, parse_page_boxes

#: The keys of every chunk, in this order (README: the metadata table).
CHUNK_KEYS = (
    "source",
    "page",
    "page_end",
    "page_label",
    "total_pages",
    "page_width",
    "page_height",
    "coordinate_unit",
    "category",
    "categories",
    "section_path",
    "parent_id",
    "chunk_index",
    "element_ids",
    "bbox",
    "page_boxes",
    "table_id",
    "table_part",
    "table_parts",
    "error",
    "error_type",
)
PREAMBLE = "preamble"


def section_id(source: str) -> str:
    """The ``parent_id`` of the chunks before the first heading of ``source``."""
    return str(uuid.uuid5(NAMESPACE, f"{PREAMBLE}/{source}"))


def union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding ``boxes`` (of one page)."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def chunk_id(source: str, elements: Sequence[Element], content: str, rules: str) -> str:
    """The stable id of a chunk (see the module)."""
    places = [[e.page, e.index] if e.index >= 0 else [e.page, e.id] for e in elements]
    text = hashlib.sha256(content.encode()).hexdigest()
    key = json.dumps({"source": source, "elements": places, "text": text, "rules": rules})
    return str(uuid.uuid5(NAMESPACE, key))


def chunk_metadata(
    source: str,
    elements: Sequence[Element],
    *,
    section_path: str,
    parent_id: str,
    chunk_index: int,
    table: tuple[str, int, int] = ("", 0, 0),
) -> dict[str, Any]:
    """The metadata of a chunk of ``elements`` (in reading order, at least one)."""
    spans = [span for e in elements for span in e.boxes]
    first = min(page for page, _ in spans)
    head = next(e for e in elements if any(p == first for p, _ in e.boxes)).meta
    bbox = union([box for page, box in spans if page == first])
    error = elements[0].category == "Error"
    return {
        "source": source,
        "page": first,
        "page_end": max(page for page, _ in spans),
        "page_label": str(head.get("page_label", "")),
        "total_pages": int(head.get("total_pages", 0)),
        "page_width": round(float(head.get("page_width", 0.0)), DECIMALS),
        "page_height": round(float(head.get("page_height", 0.0)), DECIMALS),
        "coordinate_unit": str(head.get("coordinate_unit", "")),
        "category": "Error" if error else "Chunk",
        "categories": ",".join(dict.fromkeys(e.category for e in elements)),
        "section_path": section_path,
        "parent_id": parent_id,
        "chunk_index": chunk_index,
        "element_ids": ",".join(e.id for e in elements),
        "bbox": [round(float(v), DECIMALS) for v in bbox],
        "page_boxes": "" if error else page_boxes(tuple(spans)),
        "table_id": table[0],
        "table_part": table[1],
        "table_parts": table[2],
        "error": str(elements[0].meta.get("error", "")) if error else "",
        "error_type": str(elements[0].meta.get("error_type", "")) if error else "",
    }


def chunk_boxes(chunk: Document, page: int | None = None) -> list[Document]:
    """The boxes of a chunk's elements as Documents :func:`~langchain_dotsocr.draw_boxes` and
    :func:`~langchain_dotsocr.draw_page` draw: to highlight where a retrieved chunk is.

    Args:
        chunk: a chunk (``mode="chunk"`` or :class:`~langchain_dotsocr.DotsOCRChunker`).
        page: only the boxes on this page (0-based); by default those of every page.

    Returns:
        One Document per box, in reading order, with ``page``, ``bbox``, ``category``
        (``"Chunk"``) and the page's size and unit (the first page's: pages of one file
        mostly share a size; pass ``scale`` to ``draw_boxes`` when they do not).
    """
    m = chunk.metadata
    keep = ("page_width", "page_height", "coordinate_unit", "source")
    out = []
    for p, box in parse_page_boxes(str(m.get("page_boxes", ""))):
        if page is None or p == page:
            meta = {k: m[k] for k in keep if k in m} | {"page": p, "category": "Chunk"}
            out.append(Document("", metadata=meta | {"bbox": list(box)}))
    return out
