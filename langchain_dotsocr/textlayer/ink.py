"""Ink on the rendered page, and how much of it the layer's glyphs cover.

Ink is measured against the background under each box, not against white: the background is
the commonest colour of the box's pixels, and ink is every pixel that differs from it by at
least :data:`INK_CONTRAST` in some channel. So black text on a shaded or coloured box is ink and
the shading is not, and a paragraph pasted as a scan is ink that no glyph box covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageChops, ImageDraw

from .chars import Box

# A quarter of a channel's range: anti-aliased edges and JPEG noise stay below it.
INK_CONTRAST = 64
# A glyph is filled in a colour its background hides when no channel differs by this much:
# white on white, black on black, a box's own colour on the box.
HIDDEN_CONTRAST = 40
_MAX_COLOURS = 1 << 16


@dataclass(frozen=True)
class Ink:
    """The page as rendered (RGB) and a mask of where the trusted glyphs lie."""

    rgb: Image.Image
    covered: Image.Image
    scale_x: float  # pixels per page unit
    scale_y: float

    @classmethod
    def of(cls, image: Image.Image, size: tuple[float, float]) -> Ink:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        covered = Image.new("L", rgb.size, 0)
        return cls(rgb, covered, rgb.width / size[0], rgb.height / size[1])

    def pixels(self, box: Box) -> tuple[int, int, int, int]:
        w, h = self.rgb.size
        x0 = min(w, max(0, int(box[0] * self.scale_x)))
        y0 = min(h, max(0, int(box[1] * self.scale_y)))
        x1 = min(w, max(x0, -int(-box[2] * self.scale_x)))
        y1 = min(h, max(y0, -int(-box[3] * self.scale_y)))
        return x0, y0, x1, y1

    def cover(self, boxes: Iterable[Box]) -> None:
        """Mark ``boxes`` (the trusted glyphs) as covered."""
        draw = ImageDraw.Draw(self.covered)
        for box in boxes:
            x0, y0, x1, y1 = self.pixels(box)
            if x1 > x0 and y1 > y0:
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=255)

    def hidden(self, box: Box, fill: tuple[int, int, int]) -> str | None:
        """Why glyphs filled with ``fill`` in ``box`` show nothing, or ``None`` when they show:
        every pixel of the box is too close to ``fill`` to tell apart (white on white, a box's
        colour on it), or none comes near it (something painted over the words: a white box,
        a redaction bar drawn after them)."""
        x0, y0, x1, y1 = self.pixels(box)
        if x1 <= x0 or y1 <= y0:
            return None
        crop = self.rgb.crop((x0, y0, x1, y1))
        extrema = cast(tuple[tuple[int, int], ...], crop.getextrema())
        if all(close(span, (f, f)) for span, f in zip(extrema, fill, strict=True)):
            return "the colour of the page under it"
        # Every channel reaches the glyphs' colour somewhere: their colour shows (the usual
        # case, told by the extrema alone).
        if all(lo - HIDDEN_CONTRAST < f < hi + HIDDEN_CONTRAST
               for (lo, hi), f in zip(extrema, fill, strict=True)):
            return None
        # A glyph's core is its fill colour; anti-aliasing brings small text halfway at most.
        nearest = int(cast(int, _distance(crop, fill).getextrema()[0]))
        ground = _commonest(crop)
        if 2 * nearest > max(abs(a - b) for a, b in zip(ground, fill, strict=True)):
            return "painted over"
        return None

    def share(self, box: Box) -> float:
        """The share of the ink inside ``box`` that covered pixels hold; 0 without ink."""
        x0, y0, x1, y1 = self.pixels(box)
        if x1 <= x0 or y1 <= y0:
            return 0.0
        crop = self.rgb.crop((x0, y0, x1, y1))
        ink = _ink(crop, _commonest(crop))
        total = ink.histogram()[255]
        if total == 0:
            return 0.0
        held = ImageChops.darker(ink, self.covered.crop((x0, y0, x1, y1))).histogram()[255]
        return held / total


_INK_LUT = [255 if v >= INK_CONTRAST else 0 for v in range(256)]


def _ink(crop: Image.Image, ground: tuple[int, int, int]) -> Image.Image:
    """A mask of the pixels of ``crop`` that differ from ``ground`` by INK_CONTRAST or more."""
    return _distance(crop, ground).point(_INK_LUT)


def _distance(crop: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """Each pixel's largest channel difference from ``colour``."""
    r, g, b = ImageChops.difference(crop, Image.new("RGB", crop.size, colour)).split()
    return ImageChops.lighter(ImageChops.lighter(r, g), b)


def _commonest(image: Image.Image) -> tuple[int, int, int]:
    colours = image.getcolors(_MAX_COLOURS)
    if colours is None:  # more colours than that (a photograph): the mean is near enough
        value: object = image.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    else:
        value = max(colours, key=lambda c: c[0])[1]
    assert isinstance(value, tuple)
    return (int(value[0]), int(value[1]), int(value[2]))


def close(a: Iterable[int], b: Iterable[int]) -> bool:
    """Whether two colours are too close to tell apart (:data:`HIDDEN_CONTRAST`)."""
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) < HIDDEN_CONTRAST
