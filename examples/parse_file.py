"""Parse one file with a running dots.ocr server and print its Documents.

    python examples/parse_file.py report.pdf [--mode element|page|single]

The server comes from DOTSOCR_BASE_URL (default http://localhost:8000/v1).
"""

from __future__ import annotations

import argparse

from langchain_dotsocr import DotsOCRLoader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("file", help="a PDF or an image")
    parser.add_argument("--mode", default="element", choices=["element", "page", "single"])
    parser.add_argument("--base-url", default=None, help="server URL ending in /v1")
    args = parser.parse_args(argv)
    options = {"base_url": args.base_url} if args.base_url else {}
    loader = DotsOCRLoader(args.file, mode=args.mode, **options)
    for doc in loader.lazy_load():
        meta = doc.metadata
        where = f"page {meta['page']}"
        if "bbox" in meta:
            where += f" {meta['category']:<14} bbox={[round(v) for v in meta['bbox']]}"
        print(f"{where}\n  {doc.page_content[:200]!r}")
    for report in loader.reports.values():
        print(
            f"{report.source}: {report.pages_done} pages done, {report.pages_salvaged} needed "
            f"help, {report.pages_failed} failed, {report.requests} requests"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
