"""Element Documents go into the vector stores RAG users use most, as they come, and come back
out by filters on category, page and section path, Cyrillic and CJK text intact."""

import uuid
import warnings

import chromadb
import pytest
from chromadb.config import Settings
from langchain_chroma import Chroma
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore
from qdrant_client import models

from langchain_dotsocr import DotsOCRChunker, DotsOCRLoader, flatten_bbox
from tests.fakevllm import Box, FaultPlan, PageSpec, make_pdf, page_footer_box

with warnings.catch_warnings():  # FAISS's LangChain integration still lives in the community
    warnings.simplefilter("ignore", DeprecationWarning)  # package, which warns it is sunset
    from langchain_community.vectorstores import FAISS

RUSSIAN = "Выручка выросла на 12,4 % — до 48,2 млн евро; склады на севере загружены полностью."
CHINESE = "营业收入同比增长12.4%，达到4820万欧元；北部仓库已满负荷运转，南部仓库仍有余量。"
TABLE = (
    "<table><thead><tr><th>Регион</th><th>地区</th><th>Q1</th></tr></thead>"
    "<tbody><tr><td>Север</td><td>北部</td><td>10.2</td></tr></tbody></table>"
)
SOURCES = "Annual Report > 2 Data > 2.1 Sources"
RESULTS = "Annual Report > 3 Итоги"


@pytest.fixture
def report_pdf(fake):
    """A three-page report, the double set to read it (the third page fails)."""
    pages = [
        [
            Box("Page-header", 0, 72, 30, 540, 44),
            Box("Title", 1, 72, 60, 540, 100),
            Box("Section-header", 1, 72, 120, 300, 140),
            Box("Text", 1, 72, 150, 540, 200),
            Box("Section-header", 2, 72, 220, 300, 236),
            Box("Text", 2, 72, 246, 540, 296),
            Box("Table", 1, 72, 310, 540, 420),
            Box("Caption", 1, 72, 426, 400, 440),
            Box("Picture", 1, 72, 450, 300, 600),
            Box("Formula", 1, 320, 450, 540, 480),
        ],
        [
            Box("Page-header", 1, 72, 30, 540, 44),
            Box("Text", 3, 72, 60, 540, 110),
            Box("Section-header", 3, 72, 130, 300, 150),
            Box("Text", 4, 72, 160, 540, 210),
            Box("Text", 5, 72, 220, 540, 270),
            Box("Table", 2, 72, 290, 540, 400),
        ],
        [Box("Text", 6, 72, 60, 540, 110)],
    ]
    specs = [PageSpec(612, 792, (*b, page_footer_box(i, 612, 792))) for i, b in enumerate(pages)]
    fake.texts = {
        ("Page-header", 0): "ACME | Annual Report",
        ("Page-header", 1): "ACME | Annual Report",
        ("Title", 1): "# Annual Report",
        ("Section-header", 1): "## 2 Data",
        ("Text", 1): "The data come from the regional offices and the logistics ledgers.",
        ("Section-header", 2): "## 2.1 Sources",
        ("Text", 2): "Each office sends its monthly figures, checked against the ledgers.",
        ("Table", 1): TABLE,
        ("Text", 3): "The sources agree within half a percent for every quarter.",
        ("Section-header", 3): "## 3 Итоги",
        ("Text", 4): RUSSIAN,
        ("Text", 5): CHINESE,
        ("Table", 2): TABLE.replace("10.2", "11.0"),
    }
    fake.faults = FaultPlan(by_page={2: ["http_400"] * 10})
    return make_pdf(specs)


@pytest.fixture
def report(fast, report_pdf):
    """Element Documents of the report: the third page failed and is marked."""
    return DotsOCRLoader(report_pdf, on_error="mark", **fast).load()


def test_metadata_is_store_ready_and_the_same_keys_everywhere(report):
    assert report[-1].metadata["category"] == "Error"
    keys = set(report[0].metadata)
    for doc in report:
        assert set(doc.metadata) == keys, doc.metadata["category"]
        for key, value in doc.metadata.items():
            if key == "bbox":
                assert len(value) == 4 and all(type(v) is float for v in value)
            elif key == "pages":  # the pages an element spans: a table joined over pages
                assert value and all(type(v) is int for v in value)
            else:
                assert type(value) in (str, int, float, bool), (key, value)
    assert report[0].metadata["page_width"] == 612.0
    assert {"text_as_html", "section_path", "heading_level", "parent_id"} <= keys
    for doc in flatten_bbox(report):
        assert all(type(v) in (str, int, float, bool) for v in doc.metadata.values())
        assert doc.id is not None


#: The filtered searches every store must answer, by name: metadata field -> value.
SEARCHES = {
    "tables": {"category": "Table"},
    "page 1 text": {"category": "Text", "page": 1},
    "sources": {"section_path": SOURCES},
    "results": {"section_path": RESULTS},
}


def wanted(report):
    """What each filtered search must find, by id."""
    return {
        name: {d.id for d in report if all(d.metadata[k] == v for k, v in match.items())}
        for name, match in SEARCHES.items()
    }


