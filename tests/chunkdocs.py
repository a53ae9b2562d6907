"""Element Documents as the loader makes them, built from a plain outline: for chunk tests."""

from __future__ import annotations

import uuid

from langchain_core.documents import Document

PAGE = (612.0, 792.0)


def element(
    category: str,
    text: str,
    *,
    page: int = 0,
    index: int = 0,
    path: str = "",
    parent: str = "",
    level: int = 0,
    belongs_to: str = "",
    source: str = "doc.pdf",
    box: tuple[float, float, float, float] | None = None,
    id: str | None = None,
) -> Document:
    """One element Document with the keys chunks read."""
    box = box or (72.0, 60.0 + 10 * index, 540.0, 68.0 + 10 * index)
    ident = id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}/{page}/{index}"))
    meta = {
        "source": source,
        "page": page,
        "page_label": str(page + 1),
        "total_pages": 99,
        "page_width": PAGE[0],
        "page_height": PAGE[1],
        "coordinate_unit": "pt",
        "category": category,
        "element_index": index,
        "element_id": ident,
        "parent_id": parent,
        "bbox": list(box),
        "section_path": path,
        "heading_level": level,
        "belongs_to": belongs_to,
        "page_boxes": f"{page}:" + ",".join(str(v) for v in box),
        "error": "",
        "error_type": "",
    }
    return Document(text, metadata=meta, id=ident)


def outline(pages: list[list[tuple[str, str]]], source: str = "doc.pdf") -> list[Document]:
    """Element Documents of pages given as (category, text) pairs in reading order: headings
    (``Title`` level 1, ``Section-header`` level 2) open sections, as the loader's steps do."""
    docs: list[Document] = []
    path: list[tuple[int, str, str]] = []  # (level, text, id)
    for p, items in enumerate(pages):
        for i, (category, text) in enumerate(items):
            ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}/{p}/{i}/{text}"))
            level = {"Title": 1, "Section-header": 2}.get(category, 0)
            if level and text:
                while path and path[-1][0] >= level:
                    path.pop()
                parent = path[-1][2] if path else ""
                path.append((level, text.lstrip("# "), ident))
            else:
                parent = path[-1][2] if path else ""
            docs.append(
                element(
                    category,
                    text,
                    page=p,
                    index=i,
                    level=level,
                    parent=parent,
                    source=source,
                    path=" > ".join(t for _, t, _ in path),
                    id=ident,
                )
            )
    return docs
