"""Where a page has ink: how much lies in a box, and the blank bands between its lines.

Two maps of the same kind: a coarse one (1/4 scale) made for every page as it is encoded, used
to tell how far an answer has got through the page; a fine one (1/2 scale) made from the page's
pixels only when the page is read in parts, used to cut it along blank rows and columns.
A pixel is ink when it is clearly darker than the page's background (the brightest common
level), so a grey scan background or JPEG noise is not taken for text.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageStat

Box = tuple[float, float, float, float]

COARSE = 4
FINE = 2
# Darker than the background by this much is ink: light print counts, paper grain does not.
CONTRAST = 24
# A line of the map with at most this many ink pixels is blank (specks on a scan).
SPECKS = 2


@dataclass(frozen=True)
class Ink:
    """A map of ink at ``scale`` page pixels per map pixel (255 ink, 0 blank)."""

    image: Image.Image
    scale: int

    @property
    def total(self) -> float:
        return self.amount((0, 0, self.image.width * self.scale, self.image.height * self.scale))

    def _crop(self, box: Box) -> Image.Image | None:
        s = self.scale
        x0, y0 = max(0, int(box[0] // s)), max(0, int(box[1] // s))
        x1 = min(self.image.width, -int(-box[2] // s))
        y1 = min(self.image.height, -int(-box[3] // s))
        if x1 <= x0 or y1 <= y0:
            return None
        return self.image.crop((x0, y0, x1, y1))

    def amount(self, box: Box) -> float:
        """Ink inside ``box`` (page pixels), in page pixels."""
        crop = self._crop(box)
        if crop is None:
            return 0.0
        return float(ImageStat.Stat(crop).sum[0]) / 255 * self.scale * self.scale

    def trim(self, box: Box) -> Box | None:
        """``box`` shrunk to the ink inside it (page pixels); ``None`` when it has none."""
        crop = self._crop(box)
        inner = crop.getbbox() if crop is not None else None
        if inner is None:
            return None
        s = self.scale
        x0, y0 = max(0, int(box[0] // s)), max(0, int(box[1] // s))
        return (
            max(box[0], (x0 + inner[0]) * s),
            max(box[1], (y0 + inner[1]) * s),
            min(box[2], (x0 + inner[2]) * s),
            min(box[3], (y0 + inner[3]) * s),
        )

    def gaps(self, box: Box, axis: int) -> list[tuple[float, float]]:
        """Blank bands strictly inside ``box`` (page pixels): ``axis`` 1 rows, 0 columns."""
        crop = self._crop(box)
        if crop is None:
            return []
        unit = self.scale * self.scale
        flags = [v > SPECKS * unit for v in self.profile(box, axis)]
        s = self.scale
        origin = int(box[axis] // s)
        out: list[tuple[float, float]] = []
        start = None
        for i, f in enumerate(flags):
            if not f and start is None:
                start = i
            elif f and start is not None:
                if start > 0:  # a band touching the box's edge is a margin, not a gap
                    out.append(((origin + start) * s, (origin + i) * s))
                start = None
        return out

    def profile(self, box: Box, axis: int) -> list[float]:
        """Ink of each map line of ``box`` (page pixels): ``axis`` 1 rows, 0 columns."""
        crop = self._crop(box)
        if crop is None:
            return []
        lines = crop.height if axis else crop.width
        across = crop.width if axis else crop.height
        size = (1, lines) if axis else (lines, 1)
        means = crop.convert("F").resize(size, Image.Resampling.BOX)
        unit = across * self.scale * self.scale / 255
        at = (lambda i: (0, i)) if axis else (lambda i: (i, 0))
        return [float(means.getpixel(at(i)) or 0) * unit for i in range(lines)]  # type: ignore[arg-type]

    def without(self, boxes: list[Box], margin: float = 0.0) -> Ink:
        """This map with the ink inside ``boxes`` (grown by ``margin``) taken out."""
        image = self.image.copy()
        draw = ImageDraw.Draw(image)
        s = self.scale
        for x0, y0, x1, y1 in boxes:
            draw.rectangle(
                ((x0 - margin) // s, (y0 - margin) // s, (x1 + margin) // s, (y1 + margin) // s),
                fill=0,
            )
        return Ink(image, s)

    def offset_of(self, box: Box, axis: int) -> float:
        """Where the first map line of ``box`` starts, in page pixels."""
        return max(0, int(box[axis] // self.scale)) * self.scale


def ink_map(image: Image.Image, scale: int) -> Ink:
    """The ink of an RGB page image at ``scale`` (reduce first: cheap for the coarse map)."""
    grey = (image.reduce(scale) if scale > 1 else image).convert("L")
    histogram = grey.histogram()
    # The background: the most common level among the bright half.
    background = max(range(128, 256), key=lambda v: histogram[v])
    threshold = background - CONTRAST
    return Ink(grey.point(lambda v: 255 if v < threshold else 0), scale)
