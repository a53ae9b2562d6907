"""End to end through the vLLM double: boxes, pages, categories, sections, modes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.documents.base import Blob

from langchain_dotsocr import (
    PAGE_SEPARATOR,
    DotsOCRLoader,
    DotsOCRParser,
    ModelNotServedError,
    flatten_bbox,
)
from tests.fakevllm import (
    Box,
    PageSpec,
    element_content,
    element_text,
    expected_boxes_displayed,
    make_image,
    make_pdf,
    sample_page,
)


def by_key(docs):
    return {(d.metadata["page"], d.metadata["category"], d.page_content): d for d in docs}


def assert_boxes(docs, page: int, spec: PageSpec, tolerance: float, captions: bool = True):
    found = by_key(docs)
    expected = expected_boxes_displayed(spec)
    assert len([d for d in docs if d.metadata["page"] == page]) == len(expected)
    for box in expected:
        doc = found[(page, box.category, element_content(box, expected, captions))]
        got = doc.metadata["bbox"]
        want = [box.x0, box.y0, box.x1, box.y1]
        assert all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=True)), (box, got)


@pytest.mark.parametrize("dpi", [200, 110])
def test_pdf_boxes_map_to_points_at_any_dpi(fast, fake, dpi):
    specs = [sample_page(0), sample_page(1, width=595, height=842)]  # Letter, A4
    docs = DotsOCRLoader(make_pdf(specs), name="two.pdf", dpi=dpi, **fast).load()
    for page, spec in enumerate(specs):
        assert_boxes(docs, page, spec, tolerance=1.0)
    meta = docs[0].metadata
    assert meta["source"] == "two.pdf" and meta["total_pages"] == 2
    assert meta["coordinate_unit"] == "pt"
    assert (meta["page_width"], meta["page_height"]) == (612, 792)
    assert {d.metadata["page_width"] for d in docs if d.metadata["page"] == 1} == {595}
    assert meta["model"] == "rednote-hilab/dots.ocr" and meta["prompt_mode"] == "layout_all"
    # The client resized by the model's rule: the server had nothing to change.
    assert fake.chat_requests and not any(r.image_resized for r in fake.chat_requests)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_pages_come_out_as_displayed(fast, rotate):
    spec = sample_page(0, rotate=rotate)
    docs = DotsOCRLoader(make_pdf([spec]), name="rot.pdf", **fast).load()
    # Turned sideways, the caption is beside its picture: a caption links above or below only.
    assert_boxes(docs, 0, spec, tolerance=1.0, captions=rotate == 180)
    if rotate != 180:
        assert (docs[0].metadata["page_width"], docs[0].metadata["page_height"]) == (792, 612)


def test_vector_pdf(fast):
    spec = sample_page(0)
    docs = DotsOCRLoader(make_pdf([spec], kind="vector"), **fast).load()
    assert_boxes(docs, 0, spec, tolerance=1.0)


IMAGE_BOXES = [
    Box("Title", 0, 40, 30, 700, 90),
    Box("Text", 3, 40, 120, 980, 400),
    Box("Table", 1, 60, 430, 900, 800),
    Box("Picture", 2, 500, 820, 980, 1180),
]


@pytest.mark.parametrize(
    ("fmt", "mode", "orientation"),
    [
        ("PNG", "RGB", None),
        ("PNG", "RGBA", None),
        ("JPEG", "RGB", None),
        ("WEBP", "RGB", None),
        ("BMP", "RGB", None),
        ("GIF", "P", None),
        ("JPEG", "RGB", 6),
        ("PNG", "RGB", 8),
        ("TIFF", "CMYK", None),
        ("PNG", "L", None),
    ],
)
def test_images_boxes_in_original_pixels(fast, fmt, mode, orientation):
    data = make_image(1024, 1300, IMAGE_BOXES, fmt=fmt, mode=mode, exif_orientation=orientation)
    docs = DotsOCRLoader(data, name=f"scan.{fmt.lower()}", **fast).load()
    if mode == "L":  # grey loses the colour code: the double sees no element, nothing invented
        assert docs == []
        return
    assert {d.metadata["coordinate_unit"] for d in docs} == {"px"}
    assert (docs[0].metadata["page_width"], docs[0].metadata["page_height"]) == (1024, 1300)
    assert_boxes(docs, 0, PageSpec(1024, 1300, tuple(IMAGE_BOXES)), tolerance=2.0)


def test_tiff_every_frame_is_a_page(fast):
    frames = [[Box("Text", i, 10, 10 + 20 * i, 300, 40 + 20 * i)] for i in range(3)]
    docs = DotsOCRLoader(make_image(400, 500, [], fmt="TIFF", frames=frames), **fast).load()
    assert [d.metadata["page"] for d in docs] == [0, 1, 2]
    assert [d.page_content for d in docs] == [element_text("Text", i) for i in range(3)]
    assert {d.metadata["total_pages"] for d in docs} == {3}


def test_type_is_decided_by_content_not_extension(fast, tmp_path):
    path = tmp_path / "really-a-pdf.png"
    path.write_bytes(make_pdf([sample_page(0)]))
    docs = DotsOCRLoader(path, **fast).load()
    assert docs[0].metadata["coordinate_unit"] == "pt"
    assert docs[0].metadata["source"] == str(path)


def test_reading_order_sections_and_metadata(fast):
    docs = DotsOCRLoader(make_pdf([sample_page(0), sample_page(1)]), **fast).load()
    page0 = [d for d in docs if d.metadata["page"] == 0]
    assert [d.metadata["element_index"] for d in page0] == list(range(len(page0)))
    ys = [d.metadata["bbox"][1] for d in page0]
    assert ys == sorted(ys)
    section = {d.page_content: d.metadata["section"] for d in page0}
    assert section["Header 0"] == ""
    assert section["# Title 0"] == "Title 0"
    assert section["Text block 0."] == "Title 0"
    assert section["- Item 1"] == "Section 0"
    # The section runs on into the next page until a new heading.
    page1 = [d for d in docs if d.metadata["page"] == 1]
    assert page1[0].metadata["section"] == "Section 0"
    for d in docs:
        meta = d.metadata
        lists = ("bbox", "pages")
        assert all(isinstance(v, (str, int, float, bool)) for k, v in meta.items() if k not in lists)
        assert len(meta["bbox"]) == 4 and all(isinstance(v, float) for v in meta["bbox"])
        assert meta["pages"] == [meta["page"]]  # one page: the element is not a joined table
    flat = flatten_bbox(docs[:1])[0].metadata
    assert "bbox" not in flat and flat["bbox_x1"] == docs[0].metadata["bbox"][2]
    assert flat["pages"] == "0"
    assert all(isinstance(v, (str, int, float, bool)) for v in flat.values())


def test_exclude_categories(fast):
    pdf = make_pdf([sample_page(0)])
    docs = DotsOCRLoader(pdf, exclude_categories=["Page-header", "Page-footer"], **fast).load()
    cats = {d.metadata["category"] for d in docs}
    assert "Page-header" not in cats and "Page-footer" not in cats and "Table" in cats


def test_page_and_single_modes(fast):
    pdf = make_pdf([sample_page(0), sample_page(1)])
    pages = DotsOCRLoader(pdf, mode="page", **fast).load()
    assert [d.metadata["page"] for d in pages] == [0, 1]
    text = pages[0].page_content
    assert text.startswith("# Title 0\n\nText block 0.")
    assert "$$\nx_{0} = \\frac{a}{b}\n$$" in text
    assert "<table>" in text and "[Picture]" in text
    assert "Header 0" not in text and "Page 1" not in text  # furniture left out by default
    assert pages[0].metadata["category"] == "Page" and "bbox" not in pages[0].metadata
    (single,) = DotsOCRLoader(pdf, mode="single", **fast).load()
    assert single.page_content == pages[0].page_content + PAGE_SEPARATOR + pages[1].page_content
    assert single.metadata["total_pages"] == 2


def test_ocr_mode_gives_page_documents(fast, fake):
    docs = DotsOCRLoader(make_pdf([sample_page(0)]), prompt_mode="ocr", **fast).load()
    assert len(docs) == 1
    assert "Text block 0." in docs[0].page_content and docs[0].metadata["prompt_mode"] == "ocr"
    assert fake.chat_requests[0].prompt_mode == "prompt_ocr"


def test_layout_only_has_boxes_without_text(fast):
    spec = sample_page(0)
    docs = DotsOCRLoader(make_pdf([spec]), prompt_mode="layout_only", **fast).load()
    assert len(docs) == len(spec.boxes)
    assert {d.page_content for d in docs} <= {"", "[Picture]"}


def test_pages_selection(fast, fake):
    pdf = make_pdf([sample_page(i) for i in range(4)])
    docs = DotsOCRLoader(pdf, pages=[2, -1], **fast).load()
    assert sorted({d.metadata["page"] for d in docs}) == [2, 3]
    assert len(fake.chat_requests) == 2


def test_requests_follow_the_model_contract(fast, fake):
    DotsOCRLoader(make_pdf([sample_page(0)]), **fast).load()
    (req,) = fake.chat_requests
    assert req.violations == []
    assert req.prompt_mode == "prompt_layout_all_en"
    assert (req.temperature, req.top_p) == (0.1, 1.0)
    assert req.max_completion_tokens == req.max_tokens == 16384
    assert req.stream and req.image_format == "PNG"


def test_model_is_discovered_or_checked(fast, fake):
    fake.model_id = "rednote-hilab/dots.mocr"
    docs = DotsOCRLoader(make_pdf([sample_page(0)]), **fast).load()
    assert docs[0].metadata["model"] == "rednote-hilab/dots.mocr"
    with pytest.raises(ModelNotServedError, match="dots.mocr") as err:
        DotsOCRLoader(make_pdf([sample_page(0)]), model="nope", **fast).load()
    assert "nope" in str(err.value)


def test_async_equals_sync_and_runs_concurrently(fast, fake):
    pdf = make_pdf([sample_page(i) for i in range(6)])
    sync_docs = DotsOCRLoader(pdf, **fast).load()

    async def run():
        return [d async for d in DotsOCRLoader(pdf, **fast).alazy_load()]

    async_docs = asyncio.run(run())
    assert [(d.page_content, d.metadata) for d in async_docs] == [
        (d.page_content, d.metadata) for d in sync_docs
    ]


def test_lazy_load_inside_a_running_event_loop(fast):
    """As in a notebook or a web handler: sync load while a loop runs in this thread."""
    pdf = make_pdf([sample_page(0)])

    async def handler():
        return DotsOCRLoader(pdf, **fast).load()

    assert len(asyncio.run(handler())) == len(sample_page(0).boxes)


def test_sources_list_folder_blob_and_parser(fast, tmp_path):
    (tmp_path / "a.pdf").write_bytes(make_pdf([sample_page(0)]))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(
        make_image(300, 300, [Box("Text", 1, 10, 10, 200, 50)])
    )
    (tmp_path / ".hidden.pdf").write_bytes(b"not read")
    docs = DotsOCRLoader(tmp_path, **fast).load()
    assert [*dict.fromkeys(d.metadata["source"] for d in docs)] == [
        str(tmp_path / "a.pdf"),
        str(tmp_path / "sub" / "b.png"),
    ]
    blob = Blob.from_data(make_pdf([sample_page(0)]), path="mem.pdf")
    parsed = DotsOCRParser(**fast).parse(blob)
    assert parsed[0].metadata["source"] == "mem.pdf"
    both = DotsOCRLoader([blob, tmp_path / "a.pdf"], **fast).load()
    assert len(both) == 2 * len(sample_page(0).boxes)


def test_early_break_closes_cleanly(fast):
    pdf = make_pdf([sample_page(i) for i in range(8)])
    loader = DotsOCRLoader(pdf, **fast)
    first = next(iter(loader.lazy_load()))
    assert first.metadata["page"] == 0


def test_parse_file_example_runs(base_url, tmp_path):
    import subprocess
    import sys

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([sample_page(0)]))
    done = subprocess.run(
        [sys.executable, "examples/parse_file.py", str(pdf), "--base-url", base_url],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Title" in done.stdout and "'# Title 0'" in done.stdout
    assert "1 pages done, 0 needed help, 0 failed, 1 requests" in done.stdout


def test_parser_plugs_into_generic_loader(fast, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community is sunsetting
        from langchain_community.document_loaders.generic import GenericLoader

    for i in range(2):
        (tmp_path / f"doc{i}.pdf").write_bytes(make_pdf([sample_page(i)]))
    (tmp_path / "notes.txt").write_text("not matched by the glob")
    loader = GenericLoader.from_filesystem(tmp_path, glob="*.pdf", parser=DotsOCRParser(**fast))
    docs = loader.load()
    assert len(docs) == 2 * len(sample_page(0).boxes)
    assert {Path(d.metadata["source"]).name for d in docs} == {"doc0.pdf", "doc1.pdf"}


def test_name_names_a_single_file_path_and_warns_where_it_names_nothing(fast, pdf, tmp_path):
    import pytest
    from langchain_core.documents.base import Blob

    docs = DotsOCRLoader(pdf, name="upload.pdf", **fast).load()
    assert {d.metadata["source"] for d in docs} == {"upload.pdf"}
    plain = DotsOCRLoader(pdf, **fast).load()
    assert [d.id for d in docs] == [d.id for d in plain]  # ids are the content's, not the name's
    with pytest.warns(UserWarning, match="name='x.pdf' is ignored: .* not a folder"):
        folder = DotsOCRLoader(tmp_path, name="x.pdf", **fast).load()
    assert {d.metadata["source"] for d in folder} == {str(pdf)}
    with pytest.warns(UserWarning, match="not several paths"):
        DotsOCRLoader([pdf, pdf], name="x.pdf", **fast)
    with pytest.warns(UserWarning, match="not a Blob"):
        DotsOCRLoader(Blob.from_path(pdf), name="x.pdf", **fast)
