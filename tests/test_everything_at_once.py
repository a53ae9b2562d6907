"""The features that landed one by one, together in one run, through the double: several
servers (one killed mid-run), dense pages read in parts, tables across page breaks, captioned
pictures cropped to files, described and read for words, ids, heading paths, page labels and the
page cache. Nothing may be lost or done twice between them.

``test_two_servers_...``: two servers, one killed and brought back during the run.
``test_everything_at_once``: three servers, one killed for good; a dense page that holds a
captioned picture and ends in a table going on at the next page, a page of figures, captions
and footnotes; checked against the scenes' own truth (every element once, in reading order, in
its place, with its caption, crop, section and label), then the same Documents from a calm
server and from the cache (async) without a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from PIL import Image

from langchain_dotsocr import Crop, DotsOCRLoader
from tests.fakevllm import (
    Box,
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
from tests.fakevllm.figures import figures_page, split_table
from tests.fakevllm.scene import dense_ids, dense_page, stacked
from tests.fakevllm.vision import detect
from tests.test_servers import doubles

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
        dropped = [r for r in a.chat_requests if r.killed]

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


# -- every feature against the scenes' truth ----------------------------------------------------

# The special pages (a table runs from 3 to 4, and from 5 to 6).
FIG_PAGE, DENSE_PAGE, SPLIT_PAGE = 2, 3, 5
PAGE_COUNT = 10
# The tables that run over a page break: (first page, first part's n, second part's n,
# columns, rows on each page), renumbered so their words are their own.
JOINS = ((DENSE_PAGE, 7, 8, 4, (5, 3)), (SPLIT_PAGE, 5, 6, 3, (6, 4)))
JOINED = {n for _, first, second, *_ in JOINS for n in (first, second)}
FIGURE_N = 5  # the dense page's captioned picture, with words inside it


def renumber(spec: PageSpec, page: int, tables: dict[int, int]) -> PageSpec:
    """A page with its marker, header and tables renumbered."""
    boxes = []
    for b in spec.boxes:
        if b.category in ("Page-header", "Page-footer"):
            b = replace(b, n=page)
        elif b.category == "Table":
            b = replace(b, n=tables[b.n])
        boxes.append(b)
    return replace(spec, boxes=tuple(boxes))


def split_pages(
    page: int, first: int, second: int, columns: int, rows
) -> tuple[list[PageSpec], dict[tuple[str, int], str]]:
    """split_table's two pages as pages ``page`` and ``page + 1``, its tables numbered
    ``first`` and ``second``."""
    specs, texts = split_table(columns=columns, rows=rows)
    tables = {1: first, 2: second}
    out = [renumber(spec, page + i, tables) for i, spec in enumerate(specs)]
    return out, {("Table", tables[n]): html for (_, n), html in texts.items()}


def dense_figure_page(page: int, table: Box) -> PageSpec:
    """A dense page (90 blocks in two columns) with a captioned picture under the columns and,
    at the bottom, a table that goes on at the next page: too much for one answer."""
    blocks = dense_ids(90)
    boxes = [Box("Title", page, 36, 36, 576, 56)]
    boxes += stacked(blocks[:45], 36, 80, 294, 470)
    boxes += stacked(blocks[45:], 318, 80, 576, 470)
    boxes += [
        Box("Picture", FIGURE_N, 36, 490, 294, 590),
        Box("Caption", FIGURE_N, 36, 596, 294, 610),
        replace(table, y0=630, y1=740),
        page_footer_box(page, 612, 792),
    ]
    return PageSpec(612, 792, tuple(boxes))


def scene() -> tuple[list[PageSpec], dict[tuple[str, int], str]]:
    specs: list[PageSpec] = [sample_page(i) for i in range(PAGE_COUNT)]
    figures, texts = figures_page(FIG_PAGE)
    specs[FIG_PAGE] = figures
    texts[("Picture", FIGURE_N)] = "Pump A\nPump B"
    texts[("Caption", FIGURE_N)] = f"Figure {FIGURE_N}: Flow through the pumps."
    for page, first, second, columns, rows in JOINS:
        pair, words = split_pages(page, first, second, columns, rows)
        specs[page : page + 2] = pair
        texts |= words
    table = next(b for b in specs[DENSE_PAGE].boxes if b.category == "Table")
    specs[DENSE_PAGE] = dense_figure_page(DENSE_PAGE, table)
    return specs, texts


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
    caption = [
        c for c in boxes if c.category == "Caption" and figure_of(texts, c, boxes) == picture
    ]
    parts = [words(texts, c) for c in caption]
    parts.append(f"A drawing of Picture {picture.n}.")
    parts.append(texts.get(("Picture", picture.n), ""))
    return "\n\n".join(p for p in parts if p)


def expected_page(spec: PageSpec, texts) -> list[tuple[str, str]]:
    """(category, page_content) of a page's elements, in the order the scene lists them; a
    table's continuation belongs to its first part, which stands for the joined table."""
    boxes = expected_boxes_displayed(spec)
    out = []
    for b in boxes:
        if b.category == "Table" and b.n in {j[2] for j in JOINS}:
            continue
        if b.category == "Picture":
            out.append((b.category, picture_words(texts, b, boxes)))
        elif b.category == "Table" and b.n in {j[1] for j in JOINS}:
            out.append((b.category, "<joined table>"))
        else:
            out.append((b.category, words(texts, b)))
    return out


