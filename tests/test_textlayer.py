"""The PDF's own text layer on every kind of page (tests/textpdfs.py): the verdict, the text a
reader sees in each element's box, and text nobody sees never coming back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pytest
from PIL import Image

from langchain_dotsocr.textlayer import PageLayer, agrees, read_layer, sample_boxes
from langchain_dotsocr.textlayer.blocks import reading_text
from langchain_dotsocr.textlayer.chars import Char, Frame, PageText
from langchain_dotsocr.textlayer.trust import judge
from tests import textpdfs
from tests.fakevllm.scene import element_text
from tests.fakevllm.vision import detect

SCALE = 2.0  # render at 144 dpi: small and fast, enough for the pixel evidence


@contextmanager
def opened(pdf: bytes) -> Iterator[tuple[pdfium.PdfPage, Image.Image]]:
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        try:
            yield page, page.render(scale=SCALE).to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        doc.close()


def layer_of(pdf: bytes, with_image: bool = True) -> PageLayer:
    with opened(pdf) as (page, image):
        return read_layer(page, image if with_image else None)


def test_good_layer_gives_every_elements_printed_words() -> None:
    t = textpdfs.good()
    layer = layer_of(t.pdf)
    assert layer.trust.level == "trusted", layer.trust.reason
    assert layer.trust.chars == sum(len(v.replace(" ", "").replace("\n", ""))
                                    for v in t.truth.values())
    for key, box in t.boxes.items():
        assert layer.text_in(box) == t.truth[key], key
        if key[0] != "Picture":
            assert layer.share_in(box) > 0.9, key
    assert layer.share_in(t.boxes[("Picture", 0)]) < 0.1


def test_good_layer_matches_what_the_double_answers_less_markdown() -> None:
    t = textpdfs.good()
    for (category, n), text in t.truth.items():
        if category in ("Title", "Section-header", "Text", "List-item", "Caption", "Footnote",
                        "Page-header", "Page-footer"):
            assert (element_text(category, n) or "").lstrip("# ") == text


def test_the_double_still_sees_every_element_through_the_printed_words() -> None:
    t = textpdfs.good()
    with opened(t.pdf) as (_page, image):
        found = {(e.category, e.n): e.bbox for e in detect(image)}
    assert set(found) == set(t.boxes)
    for key, (x0, y0, x1, y1) in t.boxes.items():
        got = found[key]
        assert all(abs(a - b * SCALE) <= 1 for a, b in zip(got, (x0, y0, x1, y1), strict=True))


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_page_reads_in_the_displayed_frame(rotate: int) -> None:
    t = textpdfs.good(rotate)
    layer = layer_of(t.pdf)
    assert layer.trust.level == "trusted"
    for key, box in t.boxes.items():
        assert layer.text_in(box) == t.truth[key], (rotate, key)


def test_scan_has_no_layer() -> None:
    t = textpdfs.scan()
    layer = layer_of(t.pdf)
    assert layer.trust.level == "none"
    assert layer.trust.reason == "no text layer"
    assert layer.trust.chars == 0
    assert all(layer.text_in(b) == "" and layer.share_in(b) == 0.0 for b in t.boxes.values())


def test_good_ocr_layer_is_to_be_checked_and_agrees_with_the_truth() -> None:
    t = textpdfs.ocr_scan(correct=True)
    layer = layer_of(t.pdf)
    assert layer.trust.level == "check"
    assert "invisible" in layer.trust.reason
    samples = sample_boxes(layer)
    assert len(samples) == 2
    for box in samples:
        truth = [t.truth[k] for k, b in t.boxes.items() if _centre_in(box, b)]
        assert truth, box
        assert agrees(layer.text_in(box), " ".join(truth))


def test_wrong_ocr_layer_disagrees_with_the_truth() -> None:
    t = textpdfs.ocr_scan(correct=False)
    layer = layer_of(t.pdf)
    assert layer.trust.level == "check"
    held = t.extra["layer"]
    assert isinstance(held, dict)
    for key, box in t.boxes.items():
        assert layer.text_in(box) == held[key]
    disagree = [b for b in sample_boxes(layer)
                if not agrees(layer.text_in(b), " ".join(
                    t.truth[k] for k, eb in t.boxes.items() if _centre_in(b, eb)))]
    assert disagree


def _centre_in(inner: tuple[float, float, float, float],
               outer: tuple[float, float, float, float]) -> bool:
    x, y = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= x <= outer[2] and outer[1] <= y <= outer[3]


def test_agrees_by_edit_similarity() -> None:
    text = "Prepared by the Planning Office for the board meeting of 14 October 2025."
    assert agrees(text, text)
    assert agrees("# " + text, text)  # the model's markup is not the text
    assert agrees(text, text.replace("Office", "Offce"))  # one letter in 74
    assert not agrees(text, "Prepered bv tne Plannlng 0ffice fcr the hoard meetmg of 1A Oct")
    assert not agrees(text, "")
    assert agrees("", "")


@pytest.mark.parametrize("kind", sorted(textpdfs.KINDS))
def test_every_kind_gets_its_verdict_and_each_box_the_readers_text(kind: str) -> None:
    t = textpdfs.KINDS[kind]()
    layer = layer_of(t.pdf)
    assert layer.trust.level == t.level, layer.trust.reason
    held = t.extra.get("layer", t.truth)
    assert isinstance(held, dict)
    for key, box in t.boxes.items():
        want = "" if t.level == "none" or key in (t.extra.get("pasted"), t.extra.get(
            "garbage")) else held[key]
        assert layer.text_in(box) == want, key
    assert t.reason in layer.trust.reason
    everything = layer.text_in((-500.0, -500.0, 2000.0, 2000.0))
    for word in t.never:
        assert word not in everything


def test_typography_reads_as_a_reader_reads() -> None:
    t = textpdfs.typography()
    layer = layer_of(t.pdf)
    text0 = layer.text_in(t.boxes[("Text", 0)])
    assert "first flow" in text0 and "\ufb01" not in text0  # ligatures expanded
    assert "\u201cquoted\u201d" in text0  # curly quotes as printed
    assert "information" in text0 and "state-of-the-art" in text0
    assert "well-known work" in text0  # the page writes "well-known" whole in Text 1
    text1 = layer.text_in(t.boxes[("Text", 1)])
    assert "It\u2019s a cooperative, hyphenated" in text1  # soft hyphens gone, word joined
    assert "10-12" in text1 and "Anglo-Saxon" in text1  # real hyphens kept
    assert "\u00ad" not in text1 and "\x02" not in text1


def test_a_pasted_scan_has_no_layer_text_and_little_share() -> None:
    t = textpdfs.pasted()
    layer = layer_of(t.pdf)
    box = t.boxes[("Text", 1)]
    assert layer.text_in(box) == ""
    assert layer.share_in(box) < 0.1
    assert layer.share_in(t.boxes[("Text", 0)]) > 0.9


def test_garbage_fonts_are_named_in_the_reason() -> None:
    reasons = {k: layer_of(textpdfs.garbage(k).pdf).trust.reason for k in textpdfs.GARBAGE_MAPS}
    assert "private-use" in reasons["private"]
    assert "map to 1 code" in reasons["repeat"]
    assert "mix scripts" in reasons["scripts"]
    assert "no Unicode mapping" in reasons["unmapped"]


def test_one_garbage_element_leaves_the_rest_trusted() -> None:
    t = textpdfs.garbage("private", whole=False)
    layer = layer_of(t.pdf)
    assert layer.trust.level == "trusted"
    assert layer.share_in(t.boxes[("Text", 0)]) < 0.1
    assert layer.text_in(t.boxes[("Text", 1)]) == t.truth[("Text", 1)]


def test_hidden_text_is_counted_in_the_reason() -> None:
    reason = layer_of(textpdfs.hidden().pdf).trust.reason
    for why in ("outside the crop box", "colour of the page", "invisible", "under an image"):
        assert why in reason


def test_without_the_image_share_is_presence_and_white_text_is_hidden() -> None:
    t = textpdfs.hidden()
    layer = layer_of(t.pdf, with_image=False)
    assert layer.trust.level == "trusted"
    assert layer.share_in(t.boxes[("Text", 0)]) == 1.0
    assert layer.share_in(t.boxes[("Picture", 0)]) == 0.0
    assert "HIDDEN" not in layer.text_in((0.0, 0.0, 612.0, 792.0))


# --- the rules on characters made by hand: scripts and layouts no Helvetica page can show ---


def _line(text: str, x: float, y: float, size: float = 10.0, font: str = "F") -> list[Char]:
    """Characters of ``text`` set from (x, y) (top of the line), 0.6 em each, spaces as marks."""
    out, space = [], False
    for ch in text:
        if ch == " ":
            space = True
            x += 0.3 * size
            continue
        width = size if ord(ch) > 0x2E80 else 0.6 * size
        out.append(Char(ch, (x, y, x + width, y + 1.2 * size), font, False, False, (0, 0, 0),
                        False, False, space))
        x += width
        space = False
    return out


def _page(chars: list[Char]) -> PageText:
    return PageText(Frame(0, 0, 612, 792, 0), tuple(chars), 0.0)


@pytest.mark.parametrize("text", [
    "Отчёт о продажах за третий квартал, в том числе по API и CRM системам",  # noqa: RUF001
    "第三四半期の売上報告書、東京と大阪の支店について",
    "Η αναφορά πωλήσεων του τρίτου τριμήνου με PDF και CSV",  # noqa: RUF001
    "서울 지사의 3분기 매출 보고서",
])
def test_real_scripts_with_latin_words_are_trusted(text: str) -> None:
    verdict = judge(_page(_line(text, 50, 100) + _line(text, 50, 120)), None)
    assert verdict.trust.level == "trusted", verdict.trust.reason
    assert reading_text(list(verdict.chars)).startswith(text.split(" ")[0])


def test_latin_words_with_cyrillic_letters_are_a_broken_map() -> None:
    # Latin words with Cyrillic look-alike letters in each, as a ToUnicode map gone wrong writes.
    broken = "\u0422h\u0435 r\u0435port \u043ef th\u0435 qu\u0430rt\u0435r " * 3
    verdict = judge(_page(_line(broken, 50, 100)), None)
    assert verdict.trust.level == "none"
    assert "mix scripts" in verdict.trust.reason


def test_cjk_lines_join_without_a_space_and_full_width_stays() -> None:
    chars = _line("東京の支店は", 50, 100) + _line("ＡＢＣ社です。", 50, 113)
    assert reading_text(chars) == "東京の支店はＡＢＣ社です。"


def test_columns_inside_a_box_are_read_one_after_the_other() -> None:
    chars = (_line("left one", 50, 100) + _line("right one", 300, 100)
             + _line("left two", 50, 113) + _line("right two", 300, 113))
    assert reading_text(chars) == "left one left two\n\nright one right two"


def test_words_without_spaces_are_split_by_their_gap_and_controls_dropped() -> None:
    chars = _line("alpha", 50, 100) + _line("beta\x07", 50 + 5 * 6 + 4, 100)
    assert reading_text(chars) == "alpha beta"


def test_words_in_a_table_come_with_their_cells_boxes() -> None:
    t = textpdfs.good()
    layer = layer_of(t.pdf)
    x0, y0, x1, y1 = t.boxes[("Table", 0)]
    words = layer.words_in((x0, y0, x1, y1))
    assert [w.text for w in words] == list(textpdfs.table_cells(0))
    head, body = words
    middle = (y0 + y1) / 2
    assert y0 <= head.box[1] and head.box[3] <= middle  # the header cell's row
    assert middle <= body.box[1] and body.box[3] <= y1
    assert all(x0 <= w.box[0] and w.box[2] <= x1 for w in words)
