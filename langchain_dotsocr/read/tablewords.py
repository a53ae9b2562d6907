"""A table's HTML from the model with the words the PDF's text layer holds where they fit.

The model gives a table's structure; its cell text is a transcription with the model's errors.
The layer holds the table's words exactly, but not which cell each is in (the HTML carries
no boxes). So the model's cells are kept and only its words are checked against the layer's
words inside the table's box: a word the layer holds as such stays; a word the layer does not
hold (a misreading) takes the one layer word it is clearly a misreading of: similarity at
least :data:`CLOSE`, and no other layer word as close (an ambiguous word is left as the model
read it: "1.26" between a layer's "1.25" and "1.28" stays). Cells with markup inside them
(line breaks, formulas) are left as they are.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

#: Similarity (1 - normalised edit distance) for a word to be a misreading of a layer word:
#: one wrong character in a word of four.
CLOSE = 0.75
_CELL = re.compile(r"(<t[dh]\b[^>]*>)([^<]*)(</t[dh]>)", re.IGNORECASE)


def with_layer_words(table: str, layer: Sequence[str]) -> str:
    """``table`` (the model's HTML) with each misread word replaced by the layer's."""
    vocabulary = set(layer)
    if not vocabulary:
        return table

    def cell(m: re.Match[str]) -> str:
        read = html.unescape(m.group(2)).split(" ")
        words = [_fitted(w, vocabulary) for w in read]
        if words == read:  # the cell as the model wrote it, entities and all
            return m.group(0)
        return m.group(1) + html.escape(" ".join(words), quote=False) + m.group(3)

    return _CELL.sub(cell, table)


def _fitted(word: str, vocabulary: set[str]) -> str:
    if not word or word in vocabulary:
        return word
    scored = sorted(
        ((float(Levenshtein.normalized_similarity(word, v)), v) for v in vocabulary),
        key=lambda sv: -sv[0],
    )
    best = scored[0]
    if best[0] < CLOSE or (len(scored) > 1 and scored[1][0] == best[0]):
        return word
    return best[1]
