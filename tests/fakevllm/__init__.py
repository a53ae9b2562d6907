"""A test double of a vLLM server serving dots.ocr, and test documents it can read.

* :mod:`.scene` draws pages (PDF or image files) of coloured boxes, one colour per element;
* :class:`FakeVLLM` + :func:`serve` answer like ``vllm serve rednote-hilab/dots.ocr``, finding
  the boxes in the image it is sent (:mod:`.vision`) after vLLM's resize (:mod:`.resize`);
* :class:`FaultPlan` spoils chosen pages and attempts; :class:`LatencyModel` paces the answers.
"""

from .answers import (
    GROUNDING,
    LAYOUT_ALL,
    LAYOUT_ONLY,
    OCR,
    PLACEHOLDER,
    PROMPTS,
    answer_tokens,
    budget_chars,
    identify_prompt,
    prompt_tokens,
)
from .errors import context_message, decoder_prompt_message, error_body
from .faults import FAULT_KINDS, FaultPlan, answer_script
from .intake import RecordedRequest
from .latency import LatencyModel
from .resize import image_tokens, smart_resize
from .scene import (
    CATEGORIES,
    Box,
    PageSpec,
    colour_element,
    displayed_page,
    displayed_size,
    draw_page,
    element_colour,
    element_content,
    element_text,
    expected_boxes_displayed,
    make_image,
    make_pdf,
    page_footer_box,
    render_page,
    sample_page,
)
from .server import FakeVLLM, serve
from .vision import Element, detect

__all__ = [
    "CATEGORIES",
    "FAULT_KINDS",
    "GROUNDING",
    "LAYOUT_ALL",
    "LAYOUT_ONLY",
    "OCR",
    "PLACEHOLDER",
    "PROMPTS",
    "Box",
    "Element",
    "FakeVLLM",
    "FaultPlan",
    "LatencyModel",
    "PageSpec",
    "RecordedRequest",
    "answer_script",
    "answer_tokens",
    "budget_chars",
    "colour_element",
    "context_message",
    "decoder_prompt_message",
    "detect",
    "displayed_page",
    "displayed_size",
    "draw_page",
    "element_colour",
    "element_content",
    "element_text",
    "error_body",
    "expected_boxes_displayed",
    "identify_prompt",
    "image_tokens",
    "make_image",
    "make_pdf",
    "page_footer_box",
    "prompt_tokens",
    "render_page",
    "sample_page",
    "serve",
    "smart_resize",
]
