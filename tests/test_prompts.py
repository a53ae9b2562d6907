"""The prompts sent are the model's own, byte for byte."""

import json
from pathlib import Path

from langchain_dotsocr.prompts import IMAGE_PLACEHOLDER, chat_body, prompt_text

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "langchain_dotsocr" / "prompts.json"
REFERENCE = ROOT.parent / "shared" / "reference" / "dotsocr-prompts.json"


def test_package_prompts_are_the_reference_bytes():
    copies = [ROOT / "tests" / "fakevllm" / "prompts.json"]
    if REFERENCE.exists():  # beside the checkout, as in CI
        copies.append(REFERENCE)
    for copy in copies:
        assert json.loads(PACKAGE.read_bytes()) == json.loads(copy.read_bytes()), copy


def test_request_text_is_placeholder_then_prompt():
    prompts = json.loads(PACKAGE.read_text("utf-8"))
    assert prompt_text("layout_all") == IMAGE_PLACEHOLDER + prompts["prompt_layout_all_en"]
    assert prompt_text("grounding", (163, 239, 1543, 701)) == (
        IMAGE_PLACEHOLDER + prompts["prompt_grounding_ocr"] + "[163, 239, 1543, 701]"
    )
    body = chat_body(model="m", image_url="data:image/png;base64,AA", text="t", max_tokens=5,
                     temperature=0.1, top_p=1.0)
    (message,) = body["messages"]
    assert message["role"] == "user"
    assert [part["type"] for part in message["content"]] == ["image_url", "text"]
    assert body["max_tokens"] == body["max_completion_tokens"] == 5
