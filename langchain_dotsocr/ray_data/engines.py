"""Engines inside the cluster: the request of a page row, and the result row of an answer.

An engine answers one request per page, so this path reads every page as
``text_layer="off"`` does (the model's ``layout_all`` text): the text layer's path asks a page
for its layout, then each table and formula on its box, which one pass of an engine processor
cannot. Settings with ``text_layer="auto"`` are refused rather than read otherwise than they
say (their answer key would name Documents the loader makes differently).
"""

from __future__ import annotations

from typing import Any

from ..errors import PageError
from ..layout import decode_answer
from ..prompts import chat_body, prompt_text
from ..read import PageResult
from ..read.reader import elements_of
from ..settings import DotsOCRSettings
from .rows import PAGE_ONLY, PAGE_ROW, error_row, page_info, prepared_page, result_json


def engine_request(row: dict[str, Any], settings: DotsOCRSettings) -> dict[str, Any]:
    """What Ray Data's vLLM engine processor needs for a page row: ``messages`` (image first,
    then the prompt, as the loader sends them) and ``sampling_params``.

    Raises:
        ValueError: ``settings.text_layer`` is not ``"off"`` (see the module's docstring).
    """
    off(settings)
    body = chat_body(
        model=settings.model or "",
        image_url=row["image"],
        text=prompt_text(settings.prompt_mode, None),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
    )
    return {
        "messages": body["messages"],
        "sampling_params": {
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        },
    }


def result_of_answer(
    row: dict[str, Any], answer: str, settings: DotsOCRSettings, model: str = ""
) -> dict[str, Any]:
    """A result row from a page row and the model's whole answer (``generated_text``).

    The answer is decoded cell by cell as the loader does; without a stream there is no loop
    cut and no fallback, so an incomplete answer keeps what it salvaged (``salvaged``), and
    one with nothing usable becomes an error row.

    Raises:
        ValueError: ``settings.text_layer`` is not ``"off"`` (see the module's docstring).
    """
    off(settings)
    # Only the page's own columns: the engine's (messages with the image, tokens) stay behind.
    out = {k: row[k] for k in PAGE_ROW if k not in PAGE_ONLY} | {"model": model}
    info = page_info(row)
    result = PageResult(info)
    width, height = int(row["image_width"]), int(row["image_height"])
    if settings.prompt_mode == "ocr":
        result.text, result.extraction = answer.strip(), "ocr"
        return out | {"result": result_json(result), "error": None, "error_type": None}
    decoded = decode_answer(answer, width, height)
    if not decoded.cells and not decoded.complete:
        error = PageError("no usable answer: " + "; ".join(decoded.problems))
        located = error.located(info.source, info.index, info.total)
        return error_row(out, located) | {"result": None}
    result.elements = elements_of(decoded.cells, prepared_page(row), settings)
    result.extraction = "layout" if decoded.complete else "salvaged"
    result.problems = decoded.problems
    return out | {"result": result_json(result), "error": None, "error_type": None}


def off(settings: DotsOCRSettings) -> None:
    """Refuse settings that ask for the text layer, which one engine pass cannot read."""
    if settings.text_layer != "off":
        raise ValueError(
            f"engines in the cluster read each page in one request, the model's text: give "
            f"text_layer=\"off\" (not {settings.text_layer!r}) to render_pages, engine_request "
            "and result_of_answer, or read the text layer with read_pages over servers"
        )
