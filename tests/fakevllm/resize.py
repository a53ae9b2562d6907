"""vLLM's image resize for dots.ocr (the Qwen2-VL "smart resize"), written from its description."""

from __future__ import annotations

import math

PATCH = 28  # one visual token covers 28x28 px (14-px patches merged 2x2)
MAX_ASPECT_RATIO = 200


def smart_resize(
    height: int, width: int, *, min_pixels: int = 3136, max_pixels: int = 11_289_600
) -> tuple[int, int]:
    """``(height, width)`` of the image the model sees; raises ``ValueError`` like the processor."""
    if height < 1 or width < 1:
        raise ValueError(f"height:{height} and width:{width} must be positive")
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise ValueError(
            f"absolute aspect ratio must be smaller than {MAX_ASPECT_RATIO}, got {ratio}"
        )
    h_bar = max(PATCH, round(height / PATCH) * PATCH)
    w_bar = max(PATCH, round(width / PATCH) * PATCH)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(PATCH, math.floor(height / beta / PATCH) * PATCH)
        w_bar = max(PATCH, math.floor(width / beta / PATCH) * PATCH)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / PATCH) * PATCH
        w_bar = math.ceil(width * beta / PATCH) * PATCH
    return h_bar, w_bar


def image_tokens(height: int, width: int) -> int:
    """Visual tokens of an image of the resized size."""
    return (height // PATCH) * (width // PATCH)
