"""The ``dotsocr`` command: parse files, check the server, draw a page's boxes, read a region.

Exit codes: 0 when everything worked; 1 when a file or page failed (one line each on stderr)
or a server check found a page that does not fit; 2 when the server cannot be used at all
(unreachable, key refused, model not served) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from langchain_core.documents import Document
from pydantic import ValidationError

from .check import check_server, export_reference, report
from .draw import draw_page
from .errors import DotsOCRError, ServerError
from .export import (
    FileNames,
    by_page,
    by_source,
    failure_line,
    is_error,
    layout,
    layout_json,
    markdown,
    one_line,
    write_jsonl,
)
from .loader import DotsOCRLoader
from .progress import server_counts
from .read import FATAL
from .region import read_region
from .settings import DotsOCROptions, DotsOCRSettings

PROG = "dotsocr"
SETTINGS = ("base_url", "api_key", "model", "dpi", "prompt_mode", "text_layer", "mode", "pages",
            "max_concurrency", "cache_dir", "image_format", "images", "chunk_size")

PARSE_EXAMPLES = """examples:
  dotsocr parse report.pdf -o report.jsonl
  dotsocr parse report.pdf --mode chunk --chunk-size 256 -o chunks.jsonl
  dotsocr parse scans/ --format markdown -o markdown/
  dotsocr parse report.pdf --pages 0,2,5-7 --format layout -o layout/
  dotsocr parse report.pdf --text-layer auto -o report.jsonl
  dotsocr parse report.pdf -o - | head -n 3
  dotsocr parse report.pdf --format markdown --images out/images -o out/
  dotsocr parse scans/ --base-url http://gpu-a:8000/v1 --base-url http://gpu-b:8000/v1 -o out.jsonl

Failed files and pages are left out of the output (--on-error mark writes them too) and
named on stderr, one line per file: exit code 1. Exit code 2: the server cannot be reached
or used (refused key, model not served), and the run stops."""
CHECK_EXAMPLES = """examples:
  dotsocr check
  dotsocr check --base-url http://gpu-box:8000/v1 --dpi 300
  dotsocr check --read
  dotsocr check --read --json > check.json
  dotsocr check --export-reference reference/

Exit code 0: Letter and A4 pages fit (and with --read, the server reads the reference pages
right); 1: they do not fit (the output says the --max-model-len to start vLLM with, or the dpi
that fits), or --read found a symptom (each named with its fix); 2: the server cannot be
reached or used."""
READ_EXAMPLES = """examples:
  dotsocr read report.pdf --page 0 --bbox 72,418,300,578
  dotsocr read scan.png --bbox 100,300,700,500

The box is in page units, top-left origin: PDF points (1/72 in) for a PDF, pixels for an
image, as in every Document's bbox. The text goes to stdout."""
DRAW_EXAMPLES = """examples:
  dotsocr draw report.pdf --page 0 -o page.png
  dotsocr draw scan.jpg -o boxes.png --legend"""
