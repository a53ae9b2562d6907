"""Every feature in one run, through the double: three servers, one killed mid-run; a PDF of
ordinary pages, a dense page read in parts, a table across a page break, captioned pictures and
words inside a picture; crops to files, a plain async describer, the page cache, element mode.

What users rely on is checked against the scenes' own truth: every element of every page once
(also on pages in flight on the killed server), in its place, with its caption, crop, section
and page label; ids unique, and the same again from the cache without a request.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

from langchain_dotsocr import Crop, DotsOCRLoader
from tests.fakevllm import (
    Box,
    FakeVLLM,
    LatencyModel,
    PageSpec,
    element_text,
    expected_boxes_displayed,
    make_pdf,
    sample_page,
)
from tests.fakevllm.figures import figures_page, split_table
from tests.fakevllm.scene import dense_page
from tests.fakevllm.vision import detect
from tests.test_servers import doubles

FIGURES, DENSE, SPLIT = 2, 4, 5  # the special pages; the split table runs over 5 and 6
PAGES = 10
SPLIT_N = (5, 6)  # the split table's parts, renumbered so their words are their own


def split_pages() -> tuple[list[PageSpec], dict[tuple[str, int], str]]:
    """split_table's two pages, their markers and tables renumbered for pages 5 and 6."""
    specs, texts = split_table(columns=3, rows=(6, 4))
    out = []
    for offset, spec in enumerate(specs):
        page = SPLIT + offset
        boxes = []
        for b in spec.boxes:
            if b.category in ("Page-header", "Page-footer"):
                b = replace(b, n=page)
            elif b.category == "Table":
                b = replace(b, n=SPLIT_N[b.n - 1])
            boxes.append(b)
        out.append(replace(spec, boxes=tuple(boxes)))
    renamed = {("Table", SPLIT_N[n - 1]): html for (_, n), html in texts.items()}
    return out, renamed


def scene() -> tuple[list[PageSpec], dict[tuple[str, int], str]]:
    specs: list[PageSpec] = [sample_page(i) for i in range(PAGES)]
    figures, texts = figures_page(FIGURES)
    specs[FIGURES] = figures
    specs[DENSE] = dense_page(120, 2, page_n=DENSE)
    (first, second), split_texts = split_pages()
    specs[SPLIT], specs[SPLIT + 1] = first, second
    return specs, texts | split_texts


def words(texts, box: Box) -> str:
    """What the model reads in an element: the page's own words, else the scene's default."""
    return texts.get((box.category, box.n)) or element_text(box.category, box.n, box.rows) or ""


def figure_of(texts, caption: Box, boxes) -> Box | None:
    """The figure a caption names by its label ("Figure 2: ...", "Table 1: ..."), if on its page."""
    label = re.match(r"(Figure|Table) (\d+):", words(texts, caption))
    if label is None:
        return None
    category = "Picture" if label[1] == "Figure" else "Table"
    return next((b for b in boxes if b.category == category and b.n == int(label[2])), None)


def picture_words(texts, picture: Box, boxes) -> str:
    """A Picture's page_content: its caption, its description, the words inside it."""
    caption = [c for c in boxes if c.category == "Caption" and figure_of(texts, c, boxes) == picture]
    parts = [words(texts, c) for c in caption]
    parts.append(f"A drawing of Picture {picture.n}.")
    parts.append(texts.get(("Picture", picture.n), ""))
    return "\n\n".join(p for p in parts if p)


def expected_elements(specs, texts) -> list[tuple[int, str, str]]:
    out = []
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        for b in boxes:
            if b.category == "Table" and b.n == SPLIT_N[1]:
                continue  # the continuation is part of the first part's Document
            if b.category == "Picture":
                out.append((page, b.category, picture_words(texts, b, boxes)))
            elif b.category == "Table" and b.n == SPLIT_N[0]:
                out.append((page, b.category, "<joined table>"))
            else:
                out.append((page, b.category, words(texts, b)))
    return sorted(out)


def got_elements(docs) -> list[tuple[int, str, str]]:
    return sorted(
        (
            d.metadata["page"],
            d.metadata["category"],
            "<joined table>" if len(d.metadata["pages"]) > 1 else d.page_content,
        )
        for d in docs
    )


