"""Tables across pages, captions, section paths and page labels under a real model's noise.

    python benchmarks/noise_features.py [--documents 40] [--seeds 1 2 3 4 5]

Generates ``--documents`` multi-page documents (tests/noisydocs.py: numbered sections three
deep, paragraphs, captioned figures and tables, tables cut by a page break with and without a
repeated header, a running head and a printed page number on every page), reads every page
once exactly and once per seed through the noisy double's model (tests/fakevllm/noise.py at
its default rates: boxes moved, 5% of categories confused with a neighbour, 2% character
errors, cells split, merged, dropped or read in the wrong order, a structural error in half
the tables), assembles both in process and prints, with each target of issue 20:

* joins kept: tables across pages joined exactly as printed (and wrong joins: parts of
  different tables joined);
* caption links kept: captions linked to their figure (the whole table when it is joined),
  and wrong links (a caption linked to another figure);
* section paths unchanged: elements whose headings (the chain of parents) are the same as in
  the exact reading;
* page labels unchanged: pages whose label is the same as in the exact reading.

Figures, not pass/fail. ``--against DIR`` measures the package of another checkout (say
main) over the same documents and seeds, for a before and after.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def share(kept: int, total: int) -> str:
    return f"{kept}/{total} = {100 * kept / total:.1f}%" if total else "none"


def report(f: Any) -> None:
    rows = (
        ("joins kept", share(f.joins_kept, f.joins), ">= 90%"),
        ("wrong joins", str(f.joins_wrong), "0"),
        ("caption links kept", share(f.links_kept, f.links), ">= 95%"),
        ("wrong caption links", str(f.links_wrong), "0"),
        ("section paths unchanged", share(f.paths_kept, f.elements), ">= 95%"),
        ("page labels unchanged", share(f.labels_kept, f.pages), ">= 97%"),
    )
    for name, value, target in rows:
        print(f"  {name:<26}{value:<24}target {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--against", type=Path, help="a checkout whose package to measure")
    args = parser.parse_args()
    import tests  # this checkout's documents and double, whichever package is measured

    if args.against:
        sys.path.insert(0, str(args.against.resolve()))
    import langchain_dotsocr
    from tests.noisydocs import Figures, run

    assert Path(tests.__file__).parent == ROOT / "tests"

    print(f"package: {Path(langchain_dotsocr.__file__).parent}")
    total = Figures()
    for seed in args.seeds:
        f = run([seed], args.documents)
        print(f"seed {seed}:")
        report(f)
        total.add(f)
    print(f"all {len(args.seeds)} seeds, {args.documents} documents each:")
    report(total)


if __name__ == "__main__":
    main()
