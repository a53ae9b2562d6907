"""Dense pages keep each element once: readings of one region from two answers are merged
whatever category each gave; distinct cells of one answer are never merged; parts are planned
and shown over what is still unread; a page with no blank band (a newspaper) is cut through
its least ink and comes back whole, without noise and under the noisy double's."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.layout import Cell
from langchain_dotsocr.read import watch
from langchain_dotsocr.read.asking import unrepeated
from langchain_dotsocr.read.ink import ink_map
from langchain_dotsocr.read.order import merge, overlap
from langchain_dotsocr.read.plan import Planner
from langchain_dotsocr.read.unread import clipped, masked, reach
from tests.fakevllm import (
    FaultPlan,
    element_content,
    expected_boxes_displayed,
    make_pdf,
    render_page,
    sample_page,
)
from tests.fakevllm.newspaper import COLUMNS, GUTTER, MARGIN, WIDTH, newspaper_page
from tests.fakevllm.scene import dense_page, draw_page
from tests.fakevllm.scoring import Score
from tests.noisy import one_answer, run, scores

WIDTH_OF_COLUMN = (WIDTH - 2 * MARGIN - (COLUMNS - 1) * GUTTER) / COLUMNS

PAGE = sample_page(0)


def test_one_region_read_by_two_answers_is_kept_once_whatever_its_categories():
    first = Cell("Text", (10, 10, 200, 60), "A paragraph of the page.", answer=1)
    again = Cell("List-item", (12, 11, 198, 62), "A paragraph of the page", answer=2)
    other = Cell("Text", (10, 80, 200, 120), "Another paragraph.", answer=2)
    assert merge([first, again, other]) == [first, other]


def test_the_later_reading_replaces_the_earlier_only_when_it_carries_clearly_more_text():
    cut = Cell("Text", (10, 10, 200, 60), "A parag", answer=1)
    whole = Cell("Text", (10, 10, 200, 62), "A paragraph of the page, whole.", answer=2)
    assert merge([cut, whole]) == [whole]
    close = Cell("Text", (10, 10, 200, 62), "A paragraph!", answer=2)
    assert merge([Cell("Text", (10, 10, 200, 60), "A paragraph", answer=1), close])[0].text == (
        "A paragraph"
    )


def test_overlapping_cells_of_one_answer_are_distinct_elements():
    a = Cell("Text", (10, 10, 200, 60), "One block.", answer=7)
    b = Cell("Text", (12, 14, 198, 64), "Another block over it.", answer=7)
    assert merge([a, b]) == [a, b]


def test_a_line_inside_a_whole_column_is_not_the_column():
    column = Cell("Text", (10, 10, 200, 600), "x" * 500, answer=1)
    line = Cell("Text", (10, 100, 200, 120), "a line", answer=2)
    assert merge([column, line]) == [column, line]


def test_a_loops_copies_in_place_are_still_dropped():
    a = Cell("Text", (10, 10, 200, 60), "Again", answer=3)
    b = Cell("Text", (11, 11, 199, 61), "Again and", answer=3)
    assert unrepeated([a, b]) == [a]


def test_a_loops_copies_creeping_down_the_page_are_dropped_however_far_they_creep():
    # As a looping model writes them: the cell again and again, 3 pixels lower each time,
    # after other cells; the 20th copy no longer lies over the cell the loop started from.
    first = Cell("Text", (439, 662, 741, 797), "Text block 1.", answer=4)
    others = [Cell("Footnote", (99, 965, 549, 984), "1 Footnote.", answer=4)]
    copies = [Cell("Text", (439, 662 + d, 741, 797 + d), "Text block 1.", answer=4)
              for d in range(3, 75, 3)]
    assert unrepeated([first, *others, *copies]) == [first, *others]


def test_a_page_whose_answers_loop_creeping_keeps_each_element_once(fast, fake):
    # Both the answer and the re-ask loop, their copies creeping past the cell they copy
    # (at 100 dpi a copy 57 pixels down lies over less than SAME of a 135-pixel cell).
    fake.faults = FaultPlan(by_page={0: ["loop_cell_creep", "loop_cell_creep"]})
    docs = DotsOCRLoader(make_pdf([PAGE]), name="f.pdf", dpi=100, **fast).load()
    boxes = expected_boxes_displayed(PAGE)
    want = sorted((b.category, element_content(b, boxes)) for b in boxes)
    assert sorted((d.metadata["category"], d.page_content) for d in docs) == want


# -- parts over what is still unread ----------------------------------------------------------


def test_a_parts_image_shows_only_what_is_unread():
    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    read, unread = (20, 20, 380, 40), (20, 52, 380, 72)  # two lines 12 px apart
    for x0, y0, x1, y1 in (read, unread):
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(40, 40, 40))
    # The model's box of the read line fell 3 px inside it: its ink is whited out anyway, and
    # the next line keeps all of its ink.
    box = reach((23, 22, 377, 38), ink_map(page, 2))
    ink = ink_map(masked(page.copy(), (0, 0, 400, 300), [box]), 1)
    assert ink.amount(read) == 0 and ink.amount(unread) == 360 * 20


def test_a_read_cell_reaches_over_its_ink_and_never_across_a_blank_line():
    # Small print at a low resolution: lines 6 px high, 2 px apart.
    page = Image.new("RGB", (300, 100), "white")
    draw = ImageDraw.Draw(page)
    lines = [(10, 10 + 8 * k, 290, 16 + 8 * k) for k in range(8)]
    for x0, y0, x1, y1 in lines:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(40, 40, 40))
    ink = ink_map(page, 2)
    inside = (14, 28, 286, 30)  # line 2's box, drawn well inside it
    assert reach(inside, ink) == (10, 26, 290, 32)  # all of line 2, nothing of lines 1 and 3


def test_no_part_is_planned_over_cells_already_read():
    page = Image.new("RGB", (800, 1000), "white")
    draw = ImageDraw.Draw(page)
    lines = [(50, 100 + 20 * k, 750, 112 + 20 * k) for k in range(40)]
    for x0, y0, x1, y1 in lines:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(30, 30, 30))
    read = lines[::2]  # every other line read (a part's answer that skipped some)
    planner = Planner(ink_map(page, 2), known=[], read=read, rate=1 / 100, target=300,
                      fits=lambda box: True)
    parts = planner.plan((0, 0, 800, 1000))
    # What the parts will cost: the unread lines' ink (700 x 12 px each), none of the read.
    assert sum(planner.cost(p.box) for p in parts) == pytest.approx(20 * 700 * 12 / 100)
    for line in lines[1::2]:  # each unread line in one part
        assert sum(overlap(line, p.box) == 1 for p in parts) == 1


def test_a_dense_page_reads_each_element_once_in_all_its_answers(fast, fake):
    spec = dense_page(120, 2)
    docs = DotsOCRLoader(make_pdf([spec]), name="d.pdf", max_tokens=2048, **fast).load()
    assert len(docs) == len(spec.boxes)
    first = sum(d.metadata["extraction"] == "layout" for d in docs)  # the cut answer's cells
    in_parts = [(e.category, e.n) for r in fake.chat_requests[1:] for e in r.elements]
    # What the parts' images showed: every element the first answer did not give, once.
    assert len(set(in_parts)) == len(in_parts) == len(spec.boxes) - first


# -- a page with no blank band: the newspaper ------------------------------------------------

NEWSPAPER = newspaper_page()


def test_the_newspaper_has_no_blank_band_to_cut_along():
    ink = ink_map(render_page(make_pdf([NEWSPAPER]), 0, 72), 1)
    body = ink.trim((0, 80, 792, 1150))
    assert body is not None and ink.gaps(body, 0) == [] and ink.gaps(body, 1) == []
    assert len(NEWSPAPER.boxes) > 700


def test_a_forced_cut_goes_along_a_gutter_and_its_cells_are_told():
    k = 200 / 72  # page pixels per point, at 200 dpi
    ink = ink_map(render_page(make_pdf([NEWSPAPER]), 0, 200), 2)
    planner = Planner(ink, known=[], read=[], rate=1 / 20, target=2048, fits=lambda box: True,
                      forced=True)
    parts = planner.plan((0, 0, 792 * k, 1224 * k))
    assert len(parts) > 8 and any(p.soft for p in parts)
    pitch = WIDTH_OF_COLUMN + GUTTER
    gutters = [k * (MARGIN + c * pitch - GUTTER / 2) for c in range(1, COLUMNS)]
    for p in parts:
        for side in p.soft:  # a soft side of a part: a gutter, or a row between lines
            if side in (0, 2):
                assert min(abs(p.room[side] - g) for g in gutters) <= GUTTER / 2 * k
    # A part whose right side is a gutter cut through a headline: the headline's cell reaching
    # that side (2 px short of it, as a model may give) was cut in two; a block of the column
    # ends in the gutter before the cut, where no ink goes on across: whole.
    boxes = [(b.category, b.n, b.x0 * k, b.y0 * k, b.x1 * k, b.y1 * k) for b in NEWSPAPER.boxes]
    part, head = next(
        (p, h) for p in parts for h in boxes
        if h[0] == "Title" and h[1] > 0 and 2 in p.soft and h[2] < p.room[2] < h[4]
        and h[3] < p.room[3] and h[5] > p.room[1]
    )
    y0, y1 = max(head[3], part.room[1]), min(head[5], part.room[3])
    reach = clipped((head[2], y0, part.room[2] - 2, y1), part, ink)
    assert reach is not None and reach[2] > part.room[2]  # known across the cut from now on
    block = next(b for b in boxes if b[4] < part.room[2] < b[4] + GUTTER * k
                 and part.room[1] <= b[3] and b[5] <= part.room[3])
    assert clipped(block[2:], part, ink) is None


def to_the_budget(monkeypatch, streamed):
    """``streamed``: the first answer cut by the overflow watcher; else it runs to the budget."""
    if not streamed:
        monkeypatch.setattr(watch, "SWITCH_AT", float("inf"))


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "to-the-budget"])
def test_the_newspaper_comes_back_whole_without_noise(fake, base_url, monkeypatch, streamed):
    to_the_budget(monkeypatch, streamed)
    docs = run(fake, base_url, [NEWSPAPER], None)
    s = scores([NEWSPAPER], docs)
    assert (s.once, s.twice, s.spurious) == (s.truth, 0, 0)


@pytest.mark.parametrize(("seed", "streamed"), [(0, True), (1, True), (2, False)])
def test_the_newspaper_under_noise_keeps_what_the_noise_leaves(fake, base_url, monkeypatch, seed,
                                                                streamed):
    # The noise alone (splits, merges of neighbouring lines, drops) keeps 94-95% of this page
    # even as one answer: read in parts, the page keeps as much, and nothing twice.
    to_the_budget(monkeypatch, streamed)
    s = scores([NEWSPAPER], run(fake, base_url, [NEWSPAPER], seed))
    floor = one_answer(NEWSPAPER, seed)  # one draw against another: within 2%
    assert s.once >= floor.once - 0.02 * s.truth and s.twice <= 0.01 * s.truth


# -- dense pages under noise ------------------------------------------------------------------

DENSE = [dense_page(120, 2), dense_page(200, 3, 792.0, 1224.0, page_n=1)]


def test_dense_pages_without_noise_keep_every_element_once(fake, base_url):
    s = scores(DENSE, run(fake, base_url, DENSE, None, max_tokens=2048))
    assert (s.once, s.twice, s.lost, s.spurious) == (s.truth, 0, 0, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_pages_under_noise_keep_at_most_one_percent_twice(fake, base_url, seed):
    s = scores(DENSE, run(fake, base_url, DENSE, seed, max_tokens=2048))
    floor = sum((one_answer(spec, seed) for spec in DENSE), start=Score())
    assert s.twice <= 0.01 * s.truth and s.once >= floor.once - 0.02 * s.truth


def test_ink_with_nothing_legible_is_asked_about_once(fast, fake):
    # A column rule (no element: the model reads nothing there) down the gutter of a dense page.
    k = 200 / 72
    spec = dense_page(120, 2)
    boxes = [replace(b, x0=b.x0 * k, y0=b.y0 * k, x1=b.x1 * k, y1=b.y1 * k) for b in spec.boxes]
    image = draw_page(round(612 * k), round(792 * k), boxes)
    ImageDraw.Draw(image).rectangle((850, 300, 852, 2000), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    docs = DotsOCRLoader(out.getvalue(), name="d.png", max_tokens=2048, **fast).load()
    assert len(docs) == len(spec.boxes)
    empty = [r for r in fake.chat_requests if not r.elements]
    assert len(empty) == 2  # the rule's part, and once again at another temperature