def seen_pictures(png: bytes) -> list[int]:
    """The Pictures the double's eyes find in an image (a crop)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sorted(e.n for e in detect(image) if e.category == "Picture")


class Describer:
    """A plain async describer that says which picture it was shown, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    async def __call__(self, crop: Crop) -> str:
        await asyncio.sleep(0.01)
        shown = seen_pictures(crop.png)
        self.calls.append((crop.page, shown[0] if shown else -1))
        return " ".join(f"A drawing of Picture {n}." for n in shown) or "Nothing."


def heading(texts, box: Box) -> str:
    return words(texts, box).lstrip("#").strip()


def section_paths(specs, texts) -> dict[tuple[int, str, str], str]:
    """Each element's section path by the scenes' structure: a Title opens a path, a
    Section-header goes under it; page headers still carry the path the previous page left."""
    paths: dict[tuple[int, str, str], str] = {}
    carried: list[str] = []
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        headings = sorted(
            (b for b in boxes if b.category in ("Title", "Section-header")), key=lambda b: b.y0
        )
        for b in boxes:
            path = list(carried)
            if b.category != "Page-header":
                for h in headings:
                    if h.y0 <= b.y0:
                        path = [heading(texts, h)] if h.category == "Title" else path[:1] + [
                            heading(texts, h)
                        ]
            paths[(page, b.category, words(texts, b))] = " > ".join(path)
        for h in headings:
            title = h.category == "Title"
            carried = [heading(texts, h)] if title else carried[:1] + [heading(texts, h)]
    return paths


def by_key(docs) -> dict[tuple[int, str, str], object]:
    out = {}
    for d in docs:
        key = (d.metadata["page"], d.metadata["category"], d.page_content)
        assert key not in out, f"twice: {key}"
        out[key] = d
    return out


def cells(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html)


def near(got, want, tolerance=1.0) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))


