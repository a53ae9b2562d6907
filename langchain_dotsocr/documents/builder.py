"""The thin end of the assembly: pages through the steps, then Documents in the mode asked."""

from __future__ import annotations

from dataclasses import replace

from langchain_core.documents import Document

from ..errors import DotsOCRError
from ..identity import SourceId
from ..pages import PageInfo
from ..read import PageResult
from ..settings import DotsOCRSettings
from .captions import Captions
from .furniture import Furniture
from .headings import Sections
from .labels import PageLabels
from .markdown import PAGE_SEPARATOR, element_content, page_markdown
from .metadata import Metadata, Shape
from .page import Item, Origin, Page, make_page
from .steps import Step
from .tablejoin import TableJoin


class DocumentBuilder:
    """Builds the Documents of one source from its page results, which must come in order.

    Each page goes through the steps (:mod:`.furniture`, :mod:`.headings`, :mod:`.captions`,
    :mod:`.labels`, :mod:`.tablejoin`), which may keep state across pages; a page leaves as
    soon as no step asks to see the next page first, so at most one page is ever held back.
    """

    def __init__(self, settings: DotsOCRSettings, model: str, source: SourceId) -> None:
        self.settings = settings
        self.model = model
        self.source = source
        self.excluded = settings.excluded()
        self.shape: Shape = (
            "single"
            if settings.mode == "single"
            else "page"
            if settings.mode == "page" or settings.prompt_mode == "ocr"
            else "element"
        )
        self.sections = Sections()
        # Labels before the table join: a joined table takes its first page's final label.
        # Furniture first: every later step goes by its marks.
        self.steps: list[Step] = [Furniture(), self.sections, Captions(), PageLabels()]
        if settings.merge_tables:
            self.steps.append(TableJoin(join=self.shape == "element"))
        self._held: Page | None = None
        self._held_marks: list[Document] = []  # Error Documents of shares the held page lacks
        self._markdown: list[str] = []  # single mode: each page's Markdown
        self._first: PageInfo | None = None

    def page(self, result: PageResult) -> list[Document]:
        """The Documents ready once ``result`` arrives: those of the page held back before
        it, and its own unless a step holds it back (none yet in ``single`` mode)."""
        page = make_page(result, self.source, self.settings.sanitize_tables)
        for step in self.steps:
            step.arrive(page)
        out = self._release_held(page)
        if any(step.wants_next(page) for step in self.steps):
            self._held = page
        else:
            out += self._leave(page, None)
        return out

    def failed(self, error: DotsOCRError, info: PageInfo | None, mark: bool) -> list[Document]:
        """The Documents ready after a failed page: the page held back, if any, and with
        ``mark`` the Error Document that stands for the failure (``on_error="mark"``)."""
        out = self._release_held(None)
        if mark:
            out.append(self.error_document(error, info))
        return out

    def part_failed(self, error: DotsOCRError, info: PageInfo) -> list[Document]:
        """The Error Document for the share of the page ``info`` that ``error`` left out,
        once it can leave: after the page's own Documents, so it waits while they are held."""
        mark = self.error_document(error, info, part=True)
        if self._held is not None and self._held.info.index == info.index:
            self._held_marks.append(mark)
            return []
        return [mark]

    def finish(self) -> list[Document]:
        """At the end of the source: the page held back, or the ``single`` mode Document."""
        out = self._release_held(None)
        if self.shape == "single" and self._first is not None:
            info = self._first
            meta = Metadata(
                source=info.source,
                page=-1,
                page_label="",
                total_pages=info.total,
                model=self.model,
                prompt_mode=self.settings.prompt_mode,
                category="Document",
                element_id=self.source.whole(),
            )
            content = PAGE_SEPARATOR.join(self._markdown)
            out.append(Document(content, metadata=meta.for_shape("single"), id=meta.element_id))
        return out

    def _release_held(self, following: Page | None) -> list[Document]:
        held, self._held = self._held, None
        marks, self._held_marks = self._held_marks, []
        return self._leave(held, following) + marks if held is not None else []

    def _leave(self, page: Page, following: Page | None) -> list[Document]:
        for step in self.steps:
            step.release(page, following)
        if self.shape == "element":
            return self._elements(page)
        content = page.text if page.text is not None else page_markdown(self._kept(page))
        if self.shape == "single":
            self._first = self._first or page.info
            self._markdown.append(content)
            return []
        meta = self._where(page.info, page.label, "Page", self.source.page(page.info.index))
        meta = replace(meta, extraction=page.extraction)
        return [Document(content, metadata=meta.for_shape("page"), id=meta.element_id)]

    def _kept(self, page: Page) -> list[Item]:
        return [it for it in page.items if it.category not in self.excluded]

    def _elements(self, page: Page) -> list[Document]:
        docs = []
        for item in page.items:
            if item.category in self.excluded:
                continue
            where = item.origin or Origin(page.info, page.label)
            figure = item.figure
            meta = replace(
                self._where(where.info, where.label, item.category, item.id),
                extraction=item.element.extraction,
                element_index=item.position,
                parent_id=item.parent_id,
                bbox=item.element.bbox,
                section=item.section,
                section_path=item.section_path,
                heading_level=item.heading_level,
                text_as_html=item.text if item.category == "Table" else "",
                caption=item.caption,
                footnotes=item.footnotes,
                belongs_to=item.belongs_to,
                picture_description=figure.description,
                picture_text=item.text if item.category == "Picture" else "",
                image_path=figure.image_path,
                image_base64=figure.image_base64,
                image_mime_type=figure.image_mime_type,
                spans=item.spans,
            )
            docs.append(
                Document(element_content(item), metadata=meta.for_shape("element"), id=item.id)
            )
        return docs

    def _where(self, info: PageInfo, label: str, category: str, element_id: str) -> Metadata:
        return Metadata(
            source=info.source,
            page=info.index,
            page_label=label,
            total_pages=info.total,
            model=self.model,
            prompt_mode=self.settings.prompt_mode,
            category=category,
            element_id=element_id,
            page_width=info.width,
            page_height=info.height,
            coordinate_unit=info.unit,
        )

    def error_document(
        self, error: DotsOCRError, info: PageInfo | None, part: bool = False
    ) -> Document:
        """The Error Document that stands for ``error`` (of the page ``info``, if known); with
        ``part``, for the share of a page that was read that ``error`` left out."""
        if info is not None:
            meta = self._where(info, info.label or str(info.index + 1), "Error", "")
        else:
            page = -1 if error.page is None else error.page
            meta = Metadata(
                source=error.source or "",
                page=page,
                page_label="" if page < 0 else str(page + 1),
                total_pages=error.total_pages or 0,
                model=self.model,
                prompt_mode=self.settings.prompt_mode,
                category="Error",
                element_id="",
            )
        meta = replace(
            meta,
            element_id=self.source.error(
                meta.page if meta.page >= 0 else None, error.reason if part else ""
            ),
            extraction="failed",
            error=error.reason,
            error_type=type(error).__name__,
            section=self.sections.section,
            section_path=self.sections.section_path,
        )
        return Document("", metadata=meta.for_shape(self.shape), id=meta.element_id)
