"""The package's reference pages, recognised from the pixels the double receives.

A real dots.ocr reads any page; the double reads its coloured-box pages (:mod:`.vision`) and,
through this module, the reference pages of ``dotsocr check --read``, answering their truth
(``NAME.png.json`` beside each ``NAME.png``) in the coordinates of the image it was sent, after
its own resize. A page is known by its aspect ratio and a 24x24 grey thumbnail, which survive
any resize and a lossy encoding; its "page" (the key of :class:`FaultPlan.by_page`) is its name.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

import langchain_dotsocr.check.reference

from .vision import Element

FOLDER = Path(langchain_dotsocr.check.reference.__file__).parent
THUMB = 24
# Mean grey-level difference of thumbnails: a page against itself resized to 0.8 and sent as
# JPEG stays under 1; two different reference pages differ by more than 6.
SAME_PAGE = 3.0
SAME_RATIO = 0.05


@dataclass(frozen=True)
class Truth:
    """One reference page: its size, its cells as drawn, its thumbnail."""

    name: str
    size: tuple[int, int]
    cells: tuple[dict[str, object], ...]
    thumb: tuple[int, ...]


def thumbnail(image: Image.Image) -> tuple[int, ...]:
    """The image as THUMB x THUMB grey levels (box-averaged)."""
    small = image.convert("L").resize((THUMB, THUMB), Image.Resampling.BOX)
    return tuple(small.tobytes())


@functools.cache
def truths() -> tuple[Truth, ...]:
    """Every reference page shipped with the package."""
    found = []
    for png in sorted(FOLDER.glob("*.png")):
        cells = json.loads(png.with_name(png.name + ".json").read_text("utf-8"))["cells"]
        with Image.open(png) as image:
            found.append(Truth(png.stem, image.size, tuple(cells), thumbnail(image)))
    return tuple(found)


def distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Mean absolute difference of two thumbnails."""
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def recognise(image: Image.Image) -> tuple[str, list[Element]] | None:
    """The reference page ``image`` shows, and its cells scaled to ``image``; None if none."""
    w, h = image.size
    shaped = [t for t in truths() if abs((w / h) / (t.size[0] / t.size[1]) - 1) <= SAME_RATIO]
    if not shaped:
        return None
    thumb = thumbnail(image)
    best = min(shaped, key=lambda t: distance(thumb, t.thumb))
    if distance(thumb, best.thumb) > SAME_PAGE:
        return None
    sx, sy = w / best.size[0], h / best.size[1]
    elements = []
    for n, cell in enumerate(best.cells):
        x0, y0, x1, y1 = cell["bbox"]  # type: ignore[misc]
        box = (round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))
        text = cell.get("text")
        said = text if isinstance(text, str) else None
        elements.append(Element(str(cell["category"]), n, box, text=said))
    return best.name, elements
