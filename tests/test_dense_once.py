"""Dense pages keep each element once: readings of one region from two answers are merged
whatever category each gave; distinct cells of one answer are never merged."""

from __future__ import annotations

from langchain_dotsocr.layout import Cell
from langchain_dotsocr.read.asking import unrepeated
from langchain_dotsocr.read.order import merge


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
