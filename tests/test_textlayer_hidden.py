"""Text nobody sees because something is painted over it is not trusted; text that shows, in
any colour or outline and at small sizes, still is. Through PDFium and a real render."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from langchain_dotsocr.textlayer import PageLayer, read_layer
from tests.textpdfs import content_page


def layer_of(content: str, scale: float) -> PageLayer:
    doc = pdfium.PdfDocument(content_page(content))
    try:
        page = doc[0]
        return read_layer(page, page.render(scale=scale).to_pil().convert("RGB"))
    finally:
        doc.close()


ABOVE = "BT /F1 12 Tf 72 700 Td (Words above the box) Tj ET\n"
BELOW = "BT /F1 12 Tf 72 640 Td (Words below the box) Tj ET\n"


@pytest.mark.parametrize("scale", [1.5, 2.8])  # about 110 and 200 dpi, as pages are sent
def test_words_under_a_white_box_painted_after_them_are_not_trusted(scale: float) -> None:
    covered = "BT /F1 12 Tf 72 670 Td (The password is hunter2) Tj ET\n"
    white_box = "q 1 1 1 rg 60 660 300 28 re f Q\n"
    layer = layer_of(ABOVE + covered + white_box + BELOW, scale)
    text = layer.text_in((0.0, 0.0, 612.0, 792.0))
    assert text == "Words above the box\n\nWords below the box"
    assert "painted over" in layer.trust.reason


@pytest.mark.parametrize("scale", [1.5, 2.8])
def test_text_that_shows_is_trusted_in_colour_outline_and_small_sizes(scale: float) -> None:
    shown = (
        "BT 0.8 0 0 rg /F1 12 Tf 72 670 Td (Red words) Tj ET\n"  # coloured
        "BT 0 0 1 RG 1 Tr /F1 12 Tf 200 670 Td (Outlined words) Tj ET\n"  # outline only
        "BT /F1 6 Tf 72 655 Td (six point words) Tj ET\n"  # small print
        "q 0 0 0.5 rg 60 600 300 20 re f Q BT 1 1 1 rg /F1 12 Tf 72 606 Td (White on blue) Tj ET\n"
    )
    layer = layer_of(ABOVE + shown + BELOW, scale)
    assert layer.trust.level == "trusted" and "not trusted" not in layer.trust.reason
    text = layer.text_in((0.0, 0.0, 612.0, 792.0))
    for words in ("Red words", "Outlined words", "six point words", "White on blue"):
        assert words in text
