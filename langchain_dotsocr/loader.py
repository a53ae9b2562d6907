"""DotsOCRLoader: a thin BaseLoader over :class:`DotsOCRParser`."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from os import PathLike
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

    Every keyword argument is a field of :class:`DotsOCRSettings`; ``name`` is the ``source``
    of a ``bytes`` source in the metadata (default ``"<bytes>"``; ``name[i]`` for the i-th of
    several), or of a single file path (a temporary file of an upload, say). It names nothing
    else (a folder, a Blob, several paths): a ``UserWarning`` says so.
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
        if name is not None and not self._names_a_source():
            warnings.warn(
                f"name={name!r} is ignored: it names bytes or a single file path, not "
                f"{self._unnamed()}",
                UserWarning,
                stacklevel=2,
            )

    def _names_a_source(self) -> bool:
        return any(isinstance(s, bytes) for s in self.sources) or self._single_file()

    def _single_file(self) -> bool:
        if len(self.sources) != 1:
            return False
        only = self.sources[0]
        return isinstance(only, (str, PathLike)) and not Path(only).is_dir()

    def _unnamed(self) -> str:
        if any(isinstance(s, Blob) for s in self.sources):
            return "a Blob (its own metadata['source'] names it)"
        return "a folder" if len(self.sources) == 1 else "several paths"

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
            elif self.name is not None and self._single_file():
                yield Blob.from_path(source, metadata={"source": self.name})
            else:
                yield Blob.from_path(source)

    def lazy_load(self) -> Iterator[Document]:
        """Documents in source and page order, with the async path's concurrency."""
        return self.parser.lazy_parse_many(self.blobs())

    def alazy_load(self) -> AsyncIterator[Document]:
        """Documents in source and page order, natively async."""
        return self.parser.alazy_parse_many(self.blobs())
