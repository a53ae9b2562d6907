"""How well one answer reads one reference page: text, boxes, tables and categories.

Answer cells are matched to the true cells without looking at their boxes (a server that
resizes images moves every box): tables to tables and pictures to pictures in reading order,
every other cell to the unmatched answer cell whose text is most alike, if at least half alike.
Boxes are then compared as they are, and a scale is fitted that would explain them.

A ``layout_only`` answer has no text to match by: its cells are matched to the true cells in
reading order, category by category (the longest common subsequence of the two sequences of
categories, so a cell missed or added costs only itself), and its boxes are then scored as
those of a ``layout_all`` answer (:func:`score_layout`).

Texts are compared as OmniDocBench does, with the layout's incidentals normalised away:
Unicode NFKC, Markdown heading, list and emphasis marks, ``$`` around formulas, table tags
(table structure is scored on its own) and all whitespace.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ..layout import Cell
from ..tables import table_shape, teds
from .reference import REFERENCE_DPI, ReferencePage

#: Texts less alike than this are not the same cell.
MATCH_SIMILARITY = 0.5
_MARKS = re.compile(r"^\s*(#+|[-*•]|\d+[.)])\s+|\*\*|__|\\left|\\right|\$")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class TableScore:
    """One true table against the answer's table matched to it (``found`` None: no table)."""

    truth: tuple[int, int]
    found: tuple[int, int] | None
    teds: float

    @property
    def same_shape(self) -> bool:
        """Whether rows and columns agree."""
        return self.found == self.truth


@dataclass(frozen=True)
class PageScore:
    """What one answer got right of one page."""

    #: 1 - normalised edit distance of the page's text (reading order), 0..1.
    text_similarity: float
    #: True cells that an answer cell was matched to, of all true cells.
    matched: int
    cells: int
    #: Mean IoU of the true boxes with their matched boxes (unmatched count 0).
    mean_iou: float
    #: Mean distance of matched box edges from the true ones, in points (None: none matched).
    mean_offset_pt: float | None
    #: (x, y) factors that best map true boxes onto the answer's (None: too few matched).
    scale: tuple[float, float] | None
    #: Whether that scale explains the boxes (their offset shrinks to under half once scaled).
    scale_fits: bool
    tables: tuple[TableScore, ...]
    categories_expected: tuple[str, ...]
    categories_found: tuple[str, ...]


@dataclass(frozen=True)
class LayoutScore:
    """What a ``layout_only`` answer got right of one page: its boxes, categories and order
    (the fields mean what :class:`PageScore`'s of the same name do)."""

    matched: int
    cells: int
    mean_iou: float
    mean_offset_pt: float | None
    scale: tuple[float, float] | None
    scale_fits: bool
    categories_expected: tuple[str, ...]
    categories_found: tuple[str, ...]


def normalise(cell: Cell) -> str:
    """The text of a cell as compared: see the module's docstring."""
    text = unicodedata.normalize("NFKC", cell.text or "")
    if cell.category == "Table":
        text = _TAGS.sub(" ", text)
    text = "\n".join(_MARKS.sub("", line) for line in text.splitlines())
    return "".join(text.split())


def page_text(cells: Sequence[Cell]) -> str:
    """A page's normalised text in reading order (pictures have none)."""
    return "\n".join(t for t in (normalise(c) for c in cells) if t)


