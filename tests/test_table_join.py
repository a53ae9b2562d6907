"""Tables across pages: joined through the double when they continue, never when they do not,
with at most one page held back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from langchain_dotsocr import DotsOCRLoader, flatten_bbox
from langchain_dotsocr.documents import DocumentBuilder
from langchain_dotsocr.identity import SourceId
from langchain_dotsocr.layout import Element
from langchain_dotsocr.pages import PageInfo
from langchain_dotsocr.read import PageResult
from langchain_dotsocr.settings import DotsOCRSettings
from langchain_dotsocr.tables import table_shape
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box
from tests.fakevllm.figures import split_table, table_html


def tables(docs):
    return [d for d in docs if d.metadata["category"] == "Table"]


def body_cells(html):
    """Every body cell's text, in order (header cells left out)."""
    import re

    return re.findall(r"<td>(.*?)</td>", html)


@pytest.mark.parametrize("repeat_header", [True, False])
def test_a_table_continued_on_the_next_page_is_one_document(fast, fake, repeat_header):
    specs, fake.texts = split_table(columns=3, rows=(6, 4), repeat_header=repeat_header)
    docs = DotsOCRLoader(make_pdf(specs), name="split.pdf", **fast).load()
    (table,) = tables(docs)
    html = table.page_content
    assert html.count("<th>") == 3  # the header once, repeated or not
    assert body_cells(html) == [f"r{r}c{c}" for r in range(10) for c in range(3)]
    assert table_shape(html) == (11, 3)
    meta = table.metadata
    assert meta["text_as_html"] == html
    assert meta["page"] == 0 and meta["pages"] == [0, 1]
    first, second = meta["page_boxes"].split(";")
    assert first.startswith("0:") and second.startswith("1:")
    box = [float(v) for v in second[2:].split(",")]
    assert all(abs(a - b) <= 1 for a, b in zip(box, (72, 60, 540, 300), strict=True))
    assert all(abs(a - b) <= 1 for a, b in zip(meta["bbox"], (72, 180, 540, 700), strict=True))
    # It stands where the first part stood, and the id is the first part's.
    order = [(d.metadata["page"], d.metadata["category"]) for d in docs]
    assert order.index((0, "Table")) == order.index((0, "Text")) + 1
    unjoined = DotsOCRLoader(make_pdf(specs), name="split.pdf", merge_tables=False, **fast).load()
    assert table.id == tables(unjoined)[0].id
    assert [t.metadata["pages"] for t in tables(unjoined)] == [[0], [1]]
    # A store that takes only scalars gets the pages as a string.
    assert flatten_bbox([table])[0].metadata["pages"] == "0,1"


def test_page_mode_keeps_each_part_on_its_page_and_marks_it(fast, fake):
    specs, fake.texts = split_table()
    pages = DotsOCRLoader(make_pdf(specs), mode="page", **fast).load()
    first, second = (p.page_content for p in pages)
    assert first.rstrip().endswith("<!-- the table continues on the next page -->")
    assert "<!-- the table continues from the previous page -->\n<table>" in second
    assert "r0c0" in first and "r6c0" in second and "r6c0" not in first
    single = DotsOCRLoader(make_pdf(specs), mode="single", **fast).load()[0].page_content
    assert "continues on the next page" in single and "continues from the previous" in single
    plain = DotsOCRLoader(make_pdf(specs), mode="page", merge_tables=False, **fast).load()
    assert not any("continues" in p.page_content for p in plain)


def test_tables_with_other_columns_are_never_joined(fast, fake):
    specs, fake.texts = split_table(columns=3, second_columns=4)
    docs = DotsOCRLoader(make_pdf(specs), **fast).load()
    assert [t.metadata["pages"] for t in tables(docs)] == [[0], [1]]


