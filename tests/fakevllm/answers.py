"""What the fake model says: prompt modes, answers, and the token estimates.

Token estimates (the double has no tokenizer):

* prompt tokens = image tokens ``(h'/28) * (w'/28)`` + ``len(prompt_text) // 4`` + 10, where
  ``prompt_text`` is the text after the image placeholder (the grounding box included) and 10
  stands for the chat template (role markers, image start/end).
* answer tokens = ``ceil(len(answer) / 3.5)``; a budget of B tokens holds ``floor(3.5 * B)``
  characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .scene import element_text, table_rows
from .vision import Element

PLACEHOLDER = "<|img|><|imgpad|><|endofimg|>"
TEMPLATE_TOKENS = 10
PROMPTS: dict[str, str] = json.loads((Path(__file__).parent / "prompts.json").read_text("utf-8"))
LAYOUT_ALL = "prompt_layout_all_en"
LAYOUT_ONLY = "prompt_layout_only_en"
OCR = "prompt_ocr"
GROUNDING = "prompt_grounding_ocr"
_BOX_RE = re.compile(
    r"\s*\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,"
    r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]\s*"
)
NO_TEXT_IN_OCR = frozenset({"Page-header", "Page-footer", "Picture"})


def prompt_tokens(text: str, image_size: tuple[int, int]) -> int:
    """Estimated prompt tokens for ``text`` (after the placeholder) and a resized (w, h) image."""
    w, h = image_size
    return (h // 28) * (w // 28) + len(text) // 4 + TEMPLATE_TOKENS


def answer_tokens(n_chars: int) -> int:
    """Estimated tokens of an answer of ``n_chars`` characters: ceil(n / 3.5)."""
    return (2 * n_chars + 6) // 7


def budget_chars(tokens: int) -> int:
    """The most characters an answer of ``tokens`` tokens can hold: floor(3.5 * tokens)."""
    return (7 * max(0, tokens)) // 2


def identify_prompt(text: str) -> tuple[str | None, tuple[float, ...] | None]:
    """The prompt mode of ``text`` (after the placeholder) and, for grounding, its box."""
    for mode in (LAYOUT_ALL, LAYOUT_ONLY, OCR):
        if text == PROMPTS[mode]:
            return mode, None
    grounding = PROMPTS[GROUNDING]
    if text.startswith(grounding):
        m = _BOX_RE.fullmatch(text[len(grounding) :])
        if m:
            return GROUNDING, tuple(float(v) for v in m.groups())
    return None, None


# --------------------------------------------------------------------------------------------
# Answers


def says(element: Element) -> str | None:
    """What the model reads in ``element``: its own words if it has some (reference pages,
    ``FakeVLLM.texts``), else the scene's (``None`` for a Picture)."""
    if element.text is not None:
        return element.text
    return element_text(element.category, element.n, max(1, len(element.rows)))


def cell(element: Element, with_text: bool = True) -> dict[str, object]:
    """One layout cell as the model writes it: bbox, category, and text unless a Picture.

    dots.ocr never transcribes a Picture in a layout answer, even one with words drawn in it
    (``FakeVLLM.texts``): those words come back only to the grounding prompt.
    """
    out: dict[str, object] = {"bbox": list(element.bbox), "category": element.category}
    text = says(element)
    if with_text and text is not None and element.category != "Picture":
        out["text"] = text
    return out


def dumps(obj: object, ascii_only: bool = False) -> str:
    """JSON as the model writes it (``", "`` and ``": "`` separators)."""
    return json.dumps(obj, ensure_ascii=ascii_only)


def layout_answer(elements: list[Element], with_text: bool = True) -> str:
    return dumps([cell(e, with_text) for e in elements])


def ocr_answer(elements: list[Element]) -> str:
    texts = [says(e) for e in elements if e.category not in NO_TEXT_IN_OCR]
    return "\n\n".join(t for t in texts if t)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def grounding_answer(elements: list[Element], box: tuple[float, ...]) -> str:
    """The text of the element that overlaps ``box`` best (IoU); "" if none does.

    Of a striped table only the rows whose middle lies inside the box are read, numbered from
    the top stripe of the image.
    """
    best, best_iou = None, 0.0
    for e in elements:
        v = iou(tuple(float(c) for c in e.bbox), box)
        if v > best_iou:
            best, best_iou = e, v
    if best is None:
        return ""
    if best.text is None and best.category == "Table" and len(best.rows) > 1:
        inside = [i for i, (a, b) in enumerate(best.rows) if box[1] <= (a + b) / 2 < box[3]]
        return "<table>" + "".join(table_rows(best.n, inside)) + "</table>"
    return says(best) or ""


def normal_answer(mode: str, elements: list[Element], box: tuple[float, ...] | None) -> str:
    if mode == LAYOUT_ALL:
        return layout_answer(elements)
    if mode == LAYOUT_ONLY:
        return layout_answer(elements, with_text=False)
    if mode == OCR:
        return ocr_answer(elements)
    return grounding_answer(elements, box or (0, 0, 0, 0))


# --------------------------------------------------------------------------------------------
# Scripts: an answer that may go on forever, cut at the budget


@dataclass(frozen=True)
class Script:
    """What the model will say: ``prefix`` then, if ``loop`` is set, ``loop(0)``, ``loop(1)``, ...
    without end (a repetition loop). ``finish`` forces a finish reason when the budget does not
    cut the answer first (``"length"`` for an answer a fault truncates)."""

    prefix: str
    loop: Callable[[int], str] | None = None
    finish: str | None = None

    def pieces(self) -> Iterator[str]:
        yield self.prefix
        k = 0
        while self.loop is not None:
            yield self.loop(k)
            k += 1

    def cut(self, max_chars: int) -> Iterator[str]:
        """The pieces of the answer up to ``max_chars`` characters (lazily: loops never end)."""
        left = max_chars
        for piece in self.pieces():
            if left <= 0:
                return
            if piece:
                yield piece[:left]
                left -= len(piece)

    def length(self, max_chars: int) -> tuple[int, str]:
        """Characters the answer will have within ``max_chars``, and its finish reason."""
        if self.loop is not None or len(self.prefix) > max_chars:
            return max_chars, "length"
        return len(self.prefix), self.finish or "stop"


def text_of(script: Script, max_chars: int) -> str:
    return "".join(script.cut(max_chars))
