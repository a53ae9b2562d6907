"""Crops of pictures (and, on request, other elements): cut at the render resolution, in the
right place, as base64 or as files, from the page cache too."""

from __future__ import annotations

import base64
import io
import logging
import math
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.cli import main
from langchain_dotsocr.crops import CROP_MARGIN
from langchain_dotsocr.errors import PageError
from langchain_dotsocr.pages import ImagePages, PdfPages
from tests.fakevllm import (
    Box,
    FakeVLLM,
    element_colour,
    make_image,
    make_pdf,
    render_page,
    sample_page,
    serve,
)

PICTURE = (72, 418, 300, 578)  # sample_page's picture, in points


def pictures(docs):
    return [d for d in docs if d.metadata["category"] == "Picture"]


def png(doc) -> Image.Image:
    meta = doc.metadata
    data = (
        Path(meta["image_path"]).read_bytes()
        if meta["image_path"]
        else base64.b64decode(meta["image_base64"])
    )
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and meta["image_mime_type"] == "image/png"
    return image.convert("RGB")


def region_px(bbox, width, height, scale):
    """The documented crop: the box grown by CROP_MARGIN of the shorter side, clipped to the
    page, in whole pixels outwards at ``scale`` pixels per page unit."""
    m = CROP_MARGIN * min(width, height)
    x0, y0 = max(0.0, bbox[0] - m), max(0.0, bbox[1] - m)
    x1, y1 = min(width, bbox[2] + m), min(height, bbox[3] + m)
    return (math.floor(x0 * scale), math.floor(y0 * scale),
            math.ceil(x1 * scale), math.ceil(y1 * scale))


def coloured(image: Image.Image, colour) -> tuple[int, int, int, int]:
    """The bounding box of the pixels of ``colour`` (within 4 per channel) in ``image``."""
    solid = Image.new("RGB", image.size, colour)
    diff = ImageChops.difference(image, solid).convert("L")
    mask = diff.point(lambda v: 255 if v <= 4 else 0)
    box = mask.getbbox()
    assert box is not None
    return box


@pytest.mark.parametrize("dpi", [200, 110])
def test_a_pdf_crop_is_the_page_rendered_at_dpi_cut_where_the_picture_is(fast, dpi):
    pdf = make_pdf([sample_page(0)])
    docs = DotsOCRLoader(pdf, images="base64", dpi=dpi, **fast).load()
    (picture,) = pictures(docs)
    crop = png(picture)
    scale = dpi / 72
    # Pixel for pixel the page as rendered whole at the same dpi, cut at the documented place.
    page = render_page(pdf, 0, dpi)
    where = region_px(picture.metadata["bbox"], 612, 792, scale)
    assert crop.size == (where[2] - where[0], where[3] - where[1])
    assert ImageChops.difference(crop, page.crop(where)).getbbox() is None
    # And the picture fills it but for the margin: where the scene drew it, within a pixel.
    inside = coloured(crop, element_colour("Picture", 0))
    drawn = [v * scale for v in PICTURE]
    assert all(abs(inside[i] + where[i % 2] - drawn[i]) <= 1.5 for i in range(4)), inside
    margin = CROP_MARGIN * 612 * scale
    assert abs(inside[0] - margin) <= 1.5 and abs(crop.height - inside[3] - margin) <= 1.5


def test_crops_are_cut_at_dpi_even_when_the_model_sees_the_page_smaller(fast, fake):
    fake.max_model_len = 4000  # the page image is downscaled to fit the server
    pdf = make_pdf([sample_page(0)])
    with pytest.warns(UserWarning, match="downscaled"):
        docs = DotsOCRLoader(pdf, images="base64", **fast).load()
    sent = fake.chat_requests[0].image_size
    assert sent[0] < 612 * 200 / 72 * 0.8  # the model saw a smaller page ...
    crop = png(pictures(docs)[0])
    width = (PICTURE[2] - PICTURE[0] + 2 * CROP_MARGIN * 612) * 200 / 72
    assert abs(crop.width - width) <= 3  # ... the crop is at 200 dpi


@pytest.mark.parametrize("orientation", [None, 6])
def test_an_image_crop_is_cut_from_its_own_pixels(fast, orientation):
    boxes = [Box("Text", 1, 40, 40, 760, 120), Box("Picture", 1, 100, 300, 500, 700)]
    data = make_image(800, 1000, boxes, exif_orientation=orientation)
    docs = DotsOCRLoader(data, images="base64", **fast).load()
    (picture,) = pictures(docs)
    original = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    where = region_px(picture.metadata["bbox"], 800, 1000, 1.0)
    crop = png(picture)
    assert ImageChops.difference(crop, original.crop(where)).getbbox() is None
    inside = coloured(crop, element_colour("Picture", 1))
    assert all(abs(inside[i] + where[i % 2] - (100, 300, 500, 700)[i]) <= 1 for i in range(4))


