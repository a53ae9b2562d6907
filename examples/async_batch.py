"""Parse a folder of PDFs and images concurrently, with a progress bar and a page cache.

    python examples/async_batch.py scans/ [--cache-dir .dotsocr-cache] [-o docs.jsonl]

Pages of all files are in flight together (as many requests as the server runs at once, found
while running; ``--concurrency`` pins the number). The page cache
makes a second run send no request for pages already done, so an interrupted batch picks up
where it stopped. A file or page that fails is named and the others go on (the exit code is
then 1). The server comes from DOTSOCR_BASE_URL (default http://localhost:8000/v1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from langchain_core.documents import Document

from langchain_dotsocr import DotsOCRLoader, SourceReport


async def parse_folder(
    folder: str, cache_dir: str, concurrency: int | None = None
) -> tuple[list[Document], dict[str, SourceReport]]:
    """Every file of ``folder`` (recursively) as element Documents, and a report per file."""
    loader = DotsOCRLoader(
        folder,
        cache_dir=cache_dir,
        show_progress=True,  # a tqdm bar over pages, on stderr
        on_error="mark",  # a failed page becomes a Document with category "Error"
        max_concurrency=concurrency,
    )
    docs = [doc async for doc in loader.alazy_load()]
    return docs, loader.reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of PDFs and images")
    parser.add_argument("--cache-dir", default=".dotsocr-cache", help="the page cache")
    parser.add_argument("--concurrency", type=int,
                        help="requests in flight (default: what the server runs at once)")
    parser.add_argument("-o", "--output", help="write the Documents here as JSON Lines")
    args = parser.parse_args(argv)

    docs, reports = asyncio.run(parse_folder(args.folder, args.cache_dir, args.concurrency))
    for report in reports.values():
        print(
            f"{report.source}: {report.pages_done} pages done ({report.pages_cached} from the "
            f"cache), {report.pages_failed} failed, {report.requests} requests"
        )
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    for error in errors:
        print(f"failed: {error.metadata['source']} page={error.metadata['page']}: "
              f"{error.metadata['error']}", file=sys.stderr)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            for doc in docs:
                record = {"page_content": doc.page_content, "metadata": doc.metadata}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{len(docs) - len(errors)} documents from {len(reports)} files")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
