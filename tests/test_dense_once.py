"""Dense pages keep each element once: readings of one region from two answers are merged
whatever category each gave; distinct cells of one answer are never merged."""

from __future__ import annotations

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.layout import Cell
from langchain_dotsocr.read.asking import unrepeated
from langchain_dotsocr.read.order import merge
from tests.fakevllm import (
    FaultPlan,
    element_content,
    expected_boxes_displayed,
    make_pdf,
    sample_page,
)

PAGE = sample_page(0)


def test_one_region_read_by_two_answers_is_kept_once_whatever_its_categories():
    first = Cell("Text", (10, 10, 200, 60), "A paragraph of the page.", answer=1)
    again = Cell("List-item", (12, 11, 198, 62), "A paragraph of the page", answer=2)
    other = Cell("Text", (10, 80, 200, 120), "Another paragraph.", answer=2)
    assert merge([first, again, other]) == [first, other]


def test_the_later_reading_replaces_the_earlier_only_when_it_carries_clearly_more_text():
    cut = Cell("Text", (10, 10, 200, 60), "A parag", answer=1)
    whole = Cell("Text", (10, 10, 200, 62), "A paragraph of the page, whole.", answer=2)
    assert merge([cut, whole]) == [whole]
    close = Cell("Text", (10, 10, 200, 62), "A paragraph!", answer=2)
    assert merge([Cell("Text", (10, 10, 200, 60), "A paragraph", answer=1), close])[0].text == (
        "A paragraph"
    )


def test_overlapping_cells_of_one_answer_are_distinct_elements():
    a = Cell("Text", (10, 10, 200, 60), "One block.", answer=7)
    b = Cell("Text", (12, 14, 198, 64), "Another block over it.", answer=7)
    assert merge([a, b]) == [a, b]


def test_a_line_inside_a_whole_column_is_not_the_column():
    column = Cell("Text", (10, 10, 200, 600), "x" * 500, answer=1)
    line = Cell("Text", (10, 100, 200, 120), "a line", answer=2)
    assert merge([column, line]) == [column, line]


def test_a_loops_copies_in_place_are_still_dropped():
    a = Cell("Text", (10, 10, 200, 60), "Again", answer=3)
    b = Cell("Text", (11, 11, 199, 61), "Again and", answer=3)
    assert unrepeated([a, b]) == [a]


def test_a_loops_copies_creeping_down_the_page_are_dropped_however_far_they_creep():
    # As a looping model writes them: the cell again and again, 3 pixels lower each time,
    # after other cells; the 20th copy no longer lies over the cell the loop started from.
    first = Cell("Text", (439, 662, 741, 797), "Text block 1.", answer=4)
    others = [Cell("Footnote", (99, 965, 549, 984), "1 Footnote.", answer=4)]
    copies = [Cell("Text", (439, 662 + d, 741, 797 + d), "Text block 1.", answer=4)
              for d in range(3, 75, 3)]
    assert unrepeated([first, *others, *copies]) == [first, *others]


def test_a_page_whose_answers_loop_creeping_keeps_each_element_once(fast, fake):
    # Both the answer and the re-ask loop, their copies creeping past the cell they copy
    # (at 100 dpi a copy 57 pixels down lies over less than SAME of a 135-pixel cell).
    fake.faults = FaultPlan(by_page={0: ["loop_cell_creep", "loop_cell_creep"]})
    docs = DotsOCRLoader(make_pdf([PAGE]), name="f.pdf", dpi=100, **fast).load()
    boxes = expected_boxes_displayed(PAGE)
    want = sorted((b.category, element_content(b, boxes)) for b in boxes)
    assert sorted((d.metadata["category"], d.page_content) for d in docs) == want
