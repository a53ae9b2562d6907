"""The layer's characters in reading order: words, lines, the columns inside a box.

1. Lines: a character whose vertical centre falls inside a line's box, and which shares half
   its height with it (:data:`SHARED_HEIGHT`: sub- and superscripts do), joins that line; a
   line reads left to right, or right to left where its letters are mostly Hebrew or Arabic
   (:mod:`.bidi`: words and the letters inside them; Latin words and numbers in such a line
   keep their order). Text at a quarter turn is read so in its own upright frame
   (:mod:`.turns`), and so is CJK set vertically (:func:`vertical`): its columns, top down,
   are lines turned a quarter clockwise, read from the right.
2. Words: a line breaks into words where the file has a space between two characters that
   follow each other, and at gaps wider than :data:`WORD_GAP` of the line's height beyond the
   line's letter spacing (PDFs often position words without a space; a tracked heading's
   letters stand apart).
3. Blocks: a recursive cut, as a reader's eye does it: at the widest vertical gap (a gutter)
   at least :data:`COLUMN_GAP` line heights wide across all the words, left before right (right
   before left for right-to-left text); else at
   the widest blank band at least :data:`PARAGRAPH_GAP` line heights high, top before bottom.
   So a column's lines come before the next column's, and a block is a paragraph.
4. Text: a line's words joined by one space; a paragraph's lines joined by one space, as the
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
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol, TypeVar

from .bidi import Direction, char_direction, direction, logical
from .chars import SLANTED, Box, Char
from .normalise import SOFT_HYPHEN, reader_char, squeeze
from .turns import by_turn, displayed_box, upright_box

WORD_GAP = 0.18  # of the line height: a space in Helvetica is ~0.24 of it, letters touch
COLUMN_GAP = 1.2  # a gutter is wider than any word space (justified text stretches to ~1)
PARAGRAPH_GAP = 0.7  # leading leaves ~0.1-0.2 between lines' boxes; a blank line ~1
# A character joins a line when its centre lies in the line's box and the two share half the
# smaller's height: a sub- or superscript does (H2O, mc2), the next line's letters do not.
SHARED_HEIGHT = 0.5
# A character this many times the median height of the others is outsized (a drop cap spans
# three lines or more; a large symbol inside a line stays under it).
OUTSIZED = 2.0
# Upright CJK is vertical writing when more than this many times as many characters touch the
# next one down as the next one to the right (a column's characters touch, columns do not).
VERTICAL = 2
_HYPHENS = ("-", "\u2010")


@dataclass(frozen=True)
class Word:
    """A word of the layer: its text as a reader reads it and its box (page units)."""

    text: str
    box: Box
    soft_end: bool = False  # the word ends in a soft hyphen (dropped from ``text``)


class _Boxed(Protocol):
    @property
    def box(self) -> Box: ...


_B = TypeVar("_B", bound=_Boxed)


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _lines(chars: Sequence[_B]) -> list[list[_B]]:
    """Characters (or words) grouped into lines, each left to right, lines top to bottom. A
    character :data:`OUTSIZED` for the others (a drop cap) joins the topmost line it reaches
    into, at its start, instead of making its own line that would gather the lines beside it;
    outsized characters that reach no line (a heading above body text) make lines of their
    own."""
    if not chars:
        return []
    usual = statistics.median(c.box[3] - c.box[1] for c in chars)
    big = [c for c in chars if c.box[3] - c.box[1] > OUTSIZED * usual]
    lines = _rows([c for c in chars if c.box[3] - c.box[1] <= OUTSIZED * usual])
    alone: list[_B] = []
    for ch in big:
        reached = [m for m, top, bottom in lines if top < ch.box[3] and ch.box[1] < bottom]
        if reached:
            reached[0].append(ch)
        else:
            alone.append(ch)
    lines += _rows(alone)
    lines.sort(key=lambda line: min(c.box[1] for c in line[0]))
    return [sorted(m, key=lambda c: c.box[0] + c.box[2]) for m, _t, _b in lines]


def _rows(chars: Sequence[_B]) -> list[tuple[list[_B], float, float]]:
    """Characters of like sizes grouped into lines (chars, top, bottom), by the module's rule."""
    lines: list[tuple[list[_B], float, float]] = []
    for ch in sorted(chars, key=lambda c: (c.box[1] + c.box[3], c.box[0] + c.box[2])):
        cy = (ch.box[1] + ch.box[3]) / 2
        for k in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            members, top, bottom = lines[k]
            shared = min(bottom, ch.box[3]) - max(top, ch.box[1])
            if top <= cy <= bottom and shared >= SHARED_HEIGHT * min(
                bottom - top, ch.box[3] - ch.box[1]
            ):
                members.append(ch)
                lines[k] = (members, min(top, ch.box[1]), max(bottom, ch.box[3]))
                break
        else:
            lines.append(([ch], ch.box[1], ch.box[3]))
    return lines


