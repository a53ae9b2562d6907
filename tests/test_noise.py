"""The noisy double: as imperfect as the real model, deterministic per image and seed, and the
package still maps every cell of a noisy answer once."""

import random
import statistics
from dataclasses import replace

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.tables import teds
from tests.fakevllm import make_pdf, sample_page
from tests.fakevllm.answers import says
from tests.fakevllm.noise import Noise, table_error, typos
from tests.fakevllm.scene import dense_page, draw_page
from tests.fakevllm.scoring import Found, Truth, score
from tests.fakevllm.vision import detect


def _truth_elements():
    pages = [sample_page(i) for i in range(4)] + [dense_page(60, 2, page_n=5)]
    for spec in pages:
        image = draw_page(1530, 1980, spec.boxes, scale=2.5)
        yield image.size, detect(image)


def test_the_default_noise_lands_on_the_models_published_figures():
    total, tables = None, []
    for size, elements in _truth_elements():
        truth = [Truth(e.category, e.bbox, says(e) or "") for e in elements]
        for seed in range(20):
            noisy = Noise(seed=seed).apply(elements, "page", size)
            s = score(truth, [Found(e.category, e.bbox, says(e) or "") for e in noisy])
            total = s if total is None else total + s
            tables += [
                teds(truth[i].text, says(noisy[j]) or "")
                for i, j in s.pairs
                if truth[i].category == "Table"
            ]
    assert total is not None
    assert 0.89 <= total.f1_labelled <= 0.95  # dots.ocr: layout F1@0.5 near 0.92
    assert total.f1 > total.f1_labelled  # some boxes right, category confused
    assert 0.02 <= total.edit <= 0.06  # text edit distance 0.03-0.05
    assert 0.80 <= statistics.mean(tables) <= 0.95  # TEDS near 0.88


def test_one_image_one_answer_another_image_or_seed_another():
    (size, elements), *_ = _truth_elements()
    noise = Noise(seed=3)
    first = noise.apply(elements, "digest-a", size)
    assert noise.apply(elements, "digest-a", size) == first
    assert noise.apply(elements, "digest-b", size) != first
    assert Noise(seed=4).apply(elements, "digest-a", size) != first
    assert Noise(seed=3, jitter=0, scale=0, confuse=0, typo=0, split=0, merge=0, drop=0,
                 swap=0, table_error=0).apply(elements, "digest-a", size) == [
        e if says(e) is None or e.rows else replace(e, text=says(e))
        for e in elements
    ]


def test_typos_leave_markup_alone_and_tables_keep_their_tags():
    rng = random.Random(0)
    text = typos("## Section 12 with words", 1.0, rng)
    assert text.startswith("## ") and text != "## Section 12 with words"
    html = "<table><tr><td>alpha</td><td>beta</td></tr></table>"
    broken = table_error(html, random.Random(1))
    assert broken != html and broken.startswith("<table><tr>") and broken.endswith("</table>")
    assert broken.count("<td") == 1


def test_the_scorer_counts_once_twice_lost_and_spurious():
    truth = [Truth("Text", (0, 0, 100, 20), "a"), Truth("Table", (0, 40, 100, 90), "b"),
             Truth("Text", (0, 100, 100, 120), "c")]
    found = [
        Found("List-item", (1, 1, 101, 21), "a"),  # category wrong: still found
        Found("Table", (0, 40, 100, 90), "b"),
        Found("Text", (0, 41, 100, 89), "b"),  # the table again, as Text: a duplicate
        Found("Text", (300, 300, 400, 320), "x"),  # nothing there
    ]
    s = score(truth, found)
    assert (s.once, s.twice, s.duplicates, s.lost, s.spurious) == (1, 1, 1, 1, 1)
    assert s.same_category == 1 and len(s.pairs) == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_cell_of_a_noisy_answer_comes_back_once(fast, fake, tmp_path, seed):
    path = tmp_path / "noisy.pdf"
    path.write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    fake.noise = Noise(seed=seed)
    docs = DotsOCRLoader(path, **fast).load()
    answers = {r.page: r.elements for r in fake.chat_requests if r.prompt_mode}
    for page, elements in answers.items():  # the pages race: which reaches the server first varies
        got = sorted(d.metadata["category"] for d in docs if d.metadata["page"] == page)
        assert got == sorted(e.category for e in elements)
    again = DotsOCRLoader(path, **fast).load()
    assert [d.page_content for d in again] == [d.page_content for d in docs]



def test_an_ocr_answer_gets_text_errors_only(fast, fake, tmp_path):
    path = tmp_path / "noisy.pdf"
    path.write_bytes(make_pdf([sample_page(0)]))

    def read():
        before = len(fake.chat_requests)
        DotsOCRLoader(path, prompt_mode="ocr", mode="page", **fast).load()
        (request,) = [r for r in fake.chat_requests[before:] if r.prompt_mode]
        return request.elements

    exact = read()
    fake.noise = Noise(seed=1, typo=0.3, drop=0.5, split=0.5, confuse=0.5)
    noisy = read()
    # The same cells, none dropped, split or re-categorised, no box moved; their words misread.
    assert [(e.category, e.bbox) for e in noisy] == [(e.category, e.bbox) for e in exact]
    assert [e.text for e in noisy] != [says(e) for e in exact]
