"""Document ids: the same file read the same way gives the same ids, whatever else changes."""

import uuid

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import FaultPlan, LatencyModel, make_pdf, sample_page


def ids(docs):
    return [d.id for d in docs]


def test_every_document_has_a_uuid_and_carries_it_in_element_id(fast, pdf):
    docs = DotsOCRLoader(pdf, **fast).load()
    assert all(str(uuid.UUID(d.id)) == d.id == d.metadata["element_id"] for d in docs)
    assert len(set(ids(docs))) == len(docs)


def test_same_file_same_ids_under_any_name_from_the_cache_in_any_order(fast, fake, pdf, tmp_path):
    first = ids(DotsOCRLoader(pdf, **fast).load())
    copy = tmp_path / "elsewhere" / "renamed.pdf"
    copy.parent.mkdir()
    copy.write_bytes(pdf.read_bytes())
    assert ids(DotsOCRLoader(copy, **fast).load()) == first
    assert ids(DotsOCRLoader(pdf.read_bytes(), **fast).load()) == first
    # Page 0 answers last: it fails twice first, and each page takes its time.
    fake.faults = FaultPlan(by_page={0: ["http_503", "http_503", "ok"]})
    fake.latency = LatencyModel(decode_tokens_per_s=4000)
    assert ids(DotsOCRLoader(pdf, **fast).load()) == first
    fake.faults = fake.latency = None
    cache = tmp_path / "cache"
    assert ids(DotsOCRLoader(pdf, cache_dir=cache, **fast).load()) == first
    fake.reset()
    assert ids(DotsOCRLoader(pdf, cache_dir=cache, **fast).load()) == first
    assert fake.chat_requests == []


def test_what_changes_the_answer_changes_the_ids(fast, pdf):
    first = ids(DotsOCRLoader(pdf, **fast).load())
    other_file = make_pdf([sample_page(0), sample_page(2)])  # page 0 the same, the file not
    assert not set(first) & set(ids(DotsOCRLoader(other_file, **fast).load()))
    for setting in ({"temperature": 0.2}, {"dpi": 150}, {"image_format": "jpeg"}):
        assert not set(first) & set(ids(DotsOCRLoader(pdf, **setting, **fast).load())), setting
    # Leaving categories out changes what is kept, not what the model said: the rest keep theirs.
    kept = ids(DotsOCRLoader(pdf, exclude_categories=["Page-header"], **fast).load())
    assert set(kept) < set(first)


def test_pages_sources_and_errors_have_stable_ids_too(fast, fake, pdf):
    pages = DotsOCRLoader(pdf, mode="page", **fast).load()
    assert len(set(ids(pages))) == 2 and ids(DotsOCRLoader(pdf, mode="page", **fast).load()) == ids(
        pages
    )
    (single,) = DotsOCRLoader(pdf, mode="single", **fast).load()
    assert single.id == single.metadata["element_id"] and single.id not in ids(pages)
    fake.faults = FaultPlan(by_page={1: ["http_400"] * 10})
    marked = [DotsOCRLoader(pdf, on_error="mark", **fast).load() for _ in range(2)]
    errors = [[d for d in docs if d.metadata["category"] == "Error"] for docs in marked]
    assert len(errors[0]) == 1 and errors[0][0].id == errors[1][0].id
    assert errors[0][0].id == errors[0][0].metadata["element_id"]
    unreadable = [DotsOCRLoader(b"not a pdf", on_error="mark", **fast).load() for _ in range(2)]
    assert unreadable[0][0].id == unreadable[1][0].id is not None


def test_add_documents_twice_keeps_one_copy_of_each_element(fast, pdf):
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    for _ in range(2):
        docs = DotsOCRLoader(pdf, **fast).load()
        store.add_documents(docs, ids=ids(docs))
    assert len(store.store) == len(docs)
    assert set(store.store) == set(ids(docs))


def test_the_indexing_api_adds_nothing_the_second_time(fast, pdf):
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    records = InMemoryRecordManager(namespace="dotsocr")
    records.create_schema()
    docs = DotsOCRLoader(pdf, **fast).load()
    options = {"cleanup": "incremental", "source_id_key": "source", "key_encoder": "sha256"}
    first = index(docs, records, store, **options)
    assert first["num_added"] == len(docs)
    again = DotsOCRLoader(pdf, **fast).load()
    second = index(again, records, store, **options)
    assert (second["num_added"], second["num_deleted"]) == (0, 0)
    assert second["num_skipped"] == len(docs)
    assert len(store.store) == len(docs)


def test_a_setting_given_as_int_or_float_is_one_setting():
    from langchain_dotsocr.identity import answer_key
    from langchain_dotsocr.pages import Geometry
    from langchain_dotsocr.settings import DotsOCRSettings

    as_int = answer_key(DotsOCRSettings(dpi=200), "m", Geometry(dpi=200))
    as_float = answer_key(DotsOCRSettings(dpi=200.0), "m", Geometry(dpi=200.0))
    assert as_int == as_float
    assert as_int != answer_key(DotsOCRSettings(dpi=201), "m", Geometry(dpi=201))
