"""The layer's characters as lines and words, each in reading order.

1. Lines: a character whose vertical centre falls inside a line's box, and which shares half
   its height with it (:data:`SHARED_HEIGHT`: sub- and superscripts do), joins that line; an
   :data:`OUTSIZED` one (a drop cap) joins the topmost line it reaches into. A line reads left
   to right, or right to left where its letters are mostly Hebrew or Arabic (:mod:`.bidi`:
   words and the letters inside them; Latin words and numbers in such a line keep their
   order). Text at a quarter turn is read so in its own upright frame (:mod:`.turns`), and so
   is CJK set vertically (:func:`vertical`): its columns, top down, are lines turned a quarter
   clockwise, read from the right; slanted text (a watermark) is one line in the file's order.
2. Words: a line breaks into words where the file has a space between two characters that
   follow each other, and at gaps wider than :data:`WORD_GAP` of the line's height beyond the
   line's letter spacing (PDFs often position words without a space; a tracked heading's
   letters stand apart).

:mod:`.blocks` puts the words in blocks, in reading order, and gives their text.
"""

from __future__ import annotations

import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol, TypeVar

from .bidi import Direction, direction, has_rtl, read_order
from .chars import SLANTED, Box, Char
from .normalise import SOFT_HYPHEN, reader_char, squeeze
from .turns import by_turn, displayed_box, upright_box

WORD_GAP = 0.18  # of the line height: a space in Helvetica is ~0.24 of it, letters touch
# A character joins a line when its centre lies in the line's box and the two share half the
# smaller's height: a sub- or superscript does (H2O, mc2), the next line's letters do not.
SHARED_HEIGHT = 0.5
# A character this many times the median height of the others is outsized (a drop cap spans
# three lines or more; a large symbol inside a line stays under it).
OUTSIZED = 2.0
# Upright CJK is vertical writing when more than this many times as many characters touch the
# next one down as the next one to the right (a column's characters touch, columns do not).
VERTICAL = 2


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


def lines(chars: Sequence[_B]) -> list[list[_B]]:
    """Characters (or words) grouped into lines, each left to right, lines top to bottom. A
    character :data:`OUTSIZED` for the others (a drop cap) joins the topmost line it reaches
    into, at its start, instead of making its own line that would gather the lines beside it;
    outsized characters that reach no line (a heading above body text) make lines of their
    own."""
    if not chars:
        return []
    usual = statistics.median(c.box[3] - c.box[1] for c in chars)
    big = [c for c in chars if c.box[3] - c.box[1] > OUTSIZED * usual]
    rows = _rows([c for c in chars if c.box[3] - c.box[1] <= OUTSIZED * usual])
    alone: list[_B] = []
    for ch in big:
        reached = [m for m, top, bottom in rows if top < ch.box[3] and ch.box[1] < bottom]
        if reached:
            reached[0].append(ch)
        else:
            alone.append(ch)
    rows += _rows(alone)
    rows.sort(key=lambda line: min(c.box[1] for c in line[0]))
    return [sorted(m, key=lambda c: c.box[0] + c.box[2]) for m, _t, _b in rows]


def _rows(chars: Sequence[_B]) -> list[tuple[list[_B], float, float]]:
    """Characters of like sizes grouped into lines (chars, top, bottom), by the module's rule."""
    rows: list[tuple[list[_B], float, float]] = []
    for ch in sorted(chars, key=lambda c: (c.box[1] + c.box[3], c.box[0] + c.box[2])):
        cy = (ch.box[1] + ch.box[3]) / 2
        for k in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            members, top, bottom = rows[k]
            if not top <= cy <= bottom:
                continue
            shared = min(bottom, ch.box[3]) - max(top, ch.box[1])
            if shared >= SHARED_HEIGHT * min(bottom - top, ch.box[3] - ch.box[1]):
                members.append(ch)
                rows[k] = (members, min(top, ch.box[1]), max(bottom, ch.box[3]))
                break
        else:
            rows.append(([ch], ch.box[1], ch.box[3]))
    return rows


def _word(run: Sequence[Char], base: Direction) -> Word | None:
    """The word of ``run`` (left to right on the page) in a line of direction ``base``."""
    read = _read(run, base) if base == "R" or has_rtl("".join(c.text for c in run)) else run
    text = _plain(read)
    if not text:
        return None
    return Word(text, _union([c.box for c in run]), read[-1].text == SOFT_HYPHEN)


def _read(run: Sequence[Char], base: Direction) -> list[Char]:
    """A run holding right-to-left text in reading order (:mod:`.bidi`)."""
    # PDFium gives the letters of a ligature it expands (lam-alef, "fi") one box, in reading
    # order: they are one glyph on the page and keep that order.
    glyphs: list[list[Char]] = []
    for c in run:
        if glyphs and glyphs[-1][0].box == c.box:
            glyphs[-1].append(c)
        else:
            glyphs.append([c])
    return [c for g in read_order(glyphs, lambda g: g[0].text, base) for c in g]


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
    return [w for turn, group in groups(chars) for w in displayed(found(turn, group), turn)]


def groups(chars: Sequence[Char]) -> list[tuple[int, list[Char]]]:
    """:func:`.turns.by_turn`, with upright characters read as vertical writing where they
    are that."""
    return by_turn(chars, upright_as=1 if vertical([c for c in chars if c.turn == 0]) else 0)


def vertical(chars: Sequence[Char]) -> bool:
    """Whether upright ``chars`` are CJK set in columns: most of them CJK, and more than twice
    as many of them touch the next one down as touch the next one to the right."""
    if len(chars) < 2 or 2 * sum(is_cjk(c.text) for c in chars) <= len(chars):
        return False
    down = _touching([c._replace(box=upright_box(c.box, 1)) for c in chars])
    return down > VERTICAL * _touching(chars)


def _touching(chars: Sequence[Char]) -> int:
    """How many characters touch their neighbour in their line (no word gap between)."""
    count = 0
    for line in lines(chars):
        height = statistics.median(c.box[3] - c.box[1] for c in line)
        count += sum(b.box[0] - a.box[2] <= WORD_GAP * height for a, b in pairwise(line))
    return count


def _spacing(line: Sequence[Char]) -> float:
    """The line's letter spacing: the median gap between neighbours (0 where letters touch;
    a tracked heading's letters stand apart, and its words further apart still)."""
    gaps = [b.box[0] - a.box[2] for a, b in pairwise(line)]
    return max(0.0, statistics.median(gaps)) if gaps else 0.0


def displayed(items: list[Word], turn: int) -> list[Word]:
    if turn not in (1, 2, 3):
        return items
    return [Word(w.text, displayed_box(w.box, turn), w.soft_end) for w in items]


def found(turn: int, chars: Sequence[Char]) -> list[Word]:
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
    for line in lines(chars):
        height = statistics.median(c.box[3] - c.box[1] for c in line)
        text = "".join(c.text for c in line)
        base: Direction = direction(text) if has_rtl(text) else "L"
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


def is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F") and not (
        "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff"  # Hangul keeps its spaces
    )
