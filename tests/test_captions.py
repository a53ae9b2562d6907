"""Captions and table footnotes linked to their figures, through the double and by the rule."""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.documents.captions import (
    caption_kind,
    caption_number,
    link_captions,
    link_footnotes,
)
from langchain_dotsocr.layout import Element
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box
from tests.fakevllm.figures import figures_page, table_html
from tests.noisydocs import assemble


@pytest.fixture
def page_docs(fast, fake):
    spec, fake.texts = figures_page()
    return DotsOCRLoader(make_pdf([spec]), **fast).load()


def by_text(docs, start):
    """The Caption or Footnote Document whose text starts with ``start``."""
    (doc,) = [d for d in docs if d.page_content.startswith(start)
              and d.metadata["category"] in ("Caption", "Footnote")]
    return doc


def test_two_figures_side_by_side_each_get_their_own_caption(page_docs, fake):
    docs = page_docs
    left, right = sorted((d for d in docs if d.metadata["category"] == "Picture"),
                         key=lambda d: d.metadata["bbox"][0])
    first, second = by_text(docs, "Figure 1"), by_text(docs, "Figure 2")
    assert left.metadata["caption"] == first.page_content
    assert right.metadata["caption"] == second.page_content
    assert first.metadata["belongs_to"] == left.id and second.metadata["belongs_to"] == right.id
    # A picture is found by its caption: the caption is its text.
    assert left.page_content == "Figure 1: Revenue by region, 2021 to 2024."


def test_a_caption_above_a_table_and_the_footnotes_right_under_it(page_docs):
    docs = page_docs
    (table,) = [d for d in docs if d.metadata["category"] == "Table"]
    caption = by_text(docs, "Table 1")
    assert table.metadata["caption"] == "Table 1: Stock by warehouse."
    assert caption.metadata["belongs_to"] == table.id
    assert table.metadata["footnotes"] == "a Counted on 30 June.\nb Excluding returns."
    for start in ("a Counted", "b Excluding"):
        assert by_text(docs, start).metadata["belongs_to"] == table.id
    assert table.page_content.startswith("<table>")  # a table's text stays its HTML


def test_a_caption_without_a_figure_and_the_page_footnote_stay_plain(page_docs):
    docs = page_docs
    assert by_text(docs, "Source: internal").metadata["belongs_to"] == ""  # text stands between
    assert by_text(docs, "1 All figures").metadata["belongs_to"] == ""  # far below the table
    others = [d for d in docs if d.metadata["category"] not in ("Picture", "Table")]
    assert all(d.metadata["caption"] == "" and d.metadata["footnotes"] == "" for d in others)


def test_captions_link_even_when_they_are_left_out(fast, fake):
    spec, fake.texts = figures_page()
    docs = DotsOCRLoader(make_pdf([spec]), exclude_categories=["Caption"], **fast).load()
    pictures = [d for d in docs if d.metadata["category"] == "Picture"]
    assert {p.metadata["caption"] for p in pictures} == {
        "Figure 1: Revenue by region, 2021 to 2024.", "Figure 2: The warehouse network."
    }


@pytest.mark.parametrize("below", [True, False])
def test_a_caption_above_or_below_its_picture(fast, fake, below):
    caption = (72, 260, 300, 274) if below else (72, 70, 300, 84)
    spec = PageSpec(612, 792, (
        Box("Picture", 1, 72, 90, 300, 250), Box("Caption", 1, *caption),
        Box("Text", 1, 72, 300, 540, 340), page_footer_box(0, 612, 792),
    ))
    fake.texts = {("Caption", 1): "An unlabelled caption."}
    docs = DotsOCRLoader(make_pdf([spec]), **fast).load()
    (picture,) = [d for d in docs if d.metadata["category"] == "Picture"]
    assert picture.metadata["caption"] == "An unlabelled caption."


def el(category, box, text=None):
    return Element(category, text, tuple(float(v) for v in box))


def test_between_two_figures_the_label_and_then_the_nearer_one_wins():
    elements = [
        el("Table", (72, 100, 540, 300)),
        el("Caption", (72, 308, 540, 320), "Figure 3: a chart."),  # nearer the table
        el("Picture", (72, 330, 540, 500)),
    ]
    assert link_captions(elements, 792) == {1: 2}  # its label says Figure
    elements[1] = el("Caption", (72, 308, 540, 320), "Quarterly figures.")
    assert link_captions(elements, 792) == {1: 0}  # no label: the nearer one


def test_on_a_tie_a_picture_takes_the_caption_below_and_a_table_the_one_above():
    elements = [
        el("Picture", (72, 100, 540, 300)),
        el("Caption", (72, 310, 540, 320), "Between two."),
        el("Table", (72, 330, 540, 500)),
    ]
    assert link_captions(elements, 792) == {1: 0}
    elements[0], elements[2] = el("Table", (72, 100, 540, 300)), el("Picture", (72, 330, 540, 500))
    assert link_captions(elements, 792) == {1: 0}  # below the table, above the picture: table


