"""The model's official prompts and the request body built around them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

PromptMode = Literal["layout_all", "layout_only", "ocr"]

# The prompt text must be byte for byte the model's own: it is its input contract.
_PROMPTS: dict[str, str] = json.loads(
    resources.files(__package__).joinpath("prompts.json").read_text(encoding="utf-8")
)

PROMPT_KEYS: dict[str, str] = {
    "layout_all": "prompt_layout_all_en",
    "layout_only": "prompt_layout_only_en",
    "ocr": "prompt_ocr",
    "grounding": "prompt_grounding_ocr",
}

# Written before the prompt so vLLM puts no newline between the image and the text.
IMAGE_PLACEHOLDER = "<|img|><|imgpad|><|endofimg|>"

CATEGORIES = (
    "Caption",
    "Footnote",
    "Formula",
    "List-item",
    "Page-footer",
    "Page-header",
    "Picture",
    "Section-header",
    "Table",
    "Text",
    "Title",
)
#: The running header and footer of a page: repeated on every page, not part of its text.
PAGE_FURNITURE = ("Page-header", "Page-footer")


def prompt_text(mode: str, box: tuple[int, int, int, int] | None = None) -> str:
    """The text part of a request: placeholder, official prompt, and for grounding the box."""
    text = IMAGE_PLACEHOLDER + _PROMPTS[PROMPT_KEYS[mode]]
    if mode == "grounding":
        if box is None:
            raise ValueError("the grounding prompt needs a box")
        text += str(list(box))
    return text


def chat_body(
    *,
    model: str,
    image_url: str,
    text: str,
    max_tokens: int,
    temperature: float,
    top_p: float,
    stream: bool = True,
) -> dict[str, Any]:
    """One user message: the image first, then the text; no system message."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": image_url}},
                    {"type": "text", "text": text},
                ],
            }
        ],
        "temperature": temperature,
        "top_p": top_p,
        # Both names: older vLLM reads max_tokens, newer prefers max_completion_tokens.
        "max_tokens": max_tokens,
        "max_completion_tokens": max_tokens,
        "stream": stream,
    }
    if stream:
        # vLLM's continuous_usage_stats puts the tokens so far in every chunk: the overflow
        # watcher counts real tokens instead of estimating them from characters.
        body["stream_options"] = {"include_usage": True, "continuous_usage_stats": True}
    return body
