"""vLLM's error answers: their JSON shapes and the context-length wordings of its versions."""

from __future__ import annotations

from typing import Any

# vLLM >= 0.10.1 (so every version that runs dots.ocr natively, >= 0.11.0) nests the error:
#   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
# Older versions answered flat:
#   {"object": "error", "message": ..., "type": ..., "param": ..., "code": ...}
ERROR_SHAPES = ("nested", "flat")
CONTEXT_STYLES = (1, 2, 3, 4)


def error_body(
    message: str, type_: str, code: int, param: str | None = None, shape: str = "nested"
) -> dict[str, Any]:
    """An OpenAI-style error object as vLLM writes it."""
    if shape == "flat":
        return {"object": "error", "message": message, "type": type_, "param": param, "code": code}
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def decoder_prompt_message(length: int, max_model_len: int) -> str:
    """Wording 4: the prompt alone (the image, mostly) does not fit."""
    return (
        f"The decoder prompt (length {length}) is longer than the maximum model length of "
        f"{max_model_len}. Make sure that `max_model_len` is no smaller than the number of text "
        "tokens plus multimodal tokens. For image inputs, the number of image tokens depends on "
        "the number of images, and possibly their aspect ratios as well."
    )


def context_message(
    style: int, prompt_tokens: int, max_tokens: int, max_model_len: int
) -> tuple[str, str | None]:
    """The message (and ``param``) of a request whose prompt + output budget exceed the context.

    1: old vLLM: "... you requested M tokens (P in the messages, B in the completion) ..."
    2: "'max_tokens' or 'max_completion_tokens' is too large: B. ... (B > N - P) ..."
    3: newest: "... you requested B output tokens and your prompt contains at least P' input
       tokens, for a total of at least P'+B tokens ..." where, as vLLM does, the prompt count is
       a lower bound: P' = min(P, N - B + 1), so the total reads N + 1 when the prompt is longer.
    4: "The decoder prompt (length P+B) is longer than the maximum model length of N ..."
    """
    n, p, b = max_model_len, prompt_tokens, max_tokens
    if style == 1:
        return (
            f"This model's maximum context length is {n} tokens. However, you requested "
            f"{p + b} tokens ({p} in the messages, {b} in the completion). Please reduce the "
            "length of the messages or completion.",
            None,
        )
    if style == 2:
        return (
            f"'max_tokens' or 'max_completion_tokens' is too large: {b}. This model's maximum "
            f"context length is {n} tokens and your request has {p} input tokens "
            f"({b} > {n} - {p}). (parameter=max_tokens, value={b})",
            "max_tokens",
        )
    if style == 3:
        shown = max(1, min(p, n - b + 1))
        return (
            f"This model's maximum context length is {n} tokens. However, you requested {b} "
            f"output tokens and your prompt contains at least {shown} input tokens, for a total "
            f"of at least {shown + b} tokens. Please reduce the length of the input prompt or the "
            f"number of requested output tokens. (parameter=input_tokens, value={shown})",
            "input_tokens",
        )
    if style == 4:
        return decoder_prompt_message(p + b, n), None
    raise ValueError(f"context style must be 1..4, got {style}")


NGINX_PAGES = {
    502: "Bad Gateway",
    504: "Gateway Time-out",
}


def nginx_page(code: int) -> str:
    """The HTML page a reverse proxy sends for a 502/504."""
    title = f"{code} {NGINX_PAGES[code]}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
