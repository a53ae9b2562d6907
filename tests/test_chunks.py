"""Chunks for retrieval: the rules of langchain_dotsocr.chunks, checked on element Documents
built from outlines (tests/chunkdocs.py) and on random ones (hypothesis)."""

from __future__ import annotations

import asyncio
import itertools
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_dotsocr import DotsOCRChunker, chunk_boxes, estimate_tokens
from langchain_dotsocr.chunks import CHUNK_KEYS
from langchain_dotsocr.chunks.units import parse_page_boxes
from tests.chunkdocs import element, outline

HEAD = "<thead><tr><th>Region</th><th>Q1</th></tr></thead>"


def table(rows: int, start: int = 0) -> str:
    body = "".join(f"<tr><td>r{i}</td><td>{i * 7}.5</td></tr>" for i in range(start, start + rows))
    return f"<table>{HEAD}<tbody>{body}</tbody></table>"


def ids(chunk: Document) -> list[str]:
    return chunk.metadata["element_ids"].split(",")


def words(n: int, word: str = "alpha") -> str:
    return " ".join(f"{word}{i}." for i in range(n))


# -- the text of every element, once, in order ------------------------------------------------

_TABLE_TAGS = re.compile(r"<thead>.*?</thead>|</?(?:table|tbody)>", re.S)


def stream(texts: list[str]) -> str:
    """Texts as one string without whitespace or table wrappers (a part repeats the header)."""
    return "".join("".join(_TABLE_TAGS.sub("", t).split()) for t in texts)


