"""Whole loader runs replayed offline from cassettes/ (recorded against the vLLM double)."""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRLoader
from tests.cassette_config import CASSETTES, HOST, RECORDING, recorder
from tests.fakevllm import Box, FakeVLLM, FaultPlan, element_text, make_image, make_pdf, sample_page, serve

SECRET = "sk-cassette-secret-0123456789"


def run(name: str, source, fake: FakeVLLM, **options):
    path = CASSETTES / f"{name}.yaml"
    if not RECORDING and not path.exists():
        pytest.fail(f"cassette {path} is missing: record it with DOTSOCR_RECORD=1")
    v = recorder()
    if RECORDING:
        path.unlink(missing_ok=True)  # vcrpy's "all" mode appends to an existing file
        with serve(fake) as url, v.use_cassette(path.name):
            return DotsOCRLoader(source, base_url=url, api_key=SECRET, retry_backoff=0.01,
                                 **options).load()
    with v.use_cassette(path.name, allow_playback_repeats=False) as cassette:
        docs = DotsOCRLoader(source, base_url=HOST + "/v1", api_key=SECRET,
                             retry_backoff=0.01, **options).load()
        assert cassette.all_played, "the run sent fewer requests than were recorded"
        return docs


def test_pdf_element_run_replays():
    specs = [sample_page(0), sample_page(1, rotate=90)]
    docs = run("fake-vllm-0.11-pdf-element", make_pdf(specs), FakeVLLM(api_key=SECRET),
               max_concurrency=2)
    assert [d.metadata["page"] for d in docs] == sorted(d.metadata["page"] for d in docs)
    titles = [d for d in docs if d.metadata["category"] == "Title"]
    assert [d.page_content for d in titles] == [element_text("Title", 0)] * 2
    assert titles[1].metadata["page_width"] == 792  # the rotated page, as displayed
    assert len(docs) == sum(len(s.boxes) for s in specs)


def test_image_page_run_with_faults_replays():
    boxes = [Box("Title", 1, 20, 20, 600, 80), Box("Text", 2, 20, 100, 600, 300),
             Box("Page-footer", 0, 200, 760, 400, 790)]
    fake = FakeVLLM(api_key=SECRET, faults=FaultPlan(by_page={0: ["http_429", "loop_table"]},
                                                    retry_after=0))
    docs = run("fake-vllm-0.11-image-page-faults", make_image(640, 800, boxes), fake,
               mode="page", max_tokens=2048)
    (page,) = docs
    assert page.page_content == "# Title 1\n\nText block 2."
    assert page.metadata["extraction"] == "retried"


def test_cassettes_hold_no_secret_and_no_image():
    files = sorted(CASSETTES.glob("*.yaml"))
    assert files, "no cassettes"
    for path in files:
        text = path.read_text()
        assert SECRET not in text and "Bearer" not in text
        assert "base64," not in text
        assert "image:" in text


def test_a_request_not_in_the_cassette_fails_instead_of_reaching_a_server():
    from vcr.errors import CannotOverwriteExistingCassetteException

    if RECORDING:
        pytest.skip("only meaningful on replay")
    v = recorder()
    with v.use_cassette("fake-vllm-0.11-pdf-element.yaml"), pytest.raises(
        CannotOverwriteExistingCassetteException
    ):
        # dpi=100 sends a smaller image than was recorded.
        DotsOCRLoader(make_pdf([sample_page(0)]), base_url=HOST + "/v1", dpi=100).load()
