"""What reading a page's text layer costs next to rendering the page.

    python benchmarks/text_layer_read.py [--runs 7]

For each kind of born-digital page of tests/textpdfs.py (a sample page, a page of ligatures
and hyphenation, a dense two-column page of ~3,600 characters) it times, in turn within each
round: rendering the page as the loader does (``PdfPages.render``, 200 dpi within the model's
pixel bounds), ``read_layer`` with that image (the verdict with its pixel evidence), and
``read_layer`` without it, and the reader's text of the whole page (``text_in`` of its box:
what an element as large as the page costs; the long receipt is 1,500 lines). Prints the
median milliseconds per page of ``--runs`` rounds and the ratio of reading (the layer and its
text) to rendering. Figures, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from langchain_dotsocr.pages import PDFIUM_LOCK, Geometry, PdfPages  # noqa: E402
from langchain_dotsocr.textlayer import read_layer  # noqa: E402
from tests import textpdfs  # noqa: E402

KINDS = {"sample page": textpdfs.good, "typography": textpdfs.typography,
         "dense 2 columns": textpdfs.dense_text, "long receipt": textpdfs.receipt}


def measure(pdf: bytes, runs: int) -> dict[str, float]:
    pages = PdfPages(pdf, "bench.pdf")
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    times: dict[str, list[float]] = {
        "render": [], "read_layer(image)": [], "read_layer()": [], "text": []
    }
    chars = 0
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            image = pages.render(0, Geometry()).image
            with PDFIUM_LOCK:  # as the loader will call it: where it renders, under the lock
                t1 = time.perf_counter()
                layer = read_layer(page, image)
                t2 = time.perf_counter()
                read_layer(page)
                t3 = time.perf_counter()
            t4 = time.perf_counter()
            layer.text_in((0.0, 0.0, *layer.size))
            times["text"].append(time.perf_counter() - t4)
            times["render"].append(t1 - t0)
            times["read_layer(image)"].append(t2 - t1)
            times["read_layer()"].append(t3 - t2)
            chars = layer.trust.chars
    finally:
        page.close()
        doc.close()
        pages.close()
    out = {k: statistics.median(v) * 1000 for k, v in times.items()}
    out["chars"] = chars
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, pypdfium2 {version('pypdfium2')}, "
          f"{args.runs} runs, medians")
    print(f"{'page':<18}{'chars':>7}{'render ms':>11}{'layer ms':>10}{'no image':>10}"
          f"{'text ms':>9}{'read/render':>13}")
    for name, make in KINDS.items():
        m = measure(make().pdf, args.runs)
        reading = m["read_layer(image)"] + m["text"]
        print(f"{name:<18}{m['chars']:>7.0f}{m['render']:>11.1f}{m['read_layer(image)']:>10.1f}"
              f"{m['read_layer()']:>10.1f}{m['text']:>9.1f}{reading / m['render']:>12.2f}x")


if __name__ == "__main__":
    main()
