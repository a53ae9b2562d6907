"""From a read check to verdicts in plain words: one rule per symptom, each with its fix.

A rule fails the check (``"fail"``) only where a symptom lies far outside what a working
dots.ocr server does on these clean pages; where the real model's own noise is not known (it
was never measured on these pages: there is no GPU here), it reports the numbers as a
``"note"`` and says so. Thresholds and why:

* scale: a server that resizes an image changes a side by at least one 28-px step, 2.1% or
  more of these pages' sides; random box noise of a few pixels, least-squares fitted over all
  the cells of a page, moves the factor far less. Off by more than 1.5% fails.
* boxes: mean IoU under 0.5 fails (most boxes then miss their element by half or more, which
  no layout model that reads the page does); under 0.75 is a note.
* text: a page under 0.5 similarity fails (half its characters wrong; dots.ocr's published
  edit distance on real pages is about 0.05); a mean under 0.9 is a note.
* tables: rows or columns that differ fail (a clean ruled table has one reading); TEDS under
  0.9 with the right shape is a note.
* categories: a category dots.ocr does not have fails; an expected one missing is a note.
* time: a page over 3 times the median page time (and over 1 s) is a note: time depends on
  the hardware and the load, which the check cannot judge.
* layout_only and grounding, the prompts ``text_layer="auto"`` reads a born-digital PDF by
  (:mod:`.layered`), are judged on the pages whose ``layout_all`` answer is valid, so that a
  server that reads ``layout_all`` right and these wrong is told apart from one that reads
  nothing right (which the rules above name): an answer that is not valid (as above), a
  ``layout_only`` answer with categories dots.ocr does not have or a box IoU under 0.5, a
  grounding text under 0.5 similarity or a grounded table of another shape fail, with the
  advice to parse with ``text_layer="off"`` until the server is fixed; IoU under 0.75,
  similarity under 0.9 or TEDS under 0.9 are notes. Boxes and grounding texts are not judged
  when the server resizes images (the scale rule says so: its boxes land elsewhere).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..budget import FACTOR
from ..prompts import CATEGORIES
from .reading import ReadCheck, ReadPage

__all__ = ["Summary", "Verdict", "summarise", "verdicts"]

SCALE_TOLERANCE = 0.015
IOU_FAIL, IOU_NOTE = 0.5, 0.75
TEXT_FAIL, TEXT_NOTE = 0.5, 0.9
TEDS_NOTE = 0.9
SLOW_FACTOR, SLOW_FLOOR_S = 3.0, 1.0
UNMEASURED = (
    "the real model's noise on these pages was not measured: compare with a server you trust"
)

Level = Literal["fail", "note"]


@dataclass(frozen=True)
class Verdict:
    """One symptom found: how bad, what it is and what to do, and on which pages."""

    symptom: str
    level: Level
    message: str
    pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """The check over all pages: means of the pages with a valid answer."""

    pages: int
    parsed: int
    text_similarity: float | None
    mean_iou: float | None
    mean_offset_pt: float | None
    scale: tuple[float, float] | None
    tables: int
    tables_right: int
    failed_to_parse: int
    median_seconds: float
    #: Mean box IoU of the valid ``layout_only`` answers (None: none).
    layout_only_iou: float | None = None
    #: Mean text similarity of the valid grounding answers (None: none).
    grounding_similarity: float | None = None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarise(check: ReadCheck) -> Summary:
    """The overall figures of a read check."""
    scores = [p.score for p in check.scored if p.score is not None]
    scales = [s.scale for s in scores if s.scale is not None]
    tables = [t for s in scores for t in s.tables]
    return Summary(
        pages=len(check.pages),
        parsed=len(scores),
        text_similarity=_mean([s.text_similarity for s in scores]),
        mean_iou=_mean([s.mean_iou for s in scores]),
        mean_offset_pt=_mean([s.mean_offset_pt for s in scores if s.mean_offset_pt is not None]),
        scale=(
            (statistics.median(x for x, _ in scales), statistics.median(y for _, y in scales))
            if scales
            else None
        ),
        tables=len(tables),
        tables_right=sum(t.same_shape for t in tables),
        failed_to_parse=len(check.by_parse("invalid_json", "garbled", "truncated", "empty")),
        median_seconds=statistics.median(p.seconds for p in check.pages) if check.pages else 0.0,
        layout_only_iou=_mean([
            p.layout_only.score.mean_iou for p in check.pages
            if p.layout_only is not None and p.layout_only.score is not None
        ]),
        grounding_similarity=_mean([
            g.similarity for p in check.pages for g in p.grounding if g.similarity is not None
        ]),
    )


def _names(pages: list[ReadPage]) -> tuple[str, ...]:
    return tuple(p.name for p in pages)


def _of(pages: list[ReadPage], check: ReadCheck) -> str:
    return f"{len(pages)} of {len(check.pages)} pages ({', '.join(_names(pages))})"


# -- the rules, one per symptom -------------------------------------------------------------


def no_answer(check: ReadCheck) -> list[Verdict]:
    pages = check.by_parse("failed")
    if not pages:
        return []
    reasons = "; ".join(f"{p.name}: {p.error}" for p in pages)
    return [Verdict("no_answer", "fail", f"no answer on {_of(pages, check)}: {reasons}",
                    _names(pages))]


def garbled(check: ReadCheck) -> list[Verdict]:
    pages = check.by_parse("garbled")
    if not pages:
        return []
    return [Verdict(
        "garbled", "fail",
        f"answers are garbage, not layout JSON, on {_of(pages, check)}, e.g. "
        f"{pages[0].preview[:60]!r}: vLLM's chat template loses the role markers when the "
        "content comes as a list; start vLLM with --chat-template-content-format string",
        _names(pages),
    )]


def truncated(check: ReadCheck) -> list[Verdict]:
    pages = check.by_parse("truncated")
    if not pages:
        return []
    why = ", ".join(sorted({str(p.finish_reason) for p in pages}))
    return [Verdict(
        "truncated", "fail",
        f"answers stopped before their end on {_of(pages, check)} (finish_reason {why}): the "
        "model looped or ran out of output budget on a short page; a context too small shows "
        "in the check above, a loop on these clean pages points at a broken checkpoint or "
        "sampling settings",
        _names(pages),
    )]


def invalid_json(check: ReadCheck) -> list[Verdict]:
    pages = check.by_parse("invalid_json")
    if not pages:
        return []
    return [Verdict(
        "invalid_json", "fail",
        f"answers are not valid JSON on {_of(pages, check)}: check that vLLM runs with "
        "--chat-template-content-format string; if it does, this is the unparsable-JSON "
        "regression of some vLLM versions (dots.ocr #251): pin a vLLM that reads these pages "
        "right. The loader salvages such pages cell by cell and asks again, at a cost",
        _names(pages),
    )]


def empty(check: ReadCheck) -> list[Verdict]:
    pages = check.by_parse("empty")
    if not pages:
        return []
    return [Verdict(
        "empty", "fail",
        f"empty answers on {_of(pages, check)}, which all show text: the model does not see "
        "the image (a server or checkpoint that is not dots.ocr?)",
        _names(pages),
    )]


def scaled_boxes(check: ReadCheck) -> list[Verdict]:
    pages = [
        p for p in check.scored
        if p.score is not None and p.score.scale is not None and p.score.scale_fits
        and max(abs(f - 1) for f in p.score.scale) > SCALE_TOLERANCE
    ]
    if not pages or len(pages) * 2 < len(check.scored):
        return []
    scales = [p.score.scale for p in pages if p.score is not None and p.score.scale is not None]
    sx = statistics.median(s[0] for s in scales)
    sy = statistics.median(s[1] for s in scales)
    factor = f"{sx:.2f}" if abs(sx - sy) < 0.01 else f"{sx:.2f} x {sy:.2f}"
    areas = [
        _server_side(p.sent_size[0], s[0]) * _server_side(p.sent_size[1], s[1])
        for p, s in zip(pages, scales, strict=True)
    ]
    if sx < 1:
        fix = (
            f"pass max_pixels={min(areas)} (or less) to the loader, so pages arrive at a size "
            "the server keeps"
        )
        flag = "smaller max_pixels"
    else:
        fix = (
            f"pass min_pixels={max(areas)} to the loader, so pages arrive at a size the "
            "server keeps"
        )
        flag = "larger min_pixels"
    return [Verdict(
        "scaled_boxes", "fail",
        f"boxes are scaled by {factor} on {_of(pages, check)}: the server resizes images "
        f"itself (started with {flag}, e.g. in --mm-processor-kwargs); start it with the "
        f"model's pixel limits, or {fix}",
        _names(pages),
    )]


def _server_side(sent: int, factor: float) -> int:
    return max(FACTOR, round(sent * factor / FACTOR) * FACTOR)


def boxes(check: ReadCheck) -> list[Verdict]:
    if scaled_boxes(check):
        return []  # explained there
    summary = summarise(check)
    if summary.mean_iou is None or summary.mean_iou >= IOU_NOTE:
        return []
    offset = f"{summary.mean_offset_pt:.1f} pt" if summary.mean_offset_pt is not None else "?"
    numbers = f"mean IoU {summary.mean_iou:.2f}, edges off by {offset} on average"
    if summary.mean_iou < IOU_FAIL:
        return [Verdict(
            "boxes", "fail",
            f"boxes do not match the pages ({numbers}), and not by a uniform scale: is the "
            "served model dots.ocr, in its released weights?",
        )]
    return [Verdict("boxes", "note", f"boxes agree less than expected ({numbers}); {UNMEASURED}")]


def tables(check: ReadCheck) -> list[Verdict]:
    out = []
    for page in check.scored:
        assert page.score is not None
        for table in page.score.tables:
            rows, cols = table.truth
            if table.found is None:
                out.append(Verdict(
                    "table_structure", "fail",
                    f"the {cols}-column table on page {page.name!r} came back without a Table "
                    "cell",
                    (page.name,),
                ))
            elif table.found[1] != cols:
                out.append(Verdict(
                    "table_structure", "fail",
                    f"the {cols}-column table on page {page.name!r} came back with "
                    f"{table.found[1]} columns: a known regression of some vLLM and "
                    "transformers versions (dots.ocr #268); pin the versions that read it right",
                    (page.name,),
                ))
            elif table.found[0] != rows:
                out.append(Verdict(
                    "table_structure", "fail",
                    f"the {rows}-row table on page {page.name!r} came back with "
                    f"{table.found[0]} rows",
                    (page.name,),
                ))
            elif table.teds < TEDS_NOTE:
                out.append(Verdict(
                    "table_structure", "note",
                    f"the table on page {page.name!r} has the right shape but a TEDS of "
                    f"{table.teds:.2f}; {UNMEASURED}",
                    (page.name,),
                ))
    return out


def text(check: ReadCheck) -> list[Verdict]:
    low = [p for p in check.scored if p.score is not None and p.score.text_similarity < TEXT_FAIL]
    if low:
        figures = ", ".join(
            f"{p.name} {p.score.text_similarity:.2f}" for p in low if p.score is not None
        )
        return [Verdict(
            "text", "fail",
            f"text is misread on {_of(low, check)} (similarity {figures}): another model "
            "behind this name, or a quantised or fine-tuned checkpoint that reads differently",
            _names(low),
        )]
    mean = summarise(check).text_similarity
    if mean is not None and mean < TEXT_NOTE:
        return [Verdict(
            "text", "note",
            f"text similarity {mean:.2f} is below what dots.ocr reaches on real documents "
            f"(edit distance about 0.05 on OmniDocBench); {UNMEASURED}",
        )]
    return []


def categories(check: ReadCheck) -> list[Verdict]:
    found = {c for p in check.scored if p.score for c in p.score.categories_found}
    expected = {c for p in check.scored if p.score for c in p.score.categories_expected}
    foreign = sorted(found - set(CATEGORIES))
    missing = sorted(expected - found)
    out = []
    if foreign:
        out.append(Verdict(
            "categories", "fail",
            f"answers use categories dots.ocr does not have ({', '.join(foreign)}): another "
            "model behind this name?",
        ))
    if missing:
        out.append(Verdict(
            "categories", "note",
            f"expected categories never found: {', '.join(missing)}; {UNMEASURED}",
        ))
    return out


def slow(check: ReadCheck) -> list[Verdict]:
    answered = [p for p in check.pages if p.parse != "failed"]
    if len(answered) < 3:
        return []
    median = statistics.median(p.seconds for p in answered)
    limit = max(SLOW_FLOOR_S, SLOW_FACTOR * median)
    out = []
    for page in answered:
        if page.seconds > limit:
            rate = ""
            if page.completion_tokens and page.seconds > 0:
                rate = f", {page.completion_tokens / page.seconds:.0f} tokens/s"
            out.append(Verdict(
                "slow", "note",
                f"page {page.name!r} took {page.seconds:.1f} s, {page.seconds / median:.0f}x the "
                f"median of {median:.2f} s{rate}: a server busy with other work, or one that "
                "stalls on some pages (watch vllm:num_requests_waiting on /metrics); timing "
                "depends on the hardware, so this is not counted as a failure",
                (page.name,),
            ))
    return out


# -- the prompts of text_layer="auto" ---------------------------------------------------------

AUTO_HINT = (
    'text_layer="auto" (the default) reads born-digital PDF pages with this prompt and would '
    "misread them: parse with --text-layer off (text_layer=\"off\") until the server answers "
    "it right"
)


def _why_not(parse: str, finish_reason: str | None, preview: str, error: str | None) -> str:
    """An answer that is not valid, in a few words."""
    if parse == "failed":
        return f"no answer ({error})"
    if parse == "truncated":
        return f"cut before its end (finish_reason {finish_reason})"
    if parse == "garbled":
        return f"garbage, e.g. {preview[:40]!r}"
    return {"empty": "empty", "invalid_json": "not valid JSON"}.get(parse, parse)


def _judged(
    kind: str,
    what: str,
    checked: int,
    bad: list[tuple[ReadPage, str]],
    weak: list[tuple[ReadPage, str]],
) -> list[Verdict]:
    out = []
    if bad:
        pages = list(dict.fromkeys(p for p, _ in bad))
        details = "; ".join(f"{p.name}: {why}" for p, why in bad)
        out.append(Verdict(
            kind, "fail",
            f"{what} answers are wrong on {len(pages)} of the {checked} pages that layout_all "
            f"reads right ({details}): {AUTO_HINT}",
            _names(pages),
        ))
    if weak:
        pages = list(dict.fromkeys(p for p, _ in weak))
        details = "; ".join(f"{p.name}: {why}" for p, why in weak)
        out.append(Verdict(kind, "note", f"{what} answers agree less than expected ({details}); "
                           f"{UNMEASURED}", _names(pages)))
    return out


def layout_only(check: ReadCheck) -> list[Verdict]:
    scaled = bool(scaled_boxes(check))
    bad: list[tuple[ReadPage, str]] = []
    weak: list[tuple[ReadPage, str]] = []
    for page in check.scored:
        read = page.layout_only
        if read is None:
            continue
        if read.score is None:
            bad.append((page, _why_not(read.parse, read.finish_reason, read.preview, read.error)))
            continue
        score = read.score
        foreign = sorted(set(score.categories_found) - set(CATEGORIES))
        boxes = f"box IoU {score.mean_iou:.2f}, {score.matched} of {score.cells} cells in order"
        if foreign:
            bad.append((page, f"categories dots.ocr does not have ({', '.join(foreign)})"))
        elif not scaled and score.mean_iou < IOU_FAIL:
            bad.append((page, boxes))
        elif not scaled and score.mean_iou < IOU_NOTE:
            weak.append((page, boxes))
    return _judged(
        "layout_only", "layout_only (boxes, categories, order)", len(check.scored), bad, weak
    )


def grounding(check: ReadCheck) -> list[Verdict]:
    scaled = bool(scaled_boxes(check))
    bad: list[tuple[ReadPage, str]] = []
    weak: list[tuple[ReadPage, str]] = []
    for page in check.scored:
        for read in page.grounding:
            what = f"the {read.category} at {list(read.box)}"
            if read.similarity is None:
                why = _why_not(read.parse, read.finish_reason, read.preview, read.error)
                bad.append((page, f"{what}: {why}"))
                continue
            if scaled:
                continue
            table = read.table
            if table is not None and not table.same_shape:
                rows, cols = table.found or (0, 0)
                bad.append((page, f"{what}: {rows}x{cols} cells of {table.truth[0]}x"
                            f"{table.truth[1]}"))
            elif read.similarity < TEXT_FAIL:
                bad.append((page, f"{what}: text similarity {read.similarity:.2f}"))
            elif read.similarity < TEXT_NOTE or (table is not None and table.teds < TEDS_NOTE):
                teds = f", TEDS {table.teds:.2f}" if table is not None else ""
                weak.append((page, f"{what}: text similarity {read.similarity:.2f}{teds}"))
    return _judged("grounding", "grounding (one box's text)", len(check.scored), bad, weak)


RULES: tuple[Callable[[ReadCheck], list[Verdict]], ...] = (
    no_answer, garbled, truncated, invalid_json, empty, scaled_boxes, boxes, tables, text,
    categories, slow, layout_only, grounding,
)


def verdicts(check: ReadCheck) -> list[Verdict]:
    """Every symptom the check shows, failures first in the order of the rules."""
    found = [v for rule in RULES for v in rule(check)]
    return sorted(found, key=lambda v: v.level != "fail")
