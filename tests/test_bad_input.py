"""Bad input: every bad file gets a clear error naming it, and nothing else is lost.

Files are made here (tests.badfiles, tests.fakevllm); the page layer is tested directly where
the pixels matter, and end to end through the vLLM double where the boxes and the error
policies matter.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.documents.base import Blob
from PIL import Image

from langchain_dotsocr import DocumentError, DotsOCRLoader, PageError
from langchain_dotsocr.budget import MAX_ASPECT_RATIO, MAX_PIXELS
from langchain_dotsocr.pages import Geometry, PageImage, open_pages
from tests.badfiles import encrypt_pdf, png, png_bomb, without_page_object, zip_file
from tests.fakevllm import (
    Box,
    PageSpec,
    element_colour,
    element_content,
    make_image,
    make_pdf,
    sample_page,
)
from tests.fakevllm import smart_resize as server_resize

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-Pa55"


def expected_docs(boxes, page=0):
    return sorted((page, b.category, element_content(b, boxes)) for b in boxes)


def got(docs):
    return sorted((d.metadata["page"], d.metadata["category"], d.page_content) for d in docs)


def assert_bboxes(docs, boxes, tolerance, page=0):
    found = {
        (d.metadata["category"], d.page_content): d.metadata["bbox"]
        for d in docs
        if d.metadata["page"] == page
    }
    for b in boxes:
        bbox = found[(b.category, element_content(b, boxes))]
        want = (b.x0, b.y0, b.x1, b.y1)
        assert all(abs(g - w) <= tolerance for g, w in zip(bbox, want, strict=True)), (b, bbox)


def render(data: bytes, index: int = 0, name: str = "f", **geometry) -> PageImage:
    document = open_pages(data, name)
    try:
        return document.render(index, Geometry(**geometry))
    finally:
        document.close()


def colour_at(page: PageImage, x: float, y: float) -> tuple[int, int, int]:
    """The sent image's colour at (x, y) in page units (the original's displayed pixels)."""
    sx, sy = page.image.width / page.info.width, page.image.height / page.info.height
    return page.image.getpixel((int(x * sx), int(y * sy)))  # type: ignore[return-value]


def centre(b: Box) -> tuple[float, float]:
    return (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2


def close_to(rgb, want, tolerance=0):
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=True))


# -- files that are not documents -------------------------------------------------------------

PDF = make_pdf([sample_page(0), sample_page(1)])


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.pdf", b"", "the file is empty (0 bytes)"),
        ("notes.pdf", b"Meeting notes\nnothing to see\n" * 20, "not a PDF, PNG, JPEG"),
        ("archive.png", zip_file(), "not a PDF, PNG, JPEG"),
        ("data.jpg", bytes(range(256)) * 4, "not a PDF, PNG, JPEG"),
        ("half.pdf", PDF[: len(PDF) // 2], "damaged, truncated or not a PDF"),
        ("head.pdf", PDF[:200], "damaged, truncated or not a PDF"),
        ("fake.pdf", b"%PDF-1.7\nthis is text that starts like a PDF\n", "damaged, truncated"),
        ("blank.pdf", make_pdf([]), "the PDF has no pages"),
        ("junk.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "not a readable image"),
    ],
)
def test_not_a_document_is_a_clear_document_error(name, data, says):
    with pytest.raises(DocumentError) as err:
        open_pages(data, name)
    assert err.value.source == name and err.value.page is None
    assert str(err.value).startswith(f"{name}: ") and says in str(err.value)
    assert "BytesIO" not in str(err.value)


def test_pdf_reasons_do_not_leak_from_the_file_before():
    """PDFium keeps its last error code across files; each file must get its own reason."""
    locked = encrypt_pdf(make_pdf([sample_page(0, 300, 400)]), user_password=PASSWORD)
    sequence = [
        (locked, "the password is needed"),
        (make_pdf([]), "the PDF has no pages"),
        (PDF[:500], "damaged, truncated"),
        (make_pdf([]), "the PDF has no pages"),
        (locked, "the password is needed"),
    ]
    for data, says in sequence:
        with pytest.raises(DocumentError, match=says):
            open_pages(data, "f.pdf")


def test_a_truncated_image_fails_on_its_page_not_silently():
    data = make_image(600, 800, [Box("Text", 1, 10, 10, 500, 700)])
    cut = data[: len(data) * 2 // 3]  # the header is whole, the pixels are not
    with pytest.raises(PageError, match=r"cut\.png, page 1 of 1 \(page=0\): cannot decode"):
        render(cut, name="cut.png")


@pytest.mark.timeout(30)  # before read_blob, a missing file left the run waiting forever
def test_unreadable_paths_fail_alone(fast, tmp_path):
    good = tmp_path / "good.pdf"
    good.write_bytes(make_pdf([sample_page(0)]))
    missing = tmp_path / "gone.pdf"
    a_folder_blob = tmp_path / "folder.pdf"
    a_folder_blob.mkdir()
    sources = [missing, Blob.from_path(a_folder_blob), good]
    docs = DotsOCRLoader(sources, on_error="mark", **fast).load()
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    assert [(d.metadata["source"], d.metadata["error_type"]) for d in errors] == [
        (str(missing), "DocumentError"),
        (str(a_folder_blob), "DocumentError"),
    ]
    assert "cannot read the file (No such file or directory)" in errors[0].metadata["error"]
    assert got([d for d in docs if d not in errors]) == expected_docs(sample_page(0).boxes)
    with pytest.raises(DocumentError, match=r"gone\.pdf: cannot read the file"):
        DotsOCRLoader([missing, good], **fast).load()


# -- encrypted PDFs ----------------------------------------------------------------------------


def pixels(page: PageImage) -> bytes:
    return page.image.tobytes()


@pytest.mark.parametrize("kind", ["image", "vector"])
def test_encrypted_pdf_opens_with_the_user_or_owner_password(kind):
    plain = make_pdf([sample_page(0, 300, 400)], kind=kind)
    locked = encrypt_pdf(plain, user_password=PASSWORD, owner_password="own3r")
    reference = pixels(render(plain))
    for password in (PASSWORD, "own3r"):
        document = open_pages(locked, "locked.pdf", password=password)
        assert pixels(document.render(0, Geometry())) == reference
        document.close()


@pytest.mark.parametrize(
    ("password", "says"),
    [
        (None, "the PDF is encrypted and the password is needed (set password=)"),
        ("", "the PDF is encrypted and the password is needed (set password=)"),
        ("not-it-at-all", "the PDF is encrypted and the password is wrong"),
    ],
)
def test_missing_or_wrong_password_says_so(password, says):
    locked = encrypt_pdf(make_pdf([sample_page(0, 300, 400)]), user_password=PASSWORD)
    with pytest.raises(DocumentError) as err:
        open_pages(locked, "locked.pdf", password=password)
    assert str(err.value) == f"locked.pdf: {says}"
    assert "format" not in str(err.value)  # not a generic parse failure
    for text in (str(err.value), repr(err.value), str(err.value.__cause__)):
        assert PASSWORD not in text and (not password or password not in text)


@pytest.mark.parametrize("password", [None, "", "the-batch-password"])
def test_owner_only_encryption_opens_without_the_password(password):
    """No user password (permissions only): opens with none, and with another PDF's password."""
    plain = make_pdf([sample_page(0, 300, 400)])
    locked = encrypt_pdf(plain, user_password="", owner_password="own3r")
    document = open_pages(locked, "perm.pdf", password=password)
    assert pixels(document.render(0, Geometry())) == pixels(render(plain))
    document.close()


