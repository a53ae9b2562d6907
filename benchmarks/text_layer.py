"""The PDF's own text (``text_layer="auto"``) against the model reading every word ("off").

    python benchmarks/text_layer.py [--pages 48] [--slots 8 64] [--runs 3] [--seeds 1 2 3]

One run, the same born-digital PDF (tests/textpdfs.py ``report``: pages of paragraphs, a
section header, list items, a table every second page, a formula every third, running head
and page number, all with a good text layer) read both ways.

Speed: against the vLLM double in a child process at realistic speed (its latency model:
80 tokens/s per sequence, shared prefill), once per server size in ``--slots``: a server with
few slots for the pages is saturated (the GPU decides the time, as on any long ingestion run);
one with a slot for every page is not, and there the CPU of this machine, which renders the
pages and also runs the double's own reading of every image, decides much of it. Prints, per
variant, the medians over the runs of generated tokens, requests and wall time, the ratios
auto/off, and the requests against pages + tables + formulas.

Exactness: against the noisy double (tests/fakevllm/noise.py, the model's published error
rates) in this process, once per seed: every element of the exact reading (the double's truth,
"off") matched by its box (IoU >= 0.5) to one of the noisy reading, and its text compared:
elements with exactly the text, mean text similarity (1 - normalised edit distance), elements
lost. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from langchain_core.documents import Document

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import Server  # noqa: E402
from langchain_dotsocr import DotsOCRLoader  # noqa: E402
from langchain_dotsocr.check.score import iou, similarity  # noqa: E402
from tests.fakevllm import FakeVLLM, serve  # noqa: E402
from tests.fakevllm.noise import Noise  # noqa: E402
from tests.textpdfs import report  # noqa: E402

VARIANTS = ("off", "auto")
MATCH = 0.5  # IoU for an element of the noisy reading to be the exact one's


def one(data: bytes, text_layer: str, slots: int) -> dict[str, float]:
    """One load of ``data``: wall time, requests and generated tokens."""
    server = Server(True, slots)
    try:
        loader = DotsOCRLoader(data, base_url=server.url, max_concurrency=64,
                               text_layer=text_layer)
        t0 = time.perf_counter()
        docs = loader.load()
        wall = time.perf_counter() - t0
    finally:
        server.stop()
    result = next(iter(loader.reports.values()))
    return {
        "wall": wall,
        "requests": result.requests,
        "tokens": result.completion_tokens,
        "docs": len(docs),
        "layer": result.elements_by_text_source.get("layer", 0),
    }


def speed(data: bytes, pages: int, focused: int, slots: int, runs: int) -> None:
    got: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for _ in range(runs):  # the variants alternate, so a slow moment costs both
        for variant in VARIANTS:
            got[variant].append(one(data, variant, slots))
    med = {v: {k: statistics.median(r[k] for r in got[v]) for k in got[v][0]} for v in VARIANTS}
    state = "saturated" if pages >= 2 * slots else "not saturated"
    print(f"\nspeed: {pages} pages on a server of {slots} slots ({state}), "
          f"medians of {runs} runs:")
    for v in VARIANTS:
        m = med[v]
        print(f"  text_layer={v:4}: {m['tokens']:8.0f} generated tokens, {m['requests']:4.0f} "
              f"requests, {m['wall']:6.2f} s wall, {m['docs']:.0f} documents, "
              f"{m['layer']:.0f} with text from the layer")
    off, auto = med["off"], med["auto"]
    print(f"  ratios auto/off: tokens {auto['tokens'] / off['tokens']:.2f}x (target <= 0.4x), "
          f"wall time {auto['wall'] / off['wall']:.2f}x (target <= 0.5x)")
    print(f"  requests with auto: {auto['requests']:.0f}, pages + tables + formulas: "
          f"{pages + focused} (at most)")


def elements(docs: Sequence[Document]) -> dict[int, list[Document]]:
    by_page: dict[int, list[Document]] = {}
    for d in docs:
        if d.metadata.get("category") not in ("Error", "Picture"):
            by_page.setdefault(d.metadata["page"], []).append(d)
    return by_page


def compare(exact: Sequence[Document], noisy: Sequence[Document]) -> tuple[int, int, float, int]:
    """Elements of ``exact``; of them, found with exactly their text; mean similarity; lost."""
    found = elements(noisy)
    total = same = lost = 0
    sims: list[float] = []
    for page, docs in elements(exact).items():
        for d in docs:
            total += 1
            box = d.metadata["bbox"]
            best = max(found.get(page, []), key=lambda f: iou(box, f.metadata["bbox"]),
                       default=None)
            if best is None or iou(box, best.metadata["bbox"]) < MATCH:
                lost += 1
                continue
            same += best.page_content == d.page_content
            sims.append(similarity(d.page_content, best.page_content))
    return total, same, statistics.fmean(sims) if sims else 0.0, lost


def exactness(data: bytes, seeds: Sequence[int]) -> None:
    fake = FakeVLLM()
    options = {"retry_backoff": 0.01, "max_concurrency": 8}
    with serve(fake) as url:
        exact = DotsOCRLoader(data, base_url=url, text_layer="off", **options).load()
        rows: dict[str, list[tuple[int, int, float, int]]] = {v: [] for v in VARIANTS}
        for seed in seeds:
            for variant in VARIANTS:
                fake.reset()
                fake.noise = Noise(seed=seed)
                noisy = DotsOCRLoader(data, base_url=url, text_layer=variant, **options).load()
                rows[variant].append(compare(exact, noisy))
                fake.noise = None
    print(f"\nexactness under the noisy double, seeds {list(seeds)} (medians):")
    for v in VARIANTS:
        total = statistics.median(r[0] for r in rows[v])
        same = statistics.median(r[1] for r in rows[v])
        sim = statistics.median(r[2] for r in rows[v])
        lost = statistics.median(r[3] for r in rows[v])
        print(f"  text_layer={v:4}: {same:.0f}/{total:.0f} elements with exactly the page's "
              f"text ({100 * same / total:.1f}%), mean similarity {sim:.4f}, {lost:.0f} lost")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=48)
    parser.add_argument("--slots", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    doc = report(args.pages, paragraphs=11)
    print(f"{args.pages} born-digital pages, {doc.focused} tables and formulas")
    for slots in args.slots:
        speed(doc.pdf, args.pages, doc.focused, slots, args.runs)
    exactness(report(min(args.pages, 12), paragraphs=11).pdf, args.seeds)


if __name__ == "__main__":
    main()
