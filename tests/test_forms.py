"""Filled form fields and typed notes: annotations whose words show on the page but are in no
text layer. The page sent to the model shows them, and the elements under them are read by
the model, not from the layer (which would leave their words out)."""

from __future__ import annotations

import pypdfium2 as pdfium
from PIL import ImageChops

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.pages import Geometry, PdfPages
from langchain_dotsocr.textlayer import layer_from_dict, layer_to_dict, read_layer
from tests import textpdfs


def changed_pixels(a, b, box, size) -> int:
    """Pixels of ``box`` (points) that differ clearly between two renders of one page."""
    sx, sy = a.width / size[0], a.height / size[1]
    window = (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))
    diff = ImageChops.difference(a.crop(window), b.crop(window)).convert("L")
    return sum(1 for v in diff.tobytes() if v > 64)


def test_the_page_sent_shows_a_filled_form_field_and_a_note() -> None:
    pdf = textpdfs.annotated()
    blank = textpdfs.good()
    pages, plain = PdfPages(pdf.pdf, "form.pdf"), PdfPages(blank.pdf, "plain.pdf")
    try:
        image = pages.render(0, Geometry()).image
        without = plain.render(0, Geometry()).image
    finally:
        pages.close()
        plain.close()
    for _kind, box, _words in pdf.extra["notes"]:
        # The same page without the annotations: their words change the pixels in their box.
        assert changed_pixels(image, without, box, (612, 792)) > 100


def test_the_layer_knows_where_annotations_show_words_it_lacks() -> None:
    pdf = textpdfs.annotated()
    doc = pdfium.PdfDocument(pdf.pdf)
    try:
        layer = read_layer(doc[0])
    finally:
        doc.close()
    assert len(layer.painted) == 2
    for key, box in pdf.boxes.items():
        assert layer.lacks(box) == (key in pdf.extra["noted"]), key
    assert layer_from_dict(layer_to_dict(layer)).painted == layer.painted  # as Ray rows carry it


def test_elements_under_a_field_or_a_note_are_read_by_the_model(fast, fake) -> None:
    pdf = textpdfs.annotated()
    docs = DotsOCRLoader(pdf.pdf, name="form.pdf", **fast).load()
    by_category: dict[str, list[str]] = {}
    for d in docs:
        by_category.setdefault(d.metadata["category"], []).append(d.metadata["text_source"])
    assert by_category["Text"][:2] == ["model", "model"]  # Text 0 and Text 1, in page order
    assert by_category["Title"] == ["layer"] and by_category["Section-header"] == ["layer"]
