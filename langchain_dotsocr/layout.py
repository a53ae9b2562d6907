"""Decode the model's answer into layout cells, cell by cell, keeping every good one.

The model is asked for a JSON array of ``{"bbox", "category", "text"}`` cells. Answers break
(truncated by the budget, a missing comma, a three-number box, code fences), so when the whole
answer is not valid JSON each cell is decoded on its own and every complete cell with a usable
box is kept. Nothing here invents a cell: every cell returned was in the answer.
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


@dataclass(frozen=True)
class Cell:
    """One layout cell as the model gave it: box in pixels of the image it saw."""

    category: str
    bbox: tuple[float, float, float, float]
    text: str | None


@dataclass(frozen=True)
class Element:
    """A layout element on the page: box in page units, top-left origin."""

    category: str
    text: str | None
    bbox: tuple[float, float, float, float]


@dataclass
class Decoded:
    """The cells of an answer and whether the answer was a complete, valid array."""

    cells: list[Cell] = field(default_factory=list)
    complete: bool = True
    problems: list[str] = field(default_factory=list)


def decode_answer(answer: str, width: int, height: int) -> Decoded:
    """Decode a layout answer for an image of ``width`` x ``height`` pixels.

    Boxes are put in order (x1 <= x2, y1 <= y2) and clamped into the image; cells without a
    usable box and exact duplicates are dropped and noted in ``problems``. An answer is
    ``complete`` when it is valid JSON and no cell had to be dropped for its box.
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
    box = item.get("bbox")
    if not isinstance(category, str) or not category:
        problems.append("a cell without a category was dropped")
        return None
    if not (
        isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
    ):
        problems.append(f"a {category} cell with an unusable box {box!r} was dropped")
        return None
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):  # json.loads takes NaN, Infinity
        problems.append(f"a {category} cell with a box that is not finite {box!r} was dropped")
        return None
    x1, x2 = sorted((_clamp(x1, width), _clamp(x2, width)))
    y1, y2 = sorted((_clamp(y1, height), _clamp(y2, height)))
    if x2 <= x1 or y2 <= y1:
        problems.append(f"a {category} cell with an empty box {box!r} was dropped")
        return None
    text = item.get("text")
    return Cell(category, (x1, y1, x2, y2), text if isinstance(text, str) else None)


def _clamp(v: float, limit: int) -> float:
    return min(max(v, 0.0), float(limit))


def to_elements(cells: list[Cell], page: PageInfo, width: int, height: int) -> list[Element]:
    """Map cell boxes from the sent ``width`` x ``height`` image to page units."""

    def x(v: float) -> float:
        return v * page.width / width

    def y(v: float) -> float:
        return v * page.height / height

    return [
        Element(c.category, c.text, (x(c.bbox[0]), y(c.bbox[1]), x(c.bbox[2]), y(c.bbox[3])))
        for c in cells
    ]
