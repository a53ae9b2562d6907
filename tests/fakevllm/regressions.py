"""Answers of misconfigured or regressed servers, which come back with HTTP 200 and are wrong.

* ``garbled``: vLLM without ``--chat-template-content-format string`` renders a list content
  without the user/assistant markers, and a share of requests (about one in five, measured
  on dots.ocr by intel/llm-scaler#682) return hallucinated prose instead of the layout JSON.
* ``table_columns_dropped``: some vLLM and transformers versions read a 5- or 6-column table
  as a 3-column one (dots.ocr #268): each row keeps only the cells that start in its first
  half of the columns, as the model then writes them.
"""

from __future__ import annotations

import math
import re

from .answers import Script, dumps, ocr_answer
from .vision import Element

_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<(t[dh])\b([^>]*)>(.*?)</\1>", re.S)
_SPAN = re.compile(r'(rowspan|colspan)\s*=\s*"?(\d+)"?')


def garbled(elements: list[Element]) -> Script:
    """Prose about the page instead of the layout array: not one cell in it."""
    words = " ".join(ocr_answer(elements).split())
    return Script("The image shows a page of a document. It reads: " + words[:400])


def drop_columns(html: str) -> str:
    """The table with only the cells that start in the first half (rounded up) of its columns."""
    rows = _ROW.findall(html)
    if not rows:
        return html
    parsed = [[(_spans(attrs), tag, attrs, body) for tag, attrs, body in _CELL.findall(r)]
              for r in rows]
    taken: set[tuple[int, int]] = set()
    starts: list[list[int]] = []
    for r, row in enumerate(parsed):
        c, mine = 0, []
        for (rowspan, colspan), *_ in row:
            while (r, c) in taken:
                c += 1
            mine.append(c)
            taken.update((r + i, c + j) for i in range(rowspan) for j in range(colspan))
            c += colspan
        starts.append(mine)
    keep = math.ceil((max(col for _, col in taken) + 1) / 2)
    out = []
    for row, mine in zip(parsed, starts, strict=True):
        cells = []
        for (_, tag, attrs, body), start in zip(row, mine, strict=True):
            if start >= keep:
                continue
            attrs = _SPAN.sub(lambda m, start=start: _clip(m, start, keep), attrs)
            cells.append(f"<{tag}{attrs}>{body}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    rebuilt = iter(out)
    return _ROW.sub(lambda _m: next(rebuilt), html)


def _spans(attrs: str) -> tuple[int, int]:
    found = {k: int(v) for k, v in _SPAN.findall(attrs)}
    return max(1, found.get("rowspan", 1)), max(1, found.get("colspan", 1))


def _clip(m: re.Match[str], start: int, keep: int) -> str:
    if m.group(1) == "colspan":
        return f'colspan="{min(int(m.group(2)), keep - start)}"'
    return m.group(0)


def columns_dropped(cells: list[dict[str, object]]) -> Script:
    """The layout answer with every table's right half of columns left out."""
    out = [
        dict(c, text=drop_columns(str(c["text"]))) if c["category"] == "Table" and "text" in c
        else c
        for c in cells
    ]
    return Script(dumps(out))
