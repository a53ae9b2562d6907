"""A dense page against the vLLM double at realistic speed: the field report's 120 s.

    python benchmarks/dense.py [--runs 3] [--quick]

The double runs in its own process with a continuous-batching latency model: 80 tokens/s per
sequence, prefill 8,000 tokens/s, 64 slots, prefix caching on. The dense page is a Tabloid page
of 300 text blocks in three columns, whose complete answer is about 18,000 tokens: more than the
default output budget of 16,384, so no single request can return it. Beside it, an ordinary
page. Per page it prints wall time, requests, prompt tokens (and how many the prefix cache
held), generated tokens and how the page was read; medians of several runs. Nothing here is a
pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_dotsocr import DotsOCRLoader  # noqa: E402
from tests.fakevllm import LatencyModel, make_pdf, render_page, sample_page  # noqa: E402
from tests.fakevllm.answers import answer_tokens, layout_answer  # noqa: E402
from tests.fakevllm.scene import dense_page  # noqa: E402
from tests.fakevllm.vision import detect  # noqa: E402

SLOTS, PREFILL, DECODE = 64, 8000.0, 80.0
FIELD_REPORT_TIMEOUT = 120.0


class Server:
    """The double in a child process (so its CPU is not the client's)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "fake_server.py"),
             str(SLOTS), str(PREFILL), str(DECODE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self) -> dict[str, object]:
        out, _ = self.proc.communicate("", timeout=120)
        result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
        return result


def run(name: str, data: bytes) -> dict[str, object]:
    server = Server()
    try:
        start = time.perf_counter()
        loader = DotsOCRLoader(data, name=name, base_url=server.url, max_concurrency=SLOTS)
        docs = loader.load()
        wall = time.perf_counter() - start
    finally:
        seen = server.stop()
    records = [r for r in seen["records"] if r["status"] == 200]  # type: ignore[union-attr]
    report = loader.reports[name]
    return {
        "wall": wall,
        "docs": len(docs),
        "requests": len(records),
        "prompt": sum(r["prompt_tokens"] or 0 for r in records),
        "cached": sum(r["cached_tokens"] or 0 for r in records),
        "generated": sum(r["completion_tokens"] or 0 for r in records),
        "first": records[0]["completion_tokens"] if records else 0,
        "path": sorted(report.extractions),
    }


def show(name: str, runs: list[dict[str, object]], whole: int | None) -> None:
    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

    walls = ", ".join(f"{float(r['wall']):.1f}" for r in runs)  # type: ignore[arg-type]
    print(f"  {name}: wall {median('wall'):.1f} s (median of {len(runs)}: {walls})")
    print(
        f"    {median('docs'):.0f} elements, {median('requests'):.0f} requests, prompt "
        f"{median('prompt'):.0f} tokens ({median('cached'):.0f} from the prefix cache), "
        f"generated {median('generated'):.0f} tokens, read as {runs[0]['path']}"
    )
    if whole:
        before = median("first")
        after = median("generated") - before
        print(
            f"    complete answer {whole} tokens; generated before the switch {before:.0f}, "
            f"after it {after:.0f} = {after / whole:.2f}x the complete answer"
        )
        single = whole / DECODE + median("prompt") / PREFILL / max(1.0, median("requests"))
        print(
            f"    one request holding the whole answer would take about {single:.0f} s at "
            f"{DECODE:.0f} tokens/s (computed, not run; vLLM's budget would cut it anyway); "
            f"the field report's timeout: {FIELD_REPORT_TIMEOUT:.0f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smaller dense page, one run")
    args = parser.parse_args()
    blocks, runs = (200, 1) if args.quick else (300, args.runs)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; server model: {SLOTS} slots, prefill {PREFILL:.0f} "
        f"tokens/s, decode {DECODE:.0f} tokens/s per sequence"
    )
    model = LatencyModel(SLOTS, PREFILL, DECODE)
    assert model.decode_tokens_per_s == DECODE
    spec = dense_page(blocks, 3, 792.0, 1224.0)
    dense = make_pdf([spec])
    whole = answer_tokens(len(layout_answer(detect(render_page(dense, 0, 200)))))
    ordinary = make_pdf([sample_page(0)])
    show("ordinary Letter page", [run("ordinary.pdf", ordinary) for _ in range(runs)], None)
    show(f"dense page ({blocks} blocks)", [run("dense.pdf", dense) for _ in range(runs)], whole)


if __name__ == "__main__":
    main()
