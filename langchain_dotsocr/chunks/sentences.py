"""Where a text too long for one chunk may be cut: sentences, then words, then characters.

A sentence ends after ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets)
followed by a space, after the CJK full stop ``。`` and the full-width ``!`` and ``?`` (with or
without a space), or at a line break. A sentence longer than a chunk is cut between words; a
word longer than a chunk (a CJK sentence has no spaces, a URL may be long) between characters.
Each piece keeps the space that followed it, so the pieces joined give the text back.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE_END = re.compile(
    r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[」』”’）)\]]*\s*|\n+"  # noqa: RUF001 (the characters are meant)
)
_WORD = re.compile(r"\S+\s*|\s+")


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end (see the module)."""
    pieces, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def words(text: str) -> list[str]:
    """``text`` cut after the spaces that follow each word."""
    return _WORD.findall(text)


def characters(text: str) -> list[str]:
    """``text`` as single characters: the last resort."""
    return list(text)


#: The cuts tried in turn on a piece that does not fit an empty chunk.
CUTS: tuple[Callable[[str], list[str]], ...] = (sentences, words, characters)
