"""Element ids between two readings of one unchanged file under the noisy double.

    python benchmarks/noise.py [PAIRS]

Each pair reads the same PDF twice, with two seeds of the double's noise (tests/fakevllm/noise.py:
boxes, categories, typos, splits, merges, drops, order, as the real model wobbles), and counts
the truth elements found once in both readings whose id is the same in both. Ordinary pages
(six sample pages) and dense pages read in parts (two dense pages, budget 2048 tokens). Prints
each pair and the medians; also the ids a position in the reading order would keep (the ids
before anchoring), for comparison in the same run.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import langchain_dotsocr.documents.page as page_module
from langchain_dotsocr.identity import anchors
from tests.fakevllm import FakeVLLM, sample_page, serve
from tests.fakevllm.scene import dense_page
from tests.noisy import ids_kept, run


def by_position(width, height, elements):  # type: ignore[no-untyped-def]
    """The old anchor: the element's place in the reading order."""
    return [str(i) for i in range(len(elements))]


def main(pairs: int) -> None:
    kinds = {
        "ordinary": ([sample_page(i) for i in range(6)], {}),
        "dense, in parts": (
            [dense_page(120, 2), dense_page(200, 3, 792.0, 1224.0, page_n=1)],
            {"max_tokens": 2048},
        ),
    }
    fake = FakeVLLM()
    with serve(fake) as url:
        for name, (pages, options) in kinds.items():
            shares: dict[str, list[float]] = {"anchored": [], "position": []}
            for k in range(pairs):
                for variant, rule in (("anchored", anchors), ("position", by_position)):
                    page_module.anchors = rule  # what make_page anchors ids with, this run
                    a = run(fake, url, pages, 2 * k, **options)
                    b = run(fake, url, pages, 2 * k + 1, **options)
                    kept = ids_kept(pages, a, b)
                    shares[variant].append(kept.share)
                    print(f"{name:16} seeds {2 * k},{2 * k + 1} {variant:9} kept {kept.same}/"
                          f"{kept.both} = {kept.share:.3f}  repeated {kept.repeated}")
            a_med, p_med = (statistics.median(shares[v]) for v in ("anchored", "position"))
            print(f"{name:16} median kept: anchored {a_med:.3f}, by position {p_med:.3f}"
                  f" (target >= 0.85)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
