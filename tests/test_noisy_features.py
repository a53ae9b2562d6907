"""Tables across pages, captions, headings and page labels under a real model's confusions:
each exact confusion by hand, then the targets of issue 20 under the noisy double's model."""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.documents.captions import labelled, link_captions
from langchain_dotsocr.documents.headings import mended_number, numbering_depth
from langchain_dotsocr.layout import Element
from langchain_dotsocr.tables import join_tables, table_shape
from tests.fakevllm import make_pdf
from tests.fakevllm.figures import split_table, table_html
from tests.fakevllm.noise import Noise
from tests.noisydocs import assemble, run

HEADER = ["Region", "Stock", "Returns"]
FIRST = table_html(HEADER, [[f"a{r}", f"b{r}", f"c{r}"] for r in range(6)])
REST = [[f"a{r}", f"b{r}", f"c{r}"] for r in range(6, 9)]


def text(category, words, box):
    return Element(category, words, tuple(float(v) for v in box))


def two_pages(first_after=(), second_before=(), second=None, first=FIRST):
    """A table at the foot of page 0 going on at the top of page 1, with the elements given
    after the first part and before the second (in reading order)."""
    page0 = [
        text("Page-header", "Annual Report 2025", (72, 24, 540, 36)),
        text("Text", "Stock by region, counted at the end of the quarter.", (72, 70, 540, 100)),
        text("Table", first, (72, 120, 540, 740)),
        *first_after,
    ]
    page1 = [
        *second_before,
        text("Table", second or table_html(HEADER, REST), (72, 70, 540, 200)),
        text("Text", "The returns were counted at the same time.", (72, 220, 540, 260)),
    ]
    return [page0, page1]


def tables(docs):
    return [d for d in docs if d.metadata["category"] == "Table"]


# -- Tables across pages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "first_after", "second_before"),
    [
        ("page number read as Text", [text("Text", "12", (296, 752, 316, 764))], []),
        ("page number read as Page-footer",
         [text("Page-footer", "- 12 -", (290, 752, 320, 764))], []),
        ("running head read as Section-header", [],
         [text("Section-header", "Annual Report 2025", (72, 24, 540, 36))]),
        ("running head read as Text, one letter off", [],
         [text("Text", "Annual Reqort 2025", (72, 24, 540, 36))]),
        ("caption read after the table",
         [text("Caption", "Table 3: Stock by region.", (72, 744, 540, 756))], []),
        ("continued caption read as Text", [],
         [text("Text", "Table 3 (continued)", (72, 50, 540, 62))]),
        ("text below the second part read before it", [],
         [text("Text", "The returns were counted at the same time.", (72, 220, 540, 260))]),
    ],
)
def test_furniture_and_captions_between_the_parts_do_not_block_the_join(
    case, first_after, second_before
):
    pages = two_pages(first_after, second_before)
    if case.startswith("text below"):
        del pages[1][-1]  # that text is read before the table instead of after it
    (table,) = tables(assemble(pages))
    assert table.metadata["pages"] == [0, 1], case
    assert table.page_content.count("<th>Region</th>") == 1


def test_body_text_between_the_parts_still_blocks_the_join():
    words = "12 regions reported their stock in time for the count."
    body = text("Text", words, (72, 700, 540, 740))
    pages = two_pages([body])
    assert [t.metadata["pages"] for t in tables(assemble(pages))] == [[0], [1]]
    # Above the second part, below the running heads' band: not furniture.
    pages = two_pages([], [text("Text", "12", (296, 64, 316, 68))])
    assert [t.metadata["pages"] for t in tables(assemble(pages))] == [[0], [1]]


def test_a_continuation_with_a_split_or_dropped_cell_is_joined():
    split = table_html(HEADER, REST).replace("<td>b6</td>", "<td>b</td><td>6</td>")
    dropped = table_html(None, REST).replace("<td>b7</td>", "")
    spanned = table_html(None, REST).replace("<td>a8</td><td>b8</td>", '<td colspan="2">a8 b8</td>')
    for second in (split, dropped, spanned):
        (table,) = tables(assemble(two_pages(second=second)))
        assert table.metadata["pages"] == [0, 1]
        assert "a6" in table.page_content and "c8" in table.page_content
        assert table.page_content.count("<th>Region</th>") == 1


def test_tables_of_another_width_are_never_joined():
    wider = table_html([*HEADER, "Share"], [[*row, "1%"] for row in REST])
    narrower = table_html(HEADER[:2], [row[:2] for row in REST])
    for second in (wider, narrower):
        docs = assemble(two_pages(second=second))
        assert [t.metadata["pages"] for t in tables(docs)] == [[0], [1]]
    assert join_tables(FIRST, wider) is None


def test_a_repeated_header_one_character_off_is_kept_once():
    second = table_html(["Regoin", "Stock", "Returns"], REST)
    joined = join_tables(FIRST, second)
    assert joined is not None and "Regoin" not in joined
    assert table_shape(joined) == (10, 3)
    # Two headers that differ in more than a misread character are both kept.
    other = table_html(["Country", "Stock", "Sales"], REST)
    assert table_shape(join_tables(FIRST, other) or "") == (11, 3)


