"""Chunk sizes (tokens) in element, page and chunk mode, and what chunking costs per page.

    python benchmarks/chunks.py [--runs 5] [--chunk-size 512]

Loads the test documents (the double's sample, figures, dense and long-table pages, and the
report of tests/test_vector_stores.py with real sentences) once per mode from the double, in
process, then prints for each mode how many Documents it gives and the distribution of their
sizes by ``estimate_tokens`` (min, 10th percentile, median, 90th, max). Then the time
chunking adds: DotsOCRChunker over each document's element Documents (``--runs`` times,
median), per page, beside the median time the loader took per page in element mode in the
same run. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_dotsocr import DotsOCRChunker, DotsOCRLoader, estimate_tokens  # noqa: E402
from tests.fakevllm import Box, FakeVLLM, PageSpec, make_pdf, sample_page, serve  # noqa: E402
from tests.fakevllm.figures import figures_page  # noqa: E402
from tests.fakevllm.scene import dense_page, long_table_page  # noqa: E402

SENTENCE = (
    "The regional offices send their monthly figures, which are checked against the "
    "logistics ledgers before they are published. "
)


def report() -> tuple[list[PageSpec], dict[tuple[str, int], str]]:
    """Three pages of sections with paragraphs of real sentences, a table and a caption."""
    pages, texts = [], {}
    n = 0
    for p in range(3):
        boxes = [Box("Section-header", 10 + p, 72, 60, 540, 80)]
        texts[("Section-header", 10 + p)] = f"## {p + 1} Section {p + 1}"
        for k in range(5):
            n += 1
            boxes.append(Box("Text", n, 72, 100 + 110 * k, 540, 200 + 110 * k))
            texts[("Text", n)] = SENTENCE * (2 + (n % 7))
        pages.append(PageSpec(612, 792, tuple(boxes)))
    return pages, texts


def documents() -> dict[str, tuple[bytes, dict[tuple[str, int], str]]]:
    figures, figure_texts = figures_page()
    pages, texts = report()
    return {
        "sample x6": (make_pdf([sample_page(i) for i in range(6)]), {}),
        "figures": (make_pdf([figures]), dict(figure_texts)),
        "dense x2": (make_pdf([dense_page(120, 2, page_n=i) for i in range(2)]), {}),
        "long table": (make_pdf([long_table_page(120)]), {}),
        "report x3": (make_pdf(pages), texts),
    }


def spread(sizes: list[int]) -> str:
    if not sizes:
        return "-"
    q = statistics.quantiles(sizes, n=10) if len(sizes) > 1 else [sizes[0]] * 9
    return (
        f"{len(sizes):5d} docs  min {min(sizes):4d}  p10 {q[0]:6.0f}  median "
        f"{statistics.median(sizes):6.0f}  p90 {q[8]:6.0f}  max {max(sizes):5d}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chunk-size", type=int, default=512)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, chunk_size {args.chunk_size}, {args.runs} runs")
    fake = FakeVLLM()
    sizes: dict[str, list[int]] = {"element": [], "page": [], "chunk": []}
    over = 0
    chunk_ms: list[float] = []
    load_ms: list[float] = []
    chunker = DotsOCRChunker(chunk_size=args.chunk_size)
    with serve(fake) as url:
        for name, (data, texts) in documents().items():
            fake.texts = texts
            t0 = time.perf_counter()
            elements = DotsOCRLoader(data, base_url=url, dpi=72).load()
            load = time.perf_counter() - t0
            pages = DotsOCRLoader(data, base_url=url, dpi=72, mode="page").load()
            chunks = DotsOCRLoader(
                data, base_url=url, dpi=72, mode="chunk", chunk_size=args.chunk_size
            ).load()
            n_pages = len(pages)
            sizes["element"] += [estimate_tokens(d.page_content) for d in elements]
            sizes["page"] += [estimate_tokens(d.page_content) for d in pages]
            sizes["chunk"] += [estimate_tokens(d.page_content) for d in chunks]
            over += sum(estimate_tokens(d.page_content) > args.chunk_size for d in chunks)
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                chunker.transform_documents(elements)
                times.append(time.perf_counter() - t0)
            chunk_ms.append(1000 * statistics.median(times) / n_pages)
            load_ms.append(1000 * load / n_pages)
            print(
                f"{name:12s} {n_pages} page(s): {len(elements)} elements, {len(chunks)} chunks; "
                f"chunking {chunk_ms[-1]:.2f} ms/page, loading {load_ms[-1]:.1f} ms/page"
            )
    print("\nsizes in estimated tokens over all documents:")
    for mode, values in sizes.items():
        print(f"  {mode:8s} {spread(values)}")
    print(f"  chunks over chunk_size: {over} (a table row that alone is longer)")
    c, lo = statistics.median(chunk_ms), statistics.median(load_ms)
    print(
        f"\nchunking adds {c:.2f} ms per page (median over documents), "
        f"{100 * c / lo:.1f}% of the {lo:.1f} ms per page the loader took against the double "
        "(no model latency: against a real server the share is far smaller)"
    )


if __name__ == "__main__":
    main()
