"""The bundled reference pages: what they hold, that the loader sends them as they are, that the
generator re-creates them, and that the double recognises them after a resize."""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

from langchain_dotsocr import export_reference
from langchain_dotsocr.budget import smart_resize
from langchain_dotsocr.check.reference import reference_pages
from langchain_dotsocr.tables import table_shape
from tests.fakevllm import make_image, sample_page
from tests.fakevllm.reference import recognise

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def load_generator():
    """tools/make_reference_pages.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "make_reference_pages", ROOT / "tools" / "make_reference_pages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_pages_are_sent_unchanged_and_small():
    for page in reference_pages():
        assert smart_resize(page.height, page.width) == (page.height, page.width), page.name
        assert len(page.png) < 300_000, page.name
        for cell in page.cells:
            x0, y0, x1, y1 = cell.bbox
            assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height, (page.name, cell)
            assert (cell.text is None) == (cell.category == "Picture")


def test_pages_hold_what_the_check_needs():
    pages = {p.name: p for p in reference_pages()}
    text = pages["text"].categories
    assert {"Title", "Section-header", "List-item", "Text"} <= text
    (table,) = [c for c in pages["table"].cells if c.category == "Table"]
    assert table_shape(table.text or "")[1] >= 5
    assert re.search(r'(rowspan|colspan)="[2-9]"', table.text or "")
    assert "Formula" in pages["formula"].categories
    cyrillic = " ".join(c.text or "" for c in pages["cyrillic"].cells)
    chinese = " ".join(c.text or "" for c in pages["chinese"].cells)
    assert re.search("[\u0430-\u044f\u0451]{5}", cyrillic)
    assert re.search("[\u4e00-\u9fff]{5}", chinese)
    scan = Image.open(io.BytesIO(pages["scan"].png))
    assert scan.mode == "L"  # grey paper, not white
    all_categories = set().union(*(p.categories for p in pages.values()))
    assert len(all_categories) == 11


def test_export_writes_png_and_truth(tmp_path):
    written = export_reference(tmp_path / "ref")
    assert sorted(p.name for p in written) == sorted(
        n for p in reference_pages() for n in (f"{p.name}.png", f"{p.name}.png.json")
    )
    for page in reference_pages():
        assert (tmp_path / "ref" / f"{page.name}.png").read_bytes() == page.png
        truth = json.loads((tmp_path / "ref" / f"{page.name}.png.json").read_text("utf-8"))
        assert list(truth) == ["cells"]
        assert [(c["category"], c.get("text"), c["bbox"]) for c in truth["cells"]] == [
            (c.category, c.text, [round(v) for v in c.bbox]) for c in page.cells
        ]


@pytest.mark.skipif(
    bool(load_generator().fonts_missing()),
    reason="the fonts that draw the pages are not installed (see reference/README.md)",
)
def test_the_generator_recreates_the_committed_pages(tmp_path):
    assert load_generator().main([str(tmp_path)]) == 0
    for page in reference_pages():
        assert (tmp_path / f"{page.name}.png.json").read_text("utf-8") == page.sidecar
        drawn = Image.open(tmp_path / f"{page.name}.png")
        assert drawn.tobytes() == Image.open(io.BytesIO(page.png)).tobytes(), page.name


@pytest.mark.parametrize("factor", [1.0, 0.8, 1.3])
def test_the_double_recognises_a_page_resized_and_lossy(factor):
    for page in reference_pages():
        image = Image.open(io.BytesIO(page.png)).convert("RGB")
        size = (round(page.width * factor), round(page.height * factor))
        buffer = io.BytesIO()
        image.resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=75)
        known = recognise(Image.open(buffer))
        assert known is not None and known[0] == page.name
        elements = known[1]
        assert [e.text for e in elements] == [c.text for c in page.cells]
        sx, sy = size[0] / page.width, size[1] / page.height
        for element, cell in zip(elements, page.cells, strict=True):
            x0, y0, x1, y1 = cell.bbox
            assert element.bbox == (round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))


def test_the_double_does_not_take_other_pages_for_reference_pages():
    letter = Image.open(io.BytesIO(make_image(1008, 1316, sample_page(0).boxes)))
    assert recognise(letter) is None
    assert recognise(Image.new("RGB", (1008, 1316), "white")) is None