def similarity(truth: str, found: str) -> float:
    """1 - normalised edit distance (1: the same text; 1 when both are empty)."""
    return 1.0 - float(Levenshtein.normalized_distance(truth, found))


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(truth: Sequence[Cell], found: Sequence[Cell]) -> list[tuple[Cell, Cell]]:
    """Pairs (true cell, answer cell), each cell in at most one pair; boxes are not looked at."""
    pairs: list[tuple[Cell, Cell]] = []
    for category in ("Table", "Picture"):
        mine = [c for c in truth if c.category == category]
        theirs = [c for c in found if c.category == category]
        pairs += zip(mine, theirs, strict=False)
    left = [c for c in truth if c.category not in ("Table", "Picture")]
    free = [c for c in found if c.category not in ("Table", "Picture")]
    scored = sorted(
        (
            (fuzz.ratio(normalise(t), normalise(f)) / 100, i, j)
            for i, t in enumerate(left)
            for j, f in enumerate(free)
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_f: set[int] = set()
    for score, i, j in scored:
        if score < MATCH_SIMILARITY:
            break
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            pairs.append((left[i], free[j]))
    return pairs


def match_in_order(truth: Sequence[Cell], found: Sequence[Cell]) -> list[tuple[Cell, Cell]]:
    """Pairs (true cell, answer cell) of the same category in the same reading order: the
    longest common subsequence of their categories; texts and boxes are not looked at."""
    blocks = SequenceMatcher(
        None, [c.category for c in truth], [c.category for c in found], autojunk=False
    ).get_matching_blocks()
    return [(truth[b.a + k], found[b.b + k]) for b in blocks for k in range(b.size)]


def fit_scale(pairs: Sequence[tuple[Cell, Cell]]) -> tuple[float, float] | None:
    """Least-squares factors (x, y) with answer ~ factor * truth (a resize keeps the origin)."""
    if len(pairs) < 2:
        return None
    factors = []
    for axis in (0, 1):
        truth = [t.bbox[k] for t, _ in pairs for k in (axis, axis + 2)]
        found = [f.bbox[k] for _, f in pairs for k in (axis, axis + 2)]
        square = sum(v * v for v in truth)
        if square == 0:
            return None
        factors.append(sum(a * b for a, b in zip(truth, found, strict=True)) / square)
    return factors[0], factors[1]


def _offset(pairs: Sequence[tuple[Cell, Cell]], sx: float = 1.0, sy: float = 1.0) -> float:
    """Mean distance of the boxes' edges, in pixels, after scaling the true ones."""
    gaps = [
        abs(f.bbox[k] - t.bbox[k] * (sx if k % 2 == 0 else sy))
        for t, f in pairs
        for k in range(4)
    ]
    return statistics.fmean(gaps)


def score_page(page: ReferencePage, found: Sequence[Cell]) -> PageScore:
    """Score answer cells (boxes already in the PNG's pixels) against the page's truth."""
    pairs = match(page.cells, found)
    layout = _layout(page, pairs, found)
    partner = {id(t): f for t, f in pairs}
    tables = tuple(table_score(t, partner.get(id(t))) for t in page.cells if t.category == "Table")
    return PageScore(
        text_similarity=similarity(page_text(page.cells), page_text(found)),
        matched=layout.matched,
        cells=layout.cells,
        mean_iou=layout.mean_iou,
        mean_offset_pt=layout.mean_offset_pt,
        scale=layout.scale,
        scale_fits=layout.scale_fits,
        tables=tables,
        categories_expected=layout.categories_expected,
        categories_found=layout.categories_found,
    )


def score_layout(page: ReferencePage, found: Sequence[Cell]) -> LayoutScore:
    """Score a ``layout_only`` answer's cells (boxes in the PNG's pixels, no text) against the
    page's truth: matched in reading order (module docstring), then as :func:`score_page`."""
    return _layout(page, match_in_order(page.cells, found), found)


def _layout(
    page: ReferencePage, pairs: Sequence[tuple[Cell, Cell]], found: Sequence[Cell]
) -> LayoutScore:
    """The boxes and categories of matched ``pairs``."""
    ious = [iou(t.bbox, f.bbox) for t, f in pairs]
    offset = _offset(pairs) if pairs else None
    scale = fit_scale(pairs)
    fits = False
    if scale is not None and offset is not None:
        fits = offset > 0 and _offset(pairs, *scale) < 0.5 * offset
    return LayoutScore(
        matched=len(pairs),
        cells=len(page.cells),
        mean_iou=sum(ious) / len(page.cells) if page.cells else 1.0,
        mean_offset_pt=None if offset is None else offset * 72 / REFERENCE_DPI,
        scale=scale,
        scale_fits=fits,
        categories_expected=tuple(sorted(page.categories)),
        categories_found=tuple(sorted({c.category for c in found})),
    )


def table_score(truth: Cell, found: Cell | None) -> TableScore:
    """A true table against the answer's table (``found`` None: none): shape and TEDS."""
    shape = table_shape(truth.text or "") or (0, 0)
    if found is None:
        return TableScore(shape, None, 0.0)
    html = found.text or ""
    return TableScore(shape, table_shape(html), teds(truth.text or "", html))
