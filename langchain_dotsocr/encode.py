"""Page images to data URLs, the form the chat API takes them in."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image

ImageFormat = Literal["png", "jpeg"]


@dataclass(frozen=True)
class EncodedImage:
    """An image as it is sent: its data URL and its size in pixels (multiples of 28)."""

    url: str
    width: int
    height: int


def data_url(image: Image.Image, fmt: ImageFormat = "png", quality: int = 90) -> str:
    """The image as a data URL.

    PNG (default) is lossless, written at a fast compression level: the server decodes it once
    and the bytes cross a local network. JPEG costs less CPU and bandwidth per page.
    """
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, format="JPEG", quality=quality)
        mime = "image/jpeg"
    else:
        image.save(buffer, format="PNG", compress_level=1)
        mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def encode_image(image: Image.Image, fmt: ImageFormat = "png", quality: int = 90) -> EncodedImage:
    """``image`` ready to send."""
    return EncodedImage(data_url(image, fmt, quality), image.width, image.height)


def decode_image(encoded: EncodedImage) -> Image.Image:
    """The pixels of an encoded image again (RGB), for a page read in parts."""
    data = base64.b64decode(encoded.url.partition(",")[2])
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")
