"""Read vLLM's error answers: which are about the token budget, and the numbers in them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_MAX_LEN = re.compile(
    r"maximum context length is (\d+)|maximum model length of (\d+)|max_model_len[ =:]+(\d+)"
)
_INPUT = re.compile(
    r"(\d+) in the messages"
    r"|request has (\d+) input tokens"
    r"|contains \(at least\) (\d+) input tokens"
    r"|prompt \(length (\d+)\)"
)


@dataclass(frozen=True)
class ContextOverflow:
    """What a context-length 400 said: the server's limit and the request's input tokens."""

    max_model_len: int
    input_tokens: int | None

    @property
    def input_alone_too_long(self) -> bool:
        """True when the prompt (mostly the image) leaves no room for any output."""
        return self.input_tokens is not None and self.input_tokens >= self.max_model_len


def error_message(body: bytes) -> str:
    """The human message of an OpenAI-style error body, or the body itself, shortened."""
    text = body.decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(value, dict):
        err = value.get("error", value)
        if isinstance(err, dict):
            err = err.get("message", err)
        if isinstance(value.get("message"), str):
            err = value["message"]
        return str(err)[:2000]
    return text.strip()[:500]


def context_overflow(message: str) -> ContextOverflow | None:
    """Recognise every known vLLM wording of the context-length error and read its numbers."""
    m = _MAX_LEN.search(message)
    if m is None or ("context length" not in message and "model length" not in message):
        return None
    limit = int(next(g for g in m.groups() if g))
    i = _INPUT.search(message)
    tokens = int(next(g for g in i.groups() if g)) if i else None
    return ContextOverflow(limit, tokens)