def test_a_password_does_not_disturb_unencrypted_pdfs():
    plain = make_pdf([sample_page(0, 300, 400)])
    document = open_pages(plain, "plain.pdf", password=PASSWORD)
    assert pixels(document.render(0, Geometry())) == pixels(render(plain))
    document.close()


def test_encrypted_pdf_end_to_end(fast, caplog):
    specs = [sample_page(0), sample_page(1)]
    locked = encrypt_pdf(make_pdf(specs), user_password=PASSWORD)
    docs = DotsOCRLoader(locked, name="locked.pdf", password=PASSWORD, **fast).load()
    assert got(docs) == sorted(
        expected_docs(specs[0].boxes, 0) + expected_docs(specs[1].boxes, 1)
    )
    with pytest.raises(DocumentError, match="password is wrong") as err:
        DotsOCRLoader(locked, name="locked.pdf", password="guess", **fast).load()
    assert "guess" not in str(err.value)
    docs = DotsOCRLoader(locked, name="locked.pdf", on_error="mark", **fast).load()
    assert [d.metadata["error"] for d in docs] == [
        "the PDF is encrypted and the password is needed (set password=)"
    ]
    assert PASSWORD not in caplog.text


# -- one bad page in a good PDF ---------------------------------------------------------------

THREE = [sample_page(0), sample_page(1), sample_page(2)]
MISSING_PAGE = without_page_object(make_pdf(THREE), 1)