def expected_elements(specs, texts) -> list[tuple[int, str, str]]:
    return sorted((page, *e) for page, spec in enumerate(specs) for e in expected_page(spec, texts))


def shown(doc) -> tuple[str, str]:
    joined = len(doc.metadata["pages"]) > 1
    return doc.metadata["category"], "<joined table>" if joined else doc.page_content


def got_elements(docs) -> list[tuple[int, str, str]]:
    return sorted((d.metadata["page"], *shown(d)) for d in docs)


def seen_pictures(png: bytes) -> list[int]:
    """The Pictures the double's eyes find in an image (a crop)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sorted(e.n for e in detect(image) if e.category == "Picture")


class Describer:
    """A plain async describer that says which picture it was shown (by looking at the crop),
    and records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []

    async def __call__(self, crop: Crop) -> str:
        await asyncio.sleep(0.01)
        shown = seen_pictures(crop.png)
        self.calls.append((crop.page, shown[0] if shown else -1, crop.caption))
        return " ".join(f"A drawing of Picture {n}." for n in shown) or "Nothing."


def opened(path: list[str], texts, h: Box) -> list[str]:
    """The section path after heading ``h``: a Title opens a path, a Section-header goes
    under the Title."""
    name = words(texts, h).lstrip("#").strip()
    return [name] if h.category == "Title" else [*path[:1], name]


