"""A page on its way through the readers, and what reading it gave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..crops import Figure
from ..encode import EncodedImage, ImageFormat, encode_image
from ..errors import DotsOCRError, where
from ..layout import Element
from ..pages import PageImage, PageInfo
from ..servers import Tally
from .ink import COARSE, Ink, ink_map


@dataclass(frozen=True)
class Prepared:
    """A page encoded for sending; the pixels are no longer held.

    ``whole`` is False for a page the model cannot take in one image (an aspect ratio over
    200:1, or a long page kept at full resolution): it is only ever read in tiles.
    """

    info: PageInfo
    image: EncodedImage
    ink: Ink
    whole: bool = True
    layer: Any = None  # the PDF page's text layer (a textlayer.PageLayer), when read

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def prepare(page: PageImage, fmt: ImageFormat = "png", quality: int = 90) -> Prepared:
    """Encode a rendered page and map its ink (runs in a worker thread, off the event loop).

    A page read in parts is cropped from this encoding again, so a long page is encoded
    losslessly whatever the format asked.
    """
    encoded = encode_image(page.image, fmt if page.whole else "png", quality)
    return Prepared(page.info, encoded, ink_map(page.image, COARSE), page.whole, page.layer)


@dataclass
class PageResult:
    """What one page gave: elements for the layout modes, text for ``ocr``.

    ``extraction`` says how the page was read as a whole: ``layout`` (its first answer),
    ``retried`` (asked again), ``tiled`` (in parts), ``ocr`` (plain text, no boxes) or
    ``salvaged`` (no way of reading it came back complete: what came back is kept). Each
    element says how it was read itself.

    ``problems``: what went wrong while reading the page that no error tells (an answer cut
    at the budget, cells dropped for their box, a table's text left out, a request that
    failed but was made up for), in the order it happened; the run reports and logs each
    (:meth:`noted`). ``failures``: the shares of the page a request failed to read, each
    told by the page's error policy instead.
    """

    info: PageInfo
    elements: list[Element] = field(default_factory=list)
    text: str | None = None
    extraction: str = "layout"
    problems: list[str] = field(default_factory=list)
    # Request errors whose share of the page the result lacks: each goes through on_error.
    failures: list[DotsOCRError] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    # By element index: crops and descriptions (never cached: cut again from the page).
    figures: dict[int, Figure] = field(default_factory=dict)

    def noted(self) -> list[str]:
        """The page's problems named by their page as errors name it:
        ``"page 3 of 10 (page=2): answer ended with finish_reason='length'"``."""
        info = self.info
        page = where(None, info.index, info.total)
        return [f"{page}: {problem}" for problem in self.problems]

    @property
    def requests(self) -> int:
        """Requests sent for the page (transport retries not counted)."""
        return self.tally.requests