def _word(run: Sequence[Char], base: Direction) -> Word | None:
    """The word of ``run`` (left to right on the page) in a line of direction ``base``."""
    # PDFium gives the letters of a ligature it expands (lam-alef, "fi") one box, in reading
    # order: they are one glyph on the page and keep that order.
    glyphs: list[list[Char]] = []
    for c in run:
        if glyphs and glyphs[-1][0].box == c.box:
            glyphs[-1].append(c)
        else:
            glyphs.append([c])
    ordered = logical(glyphs, [char_direction(g[0].text) for g in glyphs], base)
    read = [c for g in ordered for c in g]
    text = _plain(read)
    if not text:
        return None
    return Word(text, _union([c.box for c in run]), read[-1].text == SOFT_HYPHEN)


def _plain(chars: Sequence[Char]) -> str:
    return squeeze("".join(reader_char(c.text) for c in chars))


def chars_follow(a: Char, b: Char, order: dict[int, int]) -> bool:
    """Whether ``b`` comes right after ``a`` in the file's order."""
    return order.get(id(b), -1) == order.get(id(a), -2) + 1


def _spaced(left: Char, right: Char, order: dict[int, int], base: Direction) -> bool:
    """Whether the file has a space between neighbours ``left`` and ``right``: written between
    the two as it reads them one after the other (``right`` after ``left``, or in a
    right-to-left line ``left`` after ``right``: PDFium orders such a line as it reads)."""
    first, second = (right, left) if base == "R" else (left, right)
    return second.space_before and chars_follow(first, second, order)


def words(chars: Sequence[Char]) -> list[Word]:
    """The words of ``chars``, line by line (not yet in reading order across columns), boxes
    on the displayed page; text at a quarter turn read in its own frame (:mod:`.turns`)."""
    return [w for turn, group in _groups(chars) for w in _displayed(_found(turn, group), turn)]


def _groups(chars: Sequence[Char]) -> list[tuple[int, list[Char]]]:
    """:func:`.turns.by_turn`, with upright characters read as vertical writing where they
    are that."""
    return by_turn(chars, upright_as=1 if vertical([c for c in chars if c.turn == 0]) else 0)


def vertical(chars: Sequence[Char]) -> bool:
    """Whether upright ``chars`` are CJK set in columns: most of them CJK, and more than twice
    as many of them touch the next one down as touch the next one to the right."""
    if len(chars) < 2 or 2 * sum(_cjk(c.text) for c in chars) <= len(chars):
        return False
    down = _touching([c._replace(box=upright_box(c.box, 1)) for c in chars])
    return down > VERTICAL * _touching(chars)


def _touching(chars: Sequence[Char]) -> int:
    """How many characters touch their neighbour in their line (no word gap between)."""
    count = 0
    for line in _lines(chars):
        height = statistics.median(c.box[3] - c.box[1] for c in line)
        count += sum(b.box[0] - a.box[2] <= WORD_GAP * height for a, b in pairwise(line))
    return count


def _spacing(line: Sequence[Char]) -> float:
    """The line's letter spacing: the median gap between neighbours (0 where letters touch;
    a tracked heading's letters stand apart, and its words further apart still)."""
    gaps = [b.box[0] - a.box[2] for a, b in pairwise(line)]
    return max(0.0, statistics.median(gaps)) if gaps else 0.0