def test_missing_page_object_fails_only_that_page():
    document = open_pages(MISSING_PAGE, "damaged.pdf")
    assert document.total == 3
    assert document.render(0, Geometry()).info.index == 0
    with pytest.raises(PageError) as err:
        document.render(1, Geometry())
    assert (err.value.source, err.value.page) == ("damaged.pdf", 1)
    assert "cannot render the page" in str(err.value)
    assert document.render(2, Geometry()).info.index == 2
    document.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [(MISSING_PAGE, "cannot render the page (Failed to load page.)")],
    ids=["missing-object"],
)
def test_one_bad_page_under_each_policy(fast, fake, data, reason):
    good = sorted(expected_docs(THREE[0].boxes, 0) + expected_docs(THREE[2].boxes, 2))
    with pytest.raises(PageError) as err:
        DotsOCRLoader(data, name="doc.pdf", **fast).load()
    assert str(err.value).startswith("doc.pdf, page 2 of 3 (page=1): ")
    assert reason in str(err.value)

    loader = DotsOCRLoader(data, name="doc.pdf", on_error="skip", **fast)
    assert got(loader.load()) == good
    report = loader.reports["doc.pdf"]
    assert (report.pages_done, report.pages_failed) == (2, 1) and reason in report.errors[0]

    docs = DotsOCRLoader(data, name="doc.pdf", on_error="mark", **fast).load()
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    assert [(e.metadata["page"], e.metadata["error_type"]) for e in errors] == [(1, "PageError")]
    assert reason in errors[0].metadata["error"]
    assert got([d for d in docs if d not in errors]) == good
    # The refused page never reached the server.
    assert all(r.status == 200 for r in fake.chat_requests)


# -- extreme aspect ratios: read in parts at full resolution, never an HTTP 400 ----------------


@pytest.mark.parametrize(("width", "height"), [(3000, 10), (10, 3000), (2010, 10)])
def test_strip_images_are_kept_at_full_resolution_to_be_read_in_parts(width, height):
    page = render(make_image(width, height, []), name="strip.png")
    assert not page.whole and page.image.size == (width, height)
    assert (page.info.width, page.info.height) == (width, height)


def test_rounding_to_28_cannot_push_a_page_over_the_limit(fast, fake):
    """6000x30 is exactly 200:1, but the model's sizes (5992x28) are 214:1: the server would
    refuse it with a 400, so the page is read in parts instead, each within the limit."""
    assert MAX_ASPECT_RATIO == 6000 / 30
    with pytest.raises(ValueError, match="aspect ratio"):
        server_resize(28, 5992)  # what vLLM would do with the image we would have sent whole
    assert not render(make_image(6000, 30, []), name="strip.png").whole
    boxes = [Box("Text", 2, 100, 5, 2900, 25), Box("Text", 3, 3100, 5, 5900, 25)]
    docs = DotsOCRLoader(make_image(6000, 30, boxes), name="strip.png", **fast).load()
    assert got(docs) == expected_docs(boxes)
    for request in fake.chat_requests:
        w, h = request.image_size
        assert request.status == 200 and max(w, h) / min(w, h) <= MAX_ASPECT_RATIO


def test_a_page_just_inside_the_limit_is_sent(fast, fake):
    boxes = [Box("Text", 2, 100, 10, 5500, 40)]
    docs = DotsOCRLoader(make_image(5600, 56, boxes), name="wide.png", **fast).load()
    assert got(docs) == expected_docs(boxes)
    assert fake.chat_requests[0].image_size == (5600, 56)


# -- huge pages and images: never more than max_pixels -------------------------------------------

POSTER = PageSpec(
    14400,
    14400,
    (
        Box("Title", 0, 720, 720, 13680, 2160),
        Box("Picture", 1, 720, 2880, 7200, 12960),
        Box("Text", 2, 7920, 2880, 13680, 12960),
    ),
)


def test_a_200_inch_page_renders_within_max_pixels():
    page = render(make_pdf([POSTER], kind="vector"))
    w, h = page.image.size
    assert w * h <= MAX_PIXELS and (w, h) == (3360, 3360)
    assert page.info.natural_pixels == 40000 * 40000  # what 200 dpi would have asked
    assert (page.info.width, page.info.height) == (14400, 14400)


