"""Dense pages under the noisy double: each element once, nothing lost, nothing read twice.

    python benchmarks/noise_dense.py [SEEDS]

Two pages no single answer holds: a dense paper page (a Tabloid page of 300 blocks in three
columns: tests/fakevllm/scene.py ``dense_page``) and a scanned newspaper page (778 small elements
in eight columns, no blank band to cut along: tests/fakevllm/newspaper.py), each read without
noise and under the noisy double's noise (tests/fakevllm/noise.py) with SEEDS seeds (default 3).
Each reading twice: "streamed", the first answer cut by the overflow watcher as soon as its cells
show it will not fit, and "to the budget", the watcher never firing (as when the ink misleads it),
so the first answer runs until the server cuts it.

Per run it prints the truth elements found once / twice / lost and the spurious elements
(tests/fakevllm/scoring.py, matched by IoU), the truth elements that two or more answers read
(the parts' overlap: work done twice, whether or not merging then kept one), requests and
generated tokens; then the medians per page and variant. Under noise, beside them: what the
noise alone keeps of the page, its elements as one answer of the noisy model (as if one answer
could hold the page: tests/noisy.py ``one_answer``), which no reader can beat by much. Nothing
here is a pass/fail test.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import langchain_dotsocr.read.dense as dense_module
import langchain_dotsocr.read.steps as steps_module
import langchain_dotsocr.read.watch as watch_module
from langchain_dotsocr.read.asking import read_layout
from tests.fakevllm import FakeVLLM, serve
from tests.fakevllm.answers import answer_tokens
from tests.fakevllm.newspaper import newspaper_page
from tests.fakevllm.scene import PageSpec, dense_page
from tests.fakevllm.scoring import Found, best_truth
from tests.noisy import one_answer, run, scores, truth_of

PAGES: dict[str, PageSpec] = {
    "paper": dense_page(300, 3, 792.0, 1224.0),
    "newspaper": newspaper_page(),
}
KEYS = ("once", "twice", "lost", "spurious", "read twice", "requests", "tokens")


class Reads:
    """Every cell every layout answer gave (page-image pixels), by answer: the work done."""

    def __init__(self) -> None:
        self.answers: list[list[tuple[float, float, float, float]]] = []

    async def read_layout(self, *args: Any, **kwargs: Any) -> Any:
        reading = await read_layout(*args, **kwargs)
        self.answers.append([c.bbox for c in reading.cells])
        return reading

    def twice(self, spec: PageSpec, scale: float) -> int:
        """Truth elements read by two answers or more."""
        truth = truth_of(spec)
        hits: dict[int, int] = {}
        for boxes in self.answers:
            seen = set()
            for box in boxes:
                found = Found("", (box[0] / scale, box[1] / scale, box[2] / scale, box[3] / scale))
                t = best_truth(found, truth)
                if t is not None:
                    seen.add(t)
            for t in seen:
                hits[t] = hits.get(t, 0) + 1
        return sum(1 for n in hits.values() if n > 1)


def one(
    fake: FakeVLLM, url: str, spec: PageSpec, seed: int | None, streamed: bool
) -> dict[str, int]:
    reads = Reads()
    dense_module.read_layout = reads.read_layout  # type: ignore[assignment]
    steps_module.read_layout = reads.read_layout  # type: ignore[assignment]
    watch_module.SWITCH_AT = 0.9 if streamed else float("inf")
    try:
        docs = run(fake, url, [spec], seed)
    finally:
        dense_module.read_layout = read_layout
        steps_module.read_layout = read_layout
        watch_module.SWITCH_AT = 0.9
    s = scores([spec], docs)
    done = [r for r in fake.chat_requests if r.status == 200]
    scale = done[0].image_size[0] / spec.width if done and done[0].image_size else 1.0
    return {
        "truth": s.truth,
        "once": s.once,
        "twice": s.twice,
        "lost": s.lost,
        "spurious": s.spurious,
        "read twice": reads.twice(spec, scale),
        "requests": len(done),
        "tokens": sum(answer_tokens(r.sent_chars) for r in done),
    }


def main(seeds: int) -> None:
    fake = FakeVLLM()
    with serve(fake) as url:
        for name, spec in PAGES.items():
            for streamed in (True, False):
                variant = "streamed" if streamed else "to the budget"
                for noisy in (False, True):
                    runs, floors = [], []
                    for seed in range(seeds) if noisy else [None]:
                        r = one(fake, url, spec, seed, streamed)
                        runs.append(r)
                        if seed is not None:
                            floors.append(one_answer(spec, seed).once)
                        figures = "  ".join(f"{k} {r[k]}" for k in KEYS)
                        print(f"{name:9} {variant:13} seed {seed!s:4} of {r['truth']}: {figures}")
                    med = {k: statistics.median(r[k] for r in runs) for k in KEYS}
                    truth = runs[0]["truth"]
                    print(
                        f"{name:9} {variant:13} {'noise' if noisy else 'no noise':8} median: "
                        f"once {med['once']:.0f}/{truth} ({med['once'] / truth:.1%}), twice "
                        f"{med['twice']:.0f} ({med['twice'] / truth:.1%}), lost {med['lost']:.0f}"
                        f", spurious {med['spurious']:.0f}, read twice {med['read twice']:.0f} "
                        f"({med['read twice'] / truth:.0%}), requests {med['requests']:.0f}, "
                        f"tokens {med['tokens']:.0f}"
                        + (f"; the noise alone keeps {statistics.median(floors):.0f} once"
                           if floors else "")
                    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