class Checker(HTMLParser):
    """Fails on a tag closed that was not open, or left open."""

    VOID = frozenset({"br", "img", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()

    def close(self):
        super().close()
        assert not self.open, self.open


def valid_html(html: str) -> None:
    checker = Checker()
    checker.feed(html)
    checker.close()


SENTENCES = st.sampled_from(
    [
        "The data come from the regional offices.",
        "Выручка выросла на 12,4 % до 48,2 млн евро.",
        "营业收入同比增长12.4%，达到4820万欧元。",  # noqa: RUF001
        "北部仓库已满负荷运转！",  # noqa: RUF001
        "Is it?",
        "a" * 90,  # a word longer than small chunks
        "Line one\nline two",
    ]
)
ELEMENTS = st.one_of(
    st.tuples(
        st.sampled_from(["Text", "List-item", "Formula"]),
        st.lists(SENTENCES, min_size=1, max_size=12).map(" ".join),
    ),
    st.tuples(
        st.just("Section-header"), st.sampled_from(["## 1 Intro", "## 2 Data", "## 3 Итоги"])
    ),
    st.tuples(st.just("Title"), st.just("# Report")),
    st.tuples(st.just("Table"), st.integers(1, 30).map(table)),
    st.tuples(st.just("Page-header"), st.just("ACME | Report")),
)
LENGTHS = {"estimate": estimate_tokens, "characters": len, "words": lambda t: len(t.split())}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pages=st.lists(st.lists(ELEMENTS, max_size=8), min_size=1, max_size=4),
    size=st.integers(20, 400),
    length=st.sampled_from(sorted(LENGTHS)),
    contextualize=st.booleans(),
)
def test_every_element_once_in_order_and_no_chunk_too_long(pages, size, length, contextualize):
    docs = outline(pages)
    count = LENGTHS[length]
    chunker = DotsOCRChunker(
        chunk_size=size,
        min_chunk_size=size // 4,
        length_function=count,
        contextualize=contextualize,
    )
    chunks = chunker.transform_documents(docs)
    kept = [d for d in docs if d.metadata["category"] != "Page-header"]
    # Every element is in a chunk, in order; a cut one in consecutive chunks.
    seen = [i for c in chunks for i in ids(c)]
    assert list(dict.fromkeys(seen)) == [d.id for d in kept]
    bodies = []
    for c in chunks:
        text = c.page_content
        if contextualize and c.metadata["section_path"]:
            prefix = text.split("\n\n", 1)[0]
            if (
                prefix
                and c.metadata["section_path"].startswith(prefix)
                and not prefix.startswith("#")
            ):
                text = text[len(prefix) :]
        bodies.append(text)
    assert stream(bodies) == stream([d.page_content for d in kept])
    for c in chunks:
        over = count(c.page_content) > size
        if over:  # only a table (or table part) of one row may be longer than a chunk
            assert c.page_content.count("<tr><td>") == 1, c.page_content
            assert c.metadata["categories"] == "Table", c.metadata["categories"]
        if c.metadata["table_part"]:
            part = c.page_content[c.page_content.index("<table>") :]
            valid_html(part)
            assert HEAD in part
        assert set(c.metadata) == set(CHUNK_KEYS)


def test_streaming_a_chunk_of_section_1_comes_before_section_3_is_read():
    pages = [
        [("Title", "# Report"), ("Section-header", "## 1 Intro"), ("Text", words(30))],
        [("Section-header", "## 2 Data"), ("Text", words(30))],
        [("Section-header", "## 3 Results"), ("Text", words(30))],
    ]
    docs = outline(pages)
    read: list[int] = []

    def lazy():
        for d in docs:
            read.append(d.metadata["page"])
            yield d

    chunks = DotsOCRChunker(chunk_size=100).lazy_transform(lazy())
    first = next(chunks)
    assert first.metadata["section_path"] == "Report > 1 Intro"
    assert 2 not in read
    assert [c.metadata["section_path"] for c in chunks][-1] == "Report > 3 Results"


def test_async_transform_is_the_sync_one():
    docs = outline([[("Title", "# R"), ("Text", words(80))], [("Text", words(10))]])
    chunker = DotsOCRChunker(chunk_size=60)

    async def source():
        for d in docs:
            yield d

    async def both():
        lazy = [c async for c in chunker.alazy_transform(source())]
        return lazy, await chunker.atransform_documents(docs)

    lazy, whole = asyncio.run(both())
    sync = chunker.transform_documents(docs)
    assert lazy == list(sync) == list(whole)
    assert len(sync) > 2


# -- sections, pages, furniture ----------------------------------------------------------------


def test_a_heading_starts_a_chunk_and_a_chunk_crosses_a_page_break_inside_a_section():
    pages = [
        [
            ("Page-header", "ACME"),
            ("Title", "# Report"),
            ("Section-header", "## 1 Intro"),
            ("Text", "First page text."),
            ("Page-footer", "1"),
        ],
        [
            ("Page-header", "ACME"),
            ("Text", "Second page text."),
            ("Section-header", "## 2 Data"),
            ("Text", "Data text."),
        ],
    ]
    chunks = DotsOCRChunker(chunk_size=200, min_chunk_size=0).transform_documents(outline(pages))
    assert [c.metadata["section_path"] for c in chunks] == [
        "Report",
        "Report > 1 Intro",
        "Report > 2 Data",
    ]
    intro = chunks[1]
    assert (intro.metadata["page"], intro.metadata["page_end"]) == (0, 1)
    assert {p for p, _ in parse_page_boxes(intro.metadata["page_boxes"])} == {0, 1}
    assert "ACME" not in "".join(c.page_content for c in chunks)
    assert "Page-header" not in ",".join(c.metadata["categories"] for c in chunks)
    # The first chunk of a section begins with the path above its heading, which it holds.
    assert intro.page_content == "Report\n\n## 1 Intro\n\nFirst page text.\n\nSecond page text."


def test_a_small_chapter_heading_joins_its_first_section_not_a_sibling():
    pages = [
        [
            ("Title", "# Report"),
            ("Section-header", "## 1 Intro"),
            ("Text", "Short."),
            ("Section-header", "## 2 Data"),
            ("Text", "Also short."),
        ]
    ]
    docs = outline(pages)
    chunks = DotsOCRChunker(chunk_size=200, min_chunk_size=20).transform_documents(docs)
    assert [c.metadata["section_path"] for c in chunks] == ["Report > 1 Intro", "Report > 2 Data"]
    assert chunks[0].page_content.startswith("# Report\n\n## 1 Intro")
    assert chunks[1].page_content == "Report\n\n## 2 Data\n\nAlso short."
    # The parent is the section's heading; without min_chunk_size the title stands alone.
    assert chunks[1].metadata["parent_id"] == docs[3].id
    alone = DotsOCRChunker(chunk_size=200, min_chunk_size=0).transform_documents(docs)
    assert alone[0].metadata["section_path"] == "Report"


def test_contextualize_off_and_the_path_is_still_in_metadata():
    docs = outline([[("Title", "# Report"), ("Section-header", "## 1 Intro"), ("Text", words(60))]])
    on = DotsOCRChunker(chunk_size=50, min_chunk_size=0).transform_documents(docs)
    off = DotsOCRChunker(chunk_size=50, min_chunk_size=0, contextualize=False).transform_documents(
        docs
    )
    assert all(c.page_content.startswith("Report > 1 Intro\n\n") for c in on[2:])
    assert not any(c.page_content.startswith("Report") for c in off)
    assert all(c.metadata["section_path"] == "Report > 1 Intro" for c in off[1:])


# -- cutting ------------------------------------------------------------------------------------


def test_a_long_paragraph_is_cut_at_sentence_ends_latin_and_cjk():
    latin = " ".join(f"Sentence number {i} says a little more." for i in range(40))
    cjk = "".join(f"第{i}句话说得更多一点。" for i in range(60))
    for text in (latin, cjk):
        docs = outline([[("Text", text)]])
        chunks = DotsOCRChunker(chunk_size=60, min_chunk_size=0).transform_documents(docs)
        assert len(chunks) > 2
        for c in chunks:
            assert estimate_tokens(c.page_content) <= 60
            assert c.page_content.endswith((".", "。")), c.page_content[-20:]
        assert stream([c.page_content for c in chunks]) == stream([text])


def test_a_sentence_longer_than_a_chunk_is_cut_at_words_and_nothing_is_lost():
    text = "word " * 300
    chunks = DotsOCRChunker(chunk_size=40, min_chunk_size=0).transform_documents(
        outline([[("Text", text)]])
    )
    assert all(estimate_tokens(c.page_content) <= 40 for c in chunks)
    assert sum(c.page_content.split().count("word") for c in chunks) == 300


def test_a_table_that_fits_stays_whole_a_larger_one_is_cut_between_rows_with_its_header():
    small, big = table(3), table(60)
    docs = outline([[("Section-header", "## Tables"), ("Table", small), ("Table", big)]])
    chunks = DotsOCRChunker(chunk_size=200, min_chunk_size=0).transform_documents(docs)
    assert small in chunks[0].page_content and chunks[0].metadata["table_part"] == 0
    parts = [c for c in chunks if c.metadata["table_id"] == docs[2].id]
    assert [c.metadata["table_part"] for c in parts] == list(range(1, len(parts) + 1))
    assert all(c.metadata["table_parts"] == len(parts) > 1 for c in parts)
    rows = []
    for c in parts:
        html = c.page_content[c.page_content.index("<table>") :]
        valid_html(html)
        assert html.startswith("<table>" + HEAD)
        rows += re.findall(r"<tr><td>.*?</tr>", html)
        assert estimate_tokens(c.page_content) <= 200
    assert rows == re.findall(r"<tr><td>.*?</tr>", big)


def test_a_table_without_thead_repeats_its_th_rows():
    html = (
        "<table><tr><th>A</th><th>B</th></tr>"
        + "".join(f"<tr><td>{i}</td><td>x{i}</td></tr>" for i in range(30))
        + "</table>"
    )
    chunks = DotsOCRChunker(chunk_size=60, min_chunk_size=0).transform_documents(
        outline([[("Table", html)]])
    )
    assert len(chunks) > 1
    for c in chunks:
        valid_html(c.page_content)
        assert "<th>A</th><th>B</th>" in c.page_content


def test_captions_and_footnotes_stay_with_their_table_and_picture():
    t = element("Table", table(40), index=1)
    cap = element("Caption", "Table 1: Revenue by region", index=0, belongs_to=t.id)
    note = element("Footnote", "* unaudited", index=2, belongs_to=t.id)
    pic = element("Picture", "Figure 2: The map\n\nNorth and south", index=3)
    pcap = element("Caption", "Figure 2: The map", index=4, belongs_to=pic.id)
    after = element("Text", "Closing words.", index=5)
    chunks = DotsOCRChunker(chunk_size=150, min_chunk_size=0).transform_documents(
        [cap, t, note, pic, pcap, after]
    )
    parts = [c for c in chunks if c.metadata["table_id"] == t.id]
    assert parts[0].page_content.startswith("Table 1: Revenue by region\n\n<table>")
    assert parts[0].metadata["element_ids"].split(",")[:2] == [cap.id, t.id]
    assert "* unaudited" in parts[-1].page_content and note.id in ids(parts[-1])
    # The picture's content holds its caption already: it is not written twice.
    text = "".join(c.page_content for c in chunks)
    assert text.count("Figure 2: The map") == 1
    holder = next(c for c in chunks if pic.id in ids(c))
    assert pcap.id in ids(holder)


def test_overlap_repeats_the_last_sentences_within_a_section():
    text = " ".join(f"Sentence {i} is here." for i in range(40))
    docs = outline([[("Text", text)]])
    chunks = DotsOCRChunker(chunk_size=50, chunk_overlap=12, min_chunk_size=0).transform_documents(
        docs
    )
    for before, after in itertools.pairwise(chunks):
        seed = after.page_content.split("\n\n")[0]
        assert re.fullmatch(r"(Sentence \d+ is here\. ?)+", seed)
        assert before.page_content.endswith(seed) and estimate_tokens(seed) <= 12
        assert estimate_tokens(after.page_content) <= 50


def test_an_error_document_becomes_an_error_chunk_in_its_place():
    docs = outline([[("Text", "Before.")], [("Text", "After.")]])
    err = element("Error", "", page=1, index=-1, id="error-1")
    err.metadata.update(error="the page failed", error_type="PageError", page_boxes="")
    chunks = DotsOCRChunker().transform_documents([docs[0], err, docs[1]])
    assert [c.metadata["category"] for c in chunks] == ["Chunk", "Error", "Chunk"]
    assert chunks[1].metadata["error_type"] == "PageError" and chunks[1].id == "error-1"


# -- metadata and ids ---------------------------------------------------------------------------


def test_metadata_is_store_ready_and_boxes_are_the_elements():
    docs = outline(
        [[("Title", "# Report"), ("Text", "One."), ("Text", "Two.")], [("Text", "Three.")]]
    )
    [chunk] = DotsOCRChunker().transform_documents(docs)
    for key, value in chunk.metadata.items():
        if key == "bbox":
            assert len(value) == 4 and all(type(v) is float for v in value)
        else:
            assert type(value) in (str, int, float, bool), key
    assert ids(chunk) == [d.id for d in docs]
    want = [(d.metadata["page"], tuple(d.metadata["bbox"])) for d in docs]
    assert list(parse_page_boxes(chunk.metadata["page_boxes"])) == want
    first = [b for p, b in want if p == 0]
    assert chunk.metadata["bbox"] == [
        min(b[0] for b in first),
        min(b[1] for b in first),
        max(b[2] for b in first),
        max(b[3] for b in first),
    ]
    assert [d.metadata["page"] for d in chunk_boxes(chunk)] == [0, 0, 0, 1]
    assert [d.metadata["bbox"] for d in chunk_boxes(chunk, page=1)] == [list(want[3][1])]


SECTIONS = [
    [("Title", "# Report"), ("Section-header", "## 1 Intro"), ("Text", words(40))],
    [("Text", words(20, "beta")), ("Section-header", "## 2 Data"), ("Text", words(40, "gamma"))],
    [("Section-header", "## 3 End"), ("Text", words(40, "delta"))],
]


def edited(docs: list[Document], page: int) -> list[Document]:
    """``docs`` with the text of the last element of ``page`` changed."""
    out = list(docs)
    k = max(i for i, d in enumerate(docs) if d.metadata["page"] == page)
    out[k] = Document(docs[k].page_content + " Changed.", metadata=docs[k].metadata, id=docs[k].id)
    return out


def test_ids_are_stable_and_change_only_where_the_input_changed():
    docs = outline(SECTIONS)
    chunker = DotsOCRChunker(chunk_size=60, min_chunk_size=0)
    a = chunker.transform_documents(docs)
    assert [c.id for c in a] == [
        c.id for c in DotsOCRChunker(chunk_size=60, min_chunk_size=0).transform_documents(docs)
    ]
    assert len({c.id for c in a}) == len(a)
    b = chunker.transform_documents(edited(docs, 2))
    changed = {c.id for c in a} ^ {c.id for c in b}
    touched = [c for c in (*a, *b) if c.id in changed]
    assert touched and all(c.metadata["section_path"] == "Report > 3 End" for c in touched)
    other = DotsOCRChunker(chunk_size=61, min_chunk_size=0).transform_documents(docs)
    assert not {c.id for c in a} & {c.id for c in other}


def test_indexing_api_unchanged_adds_nothing_a_changed_page_replaces_only_its_chunks():
    docs = outline(SECTIONS)
    chunker = DotsOCRChunker(chunk_size=60, min_chunk_size=0)
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    records = InMemoryRecordManager("chunks")
    records.create_schema()
    a = chunker.transform_documents(docs)
    first = index(
        a, records, store, cleanup="incremental", source_id_key="source", key_encoder="sha256"
    )
    assert first["num_added"] == len(a)
    again = index(
        a, records, store, cleanup="incremental", source_id_key="source", key_encoder="sha256"
    )
    assert (again["num_added"], again["num_deleted"], again["num_skipped"]) == (0, 0, len(a))
    b = chunker.transform_documents(edited(docs, 2))
    gone = [c for c in a if c.page_content not in {d.page_content for d in b}]
    new = [c for c in b if c.page_content not in {d.page_content for d in a}]
    assert gone and all(c.metadata["page"] == 2 for c in gone + new)
    third = index(
        b, records, store, cleanup="incremental", source_id_key="source", key_encoder="sha256"
    )
    assert (third["num_added"], third["num_deleted"]) == (len(new), len(gone))
    assert len(store.store) == len(b)


def test_bad_sizes_are_refused():
    for bad in ({"chunk_size": 0}, {"chunk_size": 10, "chunk_overlap": 10}, {"min_chunk_size": -1}):
        with pytest.raises(ValueError):
            DotsOCRChunker(**bad)


def test_the_estimate_counts_cjk_by_character_and_other_scripts_by_word_pieces():
    assert estimate_tokens("") == 0
    assert estimate_tokens("营业收入同比增长") == 8
    assert estimate_tokens("データ") == 3
    assert estimate_tokens("data") == 1 and estimate_tokens("information") == 3
    assert estimate_tokens("Выручка") == 4  # seven letters: two per token, rounded up
    assert estimate_tokens("a, b.") == 4


FIGURE = st.tuples(
    st.sampled_from(["Table", "Picture"]),
    st.booleans(),  # a caption before it
    st.booleans(),  # a caption or footnote after it
    st.integers(1, 25),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pages=st.lists(
        st.lists(st.one_of(FIGURE, st.integers(1, 30)), max_size=6), min_size=1, max_size=3
    ),
    size=st.integers(40, 300),
)
def test_figures_with_their_notes_keep_every_text_once_and_notes_beside_them(pages, size):
    docs = []
    for p, items in enumerate(pages):
        index = 0

        def add(category, text, **kw):
            nonlocal index
            doc = element(category, text, page=p, index=index, **kw)
            docs.append(doc)
            index += 1
            return doc

        for item in items:
            if isinstance(item, int):
                add("Text", words(item))
                continue
            kind, before, after, rows = item
            figure_id = f"fig-{p}-{index + int(before)}"
            if before:
                add("Caption", f"{kind} {index}: a caption.", belongs_to=figure_id)
            content = table(rows) if kind == "Table" else f"{kind} {index}: a caption." * before
            add(kind, content or "[Picture]", id=figure_id)
            if after:
                add("Footnote" if kind == "Table" else "Caption", "Note below.", belongs_to=figure_id)
    chunks = DotsOCRChunker(chunk_size=size, min_chunk_size=0).transform_documents(docs)
    seen = list(dict.fromkeys(i for c in chunks for i in ids(c)))
    assert seen == [d.id for d in docs]
    # A picture's caption is in its content already: written once.
    unique = [d for d in docs if not (d.metadata["belongs_to"].startswith("fig") and any(
        o.id == d.metadata["belongs_to"] and o.metadata["category"] == "Picture"
        and d.page_content in o.page_content for o in docs
    ))]
    assert stream([c.page_content for c in chunks]) == stream([d.page_content for d in unique])
    by_id = {d.id: d for d in docs}
    for k, c in enumerate(chunks):  # a note is in the chunk of (the last part of) its figure,
        for i in ids(c):  # or, after a figure that fills its chunk, in the next one
            owner = by_id[i].metadata["belongs_to"]
            if owner:
                assert owner in ids(c) or (k and owner in ids(chunks[k - 1]))