def test_far_beside_or_across_text_no_link():
    picture = el("Picture", (72, 100, 300, 300))
    far = el("Caption", (72, 400, 300, 412), "Figure 1: far below.")
    beside = el("Caption", (320, 150, 540, 162), "Figure 1: beside it.")
    assert link_captions([picture, far], 792) == {}
    assert link_captions([picture, beside], 792) == {}
    across = [picture, el("Text", (72, 305, 300, 315), "text"),
              el("Caption", (72, 318, 300, 330), "Figure 1.")]
    assert link_captions(across, 792) == {}
    header = [picture, el("Page-header", (72, 305, 300, 315), "x"),
              el("Caption", (72, 318, 300, 330), "Figure 1.")]
    assert link_captions(header, 792) == {2: 0}  # page furniture does not count as text


def test_footnotes_chain_under_their_table_and_stop_at_anything_else():
    elements = [
        el("Table", (72, 100, 540, 300)),
        el("Footnote", (72, 305, 300, 315), "a"),
        el("Footnote", (72, 318, 300, 328), "b"),
        el("Text", (72, 340, 540, 400), "text"),
        el("Footnote", (72, 405, 300, 415), "c"),
    ]
    assert link_footnotes(elements, 792, {}) == {1: 0, 2: 0}


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Figure 2: x", "Picture"), ("Fig. 3", "Picture"), ("**Figure 1**", "Picture"),
     ("Abb. 4 Umsatz", "Picture"), ("Рис. 2. Схема", "Picture"), ("图 3 销售", "Picture"),
     ("Table 4: y", "Table"), ("Tab. 1", "Table"), ("Таблица 1", "Table"), ("表 2", "Table"),
     ("Tablet sales", None), ("Figures are provisional", "Picture"), ("Source: x", None)],
)
def test_caption_labels(text, kind):
    assert caption_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "number"),
    [("Table 6: Stock", "6"), ("Tab. 2 Stock", "2"), ("Таблица 2. Запасы", "2"),
     ("表2 库存", "2"), ("Figure 3.1 The hubs", "3.1"), ("**Table IV**", "IV"),
     ("Tabl6 2: Stock", "2"), ("Table 5 (continued)", "5"), ("Table of contents", None),
     ("Source: x", None)],
)
def test_caption_numbers(text, number):
    assert caption_number(text) == number


HEADER = ["Region", "Stock"]


def table_over_two_pages(below_rest, then_table=False):
    """Table 5 captioned above it at the foot of page 0, going on at the top of page 1, with
    ``below_rest`` just under its rest (and, with ``then_table``, a table under that)."""
    page0 = [
        el("Text", (72, 70, 540, 100), "Stock by region, counted at the end of the quarter."),
        el("Caption", (72, 114, 540, 126), "Table 5: Stock by region."),
        el("Table", (72, 132, 540, 740), table_html(HEADER, [["a", "1"]] * 20)),
    ]
    page1 = [
        el("Table", (72, 70, 540, 178), table_html(None, [["b", "2"]] * 5)),
        el("Caption", (72, 190, 540, 202), below_rest),
    ]
    if then_table:
        six = table_html(["Month", "Returns"], [["x", "3"]])
        page1.append(el("Table", (72, 208, 540, 334), six))
    page1.append(el("Text", (72, 346, 540, 380), "The returns were counted at the same time."))
    return assemble([page0, page1])


def test_the_caption_of_a_dropped_table_under_the_rest_of_another_stays_plain():
    # The model dropped Table 6, whose caption stands right under the rest of Table 5: the
    # nearest table, but a table has one number.
    docs = table_over_two_pages("Table 6: Returns by month.")
    (table,) = [d for d in docs if d.metadata["category"] == "Table"]
    assert table.metadata["pages"] == [0, 1]
    assert table.metadata["caption"] == "Table 5: Stock by region."
    stray = next(d for d in docs if d.page_content.startswith("Table 6"))
    assert stray.metadata["belongs_to"] == ""
    # Its own table read: the caption is that table's.
    docs = table_over_two_pages("Table 6: Returns by month.", then_table=True)
    joined, six = [d for d in docs if d.metadata["category"] == "Table"]
    assert joined.metadata["caption"] == "Table 5: Stock by region."
    assert six.metadata["caption"] == "Table 6: Returns by month."


def test_a_caption_under_the_rest_that_says_it_is_continued_or_names_no_number_is_kept():
    for words in ("Table 6 (continued): a misread number.", "Source: internal ledgers."):
        docs = table_over_two_pages(words)
        (table,) = [d for d in docs if d.metadata["category"] == "Table"]
        assert table.metadata["caption"] == f"Table 5: Stock by region.\n{words}"
        note = next(d for d in docs if d.page_content == words)
        assert note.metadata["belongs_to"] == table.id