MAIN_EXAMPLES = """examples:
  dotsocr parse report.pdf -o report.jsonl
  dotsocr parse report.pdf --mode chunk --chunk-size 256 -o chunks.jsonl
  dotsocr parse scans/ --format markdown -o markdown/
  dotsocr check
  dotsocr draw report.pdf --page 0 -o page.png
  dotsocr read report.pdf --page 0 --bbox 72,418,300,578

The server comes from --base-url (repeat it for several), else DOTSOCR_BASE_URL (URLs
separated by commas), else http://localhost:8000/v1; the API key from DOTSOCR_API_KEY."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    logger = logging.getLogger("langchain_dotsocr")
    level, handler = logger.level, logging.StreamHandler(sys.stderr)
    # Failed pages are summed up at the end, one line per file: no log line for each as well.
    logger.setLevel(logging.INFO if args.verbose else logging.ERROR)
    logger.addHandler(handler)
    try:
        code: int = args.run(args)
        return code
    except DotsOCRError as exc:
        _say(f"error: {exc}")
        # The server cannot be used at all (whatever page it showed on): 2; a file or page: 1.
        server = isinstance(exc, FATAL) or (isinstance(exc, ServerError) and exc.page is None)
        return 2 if server else 1
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _say(f"error: {problems}")
        return 2
    except OSError as exc:
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dotsocr`` and its commands."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Parse PDFs and images with dots.ocr served by vLLM.",
        epilog=MAIN_EXAMPLES,
        formatter_class=fmt,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and fallbacks")
    commands = parser.add_subparsers(dest="command", title="commands")

    parse = commands.add_parser(
        "parse",
        help="parse files into Documents (JSON Lines, Markdown or layout JSON)",
        description="Parse PDFs and images (files or folders) and write their Documents.",
        epilog=PARSE_EXAMPLES,
        formatter_class=fmt,
    )
    parse.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR", help="PDFs, images, folders")
    parse.add_argument(
        "-o", "--output", default="-", metavar="OUT",
        help="jsonl: a file, or - for stdout (default); markdown, layout: a directory",
    )
    parse.add_argument(
        "--format", default="jsonl", choices=["jsonl", "markdown", "layout"],
        help="jsonl: one Document a line; markdown: one .md per source (page mode); layout: "
        "one JSON per page with the elements' bbox, category and text (element mode)",
    )
    parse.add_argument("--mode", choices=["element", "page", "single", "chunk"],
                       help="Documents per element (default), page, source, or chunks for "
                       "retrieval; jsonl only")
    parse.add_argument("--chunk-size", type=int, metavar="TOKENS",
                       help="--mode chunk: the most tokens a chunk holds, estimated "
                       "(default 512)")
    parse.add_argument("--prompt-mode", choices=["layout_all", "layout_only", "ocr"],
                       help="the model's prompt (default layout_all)")
    parse.add_argument("--text-layer", choices=["auto", "off"],
                       help="auto: a PDF page's text from its own text layer where it is "
                       "trusted, the layout from the model; off: the model reads every word "
                       "(default auto)")
    parse.add_argument("--pages", type=page_list, metavar="LIST",
                       help="0-based page indices and ranges, e.g. 0,2,5-7 (default: all)")
    parse.add_argument("--max-concurrency", type=int, metavar="N",
                       help="requests in flight at most, over all servers (default: as many as "
                       "the servers run at once, found while running)")
    parse.add_argument(
        "--on-error", default="skip", choices=["skip", "mark", "raise"],
        help="a failed file or page: skip leaves it out (default), mark writes it to the "
        "output too, raise stops at the first; all name it on stderr and exit 1",
    )
    parse.add_argument("--cache-dir", metavar="DIR",
                       help="page cache: a re-run sends no request for pages already done")
    parse.add_argument("--image-format", choices=["png", "jpeg"],
                       help="how pages are sent (default png)")
    parse.add_argument(
        "--images", metavar="DIR",
        help="write a crop of every picture to DIR (path in image_path; Markdown links to it); "
        "'base64' puts them in the metadata instead",
    )
    _server_options(parse)
    parse.set_defaults(run=run_parse)

    check = commands.add_parser(
        "check",
        help="check the server: models, max_model_len, whether a page fits, whether it reads "
        "right (--read)",
        description="Ask the server for its models and context length, and check that a\n"
        "Letter and an A4 page fit with the full output budget. With --read, send the\n"
        "bundled reference pages and say whether the server reads them right.",
        epilog=CHECK_EXAMPLES,
        formatter_class=fmt,
    )
    check.add_argument(
        "--read", action="store_true",
        help="also send the bundled reference pages, each asked layout_all, layout_only and "
        "grounding on a few boxes (the prompts of --text-layer auto), and judge the answers: "
        "text, tables, boxes, categories, parse failures, time",
    )
    check.add_argument("--json", action="store_true",
                       help="print the result as one JSON object on stdout")
    check.add_argument(
        "--export-reference", metavar="DIR",
        help="write the reference pages as NAME.png with their truth NAME.png.json into DIR "
        "(without --read, nothing is sent to the server)",
    )
    _server_options(check)
    check.set_defaults(run=run_check)

    draw = commands.add_parser(
        "draw",
        help="draw a page's layout boxes on the page image (PNG)",
        description="Render a page as the model sees it, read its layout from the server\n"
        "(one request) and draw each element's box and category, one colour per category.",
        epilog=DRAW_EXAMPLES,
        formatter_class=fmt,
    )
    _page_options(draw)
    draw.add_argument("-o", "--output", required=True, metavar="PNG", help="the PNG to write")
    draw.add_argument("--prompt-mode", choices=["layout_all", "layout_only"],
                      help="the model's prompt (default layout_all)")
    draw.add_argument("--legend", action="store_true", help="add a key of the categories")
    _server_options(draw)
    draw.set_defaults(run=run_draw)

    read = commands.add_parser(
        "read",
        help="read the text inside one box of a page (region OCR)",
        description="Read the text inside one box of a page with the model's grounding prompt\n"
        "(one request) and print it.",
        epilog=READ_EXAMPLES,
        formatter_class=fmt,
    )
    _page_options(read)
    read.add_argument("--bbox", type=box_of, required=True, metavar="X0,Y0,X1,Y1",
                      help="the box in page units (PDF points, or image pixels), top-left origin")
    _server_options(read)
    read.set_defaults(run=run_read)
    return parser


def _page_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a PDF or an image")
    parser.add_argument("--page", type=int, default=0, metavar="N",
                        help="0-based page index; negative counts from the end (default 0)")


def _server_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server and rendering")
    group.add_argument("--base-url", metavar="URL", action="append",
                       help="a server's API; repeat it for several servers (default: "
                       "DOTSOCR_BASE_URL, comma-separated, or http://localhost:8000/v1)")
    group.add_argument("--api-key", metavar="KEY",
                       help="API key; better set DOTSOCR_API_KEY (a key on the command line "
                       "shows in the process list)")
    group.add_argument("--model", metavar="ID",
                       help="model id (default: DOTSOCR_MODEL or the first served model)")
    group.add_argument("--dpi", type=float, help="PDF render resolution (default 200)")


def page_list(text: str) -> list[int]:
    """``"0,2,5-7"`` to ``[0, 2, 5, 6, 7]`` (0-based page indices)."""
    pages: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, dash, last = part.partition("-")
            start, stop = int(first), int(last) if dash else int(first)
            if start < 0 or stop < start:
                raise ValueError(part)
            pages.extend(range(start, stop + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a page list: {text!r} (0-based indices and ranges, e.g. 0,2,5-7)"
        ) from None
    if not pages:
        raise argparse.ArgumentTypeError("no page given")
    return pages


def box_of(text: str) -> tuple[float, float, float, float]:
    """``"72,418,300,578"`` to ``(72.0, 418.0, 300.0, 578.0)``."""
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a box: {text!r} (four numbers x0,y0,x1,y1 in page units)"
        ) from None
    return x0, y0, x1, y1


def options_of(args: argparse.Namespace) -> DotsOCROptions:
    """The loader settings given on the command line (the rest keep their defaults)."""
    given = {k: v for k, v in vars(args).items() if k in SETTINGS and v is not None}
    return cast(DotsOCROptions, given)


def run_parse(args: argparse.Namespace) -> int:
    """``dotsocr parse``: write the Documents; one line per failed file on stderr."""
    fmt, out = args.format, args.output
    mode = {"markdown": "page", "layout": "element"}.get(fmt)
    if mode and args.mode not in (None, mode):
        return _usage(f"--format {fmt} works in --mode {mode}")
    if fmt == "layout" and args.prompt_mode == "ocr":
        return _usage("--format layout needs boxes: --prompt-mode ocr gives none")
    if fmt != "jsonl" and out == "-":
        return _usage(f"--format {fmt} writes several files: give -o DIRECTORY")
    options = options_of(args)
    if fmt == "markdown":
        options["mode"] = "page"
    elif fmt == "layout":
        options["mode"] = "element"
        options["merge_tables"] = False  # one file per page: each page's own cells
    # Every failure comes back as an Error Document, so one bad file never stops the others.
    options["on_error"] = "mark"
    options["show_progress"] = sys.stderr.isatty()
    paths = [Path(p) for p in args.inputs]
    failures = [f"{p}: no such file or directory" for p in paths if not p.exists()]
    paths = [p for p in paths if p.exists()]
    errors: dict[str, list[Document]] = {}
    if paths:
        loader = DotsOCRLoader(paths, **options)
        docs = _tracked(loader.lazy_load(), errors, args.on_error)
        if fmt == "jsonl":
            _write_jsonl(docs, out)
        else:
            _write_files(docs, Path(out), fmt)
        done = sum(r.pages_done for r in loader.reports.values())
        noted = sum(len(r.problems) for r in loader.reports.values())
        problems = f", {noted} problem(s) noted (-v logs them)" if noted else ""
        _say(f"{done} page(s) of {len(loader.reports)} file(s) parsed{problems}")
        sent: Counter[str] = Counter()
        for r in loader.reports.values():
            sent.update(r.requests_by_server)
        if len(sent) > 1:
            _say(server_counts(dict(sent)))
    failures += [failure_line(errs) for errs in errors.values()]
    for line in failures:
        _say(f"failed: {line}")
    return 1 if failures else 0


def _tracked(
    docs: Iterator[Document], errors: dict[str, list[Document]], policy: str
) -> Iterator[Document]:
    """Pass ``docs`` on, noting Error Documents: kept (mark), left out (skip) or the end (raise)."""
    try:
        for doc in docs:
            if is_error(doc):
                errors.setdefault(str(doc.metadata.get("source")), []).append(doc)
                if policy == "raise":
                    return
                if policy == "skip":
                    continue
            yield doc
    finally:
        close = getattr(docs, "close", None)
        if close is not None:
            close()


def _write_jsonl(docs: Iterator[Document], out: str) -> None:
    if out == "-":
        write_jsonl(docs, sys.stdout)
        return
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as stream:
        write_jsonl(docs, stream)


def _write_files(docs: Iterator[Document], out: Path, fmt: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = FileNames()
    if fmt == "markdown":
        for pages in by_source(docs):
            name = names(str(pages[0].metadata.get("source")))
            (out / f"{name}.md").write_text(markdown(pages), encoding="utf-8")
        return
    for elements in by_page(docs):
        page = layout(elements)
        which = f"page-{page['page']}" if page.get("page", -1) >= 0 else "error"
        path = out / f"{names(str(page['source']))}.{which}.json"
        path.write_text(layout_json(page), encoding="utf-8")


def run_check(args: argparse.Namespace) -> int:
    """``dotsocr check``: 0 when pages fit (and read right with ``--read``) on every server
    given, 1 when not."""
    if args.export_reference:
        for path in export_reference(args.export_reference):
            _say(f"wrote {path}")
        if not args.read:
            return 0
    settings = DotsOCRSettings(**options_of(args))  # type: ignore[arg-type]
    results = []
    for url in settings.base_urls:
        try:
            results.append(asyncio.run(check_server(settings, url, read=args.read)))
        except DotsOCRError as exc:
            if args.json:  # a pipeline reads stdout: say it there too
                print(json.dumps({"ok": False, "error": str(exc)}))
            raise
    if args.json:  # one server: its object; several: a list of them
        found = [r.as_dict() for r in results]
        print(json.dumps(found[0] if len(found) == 1 else found, ensure_ascii=False, indent=2))
    else:
        for i, result in enumerate(results):
            if i:
                print()
            for line in report(result, settings):
                print(line)
    return 0 if all(r.ok for r in results) else 1


def run_draw(args: argparse.Namespace) -> int:
    """``dotsocr draw``: the page with its boxes, as a PNG."""
    image = draw_page(args.file, args.page, legend=args.legend, **options_of(args))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output, "PNG")
    _say(f"wrote {args.output} ({image.width}x{image.height} px)")
    return 0


def run_read(args: argparse.Namespace) -> int:
    """``dotsocr read``: the text inside one box of a page, on stdout."""
    text = read_region(args.file, args.page, args.bbox, **options_of(args))
    print(text)
    return 0


def _usage(message: str) -> int:
    _say(f"error: {message}")
    return 2


def _say(message: Any) -> None:
    print(f"{PROG}: {one_line(str(message))}", file=sys.stderr)
