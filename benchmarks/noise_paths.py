"""Which of the noisy double's confusions change section paths, and how many elements each costs.

    python benchmarks/noise_paths.py [--documents 40] [--seeds 1 2 3 4 5] [--show 0]
                                     [--against DIR]

Reads the generated documents of benchmarks/noise_features.py through the noisy double's model
(tests/fakevllm/noise.py at its default rates), logging what the noise did to every heading
(dropped, category confused, a typo in its number or its words, split, merged into a
neighbour, swapped with a neighbour) and to every element read as a heading that is none
(a running head read as Section-header). Each such event is then undone alone (its elements
read exactly again) and the elements whose path comes back are its cost; what no heading
event explains (body cells merged, split or dropped) is counted apart, and so are the
elements under a heading the reading lost, which cannot keep their path. ``--against DIR``
measures the package of another checkout over the same documents. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tests  # noqa: E402, F401 (this checkout's documents and double, whichever package)

if "--against" in sys.argv:  # before the package is imported
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--against") + 1]).resolve()))

import langchain_dotsocr  # noqa: E402
from langchain_dotsocr.layout import Element  # noqa: E402
from tests.fakevllm.answers import says  # noqa: E402
from tests.fakevllm.noise import Noise  # noqa: E402
from tests.fakevllm.vision import Element as Seen  # noqa: E402
from tests.noisydocs import (  # noqa: E402
    PX,
    H,
    Truth,
    W,
    _structure,
    assemble,
    make_document,
    score,
    tag_documents,
)

HEADINGS = ("Title", "Section-header")


@dataclass(frozen=True)
class Logged(Noise):
    """The double's noise, with a log of what it did to each element (by its number ``n``)."""

    log: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list), compare=False)
    words: dict[int, str] = field(default_factory=dict, compare=False)  # a typo's before/after

    def _category(self, e: Seen, rng: random.Random) -> Seen:
        out = super()._category(e, rng)
        if out.category != e.category:
            self.log[e.n].append(f"read as {out.category}")
        return out

    def _text(self, e: Seen, rng: random.Random) -> Seen:
        out = super()._text(e, rng)
        before, after = says(e) or "", says(out) or ""
        if before != after:
            number = before.split(" ")[0] != after.split(" ")[0]
            self.log[e.n].append("typo in its number" if number else "typo in its words")
            self.words[e.n] = f"{before[:20]!r} -> {after[:20]!r}"
        return out

    def _split(self, e: Seen, rng: random.Random) -> list[Seen]:
        out = super()._split(e, rng)
        if len(out) > 1:
            self.log[e.n].append("split")
        return out

    def _merge(self, cells: list[Seen], rng: random.Random) -> list[Seen]:
        out = super()._merge(cells, rng)
        kept = {e.n for e in out}
        for k, e in enumerate(cells):
            if e.n not in kept:
                self.log[e.n].append("merged into the cell before")
                self.log[cells[k - 1].n].append("merged with the cell after")
        return out

    def apply(self, elements: list[Seen], digest: str, size: tuple[int, int]) -> list[Seen]:
        out = super().apply(elements, digest, size)
        present = {e.n for e in out}
        logged = {n for n, events in self.log.items() if any("merged into" in v for v in events)}
        for e in elements:
            if e.n not in present and e.n not in logged:
                self.log[e.n].append("dropped")
        order = [e.n for e in out]
        for a, b in pairwise(order):
            if a > b:
                self.log[a].append("swapped with the next")
                self.log[b].append("swapped with the one before")
        return out


def read(page: list[Element], noise: Logged, key: str) -> tuple[list[tuple[int, Element]], dict]:
    """A page read by the logged noise: (truth index, element) pairs and the log."""
    noise.log.clear()
    noise.words.clear()
    seen = [
        Seen(e.category, n, tuple(round(v * PX) for v in e.bbox), text=e.text)  # type: ignore[arg-type]
        for n, e in enumerate(page)
    ]
    out = noise.apply(seen, key, (round(W * PX), round(H * PX)))
    cells = [(e.n, Element(e.category, says(e), tuple(v / PX for v in e.bbox))) for e in out]  # type: ignore[arg-type]
    log = {n: list(v) for n, v in noise.log.items()}
    for n, change in noise.words.items():
        log[n].append(change)
    return cells, log


def exact(
    cells: list[tuple[int, Element]], page: list[Element], ns: set[int]
) -> list[tuple[int, Element]]:
    """``cells`` with the elements numbered ``ns`` read exactly, in their place."""
    out = [(n, e) for n, e in cells if n not in ns]
    for n in sorted(ns):
        at = next((k for k, (m, _) in enumerate(out) if m > n), len(out))
        out.insert(at, (n, page[n]))
    return out


