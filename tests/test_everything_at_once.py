"""The features that landed one by one, in one run: two servers (one killed mid-run and brought
back), a dense page read in parts, a table across a page break, captioned pictures cropped to
files, described and read for words, ids, heading paths, page labels and the page cache.
Nothing may be lost or done twice between them."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from PIL import Image

from langchain_dotsocr import Crop, DotsOCRLoader
from tests.fakevllm import (
    FakeVLLM,
    LatencyModel,
    PageSpec,
    element_content,
    element_text,
    expected_boxes_displayed,
    make_pdf,
    page_footer_box,
    sample_page,
    serve,
)
from tests.fakevllm.figures import split_table
from tests.fakevllm.scene import dense_page

DENSE, TABLE = 2, 3  # the dense page; the table runs from page 3 onto page 4
PAGES = 8


def as_page(spec: PageSpec, n: int) -> PageSpec:
    """``spec`` marked as page ``n`` (its running header and page marker renumbered)."""
    boxes = tuple(
        page_footer_box(n, spec.width, spec.height)
        if b.category == "Page-footer"
        else replace(b, n=n) if b.category == "Page-header" else b
        for b in spec.boxes
    )
    return replace(spec, boxes=boxes)


def book() -> tuple[list[PageSpec], dict]:
    split, texts = split_table(columns=3, rows=(6, 4))
    specs = [sample_page(0), sample_page(1), dense_page(120, 2, page_n=DENSE)]
    specs += [as_page(split[0], TABLE), as_page(split[1], TABLE + 1)]
    specs += [sample_page(n) for n in range(TABLE + 2, PAGES)]
    return specs, texts


def expected(specs: list[PageSpec], pictures: dict[int, str]) -> list[tuple]:
    """(page, category, page_content) of every element the run must give, from the scenes."""
    out = []
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        for b in boxes:
            if page == TABLE + 1 and b.category == "Table":
                continue  # joined into page 3's table
            if b.category == "Table" and page == TABLE:
                out.append((page, "Table", "joined"))
            elif b.category == "Picture":
                out.append((page, "Picture", element_content(b, boxes) + "\n\n" + pictures[page]))
            else:
                out.append((page, b.category, element_content(b, boxes)))
    return sorted(out)


def seen(docs) -> list[tuple]:
    out = []
    for d in docs:
        m = d.metadata
        joined = m["category"] == "Table" and m["pages"] == [TABLE, TABLE + 1]
        out.append((m["page"], m["category"], "joined" if joined else d.page_content))
    return sorted(out)


def test_two_servers_one_killed_dense_tables_pictures_and_the_cache(tmp_path):
    specs, texts = book()
    pdf = make_pdf(specs)
    slow = LatencyModel(slots=4, decode_tokens_per_s=1500)
    a, b = FakeVLLM(latency=slow), FakeVLLM(latency=slow)
    for fake in (a, b):
        fake.texts = texts
    described = Counter()

    async def counted(crop: Crop) -> str:
        described[crop.page] += 1
        return f"A chart, {crop.width} px wide."

    options = {
        "name": "book.pdf",
        "images": tmp_path / "images",
        "describe_pictures": counted,
        "ocr_pictures": True,
        "cache_dir": tmp_path / "cache",
        "max_tokens": 2048,  # the dense page overflows it: read in parts
        "retry_backoff": 0.01,
    }
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(serve(f)) for f in (a, b)]

        def kill_then_restart() -> None:
            while len(a.chat_requests) < 6:
                time.sleep(0.01)
            a.kill()
            time.sleep(1.0)
            a.restart()

        killer = threading.Thread(target=kill_then_restart)
        killer.start()
        loader = DotsOCRLoader(pdf, base_url=urls, **options)
        docs = loader.load()
        killer.join()
        dropped = [r for r in a.chat_requests if r.disconnected or r.status is None]

        # Every element of every page once, nothing lost on the killed server, nothing twice.
        # (The sample pages show one picture, described once: the describer saw the crop that
        # was written; crops' sizes are checked against the rendered page elsewhere.)
        first = next(d for d in docs if d.metadata["category"] == "Picture")
        width = Image.open(first.metadata["image_path"]).width
        pictures = {p: f"A chart, {width} px wide." for p in range(PAGES)}
        assert seen(docs) == expected(specs, pictures)
        assert dropped, "the kill caught requests in flight"
        report = loader.reports["book.pdf"]
        assert report.pages_done == PAGES and report.pages_failed == 0
        assert report.pages_salvaged == report.pages_tiled == 1  # the dense page, in parts
        assert set(report.requests_by_server) == set(urls)
        assert all(n > 0 for n in report.requests_by_server.values())

        # The table over the page break: one Document, its header once, every row in order.
        (table,) = [
            d for d in docs if d.metadata["category"] == "Table" and d.metadata["page"] == TABLE
        ]
        assert table.page_content.count("<th>") == 3
        cells = re.findall(r"<td>(.*?)</td>", table.page_content)
        assert cells == [f"r{r}c{c}" for r in range(10) for c in range(3)]

        # Pictures: a crop file each, described once a page, asked for their words.
        pics = [d for d in docs if d.metadata["category"] == "Picture"]
        assert len(pics) == PAGES - 3  # the sample pages
        for pic in pics:
            crop = Path(pic.metadata["image_path"])
            assert crop.is_file() and crop.parent == (tmp_path / "images").resolve()
            assert pic.metadata["caption"] == element_text("Caption", 0)
        assert sum(described.values()) == 1  # the same picture on every page: described once
        asked = [r for f in (a, b) for r in f.chat_requests if r.status == 200]
        grounding = {r.page for r in asked if r.prompt_mode == "prompt_grounding_ocr"}
        assert grounding >= {0, 1, 5, 6, 7}

        # Ids unique; headings and labels on every element.
        assert len({d.id for d in docs}) == len(docs)
        assert all(d.metadata["element_id"] == d.id for d in docs)
        assert [d.metadata["page_label"] for d in docs] == [
            str(d.metadata["page"] + 1) for d in docs
        ]
        title = element_text("Title", 0).lstrip("# ")  # the heading's text, without its Markdown
        body = [d for d in docs if d.metadata["page"] == 1 and d.metadata["category"] == "Text"]
        assert body and all(d.metadata["section_path"].startswith(title) for d in body)

        # Again from the cache: the same Documents, no request, no description.
        for fake in (a, b):
            fake.reset()
            fake.texts = texts
        again = DotsOCRLoader(pdf, base_url=urls, **options).load()
        assert not a.chat_requests and not b.chat_requests
    assert [(d.id, d.page_content, d.metadata) for d in again] == [
        (d.id, d.page_content, d.metadata) for d in docs
    ]
    assert sum(described.values()) == 1