def test_files_are_named_by_source_page_and_element_and_written_again_the_same(fast, tmp_path):
    folder = tmp_path / "crops"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "report.pdf").write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    (b / "report.pdf").write_bytes(make_pdf([sample_page(5)]))  # same name, other file
    docs = DotsOCRLoader([a / "report.pdf", b / "report.pdf"], images=folder, **fast).load()
    paths = [Path(p.metadata["image_path"]) for p in pictures(docs)]
    assert len(paths) == 3 and len(set(paths)) == 3
    assert all(p.is_absolute() and p.parent == folder.resolve() for p in paths)
    names = [p.name for p in paths]
    assert all(re.fullmatch(r"report-[0-9a-f]{10}-p\d-e\d+\.png", n) for n in names)
    assert names[0].split("-")[1] != names[2].split("-")[1]  # the two files' hashes differ
    assert [n.split("-")[2] for n in names] == ["p0", "p1", "p0"]
    index = pictures(docs)[0].metadata["element_index"]
    assert names[0].endswith(f"-e{index}.png")
    before = {p: p.read_bytes() for p in paths}
    again = DotsOCRLoader([a / "report.pdf", b / "report.pdf"], images=str(folder), **fast).load()
    assert [Path(p.metadata["image_path"]) for p in pictures(again)] == paths
    assert {p: p.read_bytes() for p in paths} == before
    assert sorted(folder.iterdir()) == sorted(paths)  # nothing else, no temporary file left
    # The file holds the same picture as the base64 form.
    inline = DotsOCRLoader(a / "report.pdf", images="base64", **fast).load()
    assert base64.b64decode(pictures(inline)[0].metadata["image_base64"]) == before[paths[0]]


def test_a_cached_page_still_yields_its_crops(fast, fake, tmp_path):
    pdf = make_pdf([sample_page(0), sample_page(1)])
    options = {"images": "base64", "cache_dir": tmp_path / "cache", **fast}
    first = DotsOCRLoader(pdf, **options).load()
    sent = len(fake.chat_requests)
    second = DotsOCRLoader(pdf, **options).load()
    assert len(fake.chat_requests) == sent  # from the cache: no request
    assert [d.metadata["image_base64"] for d in pictures(second)] == [
        d.metadata["image_base64"] for d in pictures(first)
    ]
    assert all(d.metadata["image_base64"] for d in pictures(second))


def test_other_categories_on_request_and_only_where_asked(fast):
    pdf = make_pdf([sample_page(0)])
    docs = DotsOCRLoader(pdf, images="base64", image_categories=["Picture", "Table"], **fast).load()
    cropped = {d.metadata["category"] for d in docs if d.metadata["image_base64"]}
    assert cropped == {"Picture", "Table"}
    (table,) = [d for d in docs if d.metadata["category"] == "Table"]
    inside = coloured(png(table), element_colour("Table", 0))
    assert abs(inside[2] - inside[0] - (540 - 72) * 200 / 72) <= 2
    plain = DotsOCRLoader(pdf, **fast).load()
    assert not any(d.metadata["image_base64"] or d.metadata["image_path"] for d in plain)
    with pytest.raises(ValueError, match="unknown categories"):
        DotsOCRLoader(pdf, images="base64", image_categories=["picture"], **fast)


def test_page_markdown_shows_the_crop(fast, tmp_path):
    pdf = make_pdf([sample_page(0)])
    (page,) = DotsOCRLoader(pdf, mode="page", images=tmp_path / "img", **fast).load()
    (path,) = (tmp_path / "img").iterdir()
    assert f"![Figure 0: caption.]({path.resolve().as_posix()})" in page.page_content
    assert "[Picture]" not in page.page_content
    (inline,) = DotsOCRLoader(pdf, mode="page", images="base64", **fast).load()
    data = base64.b64encode(path.read_bytes()).decode()
    assert f"![Figure 0: caption.](data:image/png;base64,{data})" in inline.page_content
    (single,) = DotsOCRLoader(pdf, mode="single", images="base64", **fast).load()
    assert f"base64,{data})" in single.page_content


def test_a_crop_that_cannot_be_cut_costs_only_the_crop(fast, monkeypatch, caplog):
    def broken(self, index, regions, dpi):
        raise PageError("cannot render the page's crops (damaged)", source=self.source, page=index)

    monkeypatch.setattr(PdfPages, "crops", broken)
    pdf = make_pdf([sample_page(0)])
    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        docs = DotsOCRLoader(pdf, name="bad.pdf", images="base64", on_error="skip", **fast).load()
    plain = DotsOCRLoader(pdf, name="bad.pdf", **fast).load()
    assert [d.page_content for d in docs] == [d.page_content for d in plain]
    assert pictures(docs)[0].metadata["image_base64"] == ""
    assert "bad.pdf, page 1 of 1 (page=0): the page's crops were not cut" in caplog.text
    assert "damaged" in caplog.text


def test_each_source_is_closed_once_after_its_crops(fast, monkeypatch):
    closed: list[str] = []
    for cls in (PdfPages, ImagePages):
        original = cls.close

        def close(self, original=original):
            closed.append(self.source)
            original(self)

        monkeypatch.setattr(cls, "close", close)
    pdf = make_pdf([sample_page(i) for i in range(5)])
    image = make_image(400, 500, [Box("Picture", 1, 50, 50, 350, 300)])
    docs = DotsOCRLoader([pdf, image], name="src", images="base64", **fast).load()
    assert len([d for d in pictures(docs) if d.metadata["image_base64"]]) == 6
    assert sorted(closed) == ["src[0]", "src[1]"]


def test_dotsocr_parse_writes_crops(base_url, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([sample_page(0)]))
    out, images = tmp_path / "md", tmp_path / "images"
    code = main(["parse", str(pdf), "--format", "markdown", "--images", str(images),
                 "-o", str(out), "--base-url", base_url])
    assert code == 0
    (crop,) = images.iterdir()
    assert crop.name.startswith("report-") and crop.name.endswith("-p0-e8.png")
    assert f"]({crop.resolve().as_posix()})" in (out / "report.md").read_text()


def test_a_second_server_sees_no_crop_request(tmp_path):
    """Crops never cost a request: they are cut on the client from the page."""
    fake = FakeVLLM()
    with serve(fake) as url:
        pdf = make_pdf([sample_page(0)])
        DotsOCRLoader(pdf, base_url=url, images=tmp_path).load()
        assert len(fake.chat_requests) == 1
