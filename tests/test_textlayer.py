"""The PDF's own text layer on every kind of page (tests/textpdfs.py): the verdict, the text a
reader sees in each element's box, and text nobody sees never coming back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pytest
from PIL import Image

from langchain_dotsocr.textlayer import PageLayer, agrees, read_layer, sample_boxes
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
