"""Throughput, client CPU and memory of the loader against the vLLM double.

    python benchmarks/throughput.py [--pages 240] [--quick]

Prints figures and ratios measured in this run; nothing here is a pass/fail test. The double
runs in its own process with a continuous-batching latency model (64 slots, 80 tokens/s per
sequence, shared prefill), so the server, not the client, should be the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_dotsocr import DotsOCRLoader  # noqa: E402
from langchain_dotsocr.encode import data_url  # noqa: E402
from langchain_dotsocr.layout import decode_answer  # noqa: E402
from langchain_dotsocr.pages import Geometry, open_pages  # noqa: E402
from tests.fakevllm import LatencyModel, make_pdf, sample_page  # noqa: E402

SLOTS, PREFILL, DECODE = 64, 40000.0, 80.0


class Server:
    """The double in a child process (``extra``: more arguments of fake_server.py)."""

    def __init__(self, latency: bool, slots: int = SLOTS, *extra: str) -> None:
        args = [str(slots), str(PREFILL), str(DECODE), *extra] if latency else []
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "fake_server.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self) -> dict[str, float]:
        out, _ = self.proc.communicate("", timeout=60)
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        """End the double at once, as a crash: open connections reset, new ones refused."""
        self.proc.kill()
        self.proc.wait()


def pdf_of(pages: int) -> bytes:
    # Vector pages, like a born-digital report (scans render slower: see the README).
    return make_pdf([sample_page(i % 64) for i in range(pages)], kind="vector")


def throughput(pages: int, fmt: str) -> None:
    data = pdf_of(pages)
    server = Server(latency=True)
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        docs = DotsOCRLoader(
            data, base_url=server.url, max_concurrency=SLOTS, image_format=fmt
        ).load()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        seen = server.stop()
    rate = pages / wall
    model = LatencyModel(SLOTS, PREFILL, DECODE)
    prompt, completion = int(seen["prompt_tokens"]), int(seen["completion_tokens"])
    ideal = model.ideal_pages_per_second(prompt, completion)
    # A finite batch cannot beat its steady rate plus one request's latency (fill and drain).
    ideal_wall = pages / ideal + model.request_seconds(prompt, completion)
    print(
        f"  {fmt:4}: {pages} pages, {len(docs)} docs in {wall:.1f} s = {rate:.2f} pages/s; "
        f"server's ideal steady rate {ideal:.2f} pages/s (ratio {rate / ideal:.0%}); ideal "
        f"time for this batch {ideal_wall:.1f} s (ratio {ideal_wall / wall:.0%}); client CPU "
        f"{1000 * cpu / pages:.0f} ms/page (all threads); peak in flight "
        f"{seen['max_concurrency']:.0f}"
    )


def cpu_per_page(n: int = 20) -> None:
    doc = open_pages(pdf_of(n), "bench.pdf")
    geometry = Geometry()
    t = time.process_time()
    images = [doc.render(i, geometry).image for i in range(n)]
    render = (time.process_time() - t) / n
    results = {}
    for fmt in ("png", "jpeg"):
        t = time.process_time()
        for image in images:
            data_url(image, fmt)  # type: ignore[arg-type]
        results[fmt] = (time.process_time() - t) / n
    cells = [
        {
            "bbox": [100, 40 * i, 1500, 40 * i + 30],
            "category": "Text",
            "text": f"Paragraph {i} " + "lorem ipsum " * 20,
        }
        for i in range(50)
    ]
    answer = json.dumps(cells)
    t = time.process_time()
    for _ in range(n):
        decode_answer(answer, 1708, 2212)
    decode = (time.process_time() - t) / n
    print(f"  render a 200-dpi Letter page at the model's size: {1000 * render:.1f} ms/page")
    print(f"  encode PNG: {1000 * results['png']:.1f} ms, JPEG: {1000 * results['jpeg']:.1f} ms")
    print(f"  decode a 50-cell answer: {1000 * decode:.2f} ms")
    print(
        f"  total with PNG: {1000 * (render + results['png'] + decode):.0f} ms/page, "
        f"with JPEG: {1000 * (render + results['jpeg'] + decode):.0f} ms/page"
    )


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve, so a child would report the
# benchmark's own (larger) peak.
PEAK = """
import re, sys
from langchain_dotsocr import DotsOCRLoader
n = 0
for doc in DotsOCRLoader(sys.argv[1], base_url=sys.argv[2], max_concurrency=16).lazy_load():
    n += 1
status = open("/proc/self/status").read()
print(n, re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
"""


def peak_rss(pages_list: list[int]) -> None:
    server = Server(latency=False)
    figures = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for pages in pages_list:
                path = Path(tmp) / f"{pages}.pdf"
                path.write_bytes(pdf_of(pages))
                out = subprocess.run(
                    [sys.executable, "-c", PEAK, str(path), server.url],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                docs, kb = out.stdout.split()
                figures[pages] = int(kb) / 1024
                print(f"  {pages} pages ({docs} docs): peak RSS {figures[pages]:.0f} MB")
    finally:
        server.stop()
    a, b = min(figures), max(figures)
    print(f"  growth from {a} to {b} pages: {figures[b] - figures[a]:+.0f} MB")


def cached_rerun(pages: int) -> None:
    server = Server(latency=False)
    data = pdf_of(pages)
    try:
        with tempfile.TemporaryDirectory() as cache:
            DotsOCRLoader(data, base_url=server.url, cache_dir=cache, max_concurrency=16).load()
            first = server.stop()
            server = Server(latency=False)
            t = time.perf_counter()
            docs = DotsOCRLoader(data, base_url=server.url, cache_dir=cache).load()
            wall = time.perf_counter() - t
    finally:
        second = server.stop()
    print(
        f"  first run {first['requests']:.0f} requests; cached re-run of {pages} pages: "
        f"{second['requests']:.0f} requests, {len(docs)} docs in {wall:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    args = parser.parse_args()
    big = 60 if args.quick else 500
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print(
        f"server model: {SLOTS} slots, prefill {PREFILL:.0f} tokens/s, decode {DECODE:.0f} "
        "tokens/s per sequence"
    )
    print("client CPU per page (one thread):")
    cpu_per_page()
    print("throughput:")
    for fmt in ("png", "jpeg"):
        throughput(args.pages, fmt)
    print("memory:")
    peak_rss([20, big])
    print("cache:")
    cached_rerun(200 if not args.quick else 40)


if __name__ == "__main__":
    main()
