"""Runs of the loader against the noisy double, scored against the page's truth: what two
readings of one unchanged file, with two draws of the same noise, have in common."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import FakeVLLM, make_pdf
from tests.fakevllm.noise import Noise
from tests.fakevllm.scene import PageSpec, element_text, expected_boxes_displayed
from tests.fakevllm.scoring import Found, Score, Truth, best_truth, score
from tests.fakevllm.vision import Element


def truth_of(spec: PageSpec) -> list[Truth]:
    return [
        Truth(b.category, (b.x0, b.y0, b.x1, b.y1), element_text(b.category, b.n, b.rows) or "")
        for b in expected_boxes_displayed(spec)
    ]


def found_of(docs: Sequence[Document], page: int) -> list[tuple[Found, Document]]:
    return [
        (Found(d.metadata["category"], tuple(d.metadata["bbox"]), d.page_content), d)
        for d in docs
        if d.metadata.get("page") == page and "bbox" in d.metadata
    ]


def run(
    fake: FakeVLLM, url: str, pages: Sequence[PageSpec], seed: int | None, **options: Any
) -> list[Document]:
    """The element Documents of ``pages`` (one PDF) read with noise of ``seed`` (None: none)."""
    fake.reset()
    fake.noise = None if seed is None else Noise(seed=seed)
    opts: dict[str, Any] = {"base_url": url, "retry_backoff": 0.01, "max_concurrency": 8}
    return DotsOCRLoader(make_pdf(list(pages)), name="noisy.pdf", **(opts | options)).load()


def scores(pages: Sequence[PageSpec], docs: Sequence[Document]) -> Score:
    total = Score()
    for i, spec in enumerate(pages):
        total = total + score(truth_of(spec), [f for f, _ in found_of(docs, i)])
    return total


@dataclass(frozen=True)
class Kept:
    """Element ids of two runs: truth elements found once in both, and those of them whose id
    is the same in both."""

    both: int
    same: int
    repeated: int  # ids that occur twice within one run (must be 0)

    @property
    def share(self) -> float:
        return self.same / self.both if self.both else 0.0


def ids_kept(pages: Sequence[PageSpec], a: Sequence[Document], b: Sequence[Document]) -> Kept:
    both = same = 0
    for i, spec in enumerate(pages):
        truth = truth_of(spec)
        ids_a, ids_b = _ids_by_truth(truth, a, i), _ids_by_truth(truth, b, i)
        for t in ids_a.keys() & ids_b.keys():
            both += 1
            same += ids_a[t] == ids_b[t]
    repeated = sum(len(d) - len({x.id for x in d}) for d in (a, b))
    return Kept(both, same, repeated)


def _ids_by_truth(truth: list[Truth], docs: Sequence[Document], page: int) -> dict[int, str]:
    hits: dict[int, list[str]] = {}
    for f, d in found_of(docs, page):
        t = best_truth(f, truth)
        if t is not None:
            hits.setdefault(t, []).append(str(d.id))
    return {t: ids[0] for t, ids in hits.items() if len(ids) == 1}


def one_answer(spec: PageSpec, seed: int, dpi: float = 200) -> Score:
    """What the noise alone keeps of ``spec``: its elements, in the scene's reading order, as
    one answer of the noisy model (as if a single answer could hold the page), scored. A page
    read in parts cannot do much better: the noise's splits, merges (of neighbours in reading
    order) and drops lose those elements whatever the reader does."""
    k = dpi / 72
    exact = [
        Element(b.category, b.n, (round(b.x0 * k), round(b.y0 * k), round(b.x1 * k),
                                  round(b.y1 * k)))
        for b in expected_boxes_displayed(spec)
    ]
    size = (round(spec.width * k), round(spec.height * k))
    noisy = Noise(seed=seed).apply(exact, f"one answer {seed}", size)
    found = [Found(e.category, (e.bbox[0] / k, e.bbox[1] / k, e.bbox[2] / k, e.bbox[3] / k))
             for e in noisy]
    return score(truth_of(spec), found)
