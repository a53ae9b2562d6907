"""Region OCR: the text inside a box drawn in page units (points for PDFs, pixels for
images), read with the grounding prompt, through the double."""

from __future__ import annotations

import asyncio

import pytest

from langchain_dotsocr import PageError, aread_region, read_region
from langchain_dotsocr.cli import main
from tests.fakevllm import Box, FaultPlan, PageSpec, make_image, make_pdf, page_footer_box
from tests.fakevllm.figures import table_html

TABLE = table_html(["Region", "Q1"], [["North", "10.2"]])


def pdf_page():
    return make_pdf([
        PageSpec(612, 792, (Box("Title", 1, 72, 40, 540, 70), Box("Text", 1, 72, 100, 540, 160),
                            Box("Table", 1, 72, 200, 540, 400), page_footer_box(0, 612, 792))),
        PageSpec(595, 842, (Box("Text", 2, 72, 100, 520, 160), page_footer_box(1, 595, 842))),
    ])


def test_a_box_in_points_reads_that_region_of_a_pdf_page(fast, fake):
    fake.texts = {("Table", 1): TABLE}
    pdf = pdf_page()
    assert read_region(pdf, 0, (72, 100, 540, 160), **fast) == "Text block 1."
    assert read_region(pdf, 0, [70, 195, 545, 405], **fast) == TABLE
    assert read_region(pdf, -1, (72, 100, 520, 160), **fast) == "Text block 2."
    (last,) = fake.chat_requests[-1:]
    assert last.prompt_mode == "prompt_grounding_ocr"
    # The box was sent in the pixels of the page image, as the model sees it.
    w, h = last.image_size
    x0, y0, x1, y1 = last.grounding_box
    assert abs(x0 - 72 * w / 595) <= 1 and abs(y1 - 160 * h / 842) <= 1


def test_a_box_in_pixels_reads_that_region_of_an_image(fast, fake):
    image = make_image(900, 1100, [Box("Text", 3, 100, 100, 800, 200),
                                   Box("Text", 4, 100, 600, 800, 700)])
    assert read_region(image, 0, (100, 600, 800, 700), **fast) == "Text block 4."
    assert read_region(image, 0, (100, 100, 800, 200), **fast) == "Text block 3."
    assert fake.chat_requests[-1].image_size == (896, 1092)  # the model's size, box mapped


def test_the_async_twin_runs_on_the_callers_loop(fast, fake):
    pdf = pdf_page()

    async def both():
        return await asyncio.gather(
            aread_region(pdf, 0, (72, 100, 540, 160), **fast),
            aread_region(pdf, 0, (72, 40, 540, 70), **fast),
        )

    assert asyncio.run(both()) == ["Text block 1.", "# Title 1"]


@pytest.mark.parametrize(
    ("page", "box", "says"),
    [(5, (0, 0, 10, 10), "there is no page=5: it has 2 page(s)"),
     (0, (700, 100, 800, 200), "has no area on the page (612 x 792 pt"),
     (0, (100, 100, 50, 200), "has no area"),
     (0, (1, 2, 3), "a box is four numbers")],
)
def test_bad_boxes_and_pages_are_clear_errors(fast, page, box, says):
    with pytest.raises(PageError, match=r"^scan\.pdf") as err:
        read_region(pdf_page(), page, box, name="scan.pdf", **fast)
    assert says in str(err.value)


def test_an_answer_cut_short_is_an_error_not_half_a_text(fast, fake):
    fake.faults = FaultPlan(by_page={0: ["truncate"]})
    with pytest.raises(PageError, match=r"page 1 of 2 \(page=0\).*did not come back whole"):
        read_region(pdf_page(), 0, (72, 100, 540, 160), name="f.pdf", **fast)


def test_dotsocr_read_prints_the_text(base_url, tmp_path, capsys):
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf_page())
    assert main(["read", str(path), "--bbox", "72,100,540,160", "--base-url", base_url]) == 0
    assert capsys.readouterr().out == "Text block 1.\n"
    assert main(["read", str(path), "--page", "1", "--bbox", "72,100,520,160",
                 "--base-url", base_url]) == 0
    assert capsys.readouterr().out == "Text block 2.\n"
    assert main(["read", str(path), "--bbox", "1,2,3", "--base-url", base_url]) == 2
    assert main(["read", str(path), "--bbox", "900,900,950,950", "--base-url", base_url]) == 1
    assert "has no area on the page" in capsys.readouterr().err


def test_a_region_of_a_long_page_is_read_on_a_crop_at_full_resolution(fast, fake):
    receipt = make_image(800, 20000, [Box("Text", 5, 20, 100, 780, 160),
                                      Box("Text", 6, 20, 12000, 780, 12060)])
    assert read_region(receipt, 0, (20, 12000, 780, 12060), **fast) == "Text block 6."
    sent = fake.chat_requests[-1].image_size
    assert sent[1] < 2000  # a crop around the box, not the whole 16,000-px page
