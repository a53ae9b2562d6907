"""Pictures described by a vision chat model or a callable, and the text inside pictures read
with the grounding prompt: concurrently, bounded, cached, and never at the cost of a page."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from langchain_dotsocr import DESCRIBE_PROMPT, Crop, DotsOCRError, DotsOCRLoader, DotsOCRSettings
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box, sample_page
from tests.fakevllm.figures import FakeVisionModel, figures_page


def pictures(docs):
    return [d for d in docs if d.metadata["category"] == "Picture"]


def test_a_chat_model_describes_each_picture_it_is_shown(fast, fake):
    spec, fake.texts = figures_page()
    model = FakeVisionModel()
    docs = DotsOCRLoader(make_pdf([spec]), describe_pictures=model, **fast).load()
    left, right = sorted(pictures(docs), key=lambda d: d.metadata["bbox"][0])
    # The model saw each crop: the picture itself, at 200 dpi with its margin.
    assert "showing Picture 1." in left.metadata["picture_description"]
    assert "showing Picture 2." in right.metadata["picture_description"]
    assert left.metadata["picture_description"].startswith("A picture of 640x")
    # Found by text: the caption, then the description.
    assert left.page_content == (
        "Figure 1: Revenue by region, 2021 to 2024.\n\n" + left.metadata["picture_description"]
    )
    # Each was asked with the prompt and its caption; nothing but pictures was described.
    assert sorted(model.prompts) == sorted(
        f"{DESCRIBE_PROMPT}\nIts caption in the document: {c}"
        for c in ("Figure 1: Revenue by region, 2021 to 2024.", "Figure 2: The warehouse network.")
    )
    assert all(not d.metadata["picture_description"] for d in docs if d not in (left, right))
    assert all(not d.metadata["image_base64"] for d in docs)  # images= was not asked


def test_a_plain_async_callable_describes_too_and_runs_within_the_limit(fast):
    running, most, seen = 0, 0, []

    async def describe(crop: Crop) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:  # wait for more company than the limit allows: it never comes
            async with asyncio.timeout(1.5):
                while running < 3:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        finally:
            running -= 1
        seen.append((crop.source, crop.page, crop.element_index, crop.category, crop.caption))
        return f"<b>Chart</b> <script>alert(1)</script>of {crop.width}x{crop.height} px"

    pages = [  # six pages, each with another picture and its caption
        PageSpec(612, 792, (Box("Picture", n, 72, 90, 300, 250), Box("Caption", n, 72, 256, 300, 270),
                            page_footer_box(n, 612, 792)))
        for n in range(6)
    ]
    docs = DotsOCRLoader(make_pdf(pages), name="six.pdf", describe_pictures=describe,
                         **(fast | {"max_concurrency": 2})).load()
    assert sorted(seen) == [("six.pdf", n, 0, "Picture", f"Figure {n}: caption.") for n in range(6)]
    assert most == 2  # concurrently, within max_concurrency
    text = pictures(docs)[0].metadata["picture_description"]
    assert text.startswith("Chart of ") and "<" not in text  # the describer's text made safe


def test_a_failing_describer_costs_the_description_not_the_page(fast, fake, caplog):
    spec, fake.texts = figures_page()
    model = FakeVisionModel(fail=True)
    pdf = make_pdf([spec])
    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        docs = DotsOCRLoader(pdf, name="fig.pdf", describe_pictures=model, on_error="skip",
                             **fast).load()
    plain = DotsOCRLoader(pdf, name="fig.pdf", **fast).load()
    assert [d.page_content for d in docs] == [d.page_content for d in plain]
    assert all(d.metadata["picture_description"] == "" for d in docs)
    assert caplog.text.count("was not made") == 2
    assert "fig.pdf, page 1 of 1 (page=0): the description of the Picture at box " in caplog.text
    assert "RuntimeError: 401 invalid key" in caplog.text
    assert model.api_key.get_secret_value() not in caplog.text  # the model's secret: masked
    # A lost description is a share of its page: marked, or raised after what was read.
    marked = DotsOCRLoader(pdf, name="fig.pdf", describe_pictures=model, on_error="mark",
                           **fast).load()
    errors = [d for d in marked if d.metadata["category"] == "Error"]
    assert [d.page_content for d in marked[:len(plain)]] == [d.page_content for d in plain]
    assert len(errors) == 2 and len(marked) == len(plain) + 2
    assert all(model.api_key.get_secret_value() not in d.metadata["error"] for d in errors)
    read = []
    with pytest.raises(DotsOCRError, match="the description of the Picture at box"):
        for doc in DotsOCRLoader(pdf, name="fig.pdf", describe_pictures=model, **fast).lazy_load():
            read.append(doc)
    assert [d.page_content for d in read] == [d.page_content for d in plain]


def test_secrets_in_a_models_headers_stay_out_of_the_log(fast, fake, caplog):
    spec, fake.texts = figures_page()
    headers = {"Authorization": "Bearer sk-header-secret-42", "X-Team": "docs"}
    model = FakeVisionModel(fail=True, default_headers=headers)
    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        DotsOCRLoader(make_pdf([spec]), describe_pictures=model, on_error="skip", **fast).load()
    assert caplog.text.count("was not made") == 2
    assert "sk-header-secret-42" not in caplog.text
    assert "X-Team" in caplog.text and "docs" in caplog.text  # what is no secret is kept


def test_a_plain_function_runs_in_a_thread_of_its_own(fast, fake, caplog):
    spec, fake.texts = figures_page()
    both = threading.Barrier(2, timeout=20)

    def describe(crop: Crop) -> str:  # blocks until the other picture's call has begun too
        both.wait()
        return f"picture {crop.element_index}"

    docs = DotsOCRLoader(make_pdf([spec]), describe_pictures=describe, **fast).load()
    # On the event loop the first call would block the second: the barrier would break.
    described = [d.metadata["picture_description"] for d in pictures(docs)]
    assert len(described) == 2
    assert described == [f"picture {d.metadata['element_index']}" for d in pictures(docs)]

    hang = threading.Event()

    def stuck(crop: Crop) -> str:
        hang.wait(60)
        return "never"

    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        docs = DotsOCRLoader(make_pdf([sample_page(0)]), describe_pictures=stuck,
                             page_timeout=1, on_error="skip", **fast).load()
    hang.set()
    # Cut at the time-out, and the run ends without waiting for the stuck call.
    assert pictures(docs)[0].page_content == "Figure 0: caption."
    assert "no description within page_timeout=1s" in caplog.text


def test_a_slow_describer_is_cut_at_page_timeout(fast, caplog):
    async def slow(crop: Crop) -> str:
        await asyncio.sleep(30)
        return "never"

    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        docs = DotsOCRLoader(make_pdf([sample_page(0)]), describe_pictures=slow,
                             page_timeout=1, on_error="skip", **fast).load()
    assert pictures(docs)[0].page_content == "Figure 0: caption."
    assert "no description within page_timeout=1s" in caplog.text


def test_descriptions_come_from_the_cache_on_a_rerun(fast, fake, tmp_path):
    calls = []

    async def describe(crop: Crop) -> str:
        calls.append(crop.page)
        return f"a picture {crop.height} px tall"

    pages = [
        PageSpec(612, 792, (Box("Picture", n, 72, 90, 300, 250 + 10 * n),
                            page_footer_box(i, 612, 792)))
        for i, n in enumerate((1, 2, 1))  # the third page shows the first page's picture again
    ]
    pdf = make_pdf(pages)
    options = {"describe_pictures": describe, "cache_dir": tmp_path, **fast}
    first = DotsOCRLoader(pdf, **options).load()
    # Keyed by the crop's pixels: the picture shown again (a logo on every page) costs nothing.
    assert len(calls) == 2 and 1 in calls
    texts = [d.page_content for d in pictures(first)]
    assert texts[0] == texts[2] != texts[1] and texts[0].startswith("a picture ")
    second = DotsOCRLoader(pdf, **options).load()
    assert len(calls) == 2  # a re-run pays for none again
    assert [d.page_content for d in second] == [d.page_content for d in first]

    async def other(crop: Crop) -> str:  # another describer: described again
        return "another"

    third = DotsOCRLoader(pdf, **(options | {"describe_pictures": other})).load()
    assert pictures(third)[0].metadata["picture_description"] == "another"


def test_pictures_cut_only_to_be_described_are_not_handed_out(fast, fake, tmp_path):
    spec, fake.texts = figures_page()

    async def describe(crop: Crop) -> str:
        return f"{crop.category} of {crop.width} px"

    docs = DotsOCRLoader(make_pdf([spec]), describe_pictures=describe, images=tmp_path,
                         image_categories=["Table"], **fast).load()
    assert all(d.metadata["picture_description"] for d in pictures(docs))
    assert all(not d.metadata["image_path"] for d in pictures(docs))  # Table asked, not Picture
    (table,) = [d for d in docs if d.metadata["category"] == "Table"]
    assert [p.name for p in tmp_path.iterdir()] == [table.metadata["image_path"].split("/")[-1]]


def test_the_describer_stays_out_of_repr_dumps_and_ids(fast):
    model = FakeVisionModel()
    settings = DotsOCRSettings(describe_pictures=model)
    secret = model.api_key.get_secret_value()
    assert "describe" not in repr(settings) and secret not in repr(settings)
    assert "describe_pictures" not in settings.model_dump()
    pdf = make_pdf([sample_page(0)])
    described = DotsOCRLoader(pdf, describe_pictures=model, **fast).load()
    plain = DotsOCRLoader(pdf, **fast).load()
    assert [d.id for d in described] == [d.id for d in plain]


def picture_page():
    return PageSpec(612, 792, (
        Box("Title", 1, 72, 40, 540, 70),
        Box("Picture", 1, 72, 90, 300, 250),
        Box("Picture", 2, 320, 90, 540, 250),
        page_footer_box(0, 612, 792),
    ))


def test_the_text_inside_a_picture_is_read_with_the_grounding_prompt(fast, fake, tmp_path):
    fake.texts = {("Picture", 1): "North hub\nSouth hub"}
    pdf = make_pdf([picture_page()])
    docs = DotsOCRLoader(pdf, ocr_pictures=True, cache_dir=tmp_path, **fast).load()
    with_text, empty = sorted(pictures(docs), key=lambda d: d.metadata["bbox"][0])
    assert with_text.metadata["picture_text"] == "North hub\nSouth hub"
    assert with_text.page_content == "North hub\nSouth hub"  # found by the words inside it
    assert empty.metadata["picture_text"] == "" and empty.page_content == "[Picture]"
    modes = [r.prompt_mode for r in fake.chat_requests]
    assert modes == ["prompt_layout_all_en"] + ["prompt_grounding_ocr"] * 2
    # The layout answer never carried the words (the model does not transcribe pictures) ...
    plain = DotsOCRLoader(pdf, **fast).load()
    assert all(d.page_content == "[Picture]" for d in pictures(plain))
    # ... the picture's box was asked on the page image as sent, prefilled once.
    grounding = fake.chat_requests[1:3]
    assert all(r.image_digest == fake.chat_requests[0].image_digest for r in grounding)
    assert all(r.cached_tokens > 0 for r in grounding)
    # The text is part of the answer: new ids, and kept in the page cache.
    assert [d.id for d in docs] != [d.id for d in plain]
    sent = len(fake.chat_requests)
    again = DotsOCRLoader(pdf, ocr_pictures=True, cache_dir=tmp_path, **fast).load()
    assert len(fake.chat_requests) == sent and again[1].metadata["picture_text"] == "North hub\nSouth hub"


def test_a_failed_grounding_read_costs_only_the_picture_text(fast, fake):
    from tests.fakevllm import FaultPlan

    fake.texts = {("Picture", 1): "Words"}
    # The page's first request reads the layout; then both pictures' reads fail for good.
    fake.faults = FaultPlan(by_page={0: ["ok"] + ["http_500"] * 20})
    docs = DotsOCRLoader(make_pdf([picture_page()]), ocr_pictures=True, max_retries=2,
                         on_error="mark", **fast).load()
    categories = [d.metadata["category"] for d in docs]
    assert categories == ["Title", "Picture", "Picture", "Page-footer", "Error", "Error"]
    assert all(d.metadata["picture_text"] == "" for d in pictures(docs))
    # Each failed read is marked with the picture it was for (the page policy's, see
    # tests/test_request_errors.py).
    assert all("the text inside the Picture at box" in d.metadata["error"] for d in docs[4:])


@pytest.mark.parametrize("mode", ["page", "single"])
def test_page_markdown_carries_description_and_picture_text(fast, fake, mode):
    fake.texts = {("Picture", 1): "North hub"}

    async def describe(crop: Crop) -> str:
        return f"A map {crop.element_index}."

    (doc,) = DotsOCRLoader(make_pdf([picture_page()]), mode=mode, ocr_pictures=True,
                           describe_pictures=describe, images="base64", **fast).load()
    assert "](data:image/png;base64," in doc.page_content
    assert "A map 1.\n\nNorth hub" in doc.page_content and "A map 2." in doc.page_content
