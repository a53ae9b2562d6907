"""The reference pages of ``dotsocr check --read``: small pages drawn by the project, with truth.

Each page is ``NAME.png`` with ``NAME.png.json`` beside it: ``{"cells": [{"bbox", "category",
"text"}]}`` in reading order, boxes in the PNG's pixels (``[x0, y0, x1, y1]``, top-left
origin). ``tools/make_reference_pages.py`` draws them; README.md here names the fonts.
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image

from ...layout import Cell

__all__ = ["REFERENCE_DPI", "ReferencePage", "export_reference", "reference_pages"]

#: The pages are drawn as if rendered at 200 dpi (the loader's default): 1 px = 0.36 pt.
REFERENCE_DPI = 200
NAMES = ("text", "table", "formula", "cyrillic", "chinese", "scan")


@dataclass(frozen=True)
class ReferencePage:
    """One reference page: its PNG, its size in pixels and its true cells in reading order."""

    name: str
    png: bytes
    sidecar: str
    width: int
    height: int
    cells: tuple[Cell, ...]

    @property
    def categories(self) -> frozenset[str]:
        """The categories the page shows."""
        return frozenset(c.category for c in self.cells)


def _load(name: str) -> ReferencePage:
    folder = resources.files(__package__)
    png = folder.joinpath(f"{name}.png").read_bytes()
    sidecar = folder.joinpath(f"{name}.png.json").read_text(encoding="utf-8")
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    cells = tuple(
        Cell(c["category"], tuple(float(v) for v in c["bbox"]), c.get("text"))  # type: ignore[arg-type]
        for c in json.loads(sidecar)["cells"]
    )
    return ReferencePage(name, png, sidecar, width, height, cells)


@functools.cache
def reference_pages() -> tuple[ReferencePage, ...]:
    """Every reference page, in the order the check sends them."""
    return tuple(_load(name) for name in NAMES)


def export_reference(directory: str | Path) -> list[Path]:
    """Write each page as ``NAME.png`` and its truth as ``NAME.png.json`` into ``directory``.

    Returns the paths written (the directory is created if need be).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in reference_pages():
        png, truth = out / f"{page.name}.png", out / f"{page.name}.png.json"
        png.write_bytes(page.png)
        truth.write_text(page.sidecar, encoding="utf-8")
        written += [png, truth]
    return written
