"""The model's resize rule and the token arithmetic of one request.

dots.ocr sees images through 14-px patches merged 2x2, so one visual token covers 28x28 px.
vLLM resizes every image by the Qwen2-VL rule before the model sees it; we apply the same rule
on the client so the server changes nothing, boxes map back exactly, and the number of image
tokens is known before a request is sent.
"""

from __future__ import annotations

import math

from .prompts import prompt_text

FACTOR = 28
MIN_PIXELS = 3136
MAX_PIXELS = 11_289_600
MAX_ASPECT_RATIO = 200

# Tokens beside the prompt text: chat template, role markers, image start/end.
TEMPLATE_TOKENS = 32
# Kept free between prompt and output so a slightly low estimate never costs a 400.
SAFETY_MARGIN = 64
# The least output budget worth sending; below it a page's answer cannot be complete.
MIN_OUTPUT_TOKENS = 1024
DEFAULT_MAX_TOKENS = 16384


def smart_resize(
    height: int, width: int, *, min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS
) -> tuple[int, int]:
    """Return ``(height, width)`` as the model's resize rule makes them (multiples of 28)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise ValueError(
            f"aspect ratio of {width}x{height} exceeds {MAX_ASPECT_RATIO}, which the model refuses"
        )
    h = max(FACTOR, round(height / FACTOR) * FACTOR)
    w = max(FACTOR, round(width / FACTOR) * FACTOR)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(FACTOR, math.floor(height / beta / FACTOR) * FACTOR)
        w = max(FACTOR, math.floor(width / beta / FACTOR) * FACTOR)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / FACTOR) * FACTOR
        w = math.ceil(width * beta / FACTOR) * FACTOR
    return h, w


def image_tokens(height: int, width: int) -> int:
    """Visual tokens of an image already sized by :func:`smart_resize`."""
    return (height // FACTOR) * (width // FACTOR)


def text_tokens(text: str) -> int:
    """An upper estimate of the tokens of ``text`` (no tokenizer on the client)."""
    # Qwen2's tokenizer averages about 4 bytes a token on English prompts; 3 over-counts safely.
    return math.ceil(len(text.encode("utf-8")) / 3)


def prompt_tokens(height: int, width: int, mode: str) -> int:
    """Estimated input tokens of a request: image, prompt text and chat template."""
    text = prompt_text(mode, (0, 0, 9999, 9999) if mode == "grounding" else None)
    return image_tokens(height, width) + text_tokens(text) + TEMPLATE_TOKENS


def output_budget(max_model_len: int, input_tokens: int, max_tokens: int) -> int:
    """The output budget to send: the wanted ``max_tokens`` cut to what the context leaves."""
    return max(0, min(max_tokens, max_model_len - input_tokens - SAFETY_MARGIN))


def fit_max_pixels(max_model_len: int, mode: str, max_pixels: int = MAX_PIXELS) -> int:
    """The largest image area whose request leaves :data:`MIN_OUTPUT_TOKENS` for the answer.

    Returns 0 when not even the smallest image fits.
    """
    spare = max_model_len - prompt_tokens(0, 0, mode) - SAFETY_MARGIN - MIN_OUTPUT_TOKENS
    return min(max_pixels, max(0, spare) * FACTOR * FACTOR)


def required_context(
    width_px: int,
    height_px: int,
    *,
    mode: str = "layout_all",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_pixels: int = MAX_PIXELS,
) -> int:
    """The ``--max-model-len`` a server needs for this page image and the full output budget."""
    h, w = smart_resize(height_px, width_px, max_pixels=max_pixels)
    return prompt_tokens(h, w, mode) + SAFETY_MARGIN + max_tokens