def check_searches(report, search):
    """Each search, through the store's ``search(match) -> ids``, finds what it must."""
    want = wanted(report)
    for name, match in SEARCHES.items():
        assert search(match) == want[name], name


def check_round_trip(report, found):
    """``found`` maps ids to (page_content, metadata) as the store gave them back."""
    for doc in report:
        content, meta = found[doc.id]
        assert content == doc.page_content
        assert meta == doc.metadata
    texts = {c for c, _ in found.values()}
    assert RUSSIAN in texts and CHINESE in texts


EMBEDDING = DeterministicFakeEmbedding(size=32)


def test_chroma(report):
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    store = Chroma(
        collection_name=f"report-{uuid.uuid4().hex[:8]}", embedding_function=EMBEDDING, client=client
    )
    store.add_documents(report, ids=[d.id for d in report])
    store.add_documents(report, ids=[d.id for d in report])  # again: an upsert, no copies
    got = store.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == len(report)
    check_round_trip(report, dict(zip(got["ids"], zip(got["documents"], got["metadatas"]))))
    k = len(report)

    def search(match):
        flt = match if len(match) == 1 else {"$and": [{k: v} for k, v in match.items()]}
        return {d.id for d in store.similarity_search("revenue", k=k, filter=flt)}

    check_searches(report, search)


def test_qdrant(report):
    store = QdrantVectorStore.from_documents(
        report, EMBEDDING, location=":memory:", collection_name="report", ids=[d.id for d in report]
    )
    store.add_documents(report, ids=[d.id for d in report])
    points = store.client.scroll("report", limit=1000, with_payload=True)[0]
    assert len(points) == len(report)
    check_round_trip(
        report,
        {str(p.id): (p.payload["page_content"], p.payload["metadata"]) for p in points},
    )

    def search(**match):
        must = [
            models.FieldCondition(key=f"metadata.{k}", match=models.MatchValue(value=v))
            for k, v in match.items()
        ]
        docs = store.similarity_search("revenue", k=len(report), filter=models.Filter(must=must))
        return {d.metadata["element_id"] for d in docs}

    check_searches(report, lambda match: search(**match))


def test_faiss(report):
    store = FAISS.from_documents(report, EMBEDDING, ids=[d.id for d in report])
    check_round_trip(
        report,
        {i: (d.page_content, d.metadata) for i, d in store.docstore._dict.items()},
    )

    def search(**match):
        docs = store.similarity_search("revenue", k=len(report), filter=match, fetch_k=len(report))
        return {d.metadata["element_id"] for d in docs}

    check_searches(report, lambda match: search(**match))


def test_the_searches_have_something_to_find(report):
    sizes = {name: len(ids) for name, ids in wanted(report).items()}
    # Page furniture and the Error Document sit in the section where they occur, too.
    assert sizes == {"tables": 2, "page 1 text": 3, "sources": 9, "results": 6}


# -- chunks (mode="chunk", DotsOCRChunker) go in as they come too ----------------------------


@pytest.fixture
def chunks(report):
    """The report's chunks, small enough that its sections take several (the loader's
    ``mode="chunk"`` gives the same: tests/test_chunks_loader.py)."""
    return DotsOCRChunker(chunk_size=60).transform_documents(report)


def check_chunks(chunks, found):
    """``found`` maps ids to (page_content, metadata) as the store gave them back."""
    assert set(found) == {c.id for c in chunks}
    for c in chunks:
        assert found[c.id] == (c.page_content, c.metadata)
    text = "".join(c.page_content for c in chunks)
    assert RUSSIAN in text and CHINESE in text


def test_chunks_in_chroma_qdrant_and_faiss(chunks):
    assert {c.metadata["category"] for c in chunks} == {"Chunk", "Error"}
    assert {c.metadata["section_path"] for c in chunks} >= {SOURCES, RESULTS}
    results = [c.id for c in chunks if c.metadata["section_path"] == RESULTS]
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    chroma = Chroma(f"chunks-{uuid.uuid4().hex[:8]}", EMBEDDING, client=client)
    chroma.add_documents(chunks, ids=[c.id for c in chunks])
    got = chroma.get(include=["documents", "metadatas"])
    check_chunks(chunks, dict(zip(got["ids"], zip(got["documents"], got["metadatas"]))))
    found = chroma.similarity_search("x", k=len(chunks), filter={"section_path": RESULTS})
    assert sorted(d.id for d in found) == sorted(results) and len(results) > 1

    qdrant = QdrantVectorStore.from_documents(
        chunks, EMBEDDING, location=":memory:", collection_name="c", ids=[c.id for c in chunks]
    )
    points = qdrant.client.scroll("c", limit=1000, with_payload=True)[0]
    check_chunks(
        chunks, {str(p.id): (p.payload["page_content"], p.payload["metadata"]) for p in points}
    )

    faiss = FAISS.from_documents(chunks, EMBEDDING, ids=[c.id for c in chunks])
    check_chunks(chunks, {i: (d.page_content, d.metadata) for i, d in faiss.docstore._dict.items()})
    found = faiss.similarity_search("x", k=len(chunks), filter={"page": 1}, fetch_k=len(chunks))
    assert {d.id for d in found} == {c.id for c in chunks if c.metadata["page"] == 1}
