"""The check of an invisible OCR layer: does the model read a sample of it alike?

Both texts are compared as a reader reads them: Markdown heading and list markers and
emphasis dropped, white space squeezed, case kept. They agree when their normalised edit
similarity (1 - Levenshtein distance / the longer length) is at least :data:`AGREEMENT`.
dots.ocr itself reads text at an edit distance of 0.03 to 0.05, and a good OCR layer differs
from it by about as much again, so two readings of the same words stay above 0.9; an OCR
layer that is wrong (another page's text, a garbled engine) falls far below it.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from .blocks import reading_words
from .chars import Box
from .layer import PageLayer
from .normalise import squeeze

AGREEMENT = 0.9
_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d{1,9}[.)]\s+)|[*_`]+", re.M)
# A sample shorter than this says too little about the layer (a page number, a lone digit).
_SAMPLE_MIN_CHARS = 8


def _plain(text: str) -> str:
    return squeeze(_MARKUP.sub(" ", text))


def agrees(layer_text: str, model_text: str) -> bool:
    """Whether the layer's text and the model's reading of the same box agree (module rule)."""
    a, b = _plain(layer_text), _plain(model_text)
    if not a or not b:
        return a == b
    return Levenshtein.normalized_similarity(a, b) >= AGREEMENT


def sample_boxes(layer: PageLayer, count: int = 2) -> list[Box]:
    """The boxes to check an OCR layer by: its ``count`` paragraphs with the most text (at
    least eight characters each), in reading order; fewer when the layer has fewer."""
    blocks = [b for b in reading_words(list(layer.chars)) if b]
    sized = [
        (sum(len(w.text) for w in b), i, b) for i, b in enumerate(blocks)
    ]
    chosen = sorted(
        (s for s in sized if s[0] >= _SAMPLE_MIN_CHARS), key=lambda s: (-s[0], s[1])
    )[:count]
    out: list[Box] = []
    for _n, _i, block in sorted(chosen, key=lambda s: s[1]):
        out.append((
            min(w.box[0] for w in block),
            min(w.box[1] for w in block),
            max(w.box[2] for w in block),
            max(w.box[3] for w in block),
        ))
    return out
