"""Ingest a PDF for retrieval: layout elements in, page furniture out, tables kept whole.

    pip install langchain-dotsocr langchain-text-splitters numpy
    python examples/rag_ingest.py report.pdf [--query "revenue by region"] [--chunk-size 1000]

Loads the PDF as layout elements without page headers and footers, splits long text elements
with a LangChain text splitter (each piece keeps its element's page, category, bbox and
section), keeps every table whole (a table cut in half answers nothing), indexes the pieces in
LangChain's InMemoryVectorStore and retrieves with a metadata filter.

The embedding is a deterministic fake (it needs numpy), so the example runs offline; see
``embeddings()`` to use real ones. The server comes from DOTSOCR_BASE_URL (default http://localhost:8000/v1).
"""

from __future__ import annotations

import argparse

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_text_splitters import RecursiveCharacterTextSplitter

from langchain_dotsocr import DotsOCRLoader

FURNITURE = ["Page-header", "Page-footer"]
WHOLE = {"Table"}  # categories never split


def load_elements(path: str) -> list[Document]:
    """The PDF's layout elements in reading order, page headers and footers left out."""
    return DotsOCRLoader(path, exclude_categories=FURNITURE).load()


def split(elements: list[Document], chunk_size: int = 1000) -> list[Document]:
    """Long text elements cut into pieces of at most ``chunk_size`` characters; tables whole.

    A piece keeps its element's metadata and gets an id of its own from the element's.
    """
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_size // 10, add_start_index=True
    )
    chunks: list[Document] = []
    for element in elements:
        if element.metadata["category"] in WHOLE or len(element.page_content) <= chunk_size:
            chunks.append(element)
        else:
            pieces = splitter.split_documents([element])  # metadata copied to each piece
            for n, piece in enumerate(pieces):
                piece.id = f"{element.id}-{n}"
            chunks.extend(pieces)
    return chunks


def embeddings() -> Embeddings:
    """Offline stand-in: vectors from a hash of the text, so similarity means nothing.

    For real retrieval return real embeddings instead, e.g.
    ``langchain_openai.OpenAIEmbeddings(model="text-embedding-3-small")`` or
    ``langchain_huggingface.HuggingFaceEmbeddings(model_name="BAAI/bge-small-en-v1.5")``.
    """
    return DeterministicFakeEmbedding(size=256)


def index(chunks: list[Document]) -> InMemoryVectorStore:
    """The chunks in an in-memory vector store, by id: indexing a file again updates them."""
    store = InMemoryVectorStore(embeddings())
    store.add_documents(chunks, ids=[c.id for c in chunks])
    return store


def search(
    store: InMemoryVectorStore,
    query: str,
    *,
    category: str | None = None,
    page: int | None = None,
    k: int = 4,
) -> list[Document]:
    """The ``k`` chunks nearest to ``query`` among those of ``category`` on ``page`` (0-based)."""

    def wanted(doc: Document) -> bool:
        meta = doc.metadata
        return (category is None or meta["category"] == category) and (
            page is None or meta["page"] == page
        )

    return store.similarity_search(query, k=k, filter=wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", help="the PDF to ingest")
    parser.add_argument("--query", default="results table", help="what to look for")
    parser.add_argument("--chunk-size", type=int, default=1000, help="characters per piece")
    args = parser.parse_args(argv)

    elements = load_elements(args.pdf)
    chunks = split(elements, args.chunk_size)
    store = index(chunks)
    tables = sum(e.metadata["category"] in WHOLE for e in elements)
    print(f"{len(elements)} elements -> {len(chunks)} chunks indexed ({tables} tables whole)")

    print(f"tables on page 0 for {args.query!r}:")
    for doc in search(store, args.query, category="Table", page=0):
        print(f"  page {doc.metadata['page']} bbox={doc.metadata['bbox']}: {doc.page_content}")
    print(f"text for {args.query!r}:")
    for doc in search(store, args.query, category="Text", k=3):
        meta = doc.metadata
        print(f"  page {meta['page_label']} [{meta['section_path']}] {doc.page_content!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
