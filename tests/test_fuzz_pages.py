"""Fuzzing the page layer: random and mangled files raise only the package's errors, quickly.

Inputs are random bytes (bare, or behind the magic bytes of every supported format) and real
documents made by tests.fakevllm, mutated by bit flips, truncation, overwrites, repeats and
chunks spliced in from other documents. Each one goes through ``open_pages`` and ``render`` of
its pages as the loader does; anything but a :class:`DocumentError` from opening or a
:class:`PageError` from rendering (naming the file and the page) fails, and so does an input
that takes longer than ``HANG_SECONDS``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_dotsocr.budget import FACTOR, MAX_ASPECT_RATIO
from langchain_dotsocr.errors import DocumentError, PageError
from langchain_dotsocr.pages import LONG_MAX_PIXELS, Geometry, open_pages
from tests.fakevllm import Box, make_image, make_pdf, sample_page

SOURCE = "fuzz.bin"
HANG_SECONDS = 10.0
GEOMETRY = Geometry()
# A mangled /Count can claim up to a million pages: render the first few and the last.
FIRST_PAGES = 6

_BOXES = [Box("Title", 0, 4, 4, 50, 20), Box("Text", 1, 4, 30, 60, 70)]
SEEDS: list[bytes] = [
    make_pdf([sample_page(0, 200, 260), sample_page(1, 200, 260, rotate=90)], kind="vector"),
    make_pdf([sample_page(0, 100, 130)], oversample=1),
    make_image(64, 80, _BOXES, fmt="PNG"),
    make_image(64, 80, _BOXES, fmt="PNG", mode="RGBA", exif_orientation=8),
    make_image(64, 80, _BOXES, fmt="PNG", mode="P"),
    make_image(64, 80, _BOXES, fmt="JPEG", exif_orientation=6),
    make_image(64, 80, _BOXES, fmt="TIFF", mode="CMYK"),
    make_image(64, 80, [], fmt="TIFF", frames=[_BOXES, _BOXES[:1]]),
    make_image(64, 80, _BOXES, fmt="GIF", mode="P"),
    make_image(64, 80, _BOXES, fmt="BMP"),
    make_image(64, 80, _BOXES, fmt="WEBP"),
]
MAGIC = [
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
]


def exercise(data: bytes) -> None:
    """What the loader does with a file's bytes, with the package's contract checked."""
    try:
        document = open_pages(data, SOURCE)
    except DocumentError as exc:
        assert exc.source == SOURCE and exc.page is None and SOURCE in str(exc)
        return
    try:
        total = document.total
        assert total >= 1
        wanted = sorted({*range(min(total, FIRST_PAGES)), total - 1})
        for index in wanted:
            try:
                page = document.render(index, GEOMETRY)
            except PageError as exc:
                assert exc.source == SOURCE and exc.page == index and SOURCE in str(exc)
                continue
            w, h = page.image.size
            assert page.image.mode == "RGB"
            assert page.info.width > 0 and page.info.height > 0
            if not page.whole:  # a long page, read in parts: full resolution, bounded
                assert w * h <= LONG_MAX_PIXELS
                continue
            assert w % FACTOR == 0 and h % FACTOR == 0
            assert GEOMETRY.min_pixels <= w * h <= GEOMETRY.max_pixels
            assert max(w, h) / min(w, h) <= MAX_ASPECT_RATIO
    finally:
        document.close()


def guarded(
    data: bytes, run: Callable[[bytes], None] = exercise, seconds: float = HANG_SECONDS
) -> None:
    """Run ``run(data)`` in a daemon thread: a hang fails the example instead of the suite."""
    outcome: list[BaseException] = []

    def target() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's "corrupt EXIF" chatter
                run(data)
        except BaseException as exc:  # handed to the test thread, which re-raises it
            outcome.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"no answer within {seconds}s for {len(data)} bytes: {data[:80]!r}")
    if outcome:
        raise outcome[0]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "overwrite", "repeat", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip":
            for _ in range(draw(st.integers(1, 8))):
                bit = draw(st.integers(0, 7))
                pos = draw(st.integers(0, max(0, len(data) - 1)))
                if data:
                    data[pos] ^= 1 << bit
        elif kind == "truncate":
            del data[at:]
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif kind == "repeat":
            chunk = bytes(data[at : at + draw(st.integers(1, 64))])
            data[at:at] = chunk * draw(st.integers(1, 4))
        else:
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other) - 1))
            data[at:at] = other[start : start + draw(st.integers(1, 512))]
    return bytes(data)


FUZZ = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(mutated())
def test_mutated_documents_raise_only_package_errors(data):
    guarded(data)


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=600))
def test_random_bytes_behind_a_format_signature(magic, tail):
    guarded(magic + tail)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    guarded(data)


def test_the_guard_reports_foreign_errors_and_hangs():
    """The guard is not a no-op: what the worker raises reaches the test, and so does a hang."""

    def foreign(data: bytes) -> None:
        raise KeyError(data)

    with pytest.raises(KeyError):
        guarded(b"x", run=foreign)
    release = threading.Event()
    with pytest.raises(pytest.fail.Exception, match="no answer within"):
        guarded(b"x", run=lambda data: release.wait(5), seconds=0.2)
    release.set()
