"""What went wrong on a page that came out reaches the user: each problem is in the source's
report as ``"page N of T (page=i): ..."`` (named as errors name pages) and logged once at
INFO with the file's name, for a page read now or served from the cache; a request whose
share of the page is lost stays an error (``on_error``), never a problem as well."""

from __future__ import annotations

import logging

import pytest

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import FaultPlan, make_pdf, sample_page
from tests.fakevllm.scene import long_table_page

NAME = "f.pdf"
PAGES = [sample_page(0), sample_page(1)]
GROUNDING = "prompt_grounding_ocr"
FIRST, SECOND, ONLY = "page 1 of 2 (page=0)", "page 2 of 2 (page=1)", "page 1 of 1 (page=0)"


def run(fast, fake, plan, pages=PAGES, **options):
    fake.faults = plan
    loader = DotsOCRLoader(make_pdf(pages), name=NAME, **(fast | options))
    docs = loader.load()
    return loader.reports[NAME], docs


def told(caplog):
    """The package's INFO lines of the run (its problems)."""
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("langchain_dotsocr") and r.levelno == logging.INFO]


def of_page(problems, page):
    """The problems of ``page``, named as errors name it (``"page 2 of 2 (page=1)"``)."""
    return [p.removeprefix(page + ": ") for p in problems if p.startswith(page + ": ")]


@pytest.mark.parametrize(
    ("fault", "symptom"),
    [("truncate", "finish_reason='length'"), ("malformed_boxes", "unusable box")],
)
def test_a_page_that_went_wrong_is_reported_and_logged_once(fast, fake, caplog, fault, symptom):
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        report, docs = run(fast, fake, FaultPlan(by_page={1: [fault]}))
    assert {d.metadata["page"] for d in docs} == {0, 1} and not report.errors
    assert any(symptom in p for p in of_page(report.problems, SECOND))
    assert of_page(report.problems, FIRST) == []  # the clean page has none
    assert len(of_page(report.problems, SECOND)) == len(report.problems)
    # Each logged once, with the file and the page, as the report says it.
    lines = told(caplog)
    assert sorted(lines) == sorted(f"{NAME}, {p}" for p in report.problems)


def test_a_cached_page_reports_its_problems_again(fast, fake, tmp_path, caplog):
    plan = FaultPlan(by_page={0: ["truncate"], 1: ["malformed_boxes"]})
    first, _ = run(fast, fake, plan, cache_dir=tmp_path)
    assert first.pages_cached == 0
    one, two = of_page(first.problems, FIRST), of_page(first.problems, SECOND)
    assert one and two and len(one) + len(two) == len(first.problems)
    assert first.problems[: len(one)] == [f"{FIRST}: {p}" for p in one]  # in page order
    fake.reset()
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        again, _ = run(fast, fake, None, cache_dir=tmp_path)
    assert again.pages_cached == 2 and not fake.chat_requests  # read from the cache alone
    assert again.problems == first.problems
    assert sorted(told(caplog)) == sorted(f"{NAME}, {p}" for p in again.problems)


def test_clean_pages_report_no_problem(fast, fake, caplog):
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        report, _ = run(fast, fake, None)
    assert report.pages_done == 2 and report.problems == []
    assert told(caplog) == []


def test_a_lost_share_is_an_error_once_and_no_problem(fast, fake, caplog):
    # A band of a long table refused: its share of the page is lost, which on_error tells
    # (a warning under "skip"); the cut answer that sent the table to bands is a problem.
    pages = [long_table_page(120)]
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        report, _ = run(fast, fake, FaultPlan(by_mode={GROUNDING: ["http_400"]}), pages,
                        max_tokens=1024, on_error="skip")
    (error,) = report.errors
    assert "a band of a Table" in error and report.pages_incomplete == 1
    assert report.problems and not any("a band of a Table" in p for p in report.problems)
    assert len(of_page(report.problems, ONLY)) == len(report.problems)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned.count(error) == 1
    assert not any("a band of a Table" in line for line in told(caplog))


def test_a_failure_made_up_for_is_a_problem_not_an_error(fast, fake, caplog):
    # No box in the first answer, the second refused; the page read in parts is complete.
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        report, docs = run(fast, fake, FaultPlan(by_page={0: ["garbled", "http_400"]}),
                           PAGES[:1], on_error="mark")
    assert not report.errors and report.pages_incomplete == 0
    assert not [d for d in docs if d.metadata["category"] == "Error"]
    made_up = [p for p in of_page(report.problems, ONLY) if "HTTP 400" in p]
    assert len(made_up) == 1 and "made up for" in made_up[0]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
