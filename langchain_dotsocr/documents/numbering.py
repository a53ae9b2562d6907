"""Section numbers: how deep a heading's number is, also when the model misread it.

A heading's number says its level (:mod:`.headings`): ``3``, ``III.`` or ``Chapter 3`` is one
deep, ``3.2`` or ``A.1`` two, ``3.2.1`` three. A model misreads a number now and then (a
character substituted, doubled or lost), and a wrong depth moves the heading, and every path
under it, to another level. The depth it meant is kept by these steps, in order:

1. one character of the number read for a digit or a dot (``2.3.l``, ``2,3.1``) is mended
   (:func:`mended_number`);
2. the number is matched against the known numbering styles (:data:`_NUMBERING`);
3. failing those, a number of two or more groups one of which was read as a letter or lost
   (``2.r``, ``.1``, ``2..3``) is as deep as its groups (:func:`_misread_depth`);
4. a number that does not continue the numbering of the headings above it (the first child
   of the deepest, or the next sibling of one of them: :func:`following`) but is one edit away
   from exactly one number that does, is that number with a character misread, and takes its
   depth (:func:`continued`): ``3.`` under an open ``3`` is ``3.1`` with its last digit lost,
   not the section ``3`` again; ``2.1.`` under ``2.1`` is ``2.1.1``. Where two such numbers
   are as near (``.2`` under ``1.1``: ``1.2`` or ``2``), or none, the number read stands.

Only the depth is taken from these rules: the heading's text is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rapidfuzz.distance import Levenshtein

#: A plain section number, outermost group first: ``3.2`` is ``(3, 2)``.
Number = tuple[int, ...]

_ROMAN = r"(?=[IVXLCDM])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_CJK_NUMBER = r"[0-9一二三四五六七八九十百零〇]+"  # noqa: RUF001 (the characters are meant)
_SUBNUMBERS = r"((?:\.\d{1,3})*)"  # the ".2.1" after a first number


def _count_numbers(text: str) -> int:
    return len(re.findall(r"\d+", text))


# (pattern, depth of a match): tried in order on the heading's text without its '#' marks.
_NUMBERING: list[tuple[re.Pattern[str], Callable[[re.Match[str]], int]]] = [
    (
        re.compile(
            rf"(?:chapter|part|kapitel|chapitre|cap[ií]tulo|глава|часть)\s+(?:\d{{1,3}}|{_ROMAN}|[A-Z])\b",
            re.I,
        ),
        lambda m: 1,
    ),
    (
        re.compile(r"(?:section|abschnitt|раздел|§)\s*(\d{1,3}(?:\.\d{1,3})*)", re.I),
        lambda m: _count_numbers(m.group(1)),
    ),
    (
        re.compile(
            r"(?:appendix|annex|anhang|annexe|приложение)\s+(?:[A-ZА-Я]|\d{1,3})\b" + _SUBNUMBERS,  # noqa: RUF001 (the characters are meant)
            re.I,
        ),
        lambda m: 1 + _count_numbers(m.group(1)),
    ),
    (re.compile(rf"第\s*{_CJK_NUMBER}\s*[章篇部]"), lambda m: 1),
    (re.compile(rf"第\s*{_CJK_NUMBER}\s*[节節]"), lambda m: 2),
    (re.compile(r"[一二三四五六七八九十]+\s*[、.．]"), lambda m: 1),  # noqa: RUF001 (the characters are meant)
    (re.compile(r"[（(]\s*[一二三四五六七八九十]+\s*[)）]"), lambda m: 2),  # noqa: RUF001 (the characters are meant)
    (re.compile(r"(\d{1,3}(?:\.\d{1,3})*)[.)]?(?=\s|$)"), lambda m: _count_numbers(m.group(1))),
    (
        re.compile(r"[A-Z](?:((?:\.\d{1,3})+)\.?|[.)])(?=\s|$)"),
        lambda m: 1 + _count_numbers(m.group(1) or ""),
    ),
    (
        re.compile(_ROMAN + r"(?:((?:\.\d{1,3})+)\.?|[.)])(?=\s|$)"),
        lambda m: 1 + _count_numbers(m.group(1) or ""),
    ),
]

_NUMBER_LIKE = re.compile(r"[0-9lI|Oo,.:;]+(?=[\s)]|$)")
_MISREAD = str.maketrans("lI|Oo,:;", "11100...")


def mended_number(text: str) -> str:
    """``text`` with its leading section number mended when one character of it was misread
    (``2.3.l`` → ``2.3.1``, ``2,3.1`` → ``2.3.1``): a run of digits and dots with at most one
    character that a model reads for a digit or a dot; anything else is left as it is."""
    m = _NUMBER_LIKE.match(text)
    if m is None:
        return text
    token = m.group(0)
    wrong = sum(1 for ch in token if not (ch.isdigit() or ch == "."))
    if wrong != 1 or not any(ch.isdigit() for ch in token) or token[-1] in ",:;":
        return text
    mended = token.translate(_MISREAD)
    if not re.fullmatch(r"\d{1,3}(?:\.\d{1,3})*\.?", mended):
        return text
    return mended + text[m.end() :]


def numbering_depth(text: str) -> int | None:
    """How deep a heading's numbering is (``3`` 1, ``3.2`` 2, ``A.1`` 2), None if unnumbered,
    by steps 1-3 of the module (a number misread in one character counts as meant)."""
    text = mended_number(text)
    for pattern, depth in _NUMBERING:
        m = pattern.match(text)
        if m and (n := depth(m)) > 0:
            return n
    return _misread_depth(text)


_GROUPS = re.compile(r"(\w{0,3}(?:\.\w{0,3})+)\.?(?=\s)")


def _misread_depth(text: str) -> int | None:
    """The depth of a number of two or more groups one of which was read as a letter or not
    at all (``2.r``, ``k.3.1``, ``.1``, ``2..3``): the groups count, whatever that one says."""
    m = _GROUPS.match(text)
    if m is None:
        return None
    groups = m.group(1).split(".")
    wrong = [g for g in groups if not g.isdigit()]
    if len(wrong) != 1 or len(wrong[0]) > 1 or (wrong[0] and not wrong[0].isalpha()):
        return None
    return len(groups)


_PLAIN = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?(?=\s|$)")
# A heading's first word when it may be a plain number: digits and dots, or a number whose
# later groups have a letter in them (``3.m``).
_TOKEN = re.compile(r"(?:[\d.]*\d[\d.]*|\d{1,3}(?:\.\w{0,3})+)(?=\s|$)")


def plain_number(text: str) -> Number | None:
    """The leading number of a heading when it is digit groups (``3.2 Data`` → ``(3, 2)``),
    mended as :func:`mended_number` does; None for any other numbering or none."""
    m = _PLAIN.match(mended_number(text))
    return tuple(int(g) for g in m.group(1).split(".")) if m else None


def following(numbers: Sequence[Number]) -> list[Number]:
    """The numbers that may come next under open headings numbered ``numbers`` (outermost
    first): the first child of the deepest, then the next sibling of it and of each number it
    is under (``3.2.1`` → ``3.2.1.1``, ``3.2.2``, ``3.3``, ``4``), whether or not those are
    open (their heading may have been read without a number)."""
    if not numbers:
        return []
    deepest = numbers[-1]
    return [(*deepest, 1)] + [
        (*deepest[: k - 1], deepest[k - 1] + 1) for k in range(len(deepest), 0, -1)
    ]


def written(number: Number) -> str:
    """A number as it is written: ``(3, 2)`` → ``3.2``."""
    return ".".join(str(g) for g in number)


def continued(text: str, numbers: Sequence[Number]) -> tuple[int | None, Number | None]:
    """A heading's depth and plain number under open headings numbered ``numbers``: by
    :func:`numbering_depth`, unless step 4 of the module says the number was misread."""
    depth = numbering_depth(text)
    own = plain_number(text)
    candidates = following(numbers)
    m = _TOKEN.match(mended_number(text))
    if m is None or own in candidates:
        return depth, own
    near = [n for n in candidates if Levenshtein.distance(m.group(0), written(n)) <= 1]
    if len(near) == 1 and (own is None or len(own) != len(near[0])):
        return len(near[0]), near[0]
    return depth, own
