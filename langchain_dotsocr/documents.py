"""Page results to LangChain Documents: one per element, per page, or per source."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.documents import Document

from .errors import DotsOCRError
from .layout import Element
from .pages import PageInfo
from .read import PageResult
from .settings import DotsOCRSettings

#: Written between pages in ``mode="single"``.
PAGE_SEPARATOR = "\n\n<!-- page break -->\n\n"
#: ``page_content`` of a Picture element: the model does not transcribe pictures.
PICTURE_CONTENT = "[Picture]"
HEADINGS = ("Title", "Section-header")


def heading_text(text: str | None) -> str:
    """A heading's text without its Markdown ``#`` marks."""
    return (text or "").strip().lstrip("#").strip()


def element_markdown(element: Element) -> str:
    """An element as it stands in a page's Markdown."""
    text = (element.text or "").strip()
    if element.category == "Picture":
        return PICTURE_CONTENT
    if element.category == "Formula" and text and not text.startswith("$$"):
        return f"$$\n{text}\n$$"
    if element.category in HEADINGS and text and not text.startswith("#"):
        return ("# " if element.category == "Title" else "## ") + text
    return text


class DocumentBuilder:
    """Builds the Documents of one source, page by page, in order.

    Keeps the current section across pages, so it must see the pages in order.
    """

    def __init__(self, settings: DotsOCRSettings, model: str) -> None:
        self.settings = settings
        self.model = model
        self.excluded = settings.excluded()
        self.section = ""
        self._pages: list[str] = []
        self._first: PageInfo | None = None

    def _base(self, info: PageInfo) -> dict[str, Any]:
        return {
            "source": info.source,
            "page": info.index,
            "total_pages": info.total,
            "page_width": info.width,
            "page_height": info.height,
            "coordinate_unit": info.unit,
            "model": self.model,
            "prompt_mode": self.settings.prompt_mode,
        }

    def page(self, result: PageResult) -> list[Document]:
        """Documents of one page (none yet in ``single`` mode: see :meth:`finish`)."""
        base = self._base(result.info) | {"extraction": result.extraction}
        if result.text is not None:  # ocr: the model gave text, not elements
            return self._whole_page(result.info, result.text, base)
        if self.settings.mode != "element":
            kept = [e for e in result.elements if e.category not in self.excluded]
            for e in result.elements:
                self._track(e)
            content = "\n\n".join(filter(None, (element_markdown(e) for e in kept)))
            return self._whole_page(result.info, content, base)
        docs = []
        for index, element in enumerate(result.elements):
            self._track(element)
            if element.category in self.excluded:
                continue
            content = PICTURE_CONTENT if element.category == "Picture" else (element.text or "")
            meta = base | {
                "category": element.category,
                "extraction": element.extraction,
                "element_index": index,
                "bbox": [round(v, 2) for v in element.bbox],
                "section": self.section,
            }
            docs.append(Document(page_content=content, metadata=meta))
        return docs

    def failed(self, error: DotsOCRError, info: PageInfo | None) -> Document:
        """The Document that stands for a failed page under ``on_error="mark"``."""
        meta: dict[str, Any] = self._base(info) if info else {"source": error.source}
        meta |= {
            "page": error.page if info is None else info.index,
            "category": "Error",
            "error": error.reason,
            "error_type": type(error).__name__,
        }
        if meta["page"] is None:
            meta["page"] = -1  # the whole source failed before any page was known
        return Document(page_content="", metadata=meta)

    def finish(self) -> list[Document]:
        """In ``single`` mode, the one Document of the source; otherwise nothing."""
        if self.settings.mode != "single" or self._first is None:
            return []
        meta = self._base(self._first)
        del meta["page"], meta["page_width"], meta["page_height"], meta["coordinate_unit"]
        return [Document(page_content=PAGE_SEPARATOR.join(self._pages), metadata=meta)]

    def _whole_page(self, info: PageInfo, content: str, base: dict[str, Any]) -> list[Document]:
        if self.settings.mode == "single":
            self._first = self._first or info
            self._pages.append(content)
            return []
        return [Document(page_content=content, metadata=base)]

    def _track(self, element: Element) -> None:
        if element.category in HEADINGS and heading_text(element.text):
            self.section = heading_text(element.text)


def flatten_bbox(documents: Iterable[Document]) -> list[Document]:
    """Copies of ``documents`` whose ``bbox`` list is replaced by four float keys.

    ``bbox_x0``, ``bbox_y0``, ``bbox_x1``, ``bbox_y1``: for vector stores that take only
    scalar metadata.
    """
    out = []
    for doc in documents:
        meta = dict(doc.metadata)
        box = meta.pop("bbox", None)
        if box is not None:
            meta.update(zip(("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"), box, strict=True))
        out.append(Document(page_content=doc.page_content, metadata=meta, id=doc.id))
    return out