def section_paths(specs, texts) -> dict[tuple[int, str, str], str]:
    """Each element's section path by the scenes' structure (a heading's own path ends with
    it); the path carries across pages, into the next page's header."""
    paths: dict[tuple[int, str, str], str] = {}
    carried: list[str] = []
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        headings = sorted(
            (b for b in boxes if b.category in ("Title", "Section-header")), key=lambda b: b.y0
        )
        for b in boxes:
            path = carried
            if b.category != "Page-header":
                for h in (h for h in headings if h.y0 <= b.y0):
                    path = opened(path, texts, h)
            paths[(page, b.category, words(texts, b))] = " > ".join(path)
        for h in headings:
            carried = opened(carried, texts, h)
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
            deadline = time.monotonic() + 60  # a poll: as long as a loaded machine needs
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
        assert len(describe.calls) == described, "the cached run described a picture again"
    # The same file on one healthy server, without the cache: what the kill changed, if anything.
    calm = FakeVLLM(texts=texts)
    with serve(calm) as url:
        plain = DotsOCRLoader(
            path, base_url=url, **(options | {"cache_dir": None, "describe_pictures": Describer()})
        ).load()

    # Every element of every page once, with its words (a Picture: its caption, description
    # and the words inside it), also on the pages the killed server held.
    assert got_elements(docs) == expected_elements(specs, texts)
    killed = [r for r in doomed.chat_requests if r.killed]
    assert killed, "requests were in flight on the killed server"
    assert all(r.finished_at >= killed_at[0] for r in killed)
    for page in {r.page for r in killed if isinstance(r.page, int)}:
        assert any(
            r.page == page and r.finish_reason in ("stop", "length")
            for f in survivors
            for r in f.chat_requests
        ), f"page {page} was finished elsewhere"
    # In page order; ordinary and dense pages in the reading order the scene lists.
    pages = [d.metadata["page"] for d in docs]
    assert pages == sorted(pages)
    for page in (0, 1, DENSE_PAGE, 7, 8, 9):
        on_page = [shown(d) for d in docs if d.metadata["page"] == page]
        assert on_page == expected_page(specs[page], texts), page
    found = by_key(d for d in docs if len(d.metadata["pages"]) == 1)
    paths = section_paths(specs, texts)
    for page, spec in enumerate(specs):
        for b in expected_boxes_displayed(spec):
            key = (page, b.category, words(texts, b))
            if b.category == "Picture" or (b.category == "Table" and b.n in JOINED):
                continue
            doc = found[key]
            assert near(doc.metadata["bbox"], (b.x0, b.y0, b.x1, b.y1)), (key, doc.metadata)
            assert doc.metadata["section_path"] == paths[key], key
    assert all(d.metadata["page_label"] == str(d.metadata["page"] + 1) for d in docs)

    # Ids: one per Document, its element_id.
    ids = [d.id for d in docs]
    assert len(set(ids)) == len(docs)
    assert all(d.id == d.metadata["element_id"] for d in docs)

    # The tables across page breaks: one Document each, the header once, every row in order.
    joined = [d for d in docs if len(d.metadata["pages"]) > 1]
    assert [d.metadata["pages"] for d in joined] == [[p, p + 1] for p, *_ in JOINS]
    for doc, (page, first, second, columns, rows) in zip(joined, JOINS, strict=True):
        html = doc.page_content
        assert doc.metadata["page"] == page and doc.metadata["category"] == "Table"
        assert cells(html, "th") == [f"Col {c}" for c in range(columns)]
        assert cells(html, "td") == [f"r{r}c{c}" for r in range(sum(rows)) for c in range(columns)]
        parts = [
            b
            for s in specs[page : page + 2]
            for b in s.boxes
            if b.n in (first, second) and b.category == "Table"
        ]
        boxes = doc.metadata["page_boxes"].split(";")
        for where, part, text in zip((page, page + 1), parts, boxes, strict=True):
            at, _, box = text.partition(":")
            assert int(at) == where, doc.metadata["page_boxes"]
            assert near([float(v) for v in box.split(",")], (part.x0, part.y0, part.x1, part.y1))

    # Captions: a caption and the figure its label names point at each other (also on the
    # dense page read in parts); a caption of no figure stays plain; the footnotes right
    # under the figures page's table are its own.
    for page, spec in enumerate(specs):
        boxes = expected_boxes_displayed(spec)
        for c in (b for b in boxes if b.category == "Caption"):
            caption = found[(page, "Caption", words(texts, c))]
            figure = figure_of(texts, c, boxes)
            if figure is None:
                assert caption.metadata["belongs_to"] == "", (page, c)
                continue
            (owner,) = [
                d
                for d in docs
                if d.metadata["page"] == page
                and d.metadata["category"] == figure.category
                and d.metadata["caption"] == words(texts, c)
            ]
            assert caption.metadata["belongs_to"] == owner.id, (page, c)
    table = next(
        d for d in docs if d.metadata["page"] == FIG_PAGE and d.metadata["category"] == "Table"
    )
    notes = [found[(FIG_PAGE, "Footnote", texts[("Footnote", n)])] for n in (1, 2, 3)]
    assert table.metadata["footnotes"].split("\n") == [texts[("Footnote", n)] for n in (1, 2)]
    assert [n.metadata["belongs_to"] for n in notes] == [table.id, table.id, ""]

    # Pictures: a crop file each showing that picture (and only pictures have one), the
    # describer's words about it, the words inside it read with the grounding prompt.
    pictures = [d for d in docs if d.metadata["category"] == "Picture"]
    want_pictures = sorted(
        (page, b.n) for page, s in enumerate(specs) for b in s.boxes if b.category == "Picture"
    )
    cropped = []
    for d in pictures:
        crop = Path(d.metadata["image_path"])
        assert crop.is_absolute() and crop.parent == crops
        (n,) = seen_pictures(crop.read_bytes())
        cropped.append((d.metadata["page"], n))
        assert d.metadata["picture_description"] == f"A drawing of Picture {n}."
        assert d.metadata["picture_text"] == texts.get(("Picture", n), "")
    assert sorted(cropped) == want_pictures
    assert all(d.metadata["image_path"] == "" for d in docs if d not in pictures)
    assert sorted(crops.iterdir()) == sorted(Path(d.metadata["image_path"]) for d in pictures)
    # Each was described once a run (a picture seen again is not described again), with the
    # caption linked to it.
    shown_to = [(p, n) for p, n, _ in describe.calls]
    assert len(set(shown_to)) == len(shown_to) and set(shown_to) <= set(want_pictures)
    for page, n, caption in describe.calls:
        boxes = expected_boxes_displayed(specs[page])
        picture = next(b for b in boxes if b.category == "Picture" and b.n == n)
        named = [
            c for c in boxes if c.category == "Caption" and figure_of(texts, c, boxes) == picture
        ]
        assert caption == "\n".join(words(texts, c) for c in named), (page, n)

    # Reports: pages, parts, and requests per server (the killed one's tries after its death
    # never reached it; the others' are exactly what they saw).
    report = loader.reports[str(path)]
    assert (report.pages_done, report.pages_failed, report.pages_tiled) == (PAGE_COUNT, 0, 1)
    assert "tiled" in {d.metadata["extraction"] for d in docs if d.metadata["page"] == DENSE_PAGE}
    assert set(report.requests_by_server) == set(urls)
    for url, fake, n in zip(urls, fakes, sent, strict=True):
        assert (
            report.requests_by_server[url] >= n
            if fake is doomed
            else report.requests_by_server[url] == n
        ), url
    assert sum(report.requests_by_server.values()) >= report.requests >= PAGE_COUNT

    # A server killed mid-run changes nothing: the same Documents and ids as on a calm server.
    assert [(d.id, d.page_content, d.metadata) for d in plain] == [
        (d.id, d.page_content, d.metadata) for d in docs
    ]

    # The second run, from the cache: the same Documents and ids, no request, no description.
    assert [(d.id, d.page_content, d.metadata) for d in again] == [
        (d.id, d.page_content, d.metadata) for d in docs
    ]
    cached = again_loader.reports[str(path)]
    assert cached.pages_cached == PAGE_COUNT
    assert cached.requests == 0 and not any(cached.requests_by_server.values())
