"""120 pages over two PDFs, about a quarter of the requests spoiled: nothing lost, nothing twice."""

from __future__ import annotations

from collections import defaultdict

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import FaultPlan, element_content, element_text, make_pdf, sample_page

RATES = {
    "http_429": 0.03, "http_503": 0.02, "http_500": 0.01, "drop_before": 0.02, "drop_mid": 0.02,
    "hang": 0.01, "loop_table": 0.03, "loop_cell_creep": 0.02, "loop_char": 0.01,
    "truncate": 0.02, "invalid_json": 0.02, "malformed_boxes": 0.01, "empty": 0.01,
    "ctx_wording_2": 0.01,
}
PAGES = 60


def page_kind(page_docs):
    """How a page was read, from its elements' own ``extraction`` (the way that did most)."""
    ways = {d.metadata.get("extraction", "failed") for d in page_docs}
    for kind in ("failed", "salvaged", "ocr", "tiled", "grounded", "retried"):
        if kind in ways:
            return "tiled" if kind == "grounded" else kind
    return "layout"


def test_mixed_faults_every_page_accounted(fast, fake, tmp_path):
    assert sum(RATES.values()) >= 0.2
    fake.faults = FaultPlan(rates=RATES, seed=7, retry_after=0, hang_seconds=3)
    specs = [sample_page(i) for i in range(PAGES)]
    paths = []
    for name in ("a.pdf", "b.pdf"):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(make_pdf(specs))
    loader = DotsOCRLoader(
        paths, dpi=100, on_error="mark", read_timeout=1.0, max_retries=6,
        **(fast | {"max_concurrency": 8}),
    )
    docs = loader.load()

    pages: dict[tuple[str, int], list] = defaultdict(list)
    for d in docs:
        pages[(d.metadata["source"], d.metadata["page"])].append(d)
    assert len(pages) == 2 * PAGES  # every page ends as Documents (or an Error Document)
    outcome = defaultdict(int)
    for (source, page), page_docs in pages.items():
        boxes = specs[page].boxes
        want = sorted((b.category, element_content(b, boxes)) for b in boxes)
        have = sorted((d.metadata["category"], d.page_content) for d in page_docs)
        kind = page_kind(page_docs)
        outcome[kind] += 1
        assert len(set(have)) == len(have), f"{source} page {page}: a duplicate"
        if kind in ("layout", "retried", "tiled"):
            assert have == want, f"{source} page {page} ({kind})"
        elif kind == "salvaged":
            assert set(have) < set(want)
        elif kind == "ocr":
            (text,) = [c for _, c in have]
            assert element_text("Text", 0) in text and element_text("Table", 0) in text
        else:
            assert have == [("Error", "")]
    print(dict(outcome))
    # About a fifth of the pages met a fault; most came through whole.
    assert outcome["layout"] > PAGES
    assert outcome["retried"] + outcome["tiled"] + outcome["ocr"] + outcome["salvaged"] > 0
    for path in paths:
        report = loader.reports[str(path)]
        assert report.pages_done + report.pages_failed == PAGES
        helped = sum(
            1 for (s, _), ds in pages.items()
            if s == str(path) and page_kind(ds) != "layout"
        )
        assert report.pages_salvaged == helped
        assert report.requests >= PAGES
    assert fake.max_concurrency <= 8
