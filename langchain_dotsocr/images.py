"""One frame of an image file to an RGB picture: right side up, bounded in memory, no bombs.

A frame's size is checked before any pixel is decoded. Big frames are decoded small where the
format allows it (JPEG's DCT scaling through ``Image.draft``) and otherwise reduced by box
averaging straight after decoding, a band of rows at a time, before any rotation: the model
never takes more than ``max_pixels``, so no more than the decoded frame is ever held whole.
"""

from __future__ import annotations

import io
import math
import struct
import warnings

from PIL import Image, ImageFile

__all__ = [
    "BOMB_ERRORS",
    "DECODE_ERRORS",
    "Refused",
    "bomb_reason",
    "check_size",
    "decode_frame",
    "open_image",
    "reduced_rgb",
    "to_rgb",
]

# What Pillow's plugins raise on damaged or hostile files. Seen by fuzzing the page layer
# (tests/test_fuzz_pages.py): OSError (UnidentifiedImageError, truncated data), SyntaxError,
# ValueError, and from malformed TIFF/EXIF headers TypeError, KeyError, IndexError and
# struct.error. Also kept: EOFError (seek past the last frame), and ZeroDivisionError and
# OverflowError (arithmetic on absurd header values).
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
)

ORIENTATION = 0x0112
# The turn each EXIF orientation asks for to show the picture upright (as ImageOps does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIDEWAYS = frozenset({5, 6, 7, 8})
_SIXTEEN_BIT = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_ALPHA = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
# The formats the loader reads; no other Pillow plugin (EPS, which runs Ghostscript, say) is
# ever given a file.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")  # JPEG covers MPO
# Rows of a frame converted at a time: bounds the copies that mode conversions make.
BAND_ROWS = 128


class Refused(ValueError):
    """A frame the loader will not decode: no pixels, or more than the bomb limit."""


BOMB_ERRORS: tuple[type[BaseException], ...] = (
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    Refused,
)


def bomb_reason(exc: BaseException) -> str:
    """Why a frame in :data:`BOMB_ERRORS` was refused."""
    if isinstance(exc, Refused):
        return str(exc)
    return f"refused as a possible decompression bomb ({exc})"


def open_image(data: bytes) -> ImageFile.ImageFile:
    """Open an image file (its header only): Pillow's bomb warning is raised, not printed.

    Pillow warns between 1x and 2x its pixel limit and raises above: both are refused alike.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=FORMATS)


def check_size(width: int, height: int) -> None:
    """Refuse a frame by its header alone, before any pixel is allocated.

    The limit is Pillow's own (``PIL.Image.MAX_IMAGE_PIXELS``, read at call time), applied to
    every frame: Pillow checks only the first frame of a file when it opens it.
    """
    if width <= 0 or height <= 0:
        raise Refused(f"the image has no pixels ({width}x{height})")
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise Refused(
            f"the image claims {width}x{height} = {width * height:,} pixels, more than "
            f"PIL.Image.MAX_IMAGE_PIXELS ({limit:,}): refused as a possible decompression bomb"
        )


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8) of a loaded frame; 1 when absent or unreadable."""
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except DECODE_ERRORS:
        return 1  # a damaged EXIF block does not spoil the picture itself
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def reduction(pixels: int, max_pixels: int) -> int:
    """The largest whole factor that leaves at least ``max_pixels`` of ``pixels``."""
    return max(1, math.isqrt(pixels // max(1, max_pixels)))


def decode_frame(frame: ImageFile.ImageFile, max_pixels: int) -> tuple[Image.Image, int, int]:
    """The current frame as a new RGB image of about ``max_pixels`` at most, upright.

    Returns the image and the frame's width and height as displayed (after its EXIF
    orientation) in the file's own pixels: the unit boxes are given in.
    """
    width, height = frame.size
    check_size(width, height)
    factor = reduction(width * height, max_pixels)
    if factor > 1:
        # JPEG decodes at 1/2, 1/4 or 1/8 scale, never below the size asked; others ignore it.
        frame.draft(None, (-(-width // factor), -(-height // factor)))
    frame.load()
    turn = orientation(frame)
    image = reduced_rgb(frame, reduction(frame.width * frame.height, max_pixels))
    if turn in _UPRIGHT:
        image = image.transpose(_UPRIGHT[turn])
    if turn in _SIDEWAYS:
        width, height = height, width
    return image, width, height


def reduced_rgb(image: Image.Image, factor: int) -> Image.Image:
    """``to_rgb(image)`` box-averaged by ``factor``, converted a band of rows at a time.

    Mode conversions (palette to RGBA, alpha flattening, 16-bit scaling) copy the image, some
    of them several times; done band by band, the only full-size image held is the decoded
    frame itself. Bands start at multiples of ``factor``, so the result equals reducing the
    whole image at once.
    """
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    step = factor * max(1, BAND_ROWS // factor)
    for top in range(0, height, step):
        band = to_rgb(image.crop((0, top, width, min(height, top + step))))
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out


def to_rgb(image: Image.Image) -> Image.Image:
    """A new RGB image: transparency (alpha or colour key) flattened on white; palette, 16-bit,
    1-bit and CMYK converted."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("RGBA")  # a colour key (PNG tRNS): that colour is transparent
    elif image.mode in _SIXTEEN_BIT:
        # Pillow's own I;16 -> L conversion clips at 255 instead of scaling: scale first.
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    if image.mode in _ALPHA:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # a copy even when already RGB: the file's frame is not kept
