# ruff: noqa: RUF001  (Hebrew letters that look like Latin ones are the point here)
"""Hebrew and Arabic in the text layer come out in reading order, whatever order the file
writes them in (checked through PDFium, which gives the characters and their places)."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from langchain_dotsocr.textlayer import read_layer
from langchain_dotsocr.textlayer.bidi import logical
from langchain_dotsocr.textlayer.normalise import reader_char
from tests.textpdfs import Segment, bidi_page


def drawn(word: str) -> str:
    """A right-to-left word as it is drawn, left to right: its letters from the last."""
    return word[::-1]


def page_text(lines: list[tuple[float, float, list[Segment]]], from_the_right: bool) -> str:
    pdf = pdfium.PdfDocument(bidi_page(lines, from_the_right))
    try:
        layer = read_layer(pdf[0])
        assert layer.trust.level == "trusted"
        return layer.text_in((0.0, 0.0, 612.0, 792.0))
    finally:
        pdf.close()


CASES = [
    # A Hebrew line with a number in brackets: words from the right, the number as written.
    ([("F3", " ".join([drawn("טוב"), "(2024)", drawn("עולם"), drawn("שלום")]))],
     "שלום עולם (2024) טוב"),
    # An English line with a Hebrew word: only the word reads from the right.
    ([("F1", "the word "), ("F3", drawn("שלום")), ("F1", " means peace.")],
     "the word שלום means peace."),
    # An Arabic line with a Latin name: the name keeps its order.
    ([("F3", drawn("جميلة") + " "), ("F1", "New York"), ("F3", " " + drawn("مدينة"))],
     "مدينة New York جميلة"),
    # Arabic drawn with presentation forms (initial, medial, final shapes, lam-alef): letters.
    ([("F3", drawn("\ufeb3\ufefc\ufee1") + " " + drawn("\ufee3\ufeae\ufea3\ufe92\ufe8e"))],
     "مرحبا سلام"),
]


@pytest.mark.parametrize("from_the_right", [False, True], ids=["left-first", "right-first"])
@pytest.mark.parametrize(("segments", "expected"), CASES, ids=["hebrew", "mixed", "name", "forms"])
def test_a_line_reads_in_its_scripts_order(segments, expected, from_the_right) -> None:
    assert page_text([(100.0, 200.0, segments)], from_the_right) == expected


@pytest.mark.parametrize("from_the_right", [False, True], ids=["left-first", "right-first"])
def test_hebrew_columns_inside_a_box_read_right_column_first(from_the_right) -> None:
    lines = [
        (330.0, 200.0, [("F3", drawn("עולם") + " " + drawn("שלום"))]),  # the right column
        (330.0, 210.0, [("F3", drawn("גדול"))]),
        (100.0, 200.0, [("F3", drawn("מאוד") + " " + drawn("טוב"))]),  # the left column
    ]
    assert page_text(lines, from_the_right) == "שלום עולם גדול\n\nטוב מאוד"


def test_latin_lines_are_read_as_before() -> None:
    lines = [(100.0, 200.0, [("F1", "plain words (1, 2)")]), (100.0, 215.0, [("F1", "next")])]
    assert page_text(lines, False) == "plain words (1, 2) next"


def test_logical_reverses_only_the_runs_against_the_line() -> None:
    # Items left to right as drawn, with their directions: R letters, L letters, N neutral.
    items = ["a", "b", " ", "X", "Y", " ", "c"]
    dirs = ["L", "L", "N", "R", "R", "N", "L"]
    assert logical(items, dirs, "L") == ["a", "b", " ", "Y", "X", " ", "c"]
    assert logical(items, dirs, "R") == ["c", " ", "Y", "X", " ", "a", "b"]
    assert logical(["1", "2", ")", "X"], ["L", "L", "N", "R"], "R") == ["X", ")", "1", "2"]


def test_presentation_forms_are_letters_and_joiners_stay() -> None:
    assert reader_char("\ufefb") == "\u0644\u0627"  # lam-alef: lam, then alef
    assert reader_char("\ufee3") == "\u0645"  # meem, initial form
    assert reader_char("\ufb2a") == "\u05e9\u05c1"  # Hebrew shin with its dot
    assert reader_char("\ufe70") == "\ufe70"  # a vowel mark drawn alone: no space invented
    assert reader_char("\u200c") == "\u200c"  # Persian's zero-width non-joiner is spelling
    assert reader_char("\u200d") == "\u200d"  # so is an emoji sequence's joiner
    assert reader_char("\u200b") == ""  # the zero-width space prints nothing
