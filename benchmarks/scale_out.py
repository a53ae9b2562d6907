"""Scaling out: the default concurrency against fixed ones, one server against three, and a
server killed halfway through a run.

    python benchmarks/scale_out.py [--runs 3] [--quick]

Each double runs in its own process (benchmarks/fake_server.py) with a continuous-batching
latency model. Every figure is the median of ``--runs`` runs, and the variants compared are run
in the same invocation, interleaved. Nothing here is a pass/fail test: it prints figures and
ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import DECODE, PREFILL, Server, pdf_of  # noqa: E402
from langchain_dotsocr import DotsOCRLoader  # noqa: E402


def Double(slots: int, metrics: bool = True) -> Server:
    """A double with ``slots`` in its own process; ``metrics=False`` hides its /metrics."""
    return Server(True, slots, *([] if metrics else ["nometrics"]))


def timed_run(
    data: bytes, urls: list[str], concurrency: int | None, at_half: Callable[[], None] | None = None
) -> tuple[float, int]:
    """Seconds to load ``data``, and pages that came out."""
    loader = DotsOCRLoader(data, base_url=urls, max_concurrency=concurrency, on_error="mark")
    pages: set[int] = set()
    total = None
    start = time.perf_counter()
    for doc in loader.lazy_load():
        pages.add(doc.metadata["page"])
        total = total or doc.metadata["total_pages"]
        if at_half is not None and len(pages) >= total // 2:
            at_half()
            at_half = None
    wall = time.perf_counter() - start
    done = sum(r.pages_done for r in loader.reports.values())
    return wall, done


def median_runs(runs: int, variants: dict[str, Callable[[], dict[str, float]]]) -> dict[str, dict]:
    """Run the variants ``runs`` times, interleaved; medians of each figure per variant."""
    seen: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, run in variants.items():
            seen[name].append(run())
    return {
        name: {k: statistics.median(r[k] for r in results) for k in results[0]}
        for name, results in seen.items()
    }


def one_server(slots: int, pages: int, concurrency: int | None, metrics: bool = True) -> dict:
    double = Double(slots, metrics)
    try:
        wall, done = timed_run(pdf_of(pages), [double.url], concurrency)
    finally:
        seen = double.stop()
    return {"wall": wall, "done": done, "max_waiting": seen["max_waiting"],
            "max_running": seen["max_concurrency"]}


def defaults_against_fixed(runs: int, pages: int) -> None:
    print(f"1. one double with 64 slots, {pages} pages: defaults against fixed max_concurrency")
    variants: dict[str, Callable[[], dict]] = {
        "defaults (/metrics)": lambda: one_server(64, pages, None),
        "defaults (no /metrics)": lambda: one_server(64, pages, None, metrics=False),
    }
    for n in (16, 32, 64, 96):
        variants[f"max_concurrency={n}"] = lambda n=n: one_server(64, pages, n)
    figures = median_runs(runs, variants)
    fixed = {k: v for k, v in figures.items() if k.startswith("max_")}
    best = min(fixed, key=lambda k: fixed[k]["wall"])
    for name, f in figures.items():
        print(
            f"   {name:24} {f['wall']:6.1f} s  {pages / f['wall']:5.2f} pages/s  time vs best "
            f"fixed ({best}): {f['wall'] / fixed[best]['wall']:.2f}x  peak running "
            f"{f['max_running']:.0f}, peak waiting {f['max_waiting']:.0f}"
        )
    print(f"2. one double with 8 slots, {pages // 2} pages: the queue with the defaults")
    figures = median_runs(runs, {
        "defaults (/metrics)": lambda: one_server(8, pages // 2, None),
        "defaults (no /metrics)": lambda: one_server(8, pages // 2, None, metrics=False),
        "max_concurrency=8": lambda: one_server(8, pages // 2, 8),
    })
    for name, f in figures.items():
        print(
            f"   {name:24} {f['wall']:6.1f} s  peak running {f['max_running']:.0f}, "
            f"peak waiting {f['max_waiting']:.0f}"
        )


def several(count: int, slots: int, pages: int, kill_one: bool = False) -> dict:
    doubles = [Double(slots) for _ in range(count)]
    try:
        wall, done = timed_run(
            pdf_of(pages), [d.url for d in doubles], None, doubles[0].kill if kill_one else None
        )
    finally:
        for d in doubles[1:] if kill_one else doubles:
            d.stop()
        if kill_one:
            doubles[0].kill()
    return {"wall": wall, "done": done}


def one_against_three(runs: int, pages: int) -> None:
    slots = 8
    print(f"3. {pages} pages on one double against three (each {slots} slots), defaults")
    figures = median_runs(runs, {
        "one double": lambda: several(1, slots, pages),
        "three doubles": lambda: several(3, slots, pages),
    })
    one, three = figures["one double"], figures["three doubles"]
    for name, f in figures.items():
        print(f"   {name:24} {f['wall']:6.1f} s  {pages / f['wall']:5.2f} pages/s")
    print(f"   throughput ratio three/one: {one['wall'] / three['wall']:.2f}x (ideal 3x)")


def killed_halfway(runs: int, pages: int) -> None:
    slots = 8
    print(f"4. {pages} pages on two doubles ({slots} slots each); one killed when half are out")
    figures = median_runs(runs, {
        "both up": lambda: several(2, slots, pages),
        "one killed halfway": lambda: several(2, slots, pages, kill_one=True),
    })
    up, killed = figures["both up"], figures["one killed halfway"]
    for name, f in figures.items():
        print(f"   {name:24} {f['wall']:6.1f} s  pages done {f['done']:.0f} of {pages}")
    print(f"   time lost to the kill: {killed['wall'] - up['wall']:+.1f} s "
          f"({killed['wall'] / up['wall']:.2f}x: from the kill on, one double reads what is left "
          "at half the speed, and the requests it had in flight are sent again)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--only", type=int, choices=[1, 3, 4], help="run one part")
    parser.add_argument("--pages", type=int, default=144, help="pages of part 3 (one vs three)")
    args = parser.parse_args()
    scale = 4 if args.quick else 1
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; doubles: prefill {PREFILL:.0f} tokens/s, decode "
        f"{DECODE:.0f} tokens/s per sequence; medians of {args.runs} runs"
    )
    if args.only in (None, 1):
        defaults_against_fixed(args.runs, 160 // scale)
    if args.only in (None, 3):
        one_against_three(args.runs, args.pages // scale)
    if args.only in (None, 4):
        killed_halfway(args.runs, 64 // scale)


if __name__ == "__main__":
    main()