def test_body_rows_are_never_taken_for_a_header_by_similarity():
    first = table_html(None, [["1", "2"], ["3", "4"]])
    second = table_html(None, [["1", "3"], ["5", "6"]])  # one character off the first row
    assert table_shape(join_tables(first, second) or "") == (4, 2)


def test_the_join_holds_through_the_noisy_double(fast, fake):
    specs, fake.texts = split_table(columns=3, rows=(6, 4))
    # The page's own words, which stay when the model misreads the category (the scene's
    # default words follow the category).
    for n in (0, 1):
        fake.texts[("Page-header", n)] = "Annual Report on Stock 2025"
        fake.texts[("Page-footer", n)] = str(n + 11)
    kept = 0
    for seed in range(6):
        fake.noise = Noise(seed=seed, drop=0.0)
        docs = DotsOCRLoader(make_pdf(specs), name="split.pdf", **fast).load()
        joined = [t for t in tables(docs) if t.metadata["pages"] == [0, 1]]
        assert all(len(t.metadata["pages"]) == 1 for t in tables(docs) if t not in joined)
        kept += len(joined)
    assert kept == 6


# -- Captions ---------------------------------------------------------------------------------

TABLE = text("Table", FIRST, (72, 200, 540, 400))
PICTURE = text("Picture", None, (72, 200, 400, 400))


@pytest.mark.parametrize(
    ("words", "figure", "box"),
    [
        ("Table 2: Stock by region.", TABLE, (72, 180, 540, 194)),
        ("Tab. 2 Stock by region", TABLE, (72, 180, 540, 194)),
        ("Таблица 2. Запасы", TABLE, (72, 180, 540, 194)),
        ("表2 库存", TABLE, (72, 180, 540, 194)),
        ("Figure 3: The network.", PICTURE, (72, 406, 400, 418)),
        ("Fig. 3 The network", PICTURE, (72, 406, 400, 418)),
        ("Рис. 3. Сеть", PICTURE, (72, 406, 400, 418)),
        ("图3 网络", PICTURE, (72, 406, 400, 418)),
        ("Tabl6 2: Stock by region.", TABLE, (72, 180, 540, 194)),
        ("Figuer 3: The network.", PICTURE, (72, 406, 400, 418)),
    ],
)
def test_a_caption_read_as_text_links_by_its_wording(words, figure, box):
    elements = [text("Text", words, box), figure]
    assert link_captions(elements, 792.0) == {0: 1}


@pytest.mark.parametrize(
    "words",
    ["The table below lists the stock.", "Table of contents", "Cable 3 connects the hubs",
     "Figures were counted twice.", "Source: internal ledgers."],
)
def test_a_plain_text_next_to_a_figure_is_never_its_caption(words):
    assert not labelled(words)
    assert link_captions([text("Text", words, (72, 180, 540, 194)), TABLE], 792.0) == {}


def test_a_caption_without_a_label_links_when_read_as_caption():
    words = "Source: internal ledgers."
    assert link_captions([text("Caption", words, (72, 180, 540, 194)), TABLE], 792.0) == {0: 1}


def test_a_caption_between_two_tables_goes_to_the_one_it_heads_when_boxes_wobble():
    above = text("Table", FIRST, (72, 100, 540, 300))
    caption = text("Caption", "Table 4: Returns.", (72, 309, 540, 321))  # 9 below, 7 above
    below = text("Table", FIRST, (72, 328, 540, 500))
    assert link_captions([above, caption, below], 792.0) == {1: 2}


def test_a_page_number_read_as_text_does_not_stand_between_a_caption_and_its_figure():
    picture = text("Picture", None, (72, 600, 400, 740))
    number = text("Text", "17", (200, 752, 220, 764))
    caption = text("Caption", "Figure 1: The hubs.", (72, 766, 400, 778))
    docs = assemble([[picture, number, caption]])
    (doc,) = [d for d in docs if d.metadata["category"] == "Caption"]
    assert doc.metadata["belongs_to"] == next(
        d.id for d in docs if d.metadata["category"] == "Picture"
    )


# -- Headings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "depth"),
    [("2.3.1 Sampling", 3), ("2.3.l Sampling", 3), ("2,3.1 Sampling", 3), ("2.3:1 Sampling", 3),
     ("2.r Sampling", 2), ("k.3.1 Sampling", 3), ("I.2 Sampling", 2),
     ("v2.0 Release notes", None), ("e.g. this", None), ("2,5 l Milk", 2)],
)
def test_heading_numbers_read_with_one_character_wrong(words, depth):
    assert numbering_depth(words) == depth


def test_two_wrong_characters_are_not_mended():
    assert mended_number("2,3,l Sampling") == "2,3,l Sampling"


BODY = (
    "The planning office collected the figures of every region in the third quarter and "
    "checked them against the ledgers of the logistics department, which kept its own count."
)


