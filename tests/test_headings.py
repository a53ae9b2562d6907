"""Heading levels, section paths and parent ids: inferred rules, then through the double."""

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.documents.headings import (
    Open,
    box_order,
    heading_text,
    level_by_size,
    markdown_depth,
)
from langchain_dotsocr.documents.numbering import continued, following, numbering_depth
from langchain_dotsocr.layout import Element
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box
from tests.noisydocs import assemble

BODY = (
    "The planning office collected the figures of every region in the third quarter and "
    "checked them against the ledgers of the logistics department, which kept its own count "
    "of shipments, returns and stock at the end of each month, so that both sides agree."
)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("3 Results", 1),
        ("3. Results", 1),
        ("3) Results", 1),
        ("3.2 Methods", 2),
        ("3.2.1 Sampling", 3),
        ("10.4.2.1 Deep", 4),
        ("A.1 Tables", 2),
        ("B.2.3 More", 3),
        ("A. Overview", 1),
        ("IV. Discussion", 1),
        ("II.3 Results", 2),
        ("Chapter 3 Results", 1),
        ("CHAPTER IV", 1),
        ("Part II", 1),
        ("Section 2.1 Sources", 2),
        ("§ 4 Scope", 1),
        ("Appendix A", 1),
        ("Appendix B.2 Extra", 2),
        ("Глава 3. Итоги", 1),
        ("Приложение А", 1),
        ("第三章 结果", 1),
        ("第2节 方法", 2),
        ("一、总则", 1),
        ("（二）范围", 2),
        ("Results", None),
        ("2025 Annual Report", None),
        ("3D Printing", None),
        ("A Study of Things", None),
        ("1.5x Faster", None),
        ("Chapter summary", None),
        ("Sections of the city", None),
    ],
)
def test_numbering_depth(text, depth):
    assert numbering_depth(text) == depth


def test_markdown_marks_say_something_from_three_on():
    assert [markdown_depth(t) for t in ("# A", "## A", "### A", "#### A", "A")] == [
        None,
        None,
        3,
        4,
        None,
    ]


def test_heading_text_drops_marks_emphasis_and_line_breaks():
    assert heading_text("## **2.1  Sources**\nand uses") == "2.1 Sources and uses"
    assert heading_text("###") == ""


def test_level_by_size_is_relative_to_the_headings_on_the_path():
    path = [Open(1, "T", "t", 3.0), Open(2, "Data", "d", 2.0), Open(3, "Sources", "s", 1.5)]
    assert level_by_size(1.52, path) == 3  # as big as "Sources": its sibling
    assert level_by_size(1.2, path) == 4  # smaller than the deepest: below it
    assert level_by_size(1.7, path) == 3  # between "Data" and "Sources": replaces "Sources"
    assert level_by_size(2.05, path) == 2  # as big as "Data"
    assert level_by_size(2.9, path) == 2  # as big as the Title: still a section, level 2
    assert level_by_size(1.5, [Open(2, "X", "x", None)]) == 2  # sizes unknown: top section


def report_pages():
    """Three Letter pages of a report with numbered, marked, unnumbered and empty headings."""
    boxes = [
        [
            Box("Title", 1, 72, 60, 540, 100),
            Box("Text", 1, 72, 110, 540, 170),
            Box("Section-header", 1, 72, 180, 300, 200),
            Box("Text", 2, 72, 210, 540, 270),
            Box("Section-header", 2, 72, 280, 300, 296),
            Box("Text", 3, 72, 306, 540, 366),
            Box("Section-header", 3, 72, 376, 200, 390),
            Box("Text", 4, 72, 400, 540, 460),
        ],
        [
            Box("Text", 5, 72, 60, 540, 120),
            Box("Section-header", 4, 72, 130, 300, 146),
            Box("Section-header", 5, 72, 160, 300, 180),
            Box("Section-header", 6, 72, 190, 300, 206),
            Box("Text", 6, 72, 216, 540, 276),
            Box("Section-header", 7, 72, 286, 300, 302),
            Box("Text", 7, 72, 312, 540, 372),
        ],
        [
            Box("Section-header", 8, 72, 60, 300, 80),
            Box("Section-header", 9, 72, 90, 300, 106),
            Box("Section-header", 10, 72, 116, 300, 132),
            Box("Text", 8, 72, 142, 540, 202),
        ],
    ]
    specs = [
        PageSpec(612, 792, (*b, page_footer_box(i, 612, 792))) for i, b in enumerate(boxes)
    ]
    texts = {("Text", n): f"{n}: {BODY}" for n in range(1, 9)}
    texts |= {
        ("Title", 1): "# Annual Report 2025",
        ("Section-header", 1): "## 1 Introduction",
        ("Section-header", 2): "## 1.1 Scope",
        ("Section-header", 3): "## Key points",  # unnumbered, smaller than "1.1 Scope"
        ("Section-header", 4): "### Background",  # three marks: level 3
        ("Section-header", 5): "## 2 Data",
        ("Section-header", 6): "2.1 Sources",  # no marks at all
        ("Section-header", 7): "## Caveats",  # unnumbered, as big as "2.1 Sources"
        ("Section-header", 8): "## Appendix A",
        ("Section-header", 9): "## A.1 Tables",
        ("Section-header", 10): "##",  # an empty heading never enters a path
    }
    return make_pdf(specs), texts