def test_columns_are_counted_with_spans(fast, fake):
    specs, fake.texts = split_table(columns=3)
    # The continuation writes its first row with a cell spanning two columns: still three.
    fake.texts[("Table", 2)] = (
        '<table><tr><td colspan="2">r6c0 and r6c1</td><td>r6c2</td></tr>'
        "<tr><td>r7c0</td><td>r7c1</td><td>r7c2</td></tr></table>"
    )
    (table,) = tables(DotsOCRLoader(make_pdf(specs), **fast).load())
    assert table.metadata["pages"] == [0, 1] and 'colspan="2"' in table.page_content


def _pages_with(first_boxes, second_boxes):
    first = PageSpec(612, 792, (*first_boxes, page_footer_box(0, 612, 792)))
    second = PageSpec(612, 792, (*second_boxes, page_footer_box(1, 612, 792)))
    return [first, second]


@pytest.mark.parametrize(
    "case",
    ["text after the first part", "text before the second part", "first ends high",
     "second starts low", "a page between"],
)
def test_tables_with_text_between_or_far_from_the_break_are_never_joined(fast, fake, case):
    _, fake.texts = split_table()
    first = [Box("Title", 1, 72, 60, 540, 90), Box("Table", 1, 72, 180, 540, 700)]
    second = [Box("Table", 2, 72, 60, 540, 300), Box("Text", 2, 72, 320, 540, 380)]
    if case == "text after the first part":
        first = [Box("Title", 1, 72, 60, 540, 90), Box("Table", 1, 72, 180, 540, 650),
                 Box("Text", 1, 72, 660, 540, 700)]
    elif case == "text before the second part":
        second = [Box("Text", 2, 72, 60, 540, 100), Box("Table", 2, 72, 120, 540, 300)]
    elif case == "first ends high":
        first = [Box("Title", 1, 72, 60, 540, 90), Box("Table", 1, 72, 180, 540, 500)]
    elif case == "second starts low":
        second = [Box("Table", 2, 72, 300, 540, 500), Box("Text", 2, 72, 520, 540, 580)]
    specs = _pages_with(first, second)
    kwargs = {}
    if case == "a page between":  # a page selection that skips one: pages 0 and 2
        specs = [specs[0], _pages_with([Box("Text", 3, 72, 60, 540, 100)], [])[0], specs[1]]
        kwargs = {"pages": [0, 2]}
    docs = DotsOCRLoader(make_pdf(specs), **fast, **kwargs).load()
    assert all(len(t.metadata["pages"]) == 1 for t in tables(docs)), case
    assert len(tables(docs)) == 2


def test_a_continued_caption_may_stand_before_the_rest(fast, fake):
    specs, fake.texts = split_table()
    first, second = specs
    boxes = [b if b.category != "Table" else replace(b, y0=80) for b in second.boxes]
    boxes.append(Box("Caption", 9, 72, 56, 540, 72))
    fake.texts[("Caption", 9)] = "Table 1 (continued)"
    docs = DotsOCRLoader(make_pdf([first, replace(second, boxes=tuple(boxes))]), **fast).load()
    (table,) = tables(docs)
    assert table.metadata["pages"] == [0, 1]
    (caption,) = [d for d in docs if d.metadata["category"] == "Caption"]
    assert caption.metadata["belongs_to"] == table.id  # the joined table, not a lost part


def test_a_table_over_three_pages_is_one_document_where_it_ends(fast, fake):
    middle_rows = [[f"r{r}c{c}" for c in range(3)] for r in range(10, 30)]
    specs, fake.texts = split_table(columns=3, rows=(10, 5))
    first, last = specs
    middle = PageSpec(612, 792, (Box("Table", 3, 72, 60, 540, 740), page_footer_box(1, 612, 792)))
    last = PageSpec(612, 792, tuple(
        replace(b, n=2) if b.category == "Page-footer" else b for b in last.boxes
    ))
    fake.texts[("Table", 3)] = table_html([f"Col {c}" for c in range(3)], middle_rows)
    fake.texts[("Table", 2)] = table_html(
        [f"Col {c}" for c in range(3)], [[f"r{r}c{c}" for c in range(3)] for r in range(30, 35)]
    )
    docs = DotsOCRLoader(make_pdf([first, middle, last]), **fast).load()
    (table,) = tables(docs)
    assert table.metadata["page"] == 0 and table.metadata["pages"] == [0, 1, 2]
    assert body_cells(table.page_content) == [f"r{r}c{c}" for r in range(35) for c in range(3)]
    # The pages before could not wait for its end: it comes out where its last part was.
    order = [(d.metadata["page"], d.metadata["category"]) for d in docs]
    at = order.index((0, "Table"))
    assert order[at - 1] == (2, "Page-header") and order[at + 1] == (2, "Text")
    pages = [page for page, _ in order[:at]]
    assert pages == sorted(pages)  # the other Documents in page order