def heading(category, words, y, size=13.0):
    return text(category, words, (72, y, 72 + 0.55 * size * len(words), y + 1.3 * size))


def paragraph(y):
    return text("Text", BODY, (72, y, 540, y + 24))  # two lines of 10 pt


def paths(pages):
    return [
        (d.metadata["page"], d.page_content[:12], d.metadata["section_path"],
         d.metadata["heading_level"])
        for d in assemble(pages)
        if d.metadata["category"] not in ("Page-header", "Page-footer")
    ]


def document(title_category="Title", middle_category="Section-header", page0_header=None):
    page0 = [
        *(page0_header or []),
        heading(title_category, "A Study of Warehouse Stock", 80, size=26),
        paragraph(130),
        heading("Section-header", "1 Methods", 190),
        paragraph(220),
    ]
    page3 = [
        heading("Section-header", "2 Results", 80),
        paragraph(110),
        heading(middle_category, "2.1 Sampling", 160, size=11),
        paragraph(190),
        heading("Section-header", "2.2 Counting", 240, size=11),
        paragraph(270),
    ]
    return [page0, [paragraph(80)], [paragraph(80)], page3]


def test_a_section_header_read_as_title_mid_document_does_not_re_root():
    assert paths(document(middle_category="Title")) == paths(document())
    assert paths(document())[-2][2] == "A Study of Warehouse Stock > 2 Results > 2.2 Counting"


def test_a_title_read_as_section_header_on_the_first_page_still_roots():
    assert paths(document(title_category="Section-header")) == paths(document())
    assert paths(document())[1][2] == "A Study of Warehouse Stock"


def test_a_running_head_read_as_section_header_on_the_first_page_is_no_title():
    head = [text("Section-header", "Annual Report on Stock 2025", (72, 24, 540, 40))]
    got = paths(document(page0_header=head, title_category="Section-header"))
    assert got[-1][2] == "A Study of Warehouse Stock > 2 Results > 2.2 Counting"


def test_a_numbered_header_read_as_text_is_still_a_heading():
    pages = document()
    pages[3][2] = heading("Text", "2.1 Sampling", 160, size=12)
    assert paths(pages) == paths(document())
    # A numbered line at the body's size is a list item, not a heading.
    pages[3][2] = text("Text", "2.1 Sampling", (72, 160, 132, 172))
    assert "2.1 Sampling" not in paths(pages)[-3][2]


# -- Page labels ------------------------------------------------------------------------------


def numbered_pages(numbers, category="Page-footer"):
    return [
        [paragraph(80), text(category if k != 99 else "Page-footer", n, (296, 752, 316, 764))]
        if n is not None else [paragraph(80)]
        for k, n in enumerate(numbers)
    ]


def labels(pages):
    return {d.metadata["page"]: d.metadata["page_label"] for d in assemble(pages)}


@pytest.mark.parametrize(
    "numbers",
    [
        ["36", "37", None, "39", "40"],  # unreadable
        ["36", "37", "3g", "39", "40"],  # misread
        ["36", "37", "87", "39", "40"],  # misread as another number
        ["36", "37", "38", "39", None],  # the last page unreadable
    ],
)
def test_one_bad_page_number_does_not_change_the_labels(numbers):
    assert labels(numbered_pages(numbers)) == {0: "36", 1: "37", 2: "38", 3: "39", 4: "40"}


def test_page_numbers_read_as_text_are_still_page_numbers():
    got = labels(numbered_pages(["iv", "v", "vi"], category="Text"))
    assert got == {0: "iv", 1: "v", 2: "vi"}


def test_a_number_that_repeats_is_not_taken_for_the_next_page():
    assert labels(numbered_pages(["36", "37", "37"])) == {0: "36", 1: "37", 2: "3"}


# -- Under the noisy double's model: the targets of issue 20 ----------------------------------


def test_without_noise_every_feature_is_exact():
    quiet = dict.fromkeys(
        ("jitter", "scale", "confuse", "typo", "split", "merge", "drop", "swap", "table_error"),
        0.0,
    )
    f = run([1], documents=4, **quiet)
    assert f.joins and f.joins_kept == f.joins and f.links_kept == f.links
    assert f.paths_kept == f.elements and f.labels_kept == f.pages


def test_the_targets_hold_under_the_noise():
    """Issue 20's targets over 10 documents and 3 seeds, a guard against regressions: the
    benchmark measures the targets over 40 documents and 5 seeds (caption links 95.2% there;
    this small sample varies by a point or two, so it is held to 93%). Section paths are held
    to 85% (92.8% in the benchmark), not the target's 95%, which is missed: a dropped title or two headings read in the wrong order
    change every path after them (see the README)."""
    f = run([1, 2, 3], documents=10)
    assert f.joins_kept >= 0.9 * f.joins and f.joins_wrong == 0
    assert f.links_kept >= 0.93 * f.links and f.links_wrong == 0
    assert f.paths_kept >= 0.85 * f.elements
    assert f.labels_kept >= 0.95 * f.pages
