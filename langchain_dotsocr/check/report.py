"""A read check in plain lines (a table of pages per prompt, the overall figures, the verdicts)
or as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .layered import Grounded, LayoutOnly
from .reading import ReadCheck, ReadPage
from .verdict import Summary, Verdict

HEADER = (
    f"{'page':<10}{'sent as':>11}{'time':>8}{'tokens':>8}  {'answer':<13}{'text':>6}"
    f"{'IoU':>6}{'offset':>9}{'scale':>13}  table"
)


LAYOUT_ONLY_HEADER = (
    f"{'page':<10}{'time':>8}{'tokens':>8}  {'answer':<13}{'cells':>9}{'IoU':>6}{'offset':>9}"
)
GROUNDING_HEADER = (
    f"{'page':<10}{'element':<9}{'time':>8}{'tokens':>8}  {'answer':<13}{'text':>6}  table"
)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def page_line(page: ReadPage) -> str:
    """One page's figures in one line."""
    size = f"{page.sent_size[0]}x{page.sent_size[1]}"
    tokens = "-" if page.completion_tokens is None else str(page.completion_tokens)
    s = page.score
    text = iou = offset = scale = "-"
    table = ""
    if s is not None:
        text, iou = f"{s.text_similarity:.2f}", f"{s.mean_iou:.2f}"
        offset = _num(s.mean_offset_pt, ".1f") + " pt"
        scale = "-" if s.scale is None else f"{s.scale[0]:.3f}x{s.scale[1]:.3f}"
        table = ", ".join(
            f"{t.found[0] if t.found else 0}x{t.found[1] if t.found else 0} of "
            f"{t.truth[0]}x{t.truth[1]}, TEDS {t.teds:.2f}"
            for t in s.tables
        )
    return (
        f"{page.name:<10}{size:>11}{page.seconds:>7.2f}s{tokens:>8}  {page.parse:<13}{text:>6}"
        f"{iou:>6}{offset:>9}{scale:>13}  {table}"
    ).rstrip()


def layout_only_line(name: str, read: LayoutOnly) -> str:
    """One page's ``layout_only`` answer in one line."""
    tokens = "-" if read.completion_tokens is None else str(read.completion_tokens)
    s = read.score
    cells = iou = offset = "-"
    if s is not None:
        cells, iou = f"{s.matched} of {s.cells}", f"{s.mean_iou:.2f}"
        offset = _num(s.mean_offset_pt, ".1f") + " pt"
    return (
        f"{name:<10}{read.seconds:>7.2f}s{tokens:>8}  {read.parse:<13}{cells:>9}{iou:>6}"
        f"{offset:>9}"
    )


def grounding_line(name: str, read: Grounded) -> str:
    """One grounding answer in one line."""
    tokens = "-" if read.completion_tokens is None else str(read.completion_tokens)
    text = _num(read.similarity, ".2f")
    t = read.table
    table = ""
    if t is not None:
        found = t.found or (0, 0)
        table = f"{found[0]}x{found[1]} of {t.truth[0]}x{t.truth[1]}, TEDS {t.teds:.2f}"
    return (
        f"{name:<10}{read.category:<9}{read.seconds:>7.2f}s{tokens:>8}  {read.parse:<13}"
        f"{text:>6}  {table}"
    ).rstrip()


def overall_line(summary: Summary) -> str:
    """The figures over all pages."""
    scale = "-" if summary.scale is None else f"{summary.scale[0]:.3f} x {summary.scale[1]:.3f}"
    return (
        f"overall: text similarity {_num(summary.text_similarity, '.2f')}, box IoU "
        f"{_num(summary.mean_iou, '.2f')} (edges off by {_num(summary.mean_offset_pt, '.1f')} pt), "
        f"box scale {scale}, tables right {summary.tables_right} of {summary.tables}, "
        f"answers that failed to parse {summary.failed_to_parse} of {summary.pages}, "
        f"{summary.median_seconds:.2f} s per page (median); layout_only box IoU "
        f"{_num(summary.layout_only_iou, '.2f')}, grounding text similarity "
        f"{_num(summary.grounding_similarity, '.2f')}"
    )


def read_lines(check: ReadCheck, summary: Summary, verdicts: list[Verdict]) -> list[str]:
    """The read check as the command prints it."""
    grounded = sum(len(p.grounding) for p in check.pages)
    lines = [
        f"read check: {len(check.pages)} reference pages, sent as the loader sends pages, each "
        f"asked layout_all, then layout_only, and grounding on {grounded} boxes in all (the "
        'prompts text_layer="auto" reads PDFs by)',
        "layout_all (boxes, categories, text):",
        HEADER,
        *(page_line(p) for p in check.pages),
        "layout_only (boxes, categories, reading order; no text):",
        LAYOUT_ONLY_HEADER,
        *(layout_only_line(p.name, p.layout_only) for p in check.pages if p.layout_only),
        "grounding (one box's text: a text's words, a table's HTML, a formula's LaTeX):",
        GROUNDING_HEADER,
        *(grounding_line(p.name, g) for p in check.pages for g in p.grounding),
        overall_line(summary),
    ]
    for verdict in verdicts:
        lines.append(f"{verdict.level.upper()}: {verdict.message}")
    if not any(v.level == "fail" for v in verdicts):
        lines.append("OK: the server reads the reference pages right.")
    return lines


def read_dict(check: ReadCheck, summary: Summary, verdicts: list[Verdict]) -> dict[str, Any]:
    """The read check as plain data for ``--json``."""
    return {
        "pages": [asdict(p) for p in check.pages],
        "overall": asdict(summary),
        "verdicts": [asdict(v) for v in verdicts],
    }
