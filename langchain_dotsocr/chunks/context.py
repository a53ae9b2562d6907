"""Rules 5 and 6: the heading path a chunk's text begins with, and the overlap it repeats."""

from __future__ import annotations

from ..documents.headings import PATH_SEPARATOR
from .draft import BLOCK_SEPARATOR, Rules, Section
from .sentences import sentences


def heading_prefix(section: Section, first: bool, rules: Rules) -> str:
    """What a chunk of ``section`` begins with (``first``: the section's first chunk, which
    holds its heading, so the path above it is enough); ``""`` without ``contextualize`` or
    for a path longer than half of ``chunk_size``."""
    if not rules.contextualize:
        return ""
    path = section.path
    if section.headed and first:
        path = path.rpartition(PATH_SEPARATOR)[0] if PATH_SEPARATOR in path else ""
    if not path or rules.length_function(path) > rules.chunk_size // 2:
        return ""
    return path + BLOCK_SEPARATOR


def overlap(text: str, rules: Rules) -> str:
    """The last whole sentences of ``text``, at most ``chunk_overlap`` tokens together."""
    seed = ""
    for sentence in reversed(sentences(text)):
        if rules.length_function(sentence + seed) > rules.chunk_overlap:
            break
        seed = sentence + seed
    return seed.strip()