def test_everything_at_once(tmp_path):
    specs, texts = scene()
    path = tmp_path / "book.pdf"
    path.write_bytes(make_pdf(specs))
    speed = LatencyModel(slots=3, decode_tokens_per_s=2500)
    fakes = [FakeVLLM(latency=speed, texts=texts) for _ in range(3)]
    doomed, survivors = fakes[0], fakes[1:]
    describe = Describer()
    crops = tmp_path / "crops"
    options = {
        "images": crops,
        "describe_pictures": describe,
        "ocr_pictures": True,
        "cache_dir": tmp_path / "cache",
        "max_tokens": 2048,  # the dense page overflows one answer: it is read in parts
        "dpi": 100,
        "retry_backoff": 0.01,
    }
    with doubles(*fakes) as urls:

        def in_flight() -> list:
            return [r for r in doomed.chat_requests if r.finished_at is None]

        def kill() -> None:  # mid-run, while it holds requests
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (
                len(doomed.chat_requests) >= 4 and len(in_flight()) >= 2
            ):
                time.sleep(0.002)
            killed_at.append(time.monotonic())
            doomed.kill()

        killed_at: list[float] = []
        killer = threading.Thread(target=kill)
        killer.start()
        loader = DotsOCRLoader(path, base_url=urls, **options)
        docs = loader.load()
        killer.join()
        sent = [len(f.chat_requests) for f in fakes]
        described = len(describe.calls)
        doomed.restart()
        again_loader = DotsOCRLoader(path, base_url=urls, **options)

        async def collect() -> list:
            return [d async for d in again_loader.alazy_load()]

        again = asyncio.run(collect())
        assert [len(f.chat_requests) for f in fakes] == sent, "the cached run sent a request"

    # Every element of every page once, with its words (a Picture: its caption, description
    # and the words inside it), also on the pages the killed server held.
    assert got_elements(docs) == expected_elements(specs, texts)
    killed = [r for r in doomed.chat_requests if r.finished_at >= killed_at[0]]
    assert killed, "requests were in flight on the killed server"
    for page in {r.page for r in killed if isinstance(r.page, int)}:
        assert any(
            r.page == page and r.finish_reason in ("stop", "length")
            for f in survivors
            for r in f.chat_requests
        ), f"page {page} was finished elsewhere"
    found = by_key(d for d in docs if len(d.metadata["pages"]) == 1)
    paths = section_paths(specs, texts)
    for page, spec in enumerate(specs):
        for b in expected_boxes_displayed(spec):
            key = (page, b.category, words(texts, b))
            if b.category == "Picture" or (b.category == "Table" and b.n in SPLIT_N):
                continue
            doc = found[key]
            assert near(doc.metadata["bbox"], (b.x0, b.y0, b.x1, b.y1)), (key, doc.metadata)
            assert doc.metadata["section_path"] == paths[key], key
    assert all(d.metadata["page_label"] == str(d.metadata["page"] + 1) for d in docs)

    # Ids: one per Document, its element_id.
    ids = [d.id for d in docs]
    assert len(set(ids)) == len(docs)
    assert all(d.id == d.metadata["element_id"] for d in docs)

    # The table across the page break: one Document, the header once, every row in order.
    (joined,) = [d for d in docs if d.metadata["category"] == "Table" and d.metadata["pages"] != [d.metadata["page"]]]
    assert joined.metadata["page"] == SPLIT and joined.metadata["pages"] == [SPLIT, SPLIT + 1]
    assert cells(joined.page_content, "th") == [f"Col {c}" for c in range(3)]
    assert cells(joined.page_content, "td") == [f"r{r}c{c}" for r in range(10) for c in range(3)]
    parts = {b.n: b for s in specs[SPLIT : SPLIT + 2] for b in s.boxes if b.category == "Table"}
    first, second = joined.metadata["page_boxes"].split(";")
    for text, page, part in ((first, SPLIT, parts[SPLIT_N[0]]), (second, SPLIT + 1, parts[SPLIT_N[1]])):
        where, _, box = text.partition(":")
        assert int(where) == page and near([float(v) for v in box.split(",")], (part.x0, part.y0, part.x1, part.y1))

    # Captions: Caption n and its figure point at each other; a caption of no figure stays
    # plain; the footnotes right under the figures page's table are its own.
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        for c in (b for b in boxes if b.category == "Caption"):
            caption = found[(page, "Caption", words(texts, c))]
            figure = figure_of(texts, c, boxes)
            if figure is None:
                assert caption.metadata["belongs_to"] == "", (page, c)
                continue
            (owner,) = [
                d for d in docs
                if d.metadata["page"] == page and d.metadata["category"] == figure.category
                and d.metadata["caption"] == words(texts, c)
            ]
            assert caption.metadata["belongs_to"] == owner.id, (page, c)
    table = next(d for d in docs if d.metadata["page"] == FIGURES and d.metadata["category"] == "Table")
    notes = [found[(FIGURES, "Footnote", texts[("Footnote", n)])] for n in (1, 2, 3)]
    assert table.metadata["footnotes"].split("\n") == [texts[("Footnote", n)] for n in (1, 2)]
    assert [n.metadata["belongs_to"] for n in notes] == [table.id, table.id, ""]

    # Pictures: a crop file each showing that picture (and only pictures have one), the
    # describer's words about it, the words inside it read with the grounding prompt.
    pictures = [d for d in docs if d.metadata["category"] == "Picture"]
    want_pictures = sorted(
        (page, b.n) for page, s in enumerate(specs) for b in s.boxes if b.category == "Picture"
    )
    shown = []
    for d in pictures:
        crop = Path(d.metadata["image_path"])
        assert crop.is_absolute() and crop.parent == crops
        (n,) = seen_pictures(crop.read_bytes())
        shown.append((d.metadata["page"], n))
        assert d.metadata["picture_description"] == f"A drawing of Picture {n}."
        assert d.metadata["picture_text"] == texts.get(("Picture", n), "")
    assert sorted(shown) == want_pictures
    assert all(d.metadata["image_path"] == "" for d in docs if d not in pictures)
    assert sorted(crops.iterdir()) == sorted(Path(d.metadata["image_path"]) for d in pictures)
    assert {n for _, n in describe.calls} <= {n for _, n in want_pictures}

    # Reports: pages, parts, and requests per server (the killed one's tries after its death
    # never reached it; the others' are exactly what they saw).
    report = loader.reports[str(path)]
    assert (report.pages_done, report.pages_failed, report.pages_tiled) == (PAGES, 0, 1)
    assert set(report.requests_by_server) == set(urls)
    for url, fake, n in zip(urls, fakes, sent, strict=True):
        assert report.requests_by_server[url] >= n if fake is doomed else report.requests_by_server[url] == n, url
    assert sum(report.requests_by_server.values()) >= report.requests >= PAGES

    # The second run, from the cache: the same Documents and ids, no request, no description.
    assert [(d.id, d.page_content, d.metadata) for d in again] == [
        (d.id, d.page_content, d.metadata) for d in docs
    ]
    assert len(describe.calls) == described
    cached = again_loader.reports[str(path)]
    assert (cached.pages_cached, cached.requests, sum(cached.requests_by_server.values())) == (PAGES, 0, 0)
