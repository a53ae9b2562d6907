"""Drawing the layout on the page: boxes where the elements are, in their category's colour."""

from __future__ import annotations

import math

import pytest
from langchain_core.documents import Document
from PIL import Image

from langchain_dotsocr import DotsOCRLoader, PageError, draw_boxes, draw_page
from langchain_dotsocr.draw import PALETTE
from tests.fakevllm import (
    CATEGORIES,
    Box,
    colour_element,
    displayed_size,
    expected_boxes_displayed,
    make_image,
    make_pdf,
    sample_page,
    smart_resize,
)

WHITE = (255, 255, 255)


def element(category: str, bbox: list[float], page_size=(300.0, 400.0), page=0) -> Document:
    meta = {
        "category": category,
        "bbox": bbox,
        "page": page,
        "page_width": page_size[0],
        "page_height": page_size[1],
        "coordinate_unit": "pt",
    }
    return Document(page_content="x", metadata=meta)


def test_palette_covers_every_category_with_distinct_colours():
    assert set(PALETTE) == set(CATEGORIES)
    assert len(set(PALETTE.values())) == len(PALETTE)
    # None of them is a colour of the test pages, so a drawn edge is never mistaken for one.
    assert all(colour_element(c, 0) is None for c in PALETTE.values())


def test_box_edges_in_the_category_colour_scaled_from_page_units():
    page = Image.new("RGB", (600, 800), WHITE)
    docs = [element("Table", [50, 100, 250, 200]), Document(page_content="no box")]
    out = draw_boxes(page, docs, labels=False)
    assert out.size == page.size and page.getpixel((100, 200)) == WHITE  # input untouched
    table = PALETTE["Table"]
    # page_width 300 on 600 px: 2 px per point.
    assert out.getpixel((100, 300)) == table  # left edge
    assert out.getpixel((499, 300)) == table  # right edge (x1 exclusive)
    assert out.getpixel((300, 200)) == table  # top edge
    assert out.getpixel((300, 399)) == table  # bottom edge
    assert out.getpixel((99, 300)) == WHITE and out.getpixel((500, 300)) == WHITE  # outside
    assert out.getpixel((300, 300)) == WHITE  # an outline, not a fill


def test_explicit_scale_and_one_colour_per_category():
    page = Image.new("RGB", (400, 400), WHITE)
    docs = [element("Title", [10, 10, 50, 30]), element("Formula", [10, 60, 50, 90])]
    out = draw_boxes(page, docs, scale=(3.0, 2.0), labels=False)
    assert out.getpixel((30, 40)) == PALETTE["Title"]  # x0=10*3, y mid=(10+30)/2*2
    assert out.getpixel((30, 150)) == PALETTE["Formula"]
    assert out.getpixel((149, 150)) == PALETTE["Formula"]  # x1=50*3, exclusive


def test_labels_and_legend_in_the_category_colour():
    page = Image.new("RGB", (600, 800), WHITE)
    out = draw_boxes(page, [element("Caption", [50, 100, 250, 200])], legend=True)
    # The label sits on a patch of the category's colour just above the box.
    assert out.getpixel((101, 197)) == PALETTE["Caption"]
    top_right = {out.getpixel((x, y)) for x in range(400, 600) for y in range(0, 60)}
    assert PALETTE["Caption"] in top_right and PALETTE["Table"] not in top_right


def test_boxes_need_a_page_size_or_a_scale():
    doc = Document(page_content="x", metadata={"category": "Text", "bbox": [1, 1, 5, 5]})
    with pytest.raises(ValueError, match="scale"):
        draw_boxes(Image.new("RGB", (10, 10)), [doc])


def assert_drawn_on_the_elements(image: Image.Image, boxes: list[Box], scale: tuple[float, float]):
    """Every element's left and right edges are drawn in its colour, on the element's edge."""
    sx, sy = scale
    for b in boxes:
        x0, x1 = round(b.x0 * sx), round(b.x1 * sx)
        y_mid = round((b.y0 + b.y1) / 2 * sy)
        # The model's boxes are whole pixels of the image it saw: allow a pixel either way.
        for x in (x0 + 1, x1 - 2):
            assert PALETTE[b.category] in {image.getpixel((x + d, y_mid)) for d in (-1, 0, 1)}, b
        # Just inside the outline is the element itself; just outside, the white page.
        assert colour_element(image.getpixel((x0 + 10, y_mid)), 4) == (b.category, b.n), b
        assert image.getpixel((x0 - 3, y_mid)) == WHITE, b


@pytest.mark.parametrize("rotate", [0, 90, 270])
def test_draw_page_of_a_pdf_lands_on_the_elements(fast, rotate):
    spec = sample_page(0, rotate=rotate)
    pdf = make_pdf([spec])
    image = draw_page(pdf, 0, labels=False, **fast)
    width_pt, height_pt = displayed_size(spec)
    # The page as the model sees it: rendered at 200 dpi, then sized by the model's rule.
    h, w = smart_resize(math.ceil(height_pt * 200 / 72), math.ceil(width_pt * 200 / 72))
    assert image.size == (w, h)
    scale = (w / width_pt, h / height_pt)
    assert_drawn_on_the_elements(image, expected_boxes_displayed(spec), scale)


def test_draw_page_of_an_exif_rotated_image(fast):
    boxes = [
        Box("Title", 0, 40, 30, 700, 90),
        Box("Text", 3, 40, 120, 980, 400),
        Box("Table", 1, 60, 430, 900, 800),
    ]
    data = make_image(1024, 1300, boxes, exif_orientation=6)
    image = draw_page(data, 0, labels=False, **fast)
    h, w = smart_resize(1300, 1024)
    assert image.size == (w, h)
    assert_drawn_on_the_elements(image, boxes, (w / 1024, h / 1300))


def test_given_documents_are_drawn_without_a_request(fast, fake, tmp_path):
    path = tmp_path / "two.pdf"
    path.write_bytes(make_pdf([sample_page(0), sample_page(1, width=595, height=842)]))
    docs = DotsOCRLoader(path, dpi=100, **fast).load()
    sent = len(fake.chat_requests)
    drawn = draw_page(path, 1, docs, dpi=100)
    assert len(fake.chat_requests) == sent
    loaded = draw_page(path, -1, dpi=100, **fast)  # loads page 1 itself
    assert len(fake.chat_requests) == sent + 1 and fake.chat_requests[-1].page == 1
    # Page 0 (Letter) has its boxes elsewhere: equal images mean only page 1's were drawn.
    assert drawn.tobytes() == loaded.tobytes()
    h, w = smart_resize(math.ceil(842 * 100 / 72), math.ceil(595 * 100 / 72))
    assert drawn.size == (w, h)


def test_draw_page_refuses_a_missing_page(fast):
    with pytest.raises(PageError, match="page=3"):
        draw_page(make_pdf([sample_page(0)]), 3, **fast)

