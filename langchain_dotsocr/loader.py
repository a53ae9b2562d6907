"""DotsOCRLoader: a thin BaseLoader over :class:`DotsOCRParser`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from typing_extensions import Unpack

from .parser import DotsOCRParser
from .pipeline import SourceReport
from .settings import DotsOCROptions

Source = str | Path | bytes | Blob


class DotsOCRLoader(BaseLoader):
    """Load PDFs and images as layout-element Documents with dots.ocr served by vLLM.

    Setup:
        Install ``langchain-dotsocr`` and start a vLLM server with dots.ocr
        (``docker compose -f docker-compose-vllm.yml up -d``).

        .. code-block:: bash

            pip install -U langchain-dotsocr
            export DOTSOCR_BASE_URL="http://localhost:8000/v1"  # the default

    Instantiate:
        .. code-block:: python

            from langchain_dotsocr import DotsOCRLoader

            loader = DotsOCRLoader(
                "report.pdf",           # a path, a folder, bytes, a Blob, or a list of them
                mode="element",         # or "page", "single", "chunk"
                exclude_categories=["Page-header", "Page-footer"],
            )

    Load:
        .. code-block:: python

            docs = loader.load()
            doc = docs[0]
            print(doc.metadata["page"], doc.metadata["category"], doc.metadata["bbox"])

    Async load:
        .. code-block:: python

            docs = await loader.aload()
            async for doc in loader.alazy_load():
                ...

    Every keyword argument is a field of :class:`DotsOCRSettings`; ``name`` names a ``bytes``
    source in the metadata (default ``"<bytes>"``).
    """

    def __init__(
        self,
        file_path: Source | Sequence[Source],
        *,
        name: str | None = None,
        **kwargs: Unpack[DotsOCROptions],
    ) -> None:
        self.sources: list[Source] = (
            list(file_path)
            if isinstance(file_path, Sequence) and not isinstance(file_path, (str, bytes))
            else [file_path]
        )
        self.name = name
        self.parser = DotsOCRParser(**kwargs)

    def __repr__(self) -> str:
        return f"DotsOCRLoader({len(self.sources)} source(s), parser={self.parser!r})"

    @property
    def reports(self) -> dict[str, SourceReport]:
        """Per source: pages done, salvaged or fallen back, failed, and requests sent."""
        return self.parser.reports

    def blobs(self) -> Iterator[Blob]:
        """The sources as blobs, folders expanded to their files (sorted, hidden ones left out)."""
        for i, source in enumerate(self.sources):
            if isinstance(source, Blob):
                yield source
            elif isinstance(source, bytes):
                name = self.name or "<bytes>"
                yield Blob.from_data(
                    source, path=name if len(self.sources) == 1 else f"{name}[{i}]"
                )
            elif Path(source).is_dir():
                for path in sorted(Path(source).rglob("*")):
                    relative = path.relative_to(source).parts
                    if path.is_file() and not any(p.startswith(".") for p in relative):
                        yield Blob.from_path(path)
            else:
                yield Blob.from_path(source)

    def lazy_load(self) -> Iterator[Document]:
        """Documents in source and page order, with the async path's concurrency."""
        return self.parser.lazy_parse_many(self.blobs())

    def alazy_load(self) -> AsyncIterator[Document]:
        """Documents in source and page order, natively async."""
        return self.parser.alazy_parse_many(self.blobs())
