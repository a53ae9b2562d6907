"""Elements as pictures: where a crop is cut, and what it becomes (a PNG, a file, base64).

Crops are cut by the page layer (:meth:`.pages.PageDocument.crops`) from the page at the
render resolution, not from the image sent to the model (which may be downscaled): a PDF's
region is rendered at ``dpi``, an image's is cut from its own pixels. Each crop takes the
element's box grown by :data:`CROP_MARGIN` of the page's shorter side on every side (the
model's boxes are tight, and a figure's edge should not be lost), clipped to the page.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from PIL import Image

Box = tuple[float, float, float, float]

#: The margin around an element's box, as a share of the page's shorter side (about 6 pt on
#: a Letter page, 20 px on a 2,000-px scan).
CROP_MARGIN = 0.01
MIME_TYPE = "image/png"


@dataclass(frozen=True)
class Crop:
    """An element cut from its page, as a PNG, with what is known of it.

    Given to a ``describe_pictures`` callable. ``caption`` is the element's linked caption
    (see the README's "Captions"), ``""`` when it has none.
    """

    png: bytes = field(repr=False)
    width: int
    height: int
    source: str
    page: int
    element_index: int
    category: str
    caption: str = ""

    @property
    def mime_type(self) -> str:
        """Always ``"image/png"``: crops are lossless."""
        return MIME_TYPE

    @property
    def base64(self) -> str:
        """The PNG as base64 (Unstructured's ``image_base64``)."""
        return base64.b64encode(self.png).decode("ascii")

    @property
    def data_url(self) -> str:
        """The PNG as a ``data:`` URL, the form chat models take images in."""
        return f"data:{MIME_TYPE};base64,{self.base64}"


@dataclass(frozen=True)
class Figure:
    """What an element gets beside the model's answer: its crop (as a file or as base64)
    and a description of it. Empty fields where nothing was asked or nothing came back."""

    image_path: str = ""
    image_base64: str = ""
    image_mime_type: str = ""
    description: str = ""


#: A plain describer (``describe_pictures=``): a crop in, its description out; an ``async``
#: function, or a plain one (run in a worker thread).
Describe = Callable[[Crop], Awaitable[str]] | Callable[[Crop], str]
#: What ``describe_pictures=`` takes: a LangChain chat model that accepts images, or a
#: :data:`Describe` callable.
Describer = BaseChatModel | Describe


def crop_region(bbox: Box, page_width: float, page_height: float) -> Box:
    """The region of the page a crop of ``bbox`` takes (page units): the box and its margin,
    clipped to the page."""
    margin = CROP_MARGIN * min(page_width, page_height)
    x0, y0, x1, y1 = bbox
    return (
        max(0.0, x0 - margin),
        max(0.0, y0 - margin),
        min(page_width, x1 + margin),
        min(page_height, y1 + margin),
    )


def png_bytes(image: Image.Image) -> bytes:
    """``image`` as PNG, the same bytes for the same pixels (no time stamp, no metadata)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
