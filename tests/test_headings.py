"""Heading levels, section paths and parent ids: inferred rules, then through the double."""

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.documents.headings import (
    Open,
    heading_text,
    level_by_size,
    markdown_depth,
)
from langchain_dotsocr.documents.numbering import numbering_depth
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box

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