def by_text(docs):
    return {d.page_content.split(":")[0]: d for d in docs}


def test_levels_paths_and_parents_across_pages(fast, fake):
    pdf, fake.texts = report_pages()
    docs = DotsOCRLoader(pdf, exclude_categories=["Page-footer"], **fast).load()
    heads = {
        d.page_content: (d.metadata["heading_level"], d.metadata["section_path"])
        for d in docs
        if d.metadata["category"] in ("Title", "Section-header")
    }
    report = "Annual Report 2025"
    assert heads == {
        "# Annual Report 2025": (1, report),
        "## 1 Introduction": (2, f"{report} > 1 Introduction"),
        "## 1.1 Scope": (3, f"{report} > 1 Introduction > 1.1 Scope"),
        "## Key points": (4, f"{report} > 1 Introduction > 1.1 Scope > Key points"),
        "### Background": (3, f"{report} > 1 Introduction > Background"),
        "## 2 Data": (2, f"{report} > 2 Data"),
        "2.1 Sources": (3, f"{report} > 2 Data > 2.1 Sources"),
        "## Caveats": (3, f"{report} > 2 Data > Caveats"),
        "## Appendix A": (2, f"{report} > Appendix A"),
        "## A.1 Tables": (3, f"{report} > Appendix A > A.1 Tables"),
        "##": (0, f"{report} > Appendix A > A.1 Tables"),
    }
    texts = by_text(d for d in docs if d.metadata["category"] == "Text")
    ids = {d.page_content: d.id for d in docs}
    # Every element points at the heading it sits under; a heading at the one above it.
    assert texts["1"].metadata["parent_id"] == ids["# Annual Report 2025"]
    assert texts["2"].metadata["parent_id"] == ids["## 1 Introduction"]
    assert texts["5"].metadata["parent_id"] == ids["## Key points"]  # across the page break
    assert texts["5"].metadata["section_path"].endswith("1.1 Scope > Key points")
    assert texts["5"].metadata["section"] == "Key points"
    assert texts["8"].metadata["parent_id"] == ids["## A.1 Tables"]
    parents = {d.page_content: d.metadata["parent_id"] for d in docs if d.metadata["heading_level"]}
    assert parents["# Annual Report 2025"] == ""
    assert parents["## 1.1 Scope"] == ids["## 1 Introduction"]
    assert parents["2.1 Sources"] == ids["## 2 Data"]
    assert parents["## Caveats"] == ids["## 2 Data"]
    assert all(d.metadata["heading_level"] == 0 for d in texts.values())


def test_page_markdown_writes_the_inferred_levels(fast, fake):
    pdf, fake.texts = report_pages()
    pages = DotsOCRLoader(pdf, mode="page", **fast).load()
    lines = [ln for p in pages for ln in p.page_content.splitlines() if ln.startswith("#")]
    assert lines == [
        "# Annual Report 2025",
        "## 1 Introduction",
        "### 1.1 Scope",
        "#### Key points",
        "### Background",
        "## 2 Data",
        "### 2.1 Sources",
        "### Caveats",
        "## Appendix A",
        "### A.1 Tables",
    ]


def test_a_selection_that_starts_mid_chapter_knows_nothing_above_it(fast, fake):
    pdf, fake.texts = report_pages()
    docs = DotsOCRLoader(pdf, pages=[1], exclude_categories=["Page-footer"], **fast).load()
    first = docs[0]
    assert first.page_content.startswith("5:") and first.metadata["section_path"] == ""
    assert first.metadata["parent_id"] == ""
    heads = {d.page_content: d.metadata["section_path"] for d in docs if d.metadata["heading_level"]}
    # Numbered headings keep their level; the path holds only what this run saw.
    assert heads["## 2 Data"] == "2 Data"
    assert heads["2.1 Sources"] == "2 Data > 2.1 Sources"


# -- Headings as a real model misreads them (hand-made noisy elements) ------------------------


def head(words, y, size=13.0, category="Section-header", x0=72.0):
    """A one-line heading at ``y``, as wide as its words set at ``size``."""
    return Element(category, words, (x0, y, x0 + 0.55 * size * len(words), y + 1.3 * size))


def body(y, x0=72.0, x1=540.0):
    return Element("Text", BODY, (x0, y, x1, y + 36.0))  # three lines of 10 pt


