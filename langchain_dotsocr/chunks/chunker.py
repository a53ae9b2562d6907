"""DotsOCRChunker: element Documents to chunks for retrieval, as a LangChain transformer."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document

from ..settings import DEFAULT_CHUNK_SIZE, DEFAULT_MIN_CHUNK_SIZE, DotsOCRSettings, LengthFunction
from .draft import Rules
from .packer import Packer
from .tokens import estimate_tokens
from .units import ATTACHED, FIGURES, Unit, page_units


class Chunking:
    """One pass over element Documents in order. Elements go to the packer as they come,
    but from a figure, or a caption or footnote of one, to the end of its page: those wait
    for the page's end, so that a caption read after its figure still reaches it. So only
    part of a page and the open chunk are held."""

    def __init__(self, rules: Rules) -> None:
        self.packer = Packer(rules)
        self.page: list[Document] = []
        self.where: tuple[str, int] | None = None
        self.holding = False

    def push(self, doc: Document) -> list[Document]:
        m = doc.metadata
        where = (str(m.get("source", "")), int(m.get("page", 0)))
        out = self._flush() if where != self.where else []
        self.where = where
        self.page.append(doc)
        category = m.get("category")
        self.holding |= category in FIGURES or (category in ATTACHED and bool(m.get("belongs_to")))
        return out if self.holding else out + self._flush()

    def finish(self) -> list[Document]:
        return self._flush() + self.packer.finish()

    def _flush(self) -> list[Document]:
        units: list[Unit] = page_units(self.page)
        self.page, self.holding = [], False
        return [chunk for unit in units for chunk in self.packer.push(unit)]


class DotsOCRChunker(BaseDocumentTransformer):
    """Group this package's element Documents into chunks sized for an embedding model.

    Chunks keep reading order, never hold two sections (a heading starts a new chunk), go on
    over page breaks, keep captions and footnotes with their table or picture, leave page
    headers and footers out, cut a paragraph too long for one chunk at sentences and a table
    too long between rows (each part a valid table with its header rows). Each chunk's text
    begins with its heading path; its metadata holds its pages, boxes, section and elements
    (see the README's Chunks).

    Setup:
        .. code-block:: python

            from langchain_dotsocr import DotsOCRChunker, DotsOCRLoader

            elements = DotsOCRLoader("report.pdf").load()

    Instantiate:
        .. code-block:: python

            chunker = DotsOCRChunker(chunk_size=512, min_chunk_size=64)

    Transform:
        .. code-block:: python

            chunks = chunker.transform_documents(elements)
            for chunk in chunker.lazy_transform(iter(elements)):  # streams
                print(chunk.metadata["page"], chunk.metadata["section_path"])

    Args:
        chunk_size: the most tokens a chunk holds, heading path included, by
            ``length_function``; only a table row with its header rows, which is never cut,
            may make a longer chunk.
        chunk_overlap: tokens of the chunk before that a chunk repeats when it goes on in the
            same section (whole sentences; tables are never repeated).
        min_chunk_size: a chunk below it takes the next heading when that heading is below
            its own (a chapter heading does not stand alone before its first section).
        length_function: counts the tokens of a text, e.g. the embedding model's tokenizer;
            by default :func:`~langchain_dotsocr.estimate_tokens`, an estimate.
        contextualize: begin each chunk's text with its heading path.

    Raises:
        ValueError: ``chunk_overlap`` is not smaller than ``chunk_size``, or a size is
            negative.
    """

    def __init__(
        self,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int = 0,
        min_chunk_size: int = DEFAULT_MIN_CHUNK_SIZE,
        length_function: LengthFunction | None = None,
        contextualize: bool = True,
    ) -> None:
        if chunk_size <= 0 or chunk_overlap < 0 or min_chunk_size < 0:
            raise ValueError("chunk_size must be positive, the other sizes not negative")
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.rules = Rules(
            chunk_size,
            chunk_overlap,
            min_chunk_size,
            length_function or estimate_tokens,
            contextualize,
        )

    @classmethod
    def from_settings(cls, settings: DotsOCRSettings) -> DotsOCRChunker:
        """The chunker of a loader's settings (``mode="chunk"``)."""
        return cls(
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            min_chunk_size=settings.min_chunk_size,
            length_function=settings.length_function,
            contextualize=settings.contextualize,
        )

    def __repr__(self) -> str:
        r = self.rules
        return (
            f"DotsOCRChunker(chunk_size={r.chunk_size}, chunk_overlap={r.chunk_overlap}, "
            f"min_chunk_size={r.min_chunk_size}, contextualize={r.contextualize})"
        )

    def lazy_transform(self, documents: Iterable[Document]) -> Iterator[Document]:
        """Chunks of element Documents that come in source and page order, as they are done.

        Args:
            documents: element Documents (``mode="element"``), in the order the loader gives.

        Returns:
            The chunks, in order; an Error Document becomes an Error chunk in its place.
        """
        run = Chunking(self.rules)
        for doc in documents:
            yield from run.push(doc)
        yield from run.finish()

    async def alazy_transform(self, documents: AsyncIterable[Document]) -> AsyncIterator[Document]:
        """:meth:`lazy_transform` over an async iterable (``DotsOCRLoader.alazy_load()``).

        Args:
            documents: element Documents, in the order the loader gives.

        Returns:
            The chunks, in order, as they are done.
        """
        run = Chunking(self.rules)
        async for doc in documents:
            for chunk in run.push(doc):
                yield chunk
        for chunk in run.finish():
            yield chunk

    def transform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        """Chunks of element Documents (see :meth:`lazy_transform`).

        Args:
            documents: element Documents, in source and page order.
            **kwargs: not used (LangChain's interface).

        Returns:
            The chunks, in order.
        """
        return list(self.lazy_transform(documents))

    async def atransform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        """Chunks of element Documents, as :meth:`transform_documents` (no I/O to wait for).

        Args:
            documents: element Documents, in source and page order.
            **kwargs: not used (LangChain's interface).

        Returns:
            The chunks, in order.
        """
        return self.transform_documents(documents)
