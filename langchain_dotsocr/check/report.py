"""A read check in plain lines (a table of pages, the overall figures, the verdicts) or as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .reading import ReadCheck, ReadPage
from .verdict import Summary, Verdict

HEADER = (
    f"{'page':<10}{'sent as':>11}{'time':>8}{'tokens':>8}  {'answer':<13}{'text':>6}"
    f"{'IoU':>6}{'offset':>9}{'scale':>13}  table"
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


def overall_line(summary: Summary) -> str:
    """The figures over all pages."""
    scale = "-" if summary.scale is None else f"{summary.scale[0]:.3f} x {summary.scale[1]:.3f}"
    return (
        f"overall: text similarity {_num(summary.text_similarity, '.2f')}, box IoU "
        f"{_num(summary.mean_iou, '.2f')} (edges off by {_num(summary.mean_offset_pt, '.1f')} pt), "
        f"box scale {scale}, tables right {summary.tables_right} of {summary.tables}, "
        f"answers that failed to parse {summary.failed_to_parse} of {summary.pages}, "
        f"{summary.median_seconds:.2f} s per page (median)"
    )


def read_lines(check: ReadCheck, summary: Summary, verdicts: list[Verdict]) -> list[str]:
    """The read check as the command prints it."""
    lines = [
        f"read check: {len(check.pages)} reference pages, one layout_all request each, sent as "
        "the loader sends pages",
        HEADER,
        *(page_line(p) for p in check.pages),
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
