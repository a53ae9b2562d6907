"""Decode the model's answer into layout cells, cell by cell, keeping every good one.

The model is asked for a JSON array of ``{"bbox", "category", "text"}`` cells. Answers break
(truncated by the budget, a missing comma, a three-number box, code fences), so when the whole
answer is not valid JSON each cell is decoded on its own and every complete cell with a usable
box is kept. Nothing here invents a cell: every cell returned was in the answer.

Boxes are judged by how wrong they are (:func:`judge_box`): the corners are put in order; a
coordinate past the image edge by at most one 28-px patch (the model's unit of sight) is clamped
to the edge; one further out is a broken box, and its cell is dropped like any broken cell (the
answer is then incomplete, so the page is asked again and the better answer kept). A box that
collapses to a line or a point keeps its cell: the text is content, and the answer stays
complete.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .pages import PageInfo

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*|\s*```\s*$")
_DECODER = json.JSONDecoder()


# How far past the image edge a coordinate may be and still be clamped: one visual token.
EDGE_SLACK = 28

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Cell:
    """One layout cell as the model gave it: box in pixels of the page image.

    ``extraction`` says which request read it (see :mod:`.read`); ``answer`` which answer
    gave it (a number per answer, 0 when untold): cells of one answer are distinct elements,
    never one element read twice (:func:`.read.order.merge`); ``text_source`` where its text
    came from: ``"model"`` (the answer) or ``"layer"`` (the PDF's text layer).
    """

    category: str
    bbox: Box
    text: str | None
    extraction: str = "layout"
    answer: int = field(default=0, compare=False)
    text_source: str = "model"


@dataclass(frozen=True)
class Element:
    """A layout element on the page: box in page units, top-left origin."""

    category: str
    text: str | None
    bbox: Box
    extraction: str = "layout"
    text_source: str = "model"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Element:
        """An element from its ``dataclasses.asdict`` form (a cache entry, a Ray row).

        Args:
            data: ``category``, ``text``, ``bbox`` (four numbers, page units) and
                ``extraction``; ``text_source`` is ``"model"`` when absent (entries written
                before it existed).

        Returns:
            The element, its box as a tuple.
        """
        x0, y0, x1, y1 = data["bbox"]
        return cls(
            data["category"],
            data["text"],
            (float(x0), float(y0), float(x1), float(y1)),
            data["extraction"],
            data.get("text_source", "model"),
        )


@dataclass
class Decoded:
    """The cells of an answer and whether the answer was a complete, valid array."""

    cells: list[Cell] = field(default_factory=list)
    complete: bool = True
    problems: list[str] = field(default_factory=list)


def decode_answer(answer: str, width: int, height: int) -> Decoded:
    """Decode a layout answer for an image of ``width`` x ``height`` pixels.

    Boxes are judged by :func:`judge_box`; cells without a usable box and exact duplicates are
    dropped and noted in ``problems``. An answer is ``complete`` when it is valid JSON and no
    cell had to be dropped for its box.
    """
    text = _FENCE.sub("", answer.strip())
    result = Decoded()
    raw: list[Any]
    try:
        value = json.loads(text)
        raw = _unwrap(value)
    except ValueError:
        result.complete = False
        result.problems.append("answer is not valid JSON; decoded cell by cell")
        raw = list(_scan_cells(text))
    seen: set[Cell] = set()
    for item in raw:
        cell = _to_cell(item, width, height, result.problems)
        if cell is None:
            result.complete = False
            continue
        if cell in seen:
            result.problems.append(f"duplicate {cell.category} cell dropped")
            continue
        seen.add(cell)
        result.cells.append(cell)
    return result


def _unwrap(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if "bbox" in value:
            return [value]
        for inner in value.values():
            if isinstance(inner, list):
                return inner
    raise ValueError("answer is neither a list of cells nor an object holding one")


def _scan_cells(text: str) -> list[Any]:
    """Every JSON object that decodes on its own, left to right, not nested in another."""
    cells = []
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict) and "category" in obj:
            cells.append(obj)
        pos = text.find("{", end)
    return cells


def _to_cell(item: Any, width: int, height: int, problems: list[str]) -> Cell | None:
    if not isinstance(item, dict):
        problems.append("a cell that is not an object was dropped")
        return None
    category = item.get("category")
    if not isinstance(category, str) or not category:
        problems.append("a cell without a category was dropped")
        return None
    box, why = judge_box(item.get("bbox"), width, height)
    if box is None:
        problems.append(f"a {category} cell with {why} {item.get('bbox')!r} was dropped")
        return None
    text = item.get("text")
    return Cell(category, box, text if isinstance(text, str) else None)


def judge_box(value: Any, width: int, height: int) -> tuple[Box | None, str]:
    """A usable box for an image of ``width`` x ``height`` px, or ``None`` and why not.

    Corners are put in order; coordinates at most :data:`EDGE_SLACK` px past an edge are
    clamped to it; further out the box is broken. A box may collapse to a line or a point.
    """
    if not (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return None, "an unusable box"
    x1, y1, x2, y2 = (float(v) for v in value)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):  # json.loads takes NaN, Infinity
        return None, "a box that is not finite"
    far = [v for v in (x1, x2) if not -EDGE_SLACK <= v <= width + EDGE_SLACK]
    far += [v for v in (y1, y2) if not -EDGE_SLACK <= v <= height + EDGE_SLACK]
    if far:
        return None, f"a box far outside the {width}x{height} image"
    x1, x2 = sorted((_clamp(x1, width), _clamp(x2, width)))
    y1, y2 = sorted((_clamp(y1, height), _clamp(y2, height)))
    return (x1, y1, x2, y2), ""


def _clamp(v: float, limit: int) -> float:
    return min(max(v, 0.0), float(limit))


_OPEN_CELL = re.compile(
    r'\{\s*"bbox"\s*:\s*\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]'
    r'\s*,\s*"category"\s*:\s*"([A-Za-z-]+)"'
)


def open_cell(answer: str, width: int, height: int) -> Cell | None:
    """The cell an answer was cut in, if its box and category were written before the cut.

    A truncated answer ends inside a cell; when that cell is a single region whose text alone
    outgrows the budget (a long table), its box and category say what the region is.
    """
    start = answer.rfind('{"bbox"')
    if start == -1:
        return None
    tail = answer[start:]
    try:
        json.loads(tail.rstrip().rstrip(",").rstrip("]").rstrip())
        return None  # the last cell is whole: the answer was not cut inside it
    except ValueError:
        pass
    m = _OPEN_CELL.match(tail)
    if m is None:
        return None
    box, _ = judge_box([float(v) for v in m.groups()[:4]], width, height)
    return Cell(m.group(5), box, None) if box is not None else None


def to_elements(cells: list[Cell], page: PageInfo, width: int, height: int) -> list[Element]:
    """Map cell boxes from the sent ``width`` x ``height`` image to page units."""

    def x(v: float) -> float:
        return v * page.width / width

    def y(v: float) -> float:
        return v * page.height / height

    return [
        Element(
            c.category,
            c.text,
            (x(c.bbox[0]), y(c.bbox[1]), x(c.bbox[2]), y(c.bbox[3])),
            c.extraction,
            c.text_source,
        )
        for c in cells
    ]