def report(*middle):
    """A titled page with sections 1 and 2 (2.1, 2.2 under it), then ``middle`` (pairs of a
    heading and its paragraph, or single elements), all on one page, 60 points apart."""
    elements = [
        head("A Study of Warehouse Stock", 70, size=26, category="Title"),
        head("1 Methods", 120, size=15),
        body(145),
        head("2 Results", 190, size=15),
        head("2.1 Sampling", 215),
        body(235),
        head("2.2 Counting", 280),
        body(300),
    ]
    y = 350.0
    for element in middle:
        x0, _, x1, y1 = element.bbox
        height = y1 - element.bbox[1]
        elements.append(Element(element.category, element.text, (x0, y, x1, y + height)))
        y += height + 12
    return elements


def sections(elements):
    """Each element's (first words, heading level, section path) through the assembly."""
    return [
        (d.page_content[:14], d.metadata["heading_level"], d.metadata["section_path"])
        for d in assemble([elements])
    ]


T = "A Study of Warehouse Stock"


@pytest.mark.parametrize(
    ("words", "numbers", "depth"),
    [
        ("3. Discussion", [(3,)], 2),  # 3.1 with its last digit lost, not section 3 again
        (".1 Discussion", [(3,)], 2),  # its first digit lost
        ("2.1. Details", [(2,), (2, 1)], 3),  # 2.1.1 with its last digit lost
        ("2..3 Details", [(2,), (2, 1), (2, 1, 2)], 3),
        ("3.m Details", [(3,), (3, 1)], 2),  # a group read as a letter
        ("3 Discussion", [(2,), (2, 2)], 1),  # what comes next stands as read
        ("3.2 Discussion", [(3,)], 2),  # 3.1 skipped: one off 3.1, as deep
        ("1 Appendix", [(3,), (3, 2)], 1),  # numbering starts again: as read
        ("3. Discussion", [(3,), (3, 2)], 2),  # 3.3 with its last digit lost
        (".2 Discussion", [(1,), (1, 1)], 2),  # 1.2 or 2, as near: as read (two groups)
        ("2 Discussion", [(1,), (1, 1)], 1),
        ("3. Discussion", [], 1),  # nothing numbered above: as read
    ],
)
def test_a_number_that_does_not_continue_the_numbering_is_one_character_off_one_that_would(
    words, numbers, depth
):
    assert continued(words, numbers)[0] == depth


def test_the_numbers_that_may_come_next_include_those_of_headings_read_without_a_number():
    assert following([(3,), (3, 2, 1)]) == [(3, 2, 1, 1), (3, 2, 2), (3, 3), (4,)]
    assert following([]) == []


def test_a_subsection_number_that_lost_its_last_digit_keeps_its_level():
    got = sections(report(head("2.", 0), body(0), head("2.4 Returns", 0), body(0)))
    assert got[8] == ("2.", 3, f"{T} > 2 Results > 2.")  # 2.3 read as "2.", not section 2
    assert got[10][2] == f"{T} > 2 Results > 2.4 Returns"


def test_an_unnumbered_heading_before_a_sub_number_with_no_parent_open_is_that_parent():
    # "3 Discussion" read as "t Discussion" (its number misread as a letter), set no bigger
    # than a subsection: 3.1 says where it stands.
    got = sections(report(head("t Discussion", 0), body(0), head("3.1 Limits", 0), body(0)))
    assert got[8] == ("t Discussion", 2, f"{T} > t Discussion")
    assert got[10][2] == f"{T} > t Discussion > 3.1 Limits"
    # Before a heading that continues the path it goes by its size: a subsection of 2.2.
    got = sections(report(head("Key points", 0, size=11), body(0), head("2.3 Limits", 0)))
    assert got[8][1:] == (4, f"{T} > 2 Results > 2.2 Counting > Key points")


def test_a_heading_and_a_neighbour_read_the_wrong_way_round_go_by_their_boxes():
    exact = report(head("2.3 Limits", 0), body(0), head("3 Discussion", 0, size=15), body(0))
    want = sections(exact)
    # The paragraph under 2.2 read after 2.3 (the heading read before the text above it).
    swapped = [*exact[:7], exact[8], exact[7], *exact[9:]]
    got = {words: path for words, _, path in sections(swapped)}
    assert got == {words: path for words, _, path in want}
    # The paragraph under 3 read before its heading.
    swapped = [*exact[:10], exact[11], exact[10]]
    got = {words: path for words, _, path in sections(swapped)}
    assert got == {words: path for words, _, path in want}
    assert want[-1][2] == f"{T} > 3 Discussion"


def test_a_heading_at_the_top_of_the_next_column_stays_where_it_was_read():
    left = [head("1 Methods", 100, size=15), body(125, 72, 300), body(170, 72, 300)]
    right = [head("2 Results", 100, size=15, x0=312), body(125, 312, 540)]
    boxes = [e.bbox for e in (*left, *right)]
    assert box_order(boxes, [True, False, False, True, False]) == [0, 1, 2, 3, 4]
    # In one column the heading read after the text below it is put back before it.
    assert box_order([(72, 300, 540, 336), (72, 270, 200, 287)], [False, True]) == [1, 0]