def _displayed(items: list[Word], turn: int) -> list[Word]:
    if turn not in (1, 2, 3):
        return items
    return [Word(w.text, displayed_box(w.box, turn), w.soft_end) for w in items]


def _found(turn: int, chars: Sequence[Char]) -> list[Word]:
    """The words of ``chars`` of one ``turn``, upright in its frame."""
    return _slanted_words(chars) if turn == SLANTED else _words(chars)


def _slanted_words(chars: Sequence[Char]) -> list[Word]:
    """Slanted ``chars`` as words in the file's order, a word ending where the file has a
    space (:mod:`.turns`)."""
    runs: list[list[Char]] = [[]]
    for c in chars:
        if c.space_before and runs[-1]:
            runs.append([])
        runs[-1].append(c)
    return [Word(t, _union([c.box for c in r])) for r in runs if (t := _plain(r))]


def _words(chars: Sequence[Char]) -> list[Word]:
    """The words of upright ``chars``, line by line."""
    out: list[Word] = []
    order = {id(c): k for k, c in enumerate(chars)}
    for line in _lines(chars):
        height = statistics.median(c.box[3] - c.box[1] for c in line)
        base = direction("".join(c.text for c in line))
        word_gap = WORD_GAP * height + _spacing(line)
        runs: list[list[Char]] = [[]]
        previous: Char | None = None
        for ch in line:
            if runs[-1] and previous is not None and (
                ch.box[0] - previous.box[2] > word_gap
                # The file's space counts where the characters follow in the file's order too.
                or _spaced(previous, ch, order, base)
            ):
                runs.append([])
            runs[-1].append(ch)
            previous = ch
        out += [w for run in runs if run and (w := _word(run, base)) is not None]
    return out


def _cut(items: list[Word]) -> list[list[Word]]:
    """Blocks of words in reading order, by the recursive cut of the module's step 3."""
    if len(items) <= 1:
        return [items] if items else []
    height = statistics.median(w.box[3] - w.box[1] for w in items)
    best: tuple[float, int, list[Word], list[Word]] | None = None
    for axis, least in ((0, COLUMN_GAP), (1, PARAGRAPH_GAP)):
        spans = sorted(items, key=lambda w: (w.box[axis], w.box[axis + 2]))
        reach = spans[0].box[axis + 2]
        for i, w in enumerate(spans[1:], start=1):
            gap = w.box[axis] - reach
            if gap >= least * height and (best is None or (gap, -axis) > (best[0], -best[1])):
                best = (gap, axis, spans[:i], spans[i:])
            reach = max(reach, w.box[axis + 2])
        if best is not None:  # a gutter wins over a paragraph break
            break
    if best is None:
        return [items]
    first, second = best[2], best[3]
    if best[1] == 0 and _direction(items) == "R":  # columns of Hebrew or Arabic: right first
        first, second = second, first
    return _cut(first) + _cut(second)


def _direction(items: Sequence[Word]) -> Direction:
    return direction("".join(w.text for w in items))


def _line_words(block: list[Word]) -> list[list[Word]]:
    """A block's words as lines (by the rule that made them), top to bottom, each in reading
    order (:mod:`.bidi`)."""
    return [logical(r, [direction(w.text) for w in r], _direction(r)) for r in _lines(block)]


def _cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F") and not (
        "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff"  # Hangul keeps its spaces
    )


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
    if _cjk(text[-1]) or _cjk(nxt[0]):
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
    for turn, group in _groups(chars):
        found = _found(turn, group)
        blocks = [[found]] if turn == SLANTED else [_line_words(b) for b in _cut(found)]
        out += [(turn, rows) for rows in blocks if rows and rows[0]]
    return out


def reading_words(chars: Sequence[Char]) -> list[list[Word]]:
    """The blocks of ``chars`` in reading order, each its words in reading order."""
    return [_displayed([w for row in rows for w in row], turn) for turn, rows in _blocks(chars)]


def reading_text(chars: Sequence[Char], known: frozenset[str] = frozenset()) -> str:
    """The reader's text of ``chars``: blocks in reading order, separated by a blank line;
    ``known``: the page's :func:`compounds`."""
    return "\n\n".join(t for t in (block_text(rows, known) for _t, rows in _blocks(chars)) if t)
