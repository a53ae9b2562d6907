"""What picture crops and descriptions cost: time per page and memory, against the double.

    python benchmarks/crops.py [--pages 120] [--runs 3] [--quick]

Prints figures and ratios measured in this run (medians of ``--runs`` runs, the variants run
in turn within each round); nothing here is a pass/fail test. The double runs in its own
process with the same continuous-batching latency model as ``throughput.py``. Every page of
the PDF has one picture (the double's sample page).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import SLOTS, Server, pdf_of  # noqa: E402
from langchain_dotsocr import Crop, DotsOCRLoader  # noqa: E402
from langchain_dotsocr.crops import crop_region, png_bytes  # noqa: E402
from langchain_dotsocr.pages import open_pages  # noqa: E402


async def describe(crop: Crop) -> str:
    """A describer that answers at once: what the loader itself spends around descriptions."""
    await asyncio.sleep(0)
    return f"A picture of {crop.width}x{crop.height} px."


def variants(folder: str) -> dict[str, dict[str, object]]:
    return {
        "no crops": {},
        "images=FOLDER": {"images": folder},
        "images=base64": {"images": "base64"},
        "FOLDER + describe": {"images": folder, "describe_pictures": describe},
    }


def wall_times(pages: int, runs: int) -> None:
    data = pdf_of(pages)
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        chosen = variants(folder)
        for _ in range(runs):
            for name, options in chosen.items():
                server = Server(latency=True)
                try:
                    cpu0, t0 = time.process_time(), time.perf_counter()
                    DotsOCRLoader(
                        data, base_url=server.url, max_concurrency=SLOTS, **options
                    ).load()
                    times.setdefault(name, []).append(time.perf_counter() - t0)
                    cpus.setdefault(name, []).append(time.process_time() - cpu0)
                finally:
                    server.stop()
    base = statistics.median(times["no crops"])
    for name in chosen:
        wall, cpu = statistics.median(times[name]), statistics.median(cpus[name])
        print(
            f"  {name:18}: {pages / wall:.2f} pages/s (median of {runs}), "
            f"{wall / base:.2f}x the time without crops; client CPU {1000 * cpu / pages:.0f} "
            "ms/page"
        )


def cost_per_crop(n: int = 20) -> None:
    """One thread: cut a picture's crop at 200 dpi and encode it as PNG."""
    document = open_pages(pdf_of(n), "bench.pdf")
    region = crop_region((72.0, 418.0, 300.0, 578.0), 612.0, 792.0)
    samples = []
    for _ in range(3):
        t = time.process_time()
        for i in range(n):
            (image,) = document.crops(i, [region], 200)
            png_bytes(image)
        samples.append((time.process_time() - t) / n)
    print(f"  cut + PNG of one 228x160-pt picture at 200 dpi: {1000 * min(samples):.1f} ms")


PEAK = """
import re, sys
from langchain_dotsocr import DotsOCRLoader
n = 0
for doc in DotsOCRLoader(sys.argv[1], base_url=sys.argv[2], max_concurrency=16,
                         images=sys.argv[3]).lazy_load():
    n += 1
status = open("/proc/self/status").read()
print(n, re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
"""


def peak_rss(pages_list: list[int]) -> None:
    server = Server(latency=False)
    figures: dict[tuple[str, int], float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for images in ("base64", str(Path(tmp) / "crops")):
                for pages in pages_list:
                    path = Path(tmp) / f"{pages}.pdf"
                    path.write_bytes(pdf_of(pages))
                    out = subprocess.run(
                        [sys.executable, "-c", PEAK, str(path), server.url, images],
                        capture_output=True, text=True, check=True, cwd=ROOT,
                    )
                    docs, kb = out.stdout.split()
                    kind = "base64" if images == "base64" else "FOLDER"
                    figures[(kind, pages)] = int(kb) / 1024
                    print(f"  images={kind}, {pages} pages ({docs} docs): peak RSS "
                          f"{figures[(kind, pages)]:.0f} MB")
    finally:
        server.stop()
    a, b = min(pages_list), max(pages_list)
    for kind in ("base64", "FOLDER"):
        growth = figures[(kind, b)] - figures[(kind, a)]
        print(f"  images={kind}: growth from {a} to {b} pages {growth:+.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    args = parser.parse_args()
    pages, runs = (24, 1) if args.quick else (args.pages, args.runs)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print("client CPU per crop (one thread):")
    cost_per_crop()
    print("throughput, each page with one picture:")
    wall_times(pages, runs)
    print("memory (lazy_load, max_concurrency=16):")
    peak_rss([20, 60 if args.quick else 300])


if __name__ == "__main__":
    main()