def test_a_200_inch_page_keeps_its_boxes_in_points(fast):
    docs = DotsOCRLoader(make_pdf([POSTER], kind="vector"), name="poster.pdf", **fast).load()
    assert got(docs) == expected_docs(POSTER.boxes)
    assert_bboxes(docs, POSTER.boxes, tolerance=14400 / 3360 * 2)  # two sent pixels


HUGE_BOXES = [
    Box("Title", 0, 100, 100, 2300, 300),
    Box("Text", 1, 100, 400, 1100, 2800),
    Box("Table", 2, 1300, 400, 2300, 2800),
]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_huge_images_are_reduced_and_keep_their_boxes(fast, fake, fmt):
    data = make_image(2400, 3000, HUGE_BOXES, fmt=fmt)
    docs = DotsOCRLoader(data, name=f"big.{fmt}", max_pixels=1_000_000, **fast).load()
    assert got(docs) == expected_docs(HUGE_BOXES)
    assert (docs[0].metadata["page_width"], docs[0].metadata["page_height"]) == (2400, 3000)
    assert_bboxes(docs, HUGE_BOXES, tolerance=2400 / 868 * 2)
    w, h = fake.chat_requests[0].image_size
    assert w * h <= 1_000_000


def test_a_page_renders_the_same_whatever_was_rendered_before():
    """JPEG's draft mode changes the decoder: a small render first must not shrink the next."""
    document = open_pages(make_image(2400, 3000, HUGE_BOXES, fmt="JPEG"), "big.jpg")
    small = document.render(0, Geometry(max_pixels=200_000))
    full = document.render(0, Geometry())
    again = document.render(0, Geometry(max_pixels=200_000))
    document.close()
    assert small.info == full.info == again.info
    assert (full.info.width, full.info.height) == (2400, 3000)
    assert small.image.size == again.image.size
    assert full.image.width * full.image.height > 20 * small.image.width * small.image.height


# Peak memory of one page-layer call, measured in a fresh interpreter (ru_maxrss only grows).
_MEASURE = """
import io, json, resource, sys, time
from PIL import Image
from langchain_dotsocr.pages import Geometry, open_pages
from langchain_dotsocr.errors import DotsOCRError
for fmt, mode in (("PNG", "RGBA"), ("JPEG", "RGB")):  # warm up: plugins, codecs, arenas
    buf = io.BytesIO(); Image.new(mode, (64, 64)).save(buf, fmt)
    open_pages(buf.getvalue(), "warm").render(0, Geometry())
data = open(sys.argv[1], "rb").read()
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, start, error = peak(), time.perf_counter(), None
try:
    open_pages(data, "f").render(0, Geometry(max_pixels=int(sys.argv[2])))
except DotsOCRError as exc:
    error = str(exc)
print(json.dumps({"grew": peak() - before, "seconds": time.perf_counter() - start,
                  "error": error}))
"""


def measure(tmp_path: Path, data: bytes, max_pixels: int = MAX_PIXELS) -> dict:
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(max_pixels)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


MB = 1 << 20


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_memory_of_huge_pages_stays_near_max_pixels(tmp_path):
    # Uncapped, 200 dpi would be 40000x40000 px: 4.8 GB. Capped: 3360x3360, about 34 MB a copy.
    poster = measure(tmp_path, make_pdf([POSTER], kind="vector"))
    assert poster["error"] is None and poster["grew"] < 12 * MAX_PIXELS  # 4 RGB copies at most

    # 4000x4000 RGB JPEG with max_pixels 1M: decoded at 1/4 scale (1000x1000), never whole.
    image = Image.new("RGB", (4000, 4000), "white")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    jpeg = measure(tmp_path, buffer.getvalue(), 1_000_000)
    assert jpeg["error"] is None and jpeg["grew"] < 48 * MB / 2  # half one full decode

    # 4000x4000 RGBA PNG: decoded whole (64 MB), then reduced and flattened band by band.
    image = Image.new("RGBA", (4000, 4000), (200, 20, 20, 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    del image
    png_run = measure(tmp_path, buffer.getvalue(), 1_000_000)
    assert png_run["error"] is None and png_run["grew"] < 1.5 * 64 * MB


# -- decompression bombs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (10_000, 10_000)],  # past Pillow's 2x error, and in its 1x..2x warning
)
def test_bombs_are_refused_by_their_header(width, height, monkeypatch):
    from PIL import ImageFile

    data = png_bomb(width, height)
    assert len(data) < 200
    decoded = []  # by the header alone: no frame's pixels are ever loaded
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decoded.append(im) or load(im))
    with pytest.raises(DocumentError, match="decompression bomb") as err:
        open_pages(data, "bomb.png")
    assert decoded == []
    assert err.value.source == "bomb.png" and str(err.value).startswith("bomb.png: refused")
    assert f"{width * height}" in str(err.value)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_a_bomb_allocates_nothing(tmp_path):
    run = measure(tmp_path, png_bomb(10_000, 10_000))  # 300 MB of RGB if decoded
    assert "decompression bomb" in run["error"] and run["grew"] < 8 * MB


