"""Spot runaway generation in a streamed answer, early and only when a loop is certain.

dots.ocr loops on dotted leaders, underscores and empty table rows, and sometimes repeats a
whole cell until the token budget is gone (minutes for one page). Three signs are watched:
the answer's tail repeating a short pattern (one character, an empty table row) far beyond
what a page holds, the same cell (box, category, text) appearing several times, and one text
repeated in many consecutive cells whose box moves by the same step each time (the loop that
creeps down the page). Thresholds leave real pages alone (ruled lines, label sheets, blank
forms, long numeric tables) at the cost of a few thousand characters before a loop is cut,
against the tens of thousands a loop would run to.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import TypeGuard

CHECK_EVERY = 256  # characters between checks: keeps the watcher cheap on the event loop
MAX_PERIOD = 256  # longest repeated unit looked for: a wide empty table row
MIN_SPAN = 2048  # a periodic tail must cover at least this many characters ...
MIN_REPEATS = 100  # ... and this many periods (100 identical empty rows is not a real table)
SAME_CELL = 3  # the very same cell this many times
SAME_TEXT_RUN = 24  # this many consecutive cells with one text and a constant box step

_CELL_START = re.compile(r'\{\s*"bbox"')


class LoopDetector:
    """Feed it the streamed deltas; it returns a reason once the answer is surely looping."""

    def __init__(self) -> None:
        self.text = ""
        self._checked = 0
        self._cell_pos = 0
        self._seen: dict[str, int] = {}
        self._run_text: str | None = None
        self._run = 0
        self._box: list[float] | None = None
        self._step: list[float] | None = None

    def feed(self, delta: str, tokens: int = 0) -> str | None:
        """Take the next delta (and the tokens generated so far, unused here)."""
        self.text += delta
        if len(self.text) - self._checked < CHECK_EVERY:
            return None
        self._checked = len(self.text)
        return self._periodic_tail() or self._repeated_cells()

    def _periodic_tail(self) -> str | None:
        text = self.text
        for period in range(1, MAX_PERIOD + 1):
            span = max(MIN_SPAN, MIN_REPEATS * period)
            if span > len(text):
                break
            unit = text[-period:]
            # Cheap reject before the full comparison.
            if text[-2 * period : -period] != unit:
                continue
            if text[-span:] == (unit * (span // period + 1))[-span:]:
                shown = unit if len(unit) <= 40 else unit[:37] + "..."
                return f"loop: {shown!r} repeated over {span}+ characters"
        return None

    def _repeated_cells(self) -> str | None:
        starts = [m.start() for m in _CELL_START.finditer(self.text, self._cell_pos)]
        # Every start but the last closes the cell before it.
        for begin, end in itertools.pairwise(starts):
            raw = self.text[begin:end].rstrip().rstrip(",").rstrip()
            self._cell_pos = end
            reason = self._see(raw)
            if reason:
                return reason
        return None

    def _see(self, raw: str) -> str | None:
        count = self._seen[raw] = self._seen.get(raw, 0) + 1
        if count >= SAME_CELL:
            return f"loop: the same cell {count} times"
        try:
            cell = json.loads(raw)
        except ValueError:
            cell = None
        text = cell.get("text") if isinstance(cell, dict) else None
        box = cell.get("bbox") if isinstance(cell, dict) else None
        if not isinstance(text, str) or not text.strip() or not _is_box(box):
            self._run, self._run_text, self._box, self._step = 0, None, None, None
            return None
        step = None if self._box is None else [b - a for a, b in zip(self._box, box, strict=True)]
        if text == self._run_text and (self._run == 1 or step == self._step):
            self._run += 1
        else:
            self._run = 1
        self._run_text, self._box, self._step = text, box, step
        if self._run >= SAME_TEXT_RUN:
            return f"loop: {self._run} cells with the text {text[:40]!r}, each a step further"
        return None


def _is_box(value: object) -> TypeGuard[list[float]]:
    return (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) for v in value)
    )
