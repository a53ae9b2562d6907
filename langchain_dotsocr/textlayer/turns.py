"""Text set at a quarter turn (a landscape table on a portrait page, an axis label, a spine):
read in its own upright frame.

:mod:`.lines` reads lines left to right and top to bottom. A character whose baseline is turned
(:attr:`~.chars.Char.turn`, in the displayed frame) is read in the frame where its text stands
upright: its box is turned back there, the words are found as for any text, and their boxes are
turned forth again. Text at other angles (:data:`~.chars.SLANTED`: a diagonal watermark) is
read apart, in the file's order (:mod:`.lines`): no frame of lines fits it, and such text is
nearly always written as one string.
"""

from __future__ import annotations

from collections.abc import Sequence

from .chars import Box, Char


def upright_box(box: Box, turn: int) -> Box:
    """``box`` (displayed frame) in the frame where text of ``turn`` stands upright."""
    x0, y0, x1, y1 = box
    if turn == 1:  # reads downwards: its lines go from right to left
        return (y0, -x1, y1, -x0)
    if turn == 2:  # upside down
        return (-x1, -y1, -x0, -y0)
    if turn == 3:  # reads upwards: its lines go from left to right
        return (-y1, x0, -y0, x1)
    return box  # upright, or slanted: kept where it is


def displayed_box(box: Box, turn: int) -> Box:
    """The inverse of :func:`upright_box`."""
    return upright_box(box, (4 - turn) % 4)


def by_turn(chars: Sequence[Char], upright_as: int = 0) -> list[tuple[int, list[Char]]]:
    """``chars`` (in the file's order) by their turn, each upright in its frame and still in
    the file's order; the groups in the order they sit on the page (top, then left).
    ``upright_as``: the turn to read upright characters in (1 for vertical writing, whose
    columns read as lines of text turned a quarter clockwise: top down, right to left)."""
    groups: dict[int, list[Char]] = {}
    for c in chars:
        groups.setdefault(c.turn or upright_as, []).append(c)
    placed = list(groups.items())
    if len(placed) > 1:
        placed.sort(key=lambda kv: (min(c.box[1] for c in kv[1]), min(c.box[0] for c in kv[1])))
    return [
        (turn, [c._replace(box=upright_box(c.box, turn)) if turn in (1, 2, 3) else c
                for c in group])
        for turn, group in placed
    ]
