"""Every known vLLM wording of the context-length 400, and its numbers."""

import json

import pytest

from langchain_dotsocr.server_errors import context_overflow, error_message

WORDINGS = [
    ("This model's maximum context length is 4096 tokens. However, you requested 21000 tokens "
     "(4900 in the messages, 16100 in the completion). Please reduce the length.", 4096, 4900),
    ("'max_tokens' or 'max_completion_tokens' is too large: 2000. This model's maximum context "
     "length is 1024 tokens and your request has 218 input tokens (2000 > 1024 - 218). "
     "(parameter=max_tokens, value=2000)", 1024, 218),
    ("This model's maximum context length is 8192 tokens. However, you requested 16384 output "
     "tokens and your prompt contains (at least) 5000 input tokens, for a total of at least "
     "21384 tokens. Please reduce.", 8192, 5000),
    ("The decoder prompt (length 5100) is longer than the maximum model length of 4096. Make "
     "sure that `max_model_len` is no smaller than the number of text tokens plus multimodal "
     "tokens.", 4096, 5100),
]


@pytest.mark.parametrize(("message", "limit", "used"), WORDINGS)
def test_each_wording_is_recognised(message, limit, used):
    overflow = context_overflow(message)
    assert overflow is not None
    assert (overflow.max_model_len, overflow.input_tokens) == (limit, used)
    assert overflow.input_alone_too_long == (used >= limit)


def test_other_400s_are_not_budget_errors():
    assert context_overflow("Invalid image URL") is None
    assert context_overflow("temperature must be non-negative") is None


def test_error_message_reads_vllm_and_openai_shapes():
    body = {"object": "error", "message": "bad thing", "type": "BadRequestError", "code": 400}
    assert error_message(json.dumps(body).encode()) == "bad thing"
    assert error_message(json.dumps({"error": {"message": "m2"}}).encode()) == "m2"
    assert error_message(b"plain text") == "plain text"
