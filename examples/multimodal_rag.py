"""Multimodal RAG: index text, tables and pictures (by caption and description), get a
figure's crop back for a question.

    pip install langchain-dotsocr numpy
    python examples/multimodal_rag.py report.pdf --query "warehouse network" [--images out/images]

Loads the PDF as layout elements with a crop of every picture written to ``--images`` and a
description of each, indexes every element (text, tables as HTML, pictures by their caption,
description and the text inside them) by id in LangChain's InMemoryVectorStore, then answers
the query twice: the best element of any kind, and the best figure, with the path of its crop
(what a chat UI shows, or what goes to a multimodal model with the retrieved text).

It runs offline: ``describe()`` looks at the crop's pixels only, and the embedding is a bag of
hashed words. Both are the places to plug real models in: pass any LangChain chat model that
takes images as ``describe_pictures`` (``ChatOpenAI(model="gpt-4o-mini")``,
``ChatOllama(model="llama3.2-vision")``, ...) and real embeddings in ``embeddings()``.
The server comes from DOTSOCR_BASE_URL (default http://localhost:8000/v1).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import re

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from PIL import Image

from langchain_dotsocr import Crop, DotsOCRLoader

FURNITURE = ["Page-header", "Page-footer"]
COLOURS = {  # a few names for the offline describer
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 40, 40),
    "orange": (240, 140, 20),
    "yellow": (230, 210, 40),
    "green": (40, 160, 60),
    "blue": (40, 90, 210),
    "purple": (140, 60, 170),
    "pink": (230, 120, 190),
    "brown": (140, 90, 50),
}


async def describe(crop: Crop) -> str:
    """An offline stand-in for a vision model: what the pixels alone say (size, colours).

    Replace it by a chat model that takes images: ``describe_pictures=ChatOpenAI(...)``
    sends each crop with a prompt (``langchain_dotsocr.DESCRIBE_PROMPT``) and its caption.
    """
    image = Image.open(io.BytesIO(crop.png)).convert("RGB").resize((32, 32))
    counts: dict[str, int] = {}
    for count, pixel in image.getcolors(32 * 32) or []:
        name = min(COLOURS, key=lambda n: _distance(pixel, COLOURS[n]))
        counts[name] = counts.get(name, 0) + count
    main = [n for n, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:2]]
    ratio = crop.width / crop.height
    shape = "wide" if ratio > 1.2 else "tall" if ratio < 1 / 1.2 else "square"
    return f"A {shape} picture ({crop.width}x{crop.height} px), mostly {' and '.join(main)}."


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


class HashedWords(Embeddings):
    """Offline embeddings: each word hashed into one of ``size`` dimensions, normalised. Texts
    that share words are near; meaning is not. Use real embeddings for real retrieval."""

    def __init__(self, size: int = 512) -> None:
        self.size = size

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def embeddings() -> Embeddings:
    """Offline stand-in; for real retrieval return e.g.
    ``langchain_openai.OpenAIEmbeddings(model="text-embedding-3-small")``."""
    return HashedWords()


def load(path: str, images: str) -> list[Document]:
    """The file's elements, pictures cropped into ``images`` and described."""
    loader = DotsOCRLoader(
        path, images=images, describe_pictures=describe, exclude_categories=FURNITURE
    )
    return loader.load()


def index(docs: list[Document]) -> InMemoryVectorStore:
    """Every element in a vector store by id: text, tables (HTML) and pictures (caption,
    description, text inside). Indexing the file again updates them."""
    store = InMemoryVectorStore(embeddings())
    store.add_documents(docs, ids=[d.id for d in docs])
    return store


def find_figure(store: InMemoryVectorStore, query: str) -> Document | None:
    """The picture that answers ``query`` best; its crop is at ``metadata["image_path"]``."""
    found = store.similarity_search(
        query, k=1, filter=lambda d: d.metadata["category"] == "Picture"
    )
    return found[0] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", help="the PDF (or image) to index")
    parser.add_argument("--query", default="chart", help="what to look for")
    parser.add_argument("--images", default="out/images", help="folder for the crops")
    args = parser.parse_args(argv)

    docs = load(args.pdf, args.images)
    store = index(docs)
    kinds = [d.metadata["category"] for d in docs]
    tables, pictures = kinds.count("Table"), kinds.count("Picture")
    others = len(docs) - tables - pictures
    print(f"indexed {len(docs)} elements: {tables} tables, {pictures} pictures, {others} others")
    (best,) = store.similarity_search(args.query, k=1)
    where = f"{best.metadata['category']} on page {best.metadata['page']}"
    print(f"best for {args.query!r}: {where}: {best.page_content[:80]!r}")
    figure = find_figure(store, args.query)
    if figure is None:
        print("no figure")
        return 1
    meta = figure.metadata
    print(f"figure for {args.query!r}: {meta['image_path']}")
    print(f"  page {meta['page']}, caption: {meta['caption']!r}")
    print(f"  description: {meta['picture_description']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
