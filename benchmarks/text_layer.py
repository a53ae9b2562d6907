"""The PDF's own text (``text_layer="auto"``) against the model reading every word ("off").

    python benchmarks/text_layer.py [--pages 24] [--runs 3]

One run, the same born-digital PDF (report pages of paragraphs, headings, lists, tables and
formulas with a good text layer, made by tests/textpdfs.py) read both ways against the vLLM double in its
own process at realistic speed (its latency model: 64 slots, 80 tokens/s per sequence, shared
prefill). Prints, per variant, the medians over the runs of generated tokens, requests and
wall time, then the ratios auto/off, and the requests against pages + tables + formulas.
Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import SLOTS, Server  # noqa: E402
from langchain_dotsocr import DotsOCRLoader  # noqa: E402
from tests.textpdfs import report  # noqa: E402

VARIANTS = ("off", "auto")
FOCUSED = ("Table", "Formula")


def born_digital_pdf(pages: int) -> tuple[bytes, int]:
    """A born-digital report (tests/textpdfs.py ``report``: paragraphs, lists, a table every
    second page, a formula every third) and how many tables and formulas it holds."""
    doc = report(pages, paragraphs=11)
    return doc.pdf, doc.focused


def one(data: bytes, text_layer: str) -> dict[str, float]:
    """One load of ``data``: wall time, requests and generated tokens, and what it gave."""
    server = Server(latency=True)
    try:
        loader = DotsOCRLoader(
            data, base_url=server.url, max_concurrency=SLOTS, text_layer=text_layer
        )
        t0 = time.perf_counter()
        docs = loader.load()
        wall = time.perf_counter() - t0
    finally:
        seen = server.stop()
    report = next(iter(loader.reports.values()))
    return {
        "wall": wall,
        "requests": report.requests,
        "tokens": report.completion_tokens,
        "docs": len(docs),
        "layer_elements": report.elements_by_text_source.get("layer", 0),
        "served": seen["requests"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data, focused = born_digital_pdf(args.pages)
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for _ in range(args.runs):  # the variants alternate, so a slow moment costs both
        for variant in VARIANTS:
            runs[variant].append(one(data, variant))
    median = {
        v: {k: statistics.median(r[k] for r in runs[v]) for k in runs[v][0]} for v in VARIANTS
    }
    print(f"{args.pages} born-digital pages ({focused} tables and formulas), "
          f"medians of {args.runs} runs each:")
    for v in VARIANTS:
        m = median[v]
        print(
            f"  text_layer={v:4}: {m['tokens']:8.0f} generated tokens, {m['requests']:4.0f} "
            f"requests, {m['wall']:6.2f} s wall, {m['docs']:.0f} documents, "
            f"{m['layer_elements']:.0f} elements from the layer"
        )
    off, auto = median["off"], median["auto"]
    print(
        f"  ratios auto/off: tokens {auto['tokens'] / off['tokens']:.2f}x (target <= 0.4x), "
        f"wall time {auto['wall'] / off['wall']:.2f}x (target <= 0.5x), "
        f"requests {auto['requests'] / off['requests']:.2f}x"
    )
    bound = args.pages + focused
    print(f"  requests with auto: {auto['requests']:.0f}, pages + tables + formulas: {bound}")


if __name__ == "__main__":
    main()
