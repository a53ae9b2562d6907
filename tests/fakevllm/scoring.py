"""A tolerant scorer: what a run kept of a page's truth, when boxes and categories wobble.

Exact comparison fails as soon as the double is noisy (:mod:`.noise`). Here each element found
is matched to the truth element its box overlaps best (IoU of at least :data:`MATCH`), whatever
category either has. A truth element is then found once, found twice (or more: a duplicate), or
lost; an element matching nothing is spurious. Layout F1 counts one-to-one matches only, as the
model's benchmarks do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from langchain_dotsocr.check.score import iou

MATCH = 0.5
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Found:
    """One element a run gave: category, box (in the truth's units) and text."""

    category: str
    box: Box
    text: str = ""


@dataclass(frozen=True)
class Truth:
    category: str
    box: Box
    text: str = ""


@dataclass
class Score:
    """Counts over the truth elements and the found ones; ``pairs`` match one to one."""

    truth: int = 0
    found: int = 0
    once: int = 0
    twice: int = 0  # truth elements found more than once
    duplicates: int = 0  # found elements beyond the first on one truth element
    lost: int = 0
    spurious: int = 0
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (truth index, found index)
    edit: float = 0.0  # mean normalised edit distance of the pairs' texts
    same_category: int = 0  # pairs whose categories agree

    @property
    def f1_labelled(self) -> float:
        """Layout F1 counting a pair only when its categories agree (the model's benchmarks)."""
        if not self.truth or not self.found:
            return 0.0
        p, r = self.same_category / self.found, self.same_category / self.truth
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def f1(self) -> float:
        """Layout F1 at IoU :data:`MATCH`, one to one."""
        if not self.truth or not self.found:
            return 0.0
        p, r = len(self.pairs) / self.found, len(self.pairs) / self.truth
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        n = len(self.pairs) + len(other.pairs)
        edit = (self.edit * len(self.pairs) + other.edit * len(other.pairs)) / n if n else 0.0
        return Score(
            self.truth + other.truth,
            self.found + other.found,
            self.once + other.once,
            self.twice + other.twice,
            self.duplicates + other.duplicates,
            self.lost + other.lost,
            self.spurious + other.spurious,
            self.pairs + other.pairs,
            edit,
            self.same_category + other.same_category,
        )


def best_truth(found: Found, truth: Sequence[Truth]) -> int | None:
    """The index of the truth element ``found`` overlaps best, if by at least :data:`MATCH`."""
    best, best_iou = None, MATCH
    for i, t in enumerate(truth):
        v = iou(t.box, found.box)
        if v >= best_iou:
            best, best_iou = i, v
    return best


def score(truth: Sequence[Truth], found: Sequence[Found]) -> Score:
    """How ``found`` covers ``truth``: see the module's docstring."""
    hits: dict[int, list[int]] = {}
    spurious = 0
    for j, f in enumerate(found):
        i = best_truth(f, truth)
        if i is None:
            spurious += 1
        else:
            hits.setdefault(i, []).append(j)
    # One to one: each truth element keeps the found one that overlaps it best.
    pairs = [(i, max(js, key=lambda j: iou(truth[i].box, found[j].box))) for i, js in hits.items()]
    edits = [Levenshtein.normalized_distance(truth[i].text, found[j].text) for i, j in pairs]
    return Score(
        truth=len(truth),
        found=len(found),
        once=sum(1 for js in hits.values() if len(js) == 1),
        twice=sum(1 for js in hits.values() if len(js) > 1),
        duplicates=sum(len(js) - 1 for js in hits.values()),
        lost=len(truth) - len(hits),
        spurious=spurious,
        pairs=sorted(pairs),
        edit=sum(edits) / len(edits) if edits else 0.0,
        same_category=sum(1 for i, j in pairs if truth[i].category == found[j].category),
    )
