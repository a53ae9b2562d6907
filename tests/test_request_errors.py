"""One failed request inside a page's reading (a part of a dense page, a band of a long table,
the grounding read of a picture) ends in that page's ``on_error`` policy: what was read of the
page comes out, the failure is marked, raised with the file and page, or logged, and the rest
of the document comes back. Retried faults (HTTP 500, a dropped connection) lose nothing."""

from __future__ import annotations

import logging

import pytest

from langchain_dotsocr import DotsOCRLoader, DotsOCRError
from langchain_dotsocr.sanitize import clean_table
from tests.fakevllm import FaultPlan, make_pdf, sample_page
from tests.fakevllm.scene import Box, PageSpec, dense_page, element_content, long_table_page
from tests.fakevllm.scene import page_footer_box, table_rows

GROUNDING = "prompt_grounding_ocr"
NAME = "report.pdf"


def truth(spec: PageSpec) -> list[tuple[str, str]]:
    """(category, page_content) of each element, by the scene's own rule."""
    out = []
    for b in spec.boxes:
        text = element_content(b, spec.boxes)
        out.append((b.category, clean_table(text) if b.category == "Table" else text))
    return out


def of_page(docs, page):
    return [(d.metadata["category"], d.page_content) for d in docs
            if d.metadata["page"] == page and d.metadata["category"] != "Error"]


def errors(docs):
    return [d for d in docs if d.metadata["category"] == "Error"]


def run(fast, pages, plan, fake, **options):
    fake.faults = plan
    loader = DotsOCRLoader(make_pdf(pages), name=NAME, **(fast | {"max_concurrency": 8} | options))
    return loader, loader.load()


# -- a band of a table too long for one answer ---------------------------------------------------

TABLE_PAGES = [long_table_page(120), sample_page(1)]


def test_a_band_refused_with_400_costs_that_band_and_is_marked(fast, fake):
    loader, docs = run(fast, TABLE_PAGES, FaultPlan(by_mode={GROUNDING: ["http_400"]}), fake,
                       max_tokens=1024, on_error="mark")
    want = truth(TABLE_PAGES[0])
    got = of_page(docs, 0)
    assert [c for c, _ in got] == [c for c, _ in want]  # every element of the page is there
    assert [g for g in got if g[0] != "Table"] == [w for w in want if w[0] != "Table"]
    rows = [r for r in table_rows(1, range(120)) if r in got[2][1]]
    assert 0 < len(rows) < 120  # the other bands' rows, in order, none twice
    assert "".join(rows) in got[2][1].replace("<tbody>", "").replace("</tbody>", "")
    assert of_page(docs, 1) == truth(TABLE_PAGES[1])  # the next page whole
    (error,) = errors(docs)
    assert error.metadata["page"] == 0 and "a band of a Table" in error.metadata["error"]
    report = loader.reports[NAME]
    assert report.pages_incomplete == 1 and report.pages_failed == 0
    assert f"{NAME}, page 1 of 2 (page=0)" in report.errors[0]


@pytest.mark.parametrize("fault", ["http_500", "drop_mid"])
def test_a_band_whose_request_is_retried_loses_nothing(fast, fake, fault):
    loader, docs = run(fast, TABLE_PAGES, FaultPlan(by_mode={GROUNDING: [fault]}), fake,
                       max_tokens=1024)
    assert of_page(docs, 0) == truth(TABLE_PAGES[0]) and of_page(docs, 1) == truth(TABLE_PAGES[1])
    assert not errors(docs) and loader.reports[NAME].pages_incomplete == 0


def test_a_band_refused_raises_the_packages_error_after_what_was_read(fast, fake):
    fake.faults = FaultPlan(by_mode={GROUNDING: ["http_400"]})
    loader = DotsOCRLoader(make_pdf(TABLE_PAGES), name=NAME, max_tokens=1024, **fast)
    out = []
    with pytest.raises(DotsOCRError, match=r"report\.pdf, page 1 of 2 \(page=0\): a band"):
        out.extend(loader.lazy_load())  # not an ExceptionGroup: the package's own error
    assert [c for c, _ in of_page(out, 0)] == [c for c, _ in truth(TABLE_PAGES[0])]


