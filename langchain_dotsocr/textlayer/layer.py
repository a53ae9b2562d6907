"""One page's text layer: read it, judge it, and give the text inside a box."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from PIL import Image

from .blocks import compounds, reading_text, reading_words
from .chars import Box, Char, read_chars
from .ink import Ink
from .lines import Word, words
from .trust import Level, Trust, glyph_boxes, judge


@dataclass(frozen=True)
class PageLayer:
    """A page's text layer as a reader sees it, with the verdict on it (:attr:`trust`).

    Only the characters the verdict lets through are read: the trusted ones, or for
    ``"check"`` the OCR layer's; none for ``"none"``.
    """

    trust: Trust
    size: tuple[float, float]  # the page as displayed, in points
    chars: tuple[Char, ...] = field(repr=False)
    ink: Ink | None = field(default=None, repr=False, compare=False)
    #: Boxes of annotations that show words the layer does not hold (a filled form field).
    painted: tuple[Box, ...] = ()

    @cached_property
    def _by_y(self) -> tuple[list[float], list[tuple[float, int, Char]]]:
        """The characters by the height of their centre, with their x and their index in the
        file's order: a box's characters are then found by bisection, not by a scan."""
        rows = sorted(
            ((c.box[1] + c.box[3]) / 2, (c.box[0] + c.box[2]) / 2, k, c)
            for k, c in enumerate(self.chars)
        )
        return [r[0] for r in rows], [(r[1], r[2], r[3]) for r in rows]

    def _in(self, box: Box) -> list[Char]:
        """The characters whose centre lies in ``box``, in the file's order."""
        ys, rows = self._by_y
        lo, hi = bisect_left(ys, box[1]), bisect_right(ys, box[3])
        found = [(k, c) for x, k, c in rows[lo:hi] if box[0] <= x <= box[2]]
        return [c for _k, c in sorted(found, key=lambda kc: kc[0])]

    def text_in(self, box: Box) -> str:
        """The reader's text of the characters whose centre lies in ``box`` (page units, the
        frame of Document bboxes): paragraphs and columns in reading order, normalised (see
        :mod:`langchain_dotsocr.textlayer.lines`, ``.blocks`` and ``.normalise``); ``""`` when
        none."""
        inside = self._in(box)
        return reading_text(inside, self._compounds) if inside else ""

    @cached_property
    def _compounds(self) -> frozenset[str]:
        """The page's hyphenated words written whole (for hyphens at line ends)."""
        return compounds(words(self.chars))

    def lacks(self, box: Box) -> bool:
        """Whether ``box`` shows words the layer does not hold: the centre of an annotation
        that paints words (a filled form field, a stamp) lies in it."""
        return any(
            box[0] <= (p[0] + p[2]) / 2 <= box[2] and box[1] <= (p[1] + p[3]) / 2 <= box[3]
            for p in self.painted
        )

    def words_in(self, box: Box) -> list[Word]:
        """The words whose characters' centres lie in ``box``, in reading order, with boxes."""
        return [w for block in reading_words(self._in(box)) for w in block]

    def share_in(self, box: Box) -> float:
        """How much of ``box``'s ink the layer's glyphs cover, 0 to 1: near 1 for text the
        layer holds, near 0 for a scan pasted into the page or a picture. Without the rendered
        page: 1.0 when any glyph lies in the box, else 0.0."""
        if self.ink is None:
            return 1.0 if self._in(box) else 0.0
        return self.ink.share(box)


def read_layer(page: Any, image: Image.Image | None = None) -> PageLayer:
    """Read one page's text layer and judge it.

    Args:
        page: a ``pypdfium2.PdfPage``; call this where the page is rendered, under
            :data:`langchain_dotsocr.pages.PDFIUM_LOCK` (PDFium is not thread-safe).
        image: the page as rendered (any size: its pixels map to the page's points), for the
            evidence that needs pixels: ink against text, text the colour of its background.
            Without it those checks are skipped (the page is taken to be white).

    Returns:
        The page's :class:`PageLayer`.
    """
    text = read_chars(page)
    size = text.frame.size
    ink = Ink.of(image, size) if image is not None else None
    verdict = judge(text, ink)
    if ink is not None:
        cover(ink, verdict.trust.level, verdict.chars)
    return PageLayer(verdict.trust, size, verdict.chars, ink, text.painted)


def cover(ink: Ink, level: Level, chars: Sequence[Char]) -> None:
    """Mark on ``ink`` the glyphs a verdict of ``level`` lets through (``chars``): the ink
    they hold is the layer's share of a box (:meth:`PageLayer.share_in`)."""
    ink.cover(glyph_boxes(level, chars))