def test_pillow_limit_is_read_when_used_and_checked_on_every_frame(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(DocumentError, match="decompression bomb"):
        open_pages(make_image(1500, 1000, []), "one.png")  # Pillow's warning, refused
    # Pillow checks only the first frame when it opens a file; the page layer checks each.
    frames = [Image.new("RGB", (500, 500), "white"), Image.new("RGB", (1100, 1000), "white")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    document = open_pages(buffer.getvalue(), "frames.tif")
    assert document.total == 2
    document.render(0, Geometry())
    with pytest.raises(PageError, match=r"frames\.tif, page 2 of 2 \(page=1\): .* bomb"):
        document.render(1, Geometry())
    document.close()


# -- image modes: right side up, RGB, boxes in the original's displayed pixels ----------------

MODE_BOXES = [
    Box("Title", 0, 20, 20, 180, 60),
    Box("Text", 9, 20, 90, 100, 250),
    Box("Table", 5, 120, 90, 180, 150),
]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(fmt, orientation):
    data = make_image(200, 300, MODE_BOXES, fmt=fmt, exif_orientation=orientation)
    page = render(data)
    assert (page.info.width, page.info.height) == (200, 300)
    assert page.image.mode == "RGB"
    tolerance = 10 if fmt == "JPEG" else 0
    for b in MODE_BOXES:
        assert close_to(colour_at(page, *centre(b)), element_colour(b.category, b.n), tolerance)
    assert close_to(colour_at(page, 190, 290), (255, 255, 255), tolerance)


IMAGE_BOXES = [
    Box("Title", 0, 40, 30, 600, 90),
    Box("Text", 3, 40, 120, 300, 700),
    Box("Picture", 2, 340, 120, 600, 500),
]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_end_to_end(fast, orientation):
    data = make_image(640, 800, IMAGE_BOXES, fmt="PNG", exif_orientation=orientation)
    docs = DotsOCRLoader(data, name="photo.png", **fast).load()
    assert got(docs) == expected_docs(IMAGE_BOXES)
    assert (docs[0].metadata["page_width"], docs[0].metadata["page_height"]) == (640, 800)
    assert_bboxes(docs, IMAGE_BOXES, tolerance=2)


def sixteen_bit_grey() -> bytes:
    """A 16-bit greyscale PNG: background 65535, a box at 32768 and one at 0x1234."""
    image = Image.new("I;16", (200, 300), 65535)
    for box, value in ((MODE_BOXES[1], 32768), (MODE_BOXES[2], 0x1234)):
        for y in range(int(box.y0), int(box.y1)):
            for x in range(int(box.x0), int(box.x1)):
                image.putpixel((x, y), value)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "I;16"
    return buffer.getvalue()


def test_sixteen_bit_grey_is_scaled_not_clipped():
    page = render(sixteen_bit_grey())
    assert page.image.mode == "RGB"
    assert colour_at(page, *centre(MODE_BOXES[1])) == (128, 128, 128)
    assert colour_at(page, *centre(MODE_BOXES[2])) == (0x12, 0x12, 0x12)
    assert colour_at(page, 190, 290) == (255, 255, 255)


def test_sixteen_bit_colour_png_end_to_end(fast):
    colour = element_colour("Title", 0)
    wide = struct.pack(">HHH", *(c * 256 + 0x55 for c in colour))  # high bytes: the colour
    white = struct.pack(">HHH", 65535, 65535, 65535)
    width, height = 320, 240
    rows = b""
    for y in range(height):
        inside = 40 <= y < 120
        rows += b"\x00" + b"".join(
            wide if inside and 30 <= x < 290 else white for x in range(width)
        )
    data = png(width, height, 16, 2, rows)
    page = render(data)
    assert colour_at(page, 160, 80) == colour
    docs = DotsOCRLoader(data, name="deep.png", **fast).load()
    assert got(docs) == [(0, "Title", "# Title 0")]
    assert_bboxes(docs, [Box("Title", 0, 30, 40, 290, 120)], tolerance=2)


def palette_with_transparency(fmt: str) -> bytes:
    """Index 0 is transparent (and black); boxes use the following indices."""
    image = Image.new("P", (200, 300), 0)
    palette = [0, 0, 0]
    for i, b in enumerate(MODE_BOXES, start=1):
        palette += list(element_colour(b.category, b.n))
        image.paste(i, (int(b.x0), int(b.y0), int(b.x1), int(b.y1)))
    image.putpalette(palette + [0] * (768 - len(palette)))
    buffer = io.BytesIO()
    image.save(buffer, fmt, transparency=0)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_transparency_is_white(fast, fmt):
    data = palette_with_transparency(fmt)
    page = render(data)
    assert colour_at(page, 190, 290) == (255, 255, 255)  # transparent black shows as white
    for b in MODE_BOXES:
        assert colour_at(page, *centre(b)) == element_colour(b.category, b.n)
    docs = DotsOCRLoader(data, name=f"pal.{fmt}", **fast).load()
    assert got(docs) == expected_docs(MODE_BOXES)
    assert_bboxes(docs, MODE_BOXES, tolerance=2)


def test_alpha_is_flattened_on_white():
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((200, 20, 20, 255), (10, 10, 50, 50))
    rgba.paste((0, 0, 200, 128), (60, 10, 90, 50))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    page = render(buffer.getvalue())
    assert colour_at(page, 30, 30) == (200, 20, 20)
    assert close_to(colour_at(page, 75, 30), (127, 127, 227), 1)  # half blue over white
    assert colour_at(page, 95, 95) == (255, 255, 255)
    keyed = Image.new("RGB", (100, 100), (0, 0, 0))  # black is the transparent colour key
    keyed.paste((200, 20, 20), (10, 10, 50, 50))
    buffer = io.BytesIO()
    keyed.save(buffer, "PNG", transparency=(0, 0, 0))
    keyed_page = render(buffer.getvalue())
    assert colour_at(keyed_page, 30, 30) == (200, 20, 20)
    assert colour_at(keyed_page, 95, 95) == (255, 255, 255)
    la = Image.new("LA", (100, 100), (0, 128))
    buffer = io.BytesIO()
    la.save(buffer, "PNG")
    assert close_to(colour_at(render(buffer.getvalue()), 50, 50), (127, 127, 127), 1)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grey_and_bilevel_images_are_sent_as_rgb(mode):
    """Grey pictures lose the double's colour code, so the page layer is checked directly."""
    image = Image.new("L", (200, 300), 255)
    image.paste(0, (20, 20, 180, 60))
    image.paste(90, (20, 90, 100, 250))
    image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    page = render(buffer.getvalue())
    assert page.image.mode == "RGB"
    assert colour_at(page, 100, 40) == (0, 0, 0)
    assert colour_at(page, 60, 170) == ((90, 90, 90) if mode == "L" else (0, 0, 0))
    assert colour_at(page, 150, 280) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_comes_out_in_its_colours(fast, fmt):
    data = make_image(640, 800, IMAGE_BOXES, fmt=fmt, mode="CMYK")
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    page = render(data)
    tolerance = 10 if fmt == "JPEG" else 0
    for b in IMAGE_BOXES:
        assert close_to(colour_at(page, *centre(b)), element_colour(b.category, b.n), tolerance)
    docs = DotsOCRLoader(data, name=f"cmyk.{fmt}", **fast).load()
    assert got(docs) == expected_docs(IMAGE_BOXES)


def test_tiff_frames_of_different_sizes_and_modes(fast):
    frames = [
        Image.open(io.BytesIO(make_image(300, 200, [Box("Title", 1, 20, 20, 280, 80)]))),
        Image.new("L", (100, 400), 77),
        Image.open(io.BytesIO(make_image(240, 320, [Box("Text", 4, 20, 20, 200, 300)]))).convert(
            "CMYK"
        ),
    ]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    document = open_pages(data, "multi.tif")
    pages = [document.render(i, Geometry()) for i in range(3)]
    sizes = [(p.info.width, p.info.height) for p in pages]
    document.close()
    assert sizes == [(300, 200), (100, 400), (240, 320)]
    assert colour_at(render(data, 1), 50, 200) == (77, 77, 77)
    docs = DotsOCRLoader(data, name="multi.tif", **fast).load()
    assert got(docs) == [(0, "Title", "# Title 1"), (2, "Text", "Text block 4.")]
    assert {d.metadata["page"]: d.metadata["page_width"] for d in docs} == {0: 300, 2: 240}


# -- batches: a bad file costs only itself --------------------------------------------------------

GOOD_PDF_A = [sample_page(0), sample_page(1)]
GOOD_PDF_B = [sample_page(0, 595, 842)]
GOOD_PNG = IMAGE_BOXES


def batch(tmp_path: Path) -> dict[str, bytes]:
    files = {
        "a_report.pdf": make_pdf(GOOD_PDF_A),
        "b_corrupt.pdf": make_pdf(GOOD_PDF_A)[:3000],
        "c_scan.png": make_image(640, 800, GOOD_PNG),
        "d_notes.pdf": b"just some text, named like a PDF\n",
        "e_empty.pdf": b"",
        "f_locked.pdf": encrypt_pdf(make_pdf(GOOD_PDF_B), user_password=PASSWORD),
        "g_photo.jpg": make_image(640, 800, GOOD_PNG, fmt="JPEG"),
        "h_damaged.pdf": MISSING_PAGE,
        "i_archive.png": zip_file(),
        "j_a4.pdf": make_pdf(GOOD_PDF_B),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


BAD_FILES = {
    "b_corrupt.pdf": "damaged, truncated or not a PDF",
    "d_notes.pdf": "not a PDF, PNG, JPEG",
    "e_empty.pdf": "the file is empty (0 bytes)",
    "f_locked.pdf": "the password is needed (set password=)",
    "i_archive.png": "not a PDF, PNG, JPEG",
}


def good_files(tmp_path: Path, fast, **options) -> dict[str, list]:
    """Each good file loaded on its own: what the batch must give for it."""
    names = ["a_report.pdf", "c_scan.png", "g_photo.jpg", "j_a4.pdf"]
    return {
        n: [(d.page_content, d.metadata) for d in DotsOCRLoader(tmp_path / n, **fast).load()]
        for n in names
    }


def by_source(docs) -> dict[str, list]:
    out: dict[str, list] = {}
    for d in docs:
        out.setdefault(Path(d.metadata["source"]).name, []).append((d.page_content, d.metadata))
    return out


@pytest.mark.parametrize("policy", ["skip", "mark"])
def test_a_folder_with_bad_files_loads_every_good_file_completely(fast, tmp_path, policy):
    batch(tmp_path)
    alone = good_files(tmp_path, fast)
    loader = DotsOCRLoader(tmp_path, on_error=policy, **fast)
    docs = loader.load()
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    kept = by_source(d for d in docs if d not in errors)
    for name, want in alone.items():
        assert kept.pop(name) == want, name
    damaged = kept.pop("h_damaged.pdf")
    assert sorted({m["page"] for _, m in damaged}) == [0, 2]  # only the missing page is lost
    assert kept == {}
    failed = {
        Path(name).name: report
        for name, report in loader.reports.items()
        if report.pages_failed
    }
    assert set(failed) == {*BAD_FILES, "h_damaged.pdf"}
    for name, reason in BAD_FILES.items():
        assert reason in failed[name].errors[0] and name in failed[name].errors[0]
    if policy == "skip":
        assert errors == []
        return
    marks = {(Path(e.metadata["source"]).name, e.metadata["page"]): e.metadata for e in errors}
    assert set(marks) == {*((n, -1) for n in BAD_FILES), ("h_damaged.pdf", 1)}
    for name, reason in BAD_FILES.items():
        assert marks[(name, -1)]["error_type"] == "DocumentError"
        assert reason in marks[(name, -1)]["error"]
    assert marks[("h_damaged.pdf", 1)]["error_type"] == "PageError"


def test_a_folder_under_raise_stops_at_the_first_bad_file_naming_it(fast, tmp_path):
    batch(tmp_path)
    alone = good_files(tmp_path, fast)
    seen = []
    with pytest.raises(DocumentError) as err:
        for doc in DotsOCRLoader(tmp_path, **fast).lazy_load():
            seen.append((doc.page_content, doc.metadata))
    assert err.value.source == str(tmp_path / "b_corrupt.pdf")
    assert str(err.value).startswith(f"{tmp_path / 'b_corrupt.pdf'}: ")
    assert seen == alone["a_report.pdf"]  # everything before the bad file was delivered


def test_a_batch_password_opens_the_locked_file_and_nothing_else_changes(fast, tmp_path):
    batch(tmp_path)
    for name in BAD_FILES.keys() - {"f_locked.pdf"}:
        (tmp_path / name).unlink()
    (tmp_path / "h_damaged.pdf").unlink()
    alone = good_files(tmp_path, fast)
    kept = by_source(DotsOCRLoader(tmp_path, password=PASSWORD, **fast).load())
    locked = kept.pop("f_locked.pdf")
    assert [c for c, _ in locked] == [c for c, _ in alone["j_a4.pdf"]]
    assert kept == alone


# -- hostile HTML from the model ----------------------------------------------------------------
# The double answers only from its scene, with no way to inject an answer, so the path from the
# model's raw answer to Documents is run here without the HTTP part: decode_answer ->
# elements_of (where sanitize_tables applies) -> DocumentBuilder.

HOSTILE_TABLE = (
    '<table onclick="steal()" style="color:red" class="x"><thead><tr>'
    '<th colspan="2" style="x" onmouseover="y()">H</th></tr></thead><tbody><tr>'
    '<td rowspan="2" width="9">a<script>alert(1)</script></td>'
    '<td><img src=x onerror="alert(2)">b</td></tr><tr>'
    '<td><a href="javascript:alert(3)">c</a><br>d<iframe src="https://e.test"></iframe>'
    "<style>td{}</style></td></tr></tbody></table>"
    '<svg onload="alert(4)"></svg><p>tail</p>'
)
CLEAN_TABLE = (
    '<table><thead><tr><th colspan="2">H</th></tr></thead><tbody><tr><td rowspan="2">a</td>'
    "<td>b</td></tr><tr><td>c<br>d</td></tr></tbody></table>tail"
)


def test_clean_table_keeps_table_markup_and_spans_only():
    from langchain_dotsocr.sanitize import clean_table

    assert clean_table(HOSTILE_TABLE) == CLEAN_TABLE
    for bad in ("script", "alert", "onclick", "onerror", "onload", "style", "javascript", "<img",
                "<a", "iframe", "<svg", "class="):
        assert bad not in clean_table(HOSTILE_TABLE)
    # Text that merely looks like markup stays escaped text.
    assert clean_table("<table><tr><td>x &lt;script&gt;</td></tr></table>") == (
        "<table><tbody><tr><td>x &lt;script&gt;</td></tr></tbody></table>"
    )


def documents_of_answer(answer: str, **options):
    """Documents of one 560x728 px image page whose model answer is ``answer``."""
    from langchain_dotsocr.documents import DocumentBuilder
    from langchain_dotsocr.encode import EncodedImage
    from langchain_dotsocr.identity import SourceId
    from langchain_dotsocr.layout import decode_answer
    from langchain_dotsocr.pages import PageInfo
    from langchain_dotsocr.read import PageResult, Prepared
    from langchain_dotsocr.read.ink import Ink
    from langchain_dotsocr.read.reader import elements_of
    from langchain_dotsocr.settings import DotsOCRSettings
    from PIL import Image

    settings = DotsOCRSettings(**options)
    info = PageInfo("page.png", 0, 1, 560.0, 728.0, "px", 560 * 728)
    blank = Ink(Image.new("L", (140, 182)), 4)
    page = Prepared(info, EncodedImage("data:image/png;base64,", 560, 728), blank)
    decoded = decode_answer(answer, page.width, page.height)
    assert decoded.complete
    result = PageResult(info, elements_of(decoded.cells, page, settings))
    source = SourceId.of_content("0" * 64, "answer")
    builder = DocumentBuilder(settings, "rednote-hilab/dots.ocr", source)
    return builder.page(result) + builder.finish()


ANSWER = json.dumps(
    [
        {"bbox": [20, 20, 540, 300], "category": "Table", "text": HOSTILE_TABLE},
        {"bbox": [20, 320, 540, 400], "category": "Text", "text": "After the table."},
    ]
)


def test_hostile_table_html_is_cleaned_on_its_way_to_documents():
    table, text = documents_of_answer(ANSWER)
    assert table.metadata["category"] == "Table" and table.page_content == CLEAN_TABLE
    assert table.metadata["bbox"] == [20.0, 20.0, 540.0, 300.0]
    assert text.page_content == "After the table."
    (page,) = documents_of_answer(ANSWER, mode="page")
    assert page.page_content == CLEAN_TABLE + "\n\nAfter the table."


def test_sanitize_tables_false_keeps_the_raw_answer():
    table, _ = documents_of_answer(ANSWER, sanitize_tables=False)
    assert table.page_content == HOSTILE_TABLE
