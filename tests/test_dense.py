"""Dense pages through the double: a page whose answer does not fit one request comes back whole.

Every element once, with its text, its box within 1 pt (1 px for images), in reading order;
parts never cut through an element; an overflow never pays for a temperature re-ask.
"""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.sanitize import clean_table
from tests.fakevllm import Box, PageSpec, make_image, make_pdf, render_page
from tests.fakevllm.answers import answer_tokens, layout_answer
from tests.fakevllm.scene import dense_ids, dense_page, element_text, long_table_page, stacked
from tests.fakevllm.vision import detect

MAX_RATIO = 200


def want(boxes):
    """(category, text) of each element, in the order the scene lists them (reading order)."""
    out = []
    for b in boxes:
        text = element_text(b.category, b.n, b.rows)
        out.append((b.category, "[Picture]" if text is None else text))
    return out


def have(docs):
    return [(d.metadata["category"], d.page_content) for d in docs]


def assert_boxes(docs, boxes, tolerance=1.0):
    assert len(docs) == len(boxes)
    for doc, box in zip(docs, boxes, strict=True):
        got = doc.metadata["bbox"]
        assert all(
            abs(a - b) <= tolerance for a, b in zip(got, (box.x0, box.y0, box.x1, box.y1))
        ), (doc.page_content[:30], got, box)


def load(fast, data, name, **options):
    loader = DotsOCRLoader(data, name=name, **(fast | {"max_concurrency": 8} | options))
    return loader, loader.load()


def assert_sendable(fake):
    for r in fake.chat_requests:
        w, h = r.image_size
        assert r.status == 200 and max(w, h) / min(w, h) <= MAX_RATIO and not r.image_resized


@pytest.mark.parametrize(
    ("columns", "blocks", "size"),
    [(1, 60, (612.0, 792.0)), (2, 120, (612.0, 792.0)), (3, 200, (792.0, 1224.0))],
    ids=["one-column", "two-columns", "three-columns"],
)
def test_a_dense_page_comes_back_whole_in_reading_order(fast, fake, columns, blocks, size):
    spec = dense_page(blocks, columns, *size)
    loader, docs = load(fast, make_pdf([spec]), "dense.pdf", max_tokens=2048)
    assert have(docs) == want(spec.boxes)  # each element once, in column order
    assert_boxes(docs, spec.boxes)
    assert_sendable(fake)
    report = loader.reports["dense.pdf"]
    assert report.pages_tiled == 1 and report.extractions.get("tiled", 0) > blocks / 2
    # An overflow is not looping: no request was sent again at a higher temperature.
    assert all(r.temperature == 0.1 for r in fake.chat_requests)


def test_an_overflow_is_foreseen_and_cut_before_the_budget_is_spent(fast, fake):
    from tests.fakevllm import LatencyModel

    fake.latency = LatencyModel(slots=16, prefill_tokens_per_s=1e6, decode_tokens_per_s=4000)
    spec = dense_page(200, 2)
    _, docs = load(fast, make_pdf([spec]), "dense.pdf", max_tokens=4096)
    assert have(docs) == want(spec.boxes)
    first = fake.chat_requests[0]
    assert first.budget == 4096 and first.disconnected
    # Cut once the cells so far showed the answer would not fit: well before the budget.
    assert answer_tokens(first.sent_chars) < 0.5 * 4096


def test_the_cut_answer_is_built_on_and_costs_stay_bounded(fast, fake):
    spec = dense_page(120, 2)
    loader, docs = load(fast, make_pdf([spec]), "dense.pdf", max_tokens=2048)
    assert have(docs) == want(spec.boxes)
    ways = [d.metadata["extraction"] for d in docs]
    kept = ways.count("layout")
    assert kept > 0 and ways[:kept] == ["layout"] * kept  # the first answer's cells, kept
    # Output tokens of the whole page's answer, as the double would write it in one piece.
    image = render_page(make_pdf([spec]), 0, 200)
    whole = answer_tokens(len(layout_answer(detect(image))))
    parts = [r for r in fake.chat_requests[1:] if r.status == 200]
    assert sum(r.completion_tokens for r in parts) <= 1.5 * whole


def test_a_page_read_in_parts_twice_gives_the_same_documents(fast, fake):
    spec = dense_page(120, 2)
    data = make_pdf([spec])
    _, first = load(fast, data, "dense.pdf", max_tokens=2048)
    fake.reset()
    _, second = load(fast, data, "dense.pdf", max_tokens=2048)
    assert [(d.page_content, d.metadata["bbox"]) for d in first] == [
        (d.page_content, d.metadata["bbox"]) for d in second
    ]


