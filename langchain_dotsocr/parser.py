"""DotsOCRParser: a LangChain blob parser that does the work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from langchain_core.document_loaders import BaseBlobParser
from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from typing_extensions import Unpack

from ._sync import iterate_in_thread
from .chunks import DotsOCRChunker
from .pipeline import Run, SourceReport
from .settings import DotsOCROptions, DotsOCRSettings


class DotsOCRParser(BaseBlobParser):
    """Parse PDFs and images into layout-element Documents with dots.ocr served by vLLM.

    Setup:
        Install ``langchain-dotsocr`` and start a vLLM server with dots.ocr
        (``docker compose -f docker-compose-vllm.yml up -d``).

        .. code-block:: bash

            pip install -U langchain-dotsocr
            export DOTSOCR_BASE_URL="http://localhost:8000/v1"  # the default

    Instantiate:
        .. code-block:: python

            from langchain_dotsocr import DotsOCRParser

            parser = DotsOCRParser(mode="element", dpi=200, on_error="mark")  # or "chunk"

    Load:
        .. code-block:: python

            from langchain_core.documents.base import Blob

            docs = list(parser.lazy_parse(Blob.from_path("report.pdf")))
            print(docs[0].metadata["category"], docs[0].metadata["bbox"])

        With LangChain's ``GenericLoader``:

        .. code-block:: python

            from langchain_community.document_loaders.generic import GenericLoader

            loader = GenericLoader.from_filesystem("scans/", glob="*.pdf", parser=parser)

    Async load:
        .. code-block:: python

            async for doc in parser.alazy_parse(Blob.from_path("report.pdf")):
                ...

    Every keyword argument is a field of :class:`DotsOCRSettings`.
    """

    def __init__(self, **kwargs: Unpack[DotsOCROptions]) -> None:
        self.settings = DotsOCRSettings(**kwargs)  # type: ignore[arg-type]
        #: Per source, after (or during) a run: pages done, salvaged, failed, requests sent.
        self.reports: dict[str, SourceReport] = {}

    def __repr__(self) -> str:
        return f"DotsOCRParser(base_url={self.settings.base_url!r}, mode={self.settings.mode!r})"

    def lazy_parse(self, blob: Blob) -> Iterator[Document]:
        """Parse one blob, yielding Documents in page order."""
        return self.lazy_parse_many([blob])

    def lazy_parse_many(self, blobs: Iterable[Blob]) -> Iterator[Document]:
        """Parse blobs in one run: one HTTP client, pages of all blobs in flight together."""
        return iterate_in_thread(lambda: self.alazy_parse_many(blobs))

    def alazy_parse(self, blob: Blob) -> AsyncIterator[Document]:
        """Parse one blob natively on the running event loop."""
        return self.alazy_parse_many([blob])

    def alazy_parse_many(self, blobs: Iterable[Blob]) -> AsyncIterator[Document]:
        """Parse blobs in one run on the running event loop, yielding in source/page order."""
        self.reports = {}  # each run reports on itself
        docs = Run(self.settings, self.reports).documents(blobs)
        if self.settings.mode == "chunk":  # element Documents grouped as they come
            return DotsOCRChunker.from_settings(self.settings).alazy_transform(docs)
        return docs
