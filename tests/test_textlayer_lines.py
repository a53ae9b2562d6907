"""Lines that are not plain rows of one size: text set at a quarter turn (a landscape table on a
portrait page, an axis label) reads as a reader turning the page reads it, and sub- and
superscripts stay in their words. Checked through PDFium."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from langchain_dotsocr.textlayer import layer_from_dict, layer_to_dict, read_layer
from langchain_dotsocr.textlayer.turns import displayed_box, upright_box
from tests import textpdfs
from tests.textpdfs import content_page, placed_page, turned_page

WHOLE = (0.0, 0.0, 792.0, 792.0)


def texts(pdf: bytes, boxes: list[tuple[float, float, float, float]]) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        layer = read_layer(doc[0])
        assert layer.trust.level == "trusted"
        again = layer_from_dict(layer_to_dict(layer))  # as a Ray row carries it
        out = [layer.text_in(b) for b in boxes]
        assert [again.text_in(b) for b in boxes] == out
        return out
    finally:
        doc.close()


def test_each_turn_reads_along_its_baseline_and_its_lines_in_order() -> None:
    pdf = turned_page([
        ("Upright line here", 72, 700, 0),
        # Reads upwards (a landscape table's rows): the next line lies to the right.
        ("Rotated text reads up", 300, 300, 3),
        ("and its second line", 315, 300, 3),
        ("Down the page", 450, 600, 1),  # reads downwards (a spine)
        ("upside down words", 250, 150, 2),
    ])
    up, down, flipped, upright = texts(pdf, [
        (280, 250, 330, 500), (430, 150, 470, 420), (100, 620, 300, 660), (60, 80, 300, 100),
    ])
    assert up == "Rotated text reads up and its second line"
    assert down == "Down the page"
    assert flipped == "upside down words"
    assert upright == "Upright line here"


def test_a_page_shown_turned_reads_its_text_in_the_displayed_frame() -> None:
    # Upright in page space, the page shown with /Rotate 90: on the displayed page the text
    # runs downwards, and still reads as written.
    pdf = turned_page([("Written upright", 72, 700, 0), ("then a line", 72, 685, 0)], rotate=90)
    (text,) = texts(pdf, [WHOLE])
    assert text == "Written upright then a line"


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_turning_a_box_back_and_forth_gives_it_again(turn: int) -> None:
    box = (10.0, 20.0, 50.0, 90.0)
    assert displayed_box(upright_box(box, turn), turn) == box
    if turn:
        assert upright_box(box, turn) != box


def test_sub_and_superscripts_stay_in_their_words() -> None:
    # Ts: the text rise, as typesetters raise and lower scripts; 6 pt scripts in 10 pt lines.
    pdf = content_page(
        "BT /F1 10 Tf 72 700 Td (As shown before) Tj /F1 6 Tf 4 Ts (12) Tj 0 Ts /F1 10 Tf "
        "(, water forms) Tj ET\n"
        "BT /F1 10 Tf 72 688 Td (from H) Tj /F1 6 Tf -2 Ts (2) Tj 0 Ts /F1 10 Tf (O and E = mc) Tj "
        "/F1 6 Tf 4 Ts (2) Tj ET\n"
        "BT /F1 10 Tf 72 676 Td (The third line.) Tj ET"
    )
    (text,) = texts(pdf, [WHOLE])
    assert text == "As shown before12, water forms from H2O and E = mc2 The third line."


def test_a_diagonal_watermark_is_read_apart_and_leaves_the_paragraph_whole() -> None:
    lines = ["The revenue of the year grew by five per cent", "over the year before, and the",
             "costs fell by two per cent in the same year."]
    body = "\n".join(
        f"BT /F1 10 Tf 72 {700 - 12 * k} Td ({line}) Tj ET" for k, line in enumerate(lines)
    )
    # 40 pt grey capitals at 30 degrees, over the paragraph (as a document stamp sits).
    mark = "BT 0.8 g /F1 40 Tf 0.866 0.5 -0.5 0.866 90 560 Tm (CONFIDENTIAL) Tj ET"
    (text,) = texts(content_page(body + "\n" + mark), [(60.0, 40.0, 420.0, 260.0)])
    paragraph = " ".join(lines)
    assert text in (paragraph + "\n\nCONFIDENTIAL", "CONFIDENTIAL\n\n" + paragraph)


def column(text: str, x: float, top: float) -> list[tuple[str, float, float]]:
    """``text`` set in a column from ``top`` down, one em a character (12 pt)."""
    return [(ch, x, top + 12.0 * (k + 1)) for k, ch in enumerate(text)]


@pytest.mark.parametrize("pitch", [15.0, 19.0], ids=["tight", "loose"])  # 0.25 and 0.6 em apart
def test_vertical_cjk_reads_down_its_columns_from_the_right(pitch: float) -> None:
    # Japanese set vertically: the first column on the right, each read top to bottom.
    chars = column("日本語の縦書きです", 300.0, 100.0) + column("次の行です", 300.0 - pitch, 100.0)
    (text,) = texts(placed_page(chars), [WHOLE])
    assert text == "日本語の縦書きです次の行です"


def test_horizontal_cjk_stays_horizontal() -> None:
    line = "横書きの文字です"
    chars = [(ch, 100.0 + 12.0 * k, 200.0) for k, ch in enumerate(line)]
    chars += [(ch, 100.0 + 12.0 * k, 216.0) for k, ch in enumerate("次の行")]
    (text,) = texts(placed_page(chars), [WHOLE])
    assert text == line + "次の行"


@pytest.mark.parametrize("tracking", [0.0, 3.0, 5.0])
def test_a_tracked_heading_keeps_its_words(tracking: float) -> None:
    # Tc: letter spacing in points (3 and 5 at 14 pt: 0.2 and 0.35 em, as designed reports
    # set headings). The second line places its words apart without a space in the file: YEAR
    # starts 5 pt after OUR ends (OUR is 2.222 em wide in Helvetica, with its spacing).
    move = 2.222 * 14 + 3 * tracking + 5
    pdf = content_page(
        f"BT /F1 14 Tf {tracking:g} Tc 72 700 Td (ANNUAL REPORT 2024) Tj ET\n"
        f"BT /F1 14 Tf {tracking:g} Tc 72 660 Td (OUR) Tj {move:.2f} 0 Td (YEAR) Tj ET\n"
        "BT /F1 10 Tf 0 Tc 72 620 Td (Body text under it.) Tj ET"
    )
    assert texts(pdf, [(60.0, 80.0, 400.0, 100.0), (60.0, 120.0, 400.0, 140.0),
                       (60.0, 160.0, 400.0, 180.0)]) == [
        "ANNUAL REPORT 2024", "OUR YEAR", "Body text under it."]


def test_a_drop_cap_starts_its_paragraph_and_leaves_the_lines_beside_it_alone() -> None:
    lines = ["he year began with a drop", "cap as magazines set it and", "the rest of the lines",
             "go under the big letter."]
    body = "\n".join(
        f"BT /F1 10 Tf {100 if k < 3 else 72} {700 - 12 * k} Td ({t}) Tj ET"
        for k, t in enumerate(lines)
    )
    (text,) = texts(content_page("BT /F1 40 Tf 72 676 Td (T) Tj ET\n" + body), [WHOLE])
    # Whether the cap and "he" are one word the gap cannot tell ("A" + "long time ago" is two
    # words, set the same way): the words, their order and nothing else are what is checked.
    rest = " ".join(lines)
    assert text in ("T" + rest, "T " + rest)


def test_a_long_receipt_reads_every_line_in_order() -> None:
    pdf = textpdfs.receipt(400)
    (text,) = texts(pdf.pdf, [pdf.boxes[("Text", 0)]])
    assert text == pdf.truth[("Text", 0)]
