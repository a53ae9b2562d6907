"""The layer's text of an element, written as the model writes that element's text.

dots.ocr writes a Title as a ``#`` heading, a Section-header as ``##`` and a bulleted
List-item with a ``-`` marker (reference/answer-examples.md); the documents take heading
levels and lists from that markup (:mod:`..markup`), so the layer's plain text gets the same.
A text that is already written so (a page that prints ``#``) is left as it is; numbered items
keep their numbers; nothing else is changed.
"""

from __future__ import annotations

# Bullet glyphs as PDFs print them, with or without a space after; the model writes "- ".
GLYPHS = ("\u2022", "\u25e6", "\u25aa", "\u25cf", "\u2023", "\u2043")
# Marks that are bullets only when a space follows them ("-x" and "*x*" are text).
MARKS = ("\u2013", "-", "*")
HEADINGS = {"Title": "# ", "Section-header": "## "}


def as_model_writes(category: str, text: str) -> str:
    """``text`` (the layer's, normalised) formatted as the model writes a ``category``."""
    mark = HEADINGS.get(category)
    if mark is not None:
        return text if text.startswith("#") else mark + text
    if category == "List-item":
        head, _, rest = text.partition(" ")
        if head in MARKS and rest:
            return "- " + rest.lstrip()
        if text[:1] in GLYPHS and text[1:].strip():
            return "- " + text[1:].lstrip()
    return text
