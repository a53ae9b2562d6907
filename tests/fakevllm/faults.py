"""Faults: what goes wrong, on which page, at which attempt, and the broken answers themselves.

A page is known by its marker, the Page-footer whose n is the page number (``None`` when the
image has none). The double counts the requests it has seen for each page; the k-th (from 0) is
that page's attempt k. :meth:`FaultPlan.choose` picks the fault of an attempt: the planned one
from ``by_page`` if the list reaches that far, else a random one drawn with ``rates`` (seeded by
seed, page and attempt, so the draw does not depend on the order requests arrive in), else "ok".
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .answers import GROUNDING, LAYOUT_ALL, OCR, Script, cell, dumps, normal_answer
from .regressions import columns_dropped, drop_columns, garbled
from .vision import Element

HTTP_FAULTS: dict[str, int] = {
    "http_400": 400,  # a bad request that is not about the budget (an image vLLM cannot load)
    "http_429": 429,
    "http_500": 500,
    "http_502": 502,
    "http_503": 503,
    "http_504": 504,
}
# garbled_chunk / error_chunk: half the stream, then a chunk that is not JSON / an error
# object (as vLLM sends when the engine fails mid-answer), then [DONE]. hang: nothing for
# hang_seconds before the answer (as a request queued on a busy server); stall_mid: half the
# stream, then nothing for hang_seconds, then the rest.
TRANSPORT_FAULTS = frozenset(
    {"drop_before", "drop_mid", "hang", "stall_mid", "garbled_chunk", "error_chunk"}
)
CONTEXT_FAULTS: dict[str, int] = {f"ctx_wording_{i}": i for i in (1, 2, 3, 4)}
ANSWER_FAULTS = frozenset(
    {
        "loop_table",  # empty table rows repeated inside the last table's text until the budget
        "loop_cell",  # one whole cell repeated, same box, until the budget
        "loop_cell_creep",  # one cell repeated with its box creeping down the page
        "loop_char",  # "Signature: ______..." until the budget
        "truncate",  # the real answer cut in the middle of a string, finish_reason "length"
        "invalid_json",  # a comma missing between the first two cells; the last bbox has 3 numbers
        "malformed_boxes",  # x2 < x1 in one box, one box past the image edge, one with 3 numbers
        "duplicate",  # one cell written twice in a row
        "fenced",  # the JSON inside a ```json Markdown fence
        "wrapped",  # the array inside an object: {"elements": [...]}
        "ascii_escape",  # non-ASCII written as \\uXXXX escapes
        "empty",  # "[]" (or "" in the text modes)
        "garbled",  # prose instead of JSON: a chat template without the role markers
        "table_columns_dropped",  # every table keeps the first half of its columns (#268),
        # in a layout answer and in a grounding answer on a table's box (its HTML) alike
    }
)
FAULT_KINDS: frozenset[str] = frozenset(
    {"ok", *HTTP_FAULTS, *TRANSPORT_FAULTS, *CONTEXT_FAULTS, *ANSWER_FAULTS}
)


@dataclass
class FaultPlan:
    """Which fault each request gets.

    ``by_page``: page number (or ``None`` for pages without a marker, or a reference page's
    name) -> fault of attempt 0, 1, ...
    ``rates``: fault -> probability, for attempts ``by_page`` does not plan (sum <= 1).
    ``retry_after``: seconds sent in the Retry-After header of ``http_429`` (``None``: no header).
    ``hang_seconds``: how long ``hang`` sends nothing before answering normally.
    ``by_mode``: prompt mode key (``"prompt_grounding_ocr"``, ...) -> fault of the 0th, 1st, ...
    request with that prompt, whatever its page (one band of a table, one part of a dense
    page); it comes before ``by_page`` for the requests it plans.
    """

    by_page: Mapping[int | str | None, Sequence[str]] = field(default_factory=dict)
    by_mode: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    retry_after: float | None = 1.0
    hang_seconds: float = 30.0

    def __post_init__(self) -> None:
        self.by_page = {
            page: [kinds] if isinstance(kinds, str) else list(kinds)
            for page, kinds in self.by_page.items()
        }
        self.by_mode = {
            mode: [kinds] if isinstance(kinds, str) else list(kinds)
            for mode, kinds in self.by_mode.items()
        }
        for kinds in [*self.by_page.values(), *self.by_mode.values()]:
            for kind in kinds:
                _check_kind(kind)
        for kind, rate in self.rates.items():
            _check_kind(kind)
            if rate < 0:
                raise ValueError(f"rate of {kind} is negative")
        if sum(self.rates.values()) > 1 + 1e-9:
            raise ValueError("fault rates add up to more than 1")

    def choose(
        self, page: int | str | None, attempt: int, mode: str | None = None, nth: int = 0
    ) -> str:
        """The fault of ``page``'s attempt ``attempt`` (0 for the first request), which is the
        ``nth`` request with prompt ``mode``."""
        by_mode = self.by_mode.get(mode or "")
        if by_mode is not None and nth < len(by_mode):
            return by_mode[nth]
        planned = self.by_page.get(page)
        if planned is not None and attempt < len(planned):
            return planned[attempt]
        if self.rates:
            u = random.Random(f"{self.seed}:{page}:{attempt}").random()
            total = 0.0
            for kind in sorted(self.rates):
                total += self.rates[kind]
                if u < total:
                    return kind
        return "ok"


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULT_KINDS)}")


# --------------------------------------------------------------------------------------------
# Broken answers

_TABLE_ROW = "<tr><td></td><td></td></tr>"
Cell = dict[str, Any]


def _join(cells: Sequence[Cell]) -> str:
    return ", ".join(dumps(c) for c in cells)


def _open_cell(c: Cell, text: str) -> str:
    """A cell written up to and into its text string, left open."""
    head = dumps({k: v for k, v in c.items() if k != "text"})[:-1]
    return head + ', "text": "' + dumps(text)[1:-1]


def _synthetic(category: str, size: tuple[int, int], top: float, text: str | None) -> Cell:
    w, h = size
    c: Cell = {
        "bbox": [w // 10, int(h * top), w * 9 // 10, int(h * (top + 0.05))],
        "category": category,
    }
    if text is not None:
        c["text"] = text
    return c


def _prefix_before(cells: Sequence[Cell]) -> str:
    return "[" + _join(cells) + (", " if cells else "")


def _loop_table(cells: list[Cell], size: tuple[int, int]) -> Script:
    idx = max((i for i, c in enumerate(cells) if c["category"] == "Table"), default=None)
    if idx is None:
        cells = [
            *cells,
            _synthetic("Table", size, 0.6, "<table><tbody><tr><td>1</td><td></td></tr>"),
        ]
        idx = len(cells) - 1
    table = cells[idx]
    text = str(table.get("text", ""))
    for closing in ("</tbody></table>", "</table>"):
        if text.endswith(closing):
            text = text[: -len(closing)]
            break
    return Script(_prefix_before(cells[:idx]) + _open_cell(table, text), loop=lambda k: _TABLE_ROW)


def _repeated_cell(cells: list[Cell], size: tuple[int, int], with_text: bool) -> Cell:
    texts = [c for c in cells if c["category"] == "Text"]
    if texts:
        return texts[-1]
    if cells:
        return cells[-1]
    return _synthetic("Text", size, 0.5, "Text block 0." if with_text else None)


def _loop_cell(cells: list[Cell], size: tuple[int, int], with_text: bool, creep: bool) -> Script:
    rep = _repeated_cell(cells, size, with_text)
    start = "[" + (_join(cells) if cells else dumps(rep))
    if not creep:
        unit = ", " + dumps(rep)
        return Script(start, loop=lambda k: unit)
    box = [int(v) for v in rep["bbox"]]
    height = size[1]

    def creeping(k: int) -> str:
        dy = min(3 * (k + 1), max(0, height - box[3]))
        moved = dict(rep, bbox=[box[0], box[1] + dy, box[2], box[3] + dy])
        return ", " + dumps(moved)

    return Script(start, loop=creeping)


def _loop_char(cells: list[Cell], size: tuple[int, int]) -> Script:
    sig = _synthetic("Text", size, 0.85, None)
    return Script(_prefix_before(cells) + _open_cell(sig, "Signature: "), loop=lambda k: "_")


def _truncate(cells: list[Cell]) -> Script:
    if not cells:
        return Script("[", finish="length")
    k = len(cells) // 2
    c = cells[k]
    key = "text" if "text" in c else "category"
    written = dumps(c)
    marker = f'"{key}": "'
    start = written.index(marker) + len(marker)
    value_len = len(dumps(c[key])) - 2
    cut = start + max(1, value_len // 2)
    if written[cut - 1] == "\\":
        cut += 1
    return Script(_prefix_before(cells[:k]) + written[:cut], finish="length")


def _invalid_json(cells: list[Cell], size: tuple[int, int]) -> Script:
    cells = [dict(c) for c in cells] or [_synthetic("Text", size, 0.5, "Text block 0.")]
    last = cells[-1]
    last["bbox"] = list(last["bbox"])[:3]
    parts = [dumps(c) for c in cells]
    if len(parts) >= 2:
        parts[:2] = [parts[0] + " " + parts[1]]
    return Script("[" + ", ".join(parts) + "]")


def _malformed_boxes(cells: list[Cell], size: tuple[int, int]) -> Script:
    cells = [dict(c) for c in cells]
    w, _h = size
    if cells:
        x1, y1, x2, y2 = cells[0]["bbox"]
        cells[0]["bbox"] = [x2, y1, x1, y2]
    if len(cells) > 1:
        x1, y1, _x2, y2 = cells[1]["bbox"]
        cells[1]["bbox"] = [x1, y1, w + 5, y2]
    if len(cells) > 2:
        cells[2]["bbox"] = list(cells[2]["bbox"])[:3]
    return Script(dumps(cells))


def _text_mode(kind: str, normal: str) -> Script:
    """Faults in the plain-text modes (OCR, grounding)."""
    sep = "\n\n" if normal else ""
    if kind == "loop_table":
        return Script(normal + sep + "<table><tbody>", loop=lambda k: _TABLE_ROW)
    if kind in ("loop_cell", "loop_cell_creep"):
        unit = "\n\n" + (normal.split("\n\n")[-1] if normal else "Text block 0.")
        return Script(normal or "Text block 0.", loop=lambda k: unit)
    if kind == "loop_char":
        return Script(normal + sep + "Signature: ", loop=lambda k: "_")
    if kind == "truncate":
        return Script(normal[: len(normal) // 2], finish="length")
    if kind == "empty":
        return Script("")
    return Script(normal)


def answer_script(
    kind: str,
    mode: str,
    elements: list[Element],
    size: tuple[int, int],
    box: tuple[float, ...] | None = None,
) -> Script:
    """The answer of a request in prompt ``mode`` for a page showing ``elements`` (resized
    image of ``size`` = (w, h)), spoiled by fault ``kind`` ("ok" or another non-HTTP fault)."""
    normal = normal_answer(mode, elements, box)
    if kind not in ANSWER_FAULTS:
        return Script(normal)
    if kind == "garbled":
        return garbled(elements)
    if mode == GROUNDING and kind == "table_columns_dropped":  # a table's HTML, as in layouts
        return Script(drop_columns(normal))
    if mode in (OCR, GROUNDING):
        return _text_mode(kind, normal)
    with_text = mode == LAYOUT_ALL
    cells = [cell(e, with_text) for e in elements]
    if kind == "empty":
        return Script("[]")
    if kind == "loop_table" and with_text:
        return _loop_table(cells, size)
    if kind == "loop_char" and with_text:
        return _loop_char(cells, size)
    if kind in ("loop_table", "loop_char", "loop_cell", "loop_cell_creep"):
        return _loop_cell(cells, size, with_text, creep=kind == "loop_cell_creep")
    if kind == "truncate":
        return _truncate(cells)
    if kind == "invalid_json":
        return _invalid_json(cells, size)
    if kind == "malformed_boxes":
        return _malformed_boxes(cells, size)
    if kind == "duplicate":
        if cells:
            k = len(cells) // 2
            cells = [*cells[: k + 1], cells[k], *cells[k + 1 :]]
        return Script(dumps(cells))
    if kind == "fenced":
        return Script("```json\n" + normal + "\n```")
    if kind == "wrapped":
        return Script('{"elements": ' + normal + "}")
    if kind == "ascii_escape":
        return Script(dumps(cells, ascii_only=True))
    if kind == "table_columns_dropped":
        return columns_dropped(cells)
    raise AssertionError(f"unhandled fault {kind}")  # pragma: no cover


__all__ = [
    "ANSWER_FAULTS",
    "CONTEXT_FAULTS",
    "FAULT_KINDS",
    "HTTP_FAULTS",
    "TRANSPORT_FAULTS",
    "FaultPlan",
    "answer_script",
]
