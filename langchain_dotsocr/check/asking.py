"""One request of the read check, sent as the loader sends it, and how its answer came back.

Every request goes through the loader's own request path (:class:`..servers.Servers`: same
image encoding, output budget, sampling and loop watch), once: no re-ask, no salvage, no
fallback, as they would hide the very symptoms looked for. Transport faults (429, 5xx, dropped
connections) are retried as the loader retries them: they say nothing about reading.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

from ..client import Answer
from ..encode import EncodedImage
from ..errors import FATAL, DotsOCRError
from ..layout import Cell, Decoded
from ..repetition import LoopDetector
from ..servers import Request, Servers, Tally
from ..settings import DotsOCRSettings
from .reference import ReferencePage

#: How an answer came back: a valid layout array (or, for grounding, some text); not valid
#: JSON but with cells in it; no layout cell at all (garbage); cut before its end (budget,
#: loop or page_timeout); empty for a page or box with content; no answer at all (an error).
Parse = Literal["ok", "invalid_json", "garbled", "truncated", "empty", "failed"]
PREVIEW_CHARS = 160


@dataclass(frozen=True)
class Asked:
    """One request's answer (``answer`` None: none came, ``error`` says why) and its time."""

    answer: Answer | None
    seconds: float
    error: str | None = None

    @property
    def preview(self) -> str:
        """The answer's first characters, to see what a broken answer looks like."""
        return " ".join(self.answer.text.split())[:PREVIEW_CHARS] if self.answer else ""


async def ask(
    servers: Servers,
    image: EncodedImage,
    mode: str,
    settings: DotsOCRSettings,
    group: Hashable,
    box: tuple[int, int, int, int] | None = None,
) -> Asked:
    """Send one request as the loader would; what no page can survive is raised (unreachable
    server, refused key, model not served), any other failure is the answer's ``error``."""
    start = time.monotonic()
    try:
        request = Request(image, mode, box, group=group)
        answer = await servers.ask(request, Tally(), lambda budget: LoopDetector().feed)
    except FATAL:
        raise
    except (DotsOCRError, TimeoutError) as exc:
        return Asked(None, time.monotonic() - start, _why(exc, settings))
    return Asked(answer, time.monotonic() - start)


def _why(exc: BaseException, settings: DotsOCRSettings) -> str:
    if isinstance(exc, TimeoutError):
        return f"no complete answer within page_timeout={settings.page_timeout:g}s"
    return exc.reason if isinstance(exc, DotsOCRError) else str(exc)


def layout_parse(answer: Answer, decoded: Decoded) -> Parse:
    """How a layout answer (``layout_all`` or ``layout_only``) came back."""
    if answer.finish_reason != "stop":
        return "truncated"
    if answer.text.strip() in ("", "[]"):
        return "empty"
    if not decoded.cells:  # text, but not one layout cell in it
        return "garbled"
    if any("not valid JSON" in p for p in decoded.problems):
        return "invalid_json"
    return "ok"


def in_truth_frame(
    reference: ReferencePage, sent: tuple[int, int], cells: list[Cell]
) -> list[Cell]:
    """``cells`` with boxes in pixels of the image ``sent`` (width, height), in the PNG's."""
    sx, sy = reference.width / sent[0], reference.height / sent[1]
    return [
        Cell(c.category, (c.bbox[0] * sx, c.bbox[1] * sy, c.bbox[2] * sx, c.bbox[3] * sy), c.text)
        for c in cells
    ]
