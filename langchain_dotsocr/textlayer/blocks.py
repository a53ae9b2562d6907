"""The words of :mod:`.lines` in blocks, in reading order, and the blocks' text.

1. Blocks: a recursive cut, as a reader's eye does it: at the widest vertical gap (a gutter)
   at least :data:`COLUMN_GAP` line heights wide across all the words, left before right
   (right before left for right-to-left text); else at the widest blank band at least
   :data:`PARAGRAPH_GAP` line heights high, top before bottom. So a column's lines come before
   the next column's, and a block is a paragraph. Each turn of text (:mod:`.turns`) is cut
   apart; slanted text is one block.
2. Text: a line's words joined by one space; a paragraph's lines joined by one space, as the
   model writes a paragraph, except that a break after a soft hyphen, or after a hyphen that
   ends a plain word with a lower-case letter next, joins the word (``infor-`` + ``mation``);
   a hyphen after a compound (``state-of-the-`` + ``art``), a number, before a capital, or in
   a compound the page writes whole elsewhere (``well-`` + ``known`` where ``well-known``
   appears inside a line) stays and the parts are joined without a space; CJK lines are
   joined without a space. Blocks are separated by a blank line (``"\\n\\n"``), as the model
   separates paragraphs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from itertools import pairwise

from .bidi import direction, has_rtl, read_order
from .chars import SLANTED, Char
from .lines import Word, displayed, found, groups, is_cjk, lines

COLUMN_GAP = 1.2  # a gutter is wider than any word space (justified text stretches to ~1)
PARAGRAPH_GAP = 0.7  # leading leaves ~0.1-0.2 between lines' boxes; a blank line ~1
_HYPHENS = ("-", "\u2010")
_TIE = 0.01  # of the line height: gaps this close to the widest are as wide


def _cut(items: list[Word]) -> list[list[Word]]:
    """Blocks of words in reading order, by the recursive cut of the module's step 1. Gaps as
    wide as the widest (within :data:`_TIE`) are cut at once: a receipt's thousand equal line
    gaps make one level of the cut, not a thousand nested ones."""
    if len(items) <= 1:
        return [items] if items else []
    height = statistics.median(w.box[3] - w.box[1] for w in items)
    for axis, least in ((0, COLUMN_GAP), (1, PARAGRAPH_GAP)):  # gutters before paragraphs
        spans = sorted(items, key=lambda w: (w.box[axis], w.box[axis + 2]))
        gaps: list[tuple[float, int]] = []  # (width, where the next block starts)
        reach = spans[0].box[axis + 2]
        for i, w in enumerate(spans[1:], start=1):
            gap = w.box[axis] - reach
            if gap >= least * height:
                gaps.append((gap, i))
            reach = max(reach, w.box[axis + 2])
        if gaps:
            widest = max(g for g, _i in gaps)
            starts = [i for g, i in gaps if g >= widest - _TIE * height]
            pieces = [spans[a:b] for a, b in pairwise([0, *starts, len(spans)])]
            if axis == 0 and _rtl(items):  # columns of Hebrew or Arabic: right first
                pieces.reverse()
            return [block for piece in pieces for block in _cut(piece)]
    return [items]


def _rtl(items: Sequence[Word]) -> bool:
    text = "".join(w.text for w in items)
    return has_rtl(text) and direction(text) == "R"


def _line_words(block: list[Word]) -> list[list[Word]]:
    """A block's words as lines (by the rule that made them), top to bottom, each in reading
    order (:mod:`.bidi`)."""
    return [read_order(r, lambda w: w.text) for r in lines(block)]


_EDGE_PUNCTUATION = ".,;:!?()[]{}\"'\u201c\u201d\u2018\u2019"


def compounds(items: Sequence[Word]) -> frozenset[str]:
    """The hyphenated words written whole inside a line (``well-known``), lower case: the
    evidence that a hyphen at a line end before the same word is a real one."""
    out = set()
    for w in items:
        core = w.text.strip(_EDGE_PUNCTUATION)
        if any(h in core[1:-1] for h in _HYPHENS):
            out.add(core.lower())
    return frozenset(out)


def _join(text: str, last: Word, nxt: str, known: frozenset[str] = frozenset()) -> str:
    """``text`` (ending in the word ``last``) and the next line's text, as a reader joins them;
    ``known``: the page's :func:`compounds`."""
    if not nxt:
        return text
    if last.soft_end:
        return text + nxt
    if text.endswith(_HYPHENS) and len(last.text) > 1:
        stem = last.text[:-1]
        whole = (last.text + nxt.split(" ", 1)[0]).strip(_EDGE_PUNCTUATION).lower()
        if stem.isalpha() and nxt[0].islower() and whole not in known:
            return text[:-1] + nxt
        return text + nxt
    if is_cjk(text[-1]) or is_cjk(nxt[0]):
        return text + nxt
    return text + " " + nxt


def block_text(rows: list[list[Word]], known: frozenset[str] = frozenset()) -> str:
    """A paragraph's text from its lines (``rows``), joined as the module says (``known``:
    compounds)."""
    text = ""
    last: Word | None = None
    for row in rows:
        line = " ".join(w.text for w in row)
        text = line if last is None else _join(text, last, line, known)
        last = row[-1]
    return text


def _blocks(chars: Sequence[Char]) -> list[tuple[int, list[list[Word]]]]:
    """The blocks of ``chars`` in reading order, each as its lines of words, upright in its
    turn's frame: text at each turn read as a whole, the turns in the order they sit on the
    page; slanted text one line in the file's order."""
    out: list[tuple[int, list[list[Word]]]] = []
    for turn, group in groups(chars):
        items = found(turn, group)
        blocks = [[items]] if turn == SLANTED else [_line_words(b) for b in _cut(items)]
        out += [(turn, rows) for rows in blocks if rows and rows[0]]
    return out


def reading_words(chars: Sequence[Char]) -> list[list[Word]]:
    """The blocks of ``chars`` in reading order, each its words in reading order."""
    return [displayed([w for row in rows for w in row], turn) for turn, rows in _blocks(chars)]


def reading_text(chars: Sequence[Char], known: frozenset[str] = frozenset()) -> str:
    """The reader's text of ``chars``: blocks in reading order, separated by a blank line;
    ``known``: the page's :func:`compounds`."""
    return "\n\n".join(t for t in (block_text(rows, known) for _t, rows in _blocks(chars)) if t)
