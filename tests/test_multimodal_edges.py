"""Pictures and tables at their edges, through the double: rotated and vector pages, margins at
the page edge, tables over many pages and across failed pages, region OCR on turned pages,
crop files on re-runs and under other settings, an images folder that cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageChops

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box, render_page, sample_page
from tests.fakevllm.faults import FaultPlan
from tests.fakevllm.figures import table_html
from tests.test_crops import png, region_px


def _cat(docs, c):
    return [d for d in docs if d.metadata["category"] == c]


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_pdf_crop_is_the_rendered_page_cut(fast, rotate):
    pdf = make_pdf([sample_page(0, rotate=rotate)])
    docs = DotsOCRLoader(pdf, images="base64", **fast).load()
    (pic,) = _cat(docs, "Picture")
    assert_cut_from_the_page(pic, pdf, 200)


def assert_cut_from_the_page(pic, pdf, dpi):
    """The crop is the page rendered whole at ``dpi``, cut at the documented place."""
    crop = png(pic)
    m = pic.metadata
    where = region_px(m["bbox"], m["page_width"], m["page_height"], dpi / 72)
    assert crop.size == (where[2] - where[0], where[3] - where[1])
    diff = ImageChops.difference(crop, render_page(pdf, 0, dpi).crop(where)).getbbox()
    assert diff is None, diff


def _table_pages(n_pages, columns=3):
    """n_pages Letter pages: a table from page 0's bottom half, over whole middle pages,
    to the top of the last, with a running header and footer on each."""
    specs, texts = [], {}
    for p in range(n_pages):
        boxes = [Box("Page-header", p, 72, 30, 540, 44)]
        if p == 0:
            boxes += [Box("Title", 1, 72, 60, 540, 90), Box("Table", 1, 72, 400, 540, 740)]
        elif p == n_pages - 1:
            boxes += [Box("Table", p + 1, 72, 60, 540, 300), Box("Text", p + 1, 72, 320, 540, 380)]
        else:
            boxes += [Box("Table", p + 1, 72, 60, 540, 740)]
        boxes.append(page_footer_box(p, 612, 792))
        specs.append(PageSpec(612, 792, tuple(boxes)))
        header = [f"C{c}" for c in range(columns)]
        rows = [[f"p{p}r{r}c{c}" for c in range(columns)] for r in range(2)]
        texts[("Table", p + 1)] = table_html(header, rows)
    return specs, texts


@pytest.mark.parametrize("n_pages", [3, 4])
def test_a_table_over_three_or_more_pages_is_one(fast, fake, n_pages):
    specs, fake.texts = _table_pages(n_pages)
    docs = DotsOCRLoader(make_pdf(specs), **fast).load()
    (table,) = _cat(docs, "Table")
    assert table.metadata["pages"] == list(range(n_pages))
    assert table.metadata["page"] == 0
    assert table.page_content.count("<th>") == 3
    # its id is the first part's, as without the merge
    plain = DotsOCRLoader(make_pdf(specs), merge_tables=False, **fast).load()
    assert table.id == _cat(plain, "Table")[0].id


def test_no_join_across_a_failed_page_marked(fast, fake):
    specs, fake.texts = _table_pages(3)
    fake.faults = FaultPlan(by_page={1: ["http_400"] * 30}, retry_after=0)
    docs = DotsOCRLoader(make_pdf(specs), on_error="mark", **fast).load()
    tables = _cat(docs, "Table")
    assert [t.metadata["pages"] for t in tables] == [[0], [2]]
    order = [(d.metadata["page"], d.metadata["category"]) for d in docs]
    assert order.index((0, "Table")) < order.index((1, "Error")) < order.index((2, "Table"))


def test_caption_between_two_stacked_pictures_goes_to_one(fast, fake):
    boxes = (
        Box("Picture", 1, 72, 60, 540, 300),
        Box("Caption", 1, 72, 310, 540, 324),
        Box("Picture", 2, 72, 334, 540, 600),
        page_footer_box(0, 612, 792),
    )
    fake.texts = {("Caption", 1): "Figure 1: Top picture."}
    docs = DotsOCRLoader(make_pdf([PageSpec(612, 792, boxes)]), **fast).load()
    pics = _cat(docs, "Picture")
    (cap,) = _cat(docs, "Caption")
    assert [p.metadata["caption"] for p in pics] == ["Figure 1: Top picture.", ""]
    assert cap.metadata["belongs_to"] == pics[0].id


def test_rerun_with_cache_and_folder_writes_same_files(fast, fake, tmp_path):
    pdf = make_pdf([sample_page(0), sample_page(1)])
    opts = {"images": tmp_path / "img", "cache_dir": tmp_path / "c", **fast}
    a = DotsOCRLoader(pdf, **opts).load()
    before = {p.name: p.read_bytes() for p in (tmp_path / "img").iterdir()}
    b = DotsOCRLoader(pdf, **opts).load()
    after = {p.name: p.read_bytes() for p in (tmp_path / "img").iterdir()}
    assert before == after and len(before) == 2
    assert [d.metadata["image_path"] for d in _cat(a, "Picture")] == [
        d.metadata["image_path"] for d in _cat(b, "Picture")
    ]


def test_region_on_a_rotated_pdf_page(fast, fake):
    from langchain_dotsocr import read_region
    from tests.fakevllm.scene import expected_boxes_displayed

    spec = PageSpec(
        612, 792, (Box("Text", 1, 72, 100, 540, 160), page_footer_box(0, 612, 792)), rotate=90
    )
    shown = expected_boxes_displayed(spec)[0]
    box = (shown.x0, shown.y0, shown.x1, shown.y1)
    assert read_region(make_pdf([spec]), 0, box, **fast) == "Text block 1."


def test_region_on_an_exif_rotated_image(fast, fake):
    from langchain_dotsocr import read_region
    from tests.fakevllm import make_image

    data = make_image(
        900,
        1100,
        [Box("Text", 3, 100, 100, 800, 200), Box("Text", 4, 100, 600, 800, 700)],
        exif_orientation=6,
    )
    assert read_region(data, 0, (100, 600, 800, 700), **fast) == "Text block 4."


def test_region_takes_a_numpy_box(fast, fake):
    np = pytest.importorskip("numpy")
    from langchain_dotsocr import read_region
    from tests.fakevllm import make_image

    data = make_image(900, 1100, [Box("Text", 4, 100, 600, 800, 700)])
    assert read_region(data, 0, np.array([100, 600, 800, 700]), **fast) == "Text block 4."
    assert read_region(data, 0, np.array([100.0, 600, 800, 700]), **fast) == "Text block 4."


def test_cli_parse_images_into_a_path_that_is_a_file_says_so(base_url, tmp_path, capsys):
    from langchain_dotsocr.cli import main

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([sample_page(0)]))
    images = tmp_path / "images"
    images.write_text("not a folder")
    code = main(
        [
            "parse",
            str(pdf),
            "--format",
            "markdown",
            "--images",
            str(images),
            "-o",
            str(tmp_path / "md"),
            "--base-url",
            base_url,
        ]
    )
    err = capsys.readouterr().err
    # Every crop would be lost: said once, before any page is read, not as a quiet success.
    assert code == 1 and f"images={str(images)!r}: crops cannot be written there" in err
    assert not list((tmp_path / "md").glob("*.md"))


def test_crop_files_are_readable_like_any_file_written_by_the_user(fast, tmp_path):
    import os

    pdf = make_pdf([sample_page(0)])
    (pic,) = _cat(DotsOCRLoader(pdf, images=tmp_path / "img", **fast).load(), "Picture")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(pic.metadata["image_path"]).st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("kind", ["pdf", "image"])
def test_crop_margin_is_clipped_at_the_page_edges(fast, kind):
    from tests.fakevllm import make_image

    if kind == "pdf":
        spec = PageSpec(
            612,
            792,
            (
                Box("Picture", 1, 0, 0, 612, 300),
                Box("Text", 1, 72, 400, 540, 460),
                page_footer_box(0, 612, 792),
            ),
        )
        data, s, size = make_pdf([spec]), 200 / 72, (612, 792)
    else:
        data = make_image(
            800,
            1000,
            [Box("Picture", 1, 0, 700, 800, 1000), Box("Text", 1, 40, 40, 760, 120)],
            exif_orientation=8,
        )
        s, size = 1.0, (800, 1000)
    (pic,) = _cat(DotsOCRLoader(data, images="base64", **fast).load(), "Picture")
    x0, y0, x1, y1 = region_px(pic.metadata["bbox"], *size, s)
    assert png(pic).size == (x1 - x0, y1 - y0)


def test_a_chain_cut_by_a_failed_page_ends_where_it_stood(fast, fake):
    specs, fake.texts = _table_pages(4)
    fake.faults = FaultPlan(by_page={2: ["http_400"] * 30}, retry_after=0)
    docs = DotsOCRLoader(make_pdf(specs), on_error="mark", **fast).load()
    assert [t.metadata["pages"] for t in _cat(docs, "Table")] == [[0, 1], [3]]
    pages = DotsOCRLoader(make_pdf(specs), on_error="mark", mode="page", **fast).load()
    contents = {d.metadata["page"]: d.page_content for d in pages}
    assert "continues on the next page" not in contents[1]
    assert "continues from the previous" not in contents[3]


@pytest.mark.parametrize("dpi", [150, 96])
def test_vector_a4_crop_matches_the_page_render(fast, dpi):
    spec = sample_page(0, width=595.28, height=841.89)
    pdf = make_pdf([spec], kind="vector")
    (pic,) = _cat(DotsOCRLoader(pdf, images="base64", dpi=dpi, **fast).load(), "Picture")
    assert_cut_from_the_page(pic, pdf, dpi)


def test_a_rerun_at_another_dpi_does_not_overwrite_the_first_runs_crops(fast, tmp_path):
    """Documents already indexed point at their crop: a later run with other settings must
    not replace that file with another picture."""
    pdf = make_pdf([sample_page(0)])
    (a,) = _cat(DotsOCRLoader(pdf, images=tmp_path, dpi=200, **fast).load(), "Picture")
    kept = Path(a.metadata["image_path"]).read_bytes()
    (b,) = _cat(DotsOCRLoader(pdf, images=tmp_path, dpi=100, **fast).load(), "Picture")
    assert a.id != b.id  # other settings, other element
    assert Path(a.metadata["image_path"]).read_bytes() == kept
