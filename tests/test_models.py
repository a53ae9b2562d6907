"""The loader works unchanged with dots.mocr, the models' new names and any served name."""

import pytest

from langchain_dotsocr import DotsOCRLoader, ModelNotServedError
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box

NAMES = [
    "rednote-hilab/dots.mocr",
    "dots-studio/dots.ocr",
    "dots-studio/dots.mocr",
    "dotsocr-model",  # vllm serve ... --served-model-name dotsocr-model
    "/models/DotsOCR",  # served from a local path
]


def elements(docs):
    return [(d.metadata["category"], d.page_content, d.metadata["bbox"]) for d in docs]


@pytest.mark.parametrize("name", NAMES)
def test_any_served_model_is_found_and_used(fast, fake, pdf, name):
    reference = elements(DotsOCRLoader(pdf, **fast).load())
    fake.model_id, fake.root = name, f"/root/.cache/huggingface/{name}"
    fake.reset()
    docs = DotsOCRLoader(pdf, **fast).load()
    assert elements(docs) == reference
    assert {d.metadata["model"] for d in docs} == {name}
    assert {r.model for r in fake.chat_requests} == {name}
    pinned = DotsOCRLoader(pdf, model=name, **fast).load()
    assert elements(pinned) == reference


def test_a_pinned_model_the_server_does_not_serve_names_what_it_serves(fast, fake, pdf):
    fake.model_id = "rednote-hilab/dots.mocr"
    with pytest.raises(ModelNotServedError, match="rednote-hilab/dots.mocr"):
        DotsOCRLoader(pdf, model="rednote-hilab/dots.ocr", **fast).load()


def test_dots_mocr_longer_answers(fast, fake):
    """dots.mocr reads more of a page: long paragraphs and long tables come through whole."""
    fake.model_id = "rednote-hilab/dots.mocr"
    paragraph = " ".join(f"Sentence {i} of the long paragraph says something new." for i in range(160))
    rows = "".join(f"<tr><td>row {i}</td><td>{i * 1.5:.1f}</td></tr>" for i in range(200))
    table = f"<table><thead><tr><th>Item</th><th>Value</th></tr></thead><tbody>{rows}</tbody></table>"
    fake.texts = {("Text", 1): paragraph, ("Table", 1): table}
    spec = PageSpec(
        612,
        792,
        (
            Box("Text", 1, 72, 60, 540, 300),
            Box("Table", 1, 72, 320, 540, 700),
            page_footer_box(0, 612, 792),
        ),
    )
    docs = DotsOCRLoader(make_pdf([spec]), **fast).load()
    by_category = {d.metadata["category"]: d for d in docs}
    assert by_category["Text"].page_content == paragraph
    assert by_category["Table"].page_content == table
    assert by_category["Table"].metadata["text_as_html"] == table
    assert {d.metadata["extraction"] for d in docs} == {"layout"}
    assert len(paragraph) + len(table) > 10_000
