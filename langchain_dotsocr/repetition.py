"""Spot runaway generation in a streamed answer, early and only when a loop is certain.

dots.ocr loops on dotted leaders, underscores and empty table rows, and sometimes repeats a
whole cell until the token budget is gone (minutes for one page). Three signs are watched:
the answer's tail repeating a short pattern (one character, an empty table row) far beyond
what a page holds, the same cell (box, category, text) appearing several times, and one text
repeated in many consecutive cells (the loop whose box creeps down the page).
"""

from __future__ import annotations

import itertools
import json
import re

CHECK_EVERY = 256  # characters between checks: keeps the watcher cheap on the event loop
MAX_PERIOD = 256  # longest repeated unit looked for: a wide empty table row
MIN_SPAN = 512  # a periodic tail must cover at least this many characters ...
MIN_REPEATS = 40  # ... and this many periods (40 empty rows in a row is not a real table)
SAME_CELL = 3  # the very same cell this many times
SAME_TEXT_RUN = 12  # this many consecutive cells with one text

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

    def feed(self, delta: str) -> str | None:
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
            return None
        text = cell.get("text") if isinstance(cell, dict) else None
        if not isinstance(text, str) or not text.strip():
            self._run_text, self._run = None, 0
            return None
        self._run = self._run + 1 if text == self._run_text else 1
        self._run_text = text
        if self._run >= SAME_TEXT_RUN:
            return f"loop: {self._run} consecutive cells with the text {text[:40]!r}"
        return None