def _result(index: int, elements: list[Element], total: int = 4) -> PageResult:
    return PageResult(PageInfo("t.pdf", index, total, 612.0, 792.0, "pt", 0), elements=elements)


def test_at_most_one_page_is_held_back():
    """Pages that each end with a table continued on the next: every page's other Documents
    leave as soon as the next page arrives, whatever the chain's length."""
    settings = DotsOCRSettings()
    builder = DocumentBuilder(settings, "m", SourceId("k"))
    html = table_html(["A", "B"], [["1", "2"]])
    whole_page = Element("Table", html, (72.0, 60.0, 540.0, 740.0))
    out = builder.page(_result(0, [Element("Text", "intro", (72.0, 40.0, 540.0, 50.0)), whole_page]))
    assert out == []  # its table may go on: held back
    for index in (1, 2):
        text = Element("Text", f"note {index}", (72.0, 750.0, 540.0, 760.0))
        out = builder.page(_result(index, [whole_page, Element("Page-footer", "x", text.bbox)]))
        assert {d.metadata["page"] for d in out} == {index - 1}  # the page before leaves
    out = builder.page(_result(3, [replace(whole_page, bbox=(72.0, 60.0, 540.0, 300.0))]))
    # Page 2 leaves (its part joined), then page 3, whose part ends the table: it stands there.
    assert [(d.metadata["page"], d.metadata["category"]) for d in out] == [
        (2, "Page-footer"), (0, "Table")
    ]
    assert out[-1].metadata["pages"] == [0, 1, 2, 3]
    assert builder.finish() == []


def test_a_joined_table_goes_into_a_vector_store(fast, fake):
    import chromadb
    from chromadb.config import Settings
    from langchain_chroma import Chroma
    from langchain_core.embeddings import DeterministicFakeEmbedding

    specs, fake.texts = split_table()
    docs = DotsOCRLoader(make_pdf(specs), **fast).load()
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    store = Chroma("joined", embedding_function=DeterministicFakeEmbedding(size=16), client=client)
    store.add_documents(docs, ids=[d.id for d in docs])
    (found,) = store.get(where={"category": "Table"}, include=["metadatas"])["metadatas"]
    assert found["pages"] == [0, 1] and found["page_boxes"].count(":") == 2


def test_a_table_read_in_bands_on_a_dense_page_joins_like_any_other(fast, fake):
    first = PageSpec(612, 792, (
        Box("Title", 0, 36, 36, 576, 56),
        Box("Table", 1, 36, 80, 576, 740, rows=120),  # too long for one answer: read in bands
        page_footer_box(0, 612, 792),
    ))
    second = PageSpec(612, 792, (
        Box("Table", 2, 36, 60, 576, 200), Box("Text", 2, 36, 220, 576, 260),
        page_footer_box(1, 612, 792),
    ))
    fake.texts = {("Table", 2): "<table><tr><th>T1</th><th>Value</th></tr>"
                                "<tr><td>1.120</td><td>14400</td></tr></table>"}
    docs = DotsOCRLoader(make_pdf([first, second]), max_tokens=1024, **fast).load()
    (table,) = tables(docs)
    assert table.metadata["extraction"] == "grounded" and table.metadata["pages"] == [0, 1]
    assert table.page_content.count("T1") == 1  # the header the next page repeats, once
    assert table_shape(table.page_content) == (121, 2)
    assert body_cells(table.page_content)[-2:] == ["1.120", "14400"]