# -- a part of a dense page -------------------------------------------------------------------

DENSE = [dense_page(120, 2), sample_page(1)]
PART = {None: ["http_400"]}  # the first request without a page marker: a part, not a page


def test_a_part_refused_with_400_costs_that_part_and_is_marked(fast, fake):
    loader, docs = run(fast, DENSE, FaultPlan(by_page=PART), fake, max_tokens=2048,
                       on_error="mark")
    want, got = truth(DENSE[0]), of_page(docs, 0)
    assert 0 < len(want) - len(got) < len(want) / 4  # one part's elements, no more
    assert [g for g in got if g in want] == got  # nothing made up, nothing twice,
    assert [w for w in want if w in got] == got  # and in reading order
    (error,) = errors(docs)
    assert error.metadata["page"] == 0 and "a part of the page (box " in error.metadata["error"]
    assert error.id not in {d.id for d in docs if d is not error}  # an id of its own
    assert of_page(docs, 1) == truth(DENSE[1])
    assert loader.reports[NAME].pages_incomplete == 1


@pytest.mark.parametrize("fault", ["http_500", "drop_mid"])
def test_a_part_whose_request_is_retried_loses_nothing(fast, fake, fault):
    _, docs = run(fast, DENSE, FaultPlan(by_page={None: [fault]}), fake, max_tokens=2048)
    assert of_page(docs, 0) == truth(DENSE[0]) and not errors(docs)


def test_a_part_refused_is_logged_under_skip(fast, fake, caplog):
    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        _, docs = run(fast, DENSE, FaultPlan(by_page=PART), fake, max_tokens=2048,
                      on_error="skip")
    assert not errors(docs) and len(of_page(docs, 0)) < len(truth(DENSE[0]))
    assert any("a part of the page" in r.getMessage() for r in caplog.records)


def test_a_failed_page_is_not_cached_and_is_read_whole_next_time(fast, fake, tmp_path):
    run(fast, DENSE, FaultPlan(by_page=PART), fake, max_tokens=2048, on_error="mark",
        cache_dir=tmp_path)
    fake.reset()
    _, docs = run(fast, DENSE, None, fake, max_tokens=2048, cache_dir=tmp_path)
    assert of_page(docs, 0) == truth(DENSE[0]) and not errors(docs)


# -- the grounding read of a picture's words --------------------------------------------------

PICTURES = PageSpec(612, 792, (
    Box("Title", 1, 72, 40, 540, 70),
    Box("Picture", 1, 72, 90, 300, 250),
    page_footer_box(0, 612, 792),
))


def test_a_pictures_grounding_read_refused_is_marked(fast, fake):
    fake.texts = {("Picture", 1): "North hub"}
    # Both pages' picture reads are refused: which of the two reaches the server first is a
    # race between the pages, so a fault on the first one alone would hit either.
    plan = FaultPlan(by_mode={GROUNDING: ["http_400", "http_400"]})
    _, docs = run(fast, [PICTURES, sample_page(1)], plan, fake, ocr_pictures=True,
                  on_error="mark")
    picture = next(d for d in docs if d.metadata["category"] == "Picture")
    assert picture.metadata["picture_text"] == "" and picture.metadata["page"] == 0
    marked = {e.metadata["page"]: e.metadata["error"] for e in errors(docs)}
    assert "the text inside the Picture at box 72,90,300,250 pt" in marked[0]
    assert len(errors(docs)) == 2
    assert len(of_page(docs, 1)) == len(sample_page(1).boxes)  # the elements themselves stay


@pytest.mark.parametrize("fault", ["http_500", "drop_mid"])
def test_a_pictures_grounding_read_retried_loses_nothing(fast, fake, fault):
    fake.texts = {("Picture", 1): "North hub"}
    _, docs = run(fast, [PICTURES], FaultPlan(by_mode={GROUNDING: [fault]}), fake,
                  ocr_pictures=True)
    picture = next(d for d in docs if d.metadata["category"] == "Picture")
    assert picture.metadata["picture_text"] == "North hub" and not errors(docs)