def test_layout_only_overflowing_too_is_read_in_parts(fast, fake):
    spec = dense_page(160, 2)
    _, docs = load(fast, make_pdf([spec]), "dense.pdf", prompt_mode="layout_only", max_tokens=1024)
    assert [d.metadata["category"] for d in docs] == [b.category for b in spec.boxes]
    assert all(d.page_content == "" for d in docs if d.metadata["category"] != "Picture")
    assert_boxes(docs, spec.boxes)
    assert {r.prompt_mode for r in fake.chat_requests} == {"prompt_layout_only_en"}


def test_a_table_whose_html_outgrows_the_budget_is_read_in_bands(fast, fake):
    spec = long_table_page(120)
    loader, docs = load(fast, make_pdf([spec]), "table.pdf", max_tokens=1024)
    expected = [(c, clean_table(t) if c == "Table" else t) for c, t in want(spec.boxes)]
    assert have(docs) == expected  # the table whole: header once, every row once, in order
    table = next(d for d in docs if d.metadata["category"] == "Table")
    assert table.metadata["extraction"] == "grounded"
    assert table.page_content.count("<tr>") == 120
    assert_boxes(docs, spec.boxes)
    bands = [r for r in fake.chat_requests if r.prompt_mode == "prompt_grounding_ocr"]
    assert len(bands) > 1 and len({r.image_digest for r in bands}) == 1  # one image of it
    # The server's prefix cache holds that image: a band prefills only its own box, unless it
    # arrived together with the first ones (they run at once).
    hits = [r for r in bands if r.cached_tokens > 0.9 * r.prompt_tokens]
    assert len(hits) >= len(bands) / 2


def test_a_strip_beyond_200_to_1_is_read_in_parts(fast, fake):
    ids = dense_ids(60)
    boxes = stacked(ids, 4, 20, 32, 14380)
    spec = PageSpec(36, 14400, tuple(boxes))  # 1:400
    loader, docs = load(fast, make_pdf([spec], kind="vector"), "strip.pdf")
    assert have(docs) == want(boxes)
    assert_boxes(docs, boxes)
    assert_sendable(fake)
    assert loader.reports["strip.pdf"].pages_tiled == 1


def test_a_30000_px_tall_image_is_read_at_full_resolution(fast, fake):
    boxes = stacked(dense_ids(120), 40, 100, 960, 29900)
    _, docs = load(fast, make_image(1000, 30000, boxes), "receipt.png")
    assert have(docs) == want(boxes)
    assert_boxes(docs, boxes)  # pixels of the original image, not of a shrunk one
    assert_sendable(fake)
    # Each part at full resolution: its image is as wide as the receipt's text (no downscale).
    assert all(r.image_size[0] >= 924 for r in fake.chat_requests)


def test_a_prose_page_uses_a_skeleton_for_its_order(fast, fake):
    # Few elements with long text: the layout_only skeleton costs less than one part.
    spec = dense_page(30, 2)
    _, docs = load(fast, make_pdf([spec]), "prose.pdf", max_tokens=1024)
    assert have(docs) == want(spec.boxes)
    modes = [r.prompt_mode for r in fake.chat_requests]
    assert modes.count("prompt_layout_only_en") == 1


def test_an_ordinary_page_still_costs_one_request(fast, fake):
    spec = dense_page(20, 2)
    _, docs = load(fast, make_pdf([spec]), "light.pdf")
    assert have(docs) == want(spec.boxes)
    assert len(fake.chat_requests) == 1


def test_a_dense_page_among_others_under_one_slot(fast, fake):
    # One slot for the whole run: the dense page's parts wait their turn with the others', and
    # the run neither starves nor deadlocks.
    pages = [dense_page(6, 1, page_n=0), dense_page(120, 2, page_n=1), dense_page(6, 1, page_n=2)]
    _, docs = load(fast, make_pdf(pages), "mixed.pdf", max_tokens=2048, max_concurrency=1)
    assert have(docs) == [w for p in pages for w in want(p.boxes)]
    assert fake.max_concurrency == 1


def test_image_pages_keep_pixels_as_their_unit(fast, fake):
    boxes = [Box("Title", 0, 40, 30, 960, 70), *stacked(dense_ids(70), 40, 100, 960, 1380)]
    _, docs = load(fast, make_image(1000, 1400, boxes), "scan.png", max_tokens=2048)
    assert have(docs) == want(boxes)
    assert_boxes(docs, boxes)
    assert {d.metadata["coordinate_unit"] for d in docs} == {"px"}


def test_ocr_mode_reads_a_dense_page_in_parts_in_reading_order(fast, fake):
    spec = dense_page(120, 2)
    _, docs = load(fast, make_pdf([spec]), "dense.pdf", prompt_mode="ocr", max_tokens=1024)
    (doc,) = docs
    assert doc.metadata["extraction"] == "tiled"
    texts = [element_text(b.category, b.n) for b in spec.boxes if b.category != "Page-footer"]
    where = [doc.page_content.find(t) for t in texts]
    assert -1 not in where and where == sorted(where)  # every block once, columns in order
    assert all(doc.page_content.count(t) == 1 for t in texts)
