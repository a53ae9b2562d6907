"""Parse a folder on Ray (a local one by default) over one or more dots.ocr servers.

    python examples/ray_batch.py scans/ --base-url http://gpu-a:8000/v1 \
        --base-url http://gpu-b:8000/v1 -o docs.jsonl [--actors 4] [--address auto]

Needs ``pip install "langchain-dotsocr[ray]"``. Files are read and pages rendered by Ray tasks,
pages are read by an actor pool (each actor runs the package's async client over all the
servers), and the Documents are written on the driver as JSON Lines, in the format of
``dotsocr parse``. A failed file or page is left out and named on stderr (exit code 1).
Without ``--address`` a local Ray is started (no cluster needed); ``--address auto`` joins the
cluster this machine belongs to. The server comes from --base-url, else DOTSOCR_BASE_URL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import ray

from langchain_dotsocr.export import failure_line, is_error, write_jsonl
from langchain_dotsocr.ray_data import documents, read_pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder (or file) of PDFs and images, local or cloud")
    parser.add_argument("--base-url", action="append", metavar="URL",
                        help="a server's API; repeat it for several servers")
    parser.add_argument("-o", "--output", required=True, help="the JSON Lines file to write")
    parser.add_argument("--actors", type=int, default=2,
                        help="reader actors; each keeps 16 pages in flight (default 2)")
    parser.add_argument("--address", help="a Ray cluster to join (default: a local Ray)")
    args = parser.parse_args(argv)

    if not ray.is_initialized():
        ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    settings = {"base_url": args.base_url} if args.base_url else {}
    results = read_pages(args.folder, actors=args.actors, **settings)
    docs, failed = [], {}
    for doc in documents(results, on_error="mark", **settings):
        if is_error(doc):
            failed.setdefault(str(doc.metadata["source"]), []).append(doc)
        else:
            docs.append(doc)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        write_jsonl(docs, out)
    for errors in failed.values():
        print(f"failed: {failure_line(errors)}", file=sys.stderr)
    pages = {(d.metadata["source"], d.metadata.get("page")) for d in docs}
    print(f"{len(docs)} documents from {len(pages)} pages written to {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