def changed(truth: Truth, clean: list, pages: list[list[tuple[int, Element]]]) -> int:
    f = score(truth, clean, assemble([[e for _, e in p] for p in pages]))
    return f.elements - f.paths_kept


def beneath(truth: Truth, clean: list) -> Counter[str]:
    """How many elements of the exact reading sit under each heading (by its truth tag)."""
    tags = tag_documents(truth, clean)
    by_id = {str(d.id): d for d in clean}
    out: Counter[str] = Counter()
    for i in by_id:
        if tags[i] and ":head:" not in tags[i][0] and ":foot:" not in tags[i][0]:
            out.update(_structure(i, by_id, tags))
    return out


def describe(truth: Truth, p: int, n: int, events: list[str]) -> str:
    category = truth.pages[p][n].category
    what = truth.pages[p][n].category if category in HEADINGS else f"{category} (no heading)"
    kinds = sorted({v for v in events if " -> " not in v})
    return f"{what}: " + ", ".join(kinds)


def detail(events: list[str]) -> str:
    return "; ".join(v for v in events if " -> " in v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--show", type=int, default=0, help="print this many worst cases")
    parser.add_argument("--against", type=Path, help="a checkout whose package to measure")
    args = parser.parse_args()
    print(f"package: {Path(langchain_dotsocr.__file__).parent}")
    cost: Counter[str] = Counter()
    count: Counter[str] = Counter()
    total = lost = unexplained = orphaned = 0
    cases = []
    for d in range(args.documents):
        truth = make_document(1000 + d)
        clean = assemble(truth.pages)
        under = beneath(truth, clean)
        for seed in args.seeds:
            noise = Logged(seed=seed)
            pages, logs = [], []
            for k, page in enumerate(truth.pages):
                cells, log = read(page, noise, f"doc{d}/page{k}")
                pages.append(cells)
                logs.append(log)
            f = score(truth, clean, assemble([[e for _, e in p] for p in pages]))
            total += f.elements
            base = f.elements - f.paths_kept
            lost += base
            # The events that touch a heading, or make one of what is none.
            events = []
            for p, log in enumerate(logs):
                for n, what in log.items():
                    truth_heading = truth.pages[p][n].category in HEADINGS
                    made = any(v in ("read as Section-header", "read as Title") for v in what)
                    if truth_heading or made:
                        ns = {n}
                        if any("swapped" in v for v in what) or any("merged" in v for v in what):
                            ns |= {n - 1, n + 1} & set(range(len(truth.pages[p])))
                        events.append((p, ns, describe(truth, p, n, what), detail(what)))
                    gone = "dropped" in what or "merged into the cell before" in what
                    if truth_heading and gone:
                        orphaned += under[truth.tags[p][n]]
            if base == 0:
                for _, _, what, _ in events:
                    count[what] += 1
                continue
            repaired = [list(p) for p in pages]
            for p, ns, what, words in events:
                alone = [list(q) for q in pages]
                alone[p] = exact(pages[p], truth.pages[p], ns)
                c = base - changed(truth, clean, alone)
                cost[what] += c
                count[what] += 1
                repaired[p] = exact(repaired[p], truth.pages[p], ns)
                cases.append((c, d, seed, p, what, words))
            unexplained += changed(truth, clean, repaired)
    print(f"{args.documents} documents x {len(args.seeds)} seeds: {total} elements, "
          f"{lost} paths changed ({100 * lost / total:.1f}%)")
    print(f"  {'event':<72}{'times':>6}{'paths':>7}{'share':>7}")
    for what, _ in sorted(cost.items(), key=lambda kv: -kv[1]) + [
        (w, 0) for w in count if w not in cost
    ]:
        print(f"  {what:<72}{count[what]:>6}{cost[what]:>7}{100 * cost[what] / total:>6.1f}%")
    kinds = ("dropped", "typo in its number", "swapped", "merged", "read as")
    for kind in kinds:
        paths = sum(c for what, c in cost.items() if kind in what)
        name = f"any event with {kind!r}"
        print(f"  {name:<72}{'':>6}{paths:>7}{100 * paths / total:>6.1f}%")
    print(f"  {'no heading event (body cells merged, split, dropped)':<72}{'':>6}"
          f"{unexplained:>7}{100 * unexplained / total:>6.1f}%")
    print(f"  of which under a heading the reading lost (dropped, or merged into the text "
          f"before it): {orphaned} ({100 * orphaned / total:.1f}%): those cannot keep their path")
    kept = total - lost
    print(f"  section paths unchanged: {100 * kept / total:.1f}%; of those that could be kept: "
          f"{100 * kept / (total - orphaned):.1f}%")
    print("  (an event of two kinds counts under both)")
    for c, d, seed, p, what, words in sorted(cases, reverse=True)[: args.show]:
        print(f"  {c:>4} paths: document {d} seed {seed} page {p}: {what} {words}")


if __name__ == "__main__":
    main()
