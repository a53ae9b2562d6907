"""The pieces of the dense-page path on their own: fair slots, the cut plan, the overflow
estimate, the reading order and the bands."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from langchain_dotsocr.layout import Cell
from langchain_dotsocr.limiter import FairLimiter
from langchain_dotsocr.read.bands import cut_bands, join
from langchain_dotsocr.read.ink import Ink, ink_map
from langchain_dotsocr.read.order import merge, reading_order
from langchain_dotsocr.read.plan import Planner
from langchain_dotsocr.read.watch import OverflowWatch

# -- fair slots ---------------------------------------------------------------------------------


def test_waiting_pages_get_free_slots_in_turn():
    async def run():
        limiter = FairLimiter(1)
        order: list[str] = []
        release = asyncio.Event()

        async def request(page: str, n: int) -> None:
            async with limiter.hold(page):
                order.append(f"{page}{n}")
                await release.wait()

        holder = asyncio.create_task(request("x", 0))
        await asyncio.sleep(0)
        # A dense page queues five requests, then three other pages one each.
        tasks = [asyncio.create_task(request("d", n)) for n in range(5)]
        tasks += [asyncio.create_task(request(p, 0)) for p in "abc"]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(holder, *tasks)
        return order

    order = asyncio.run(run())
    # Round-robin by page: the others are not pushed behind the dense page's five.
    assert order == ["x0", "d0", "a0", "b0", "c0", "d1", "d2", "d3", "d4"]


def test_a_raised_limit_wakes_waiters_and_a_cancelled_waiter_frees_nothing():
    async def run():
        limiter = FairLimiter(1)
        gate = asyncio.Event()
        running = 0
        peak = 0

        async def request(page: int) -> None:
            nonlocal running, peak
            async with limiter.hold(page):
                running += 1
                peak = max(peak, running)
                await gate.wait()
                running -= 1

        tasks = [asyncio.create_task(request(p)) for p in range(6)]
        await asyncio.sleep(0.01)
        assert running == 1 and limiter.waiting == 5
        tasks[5].cancel()
        await asyncio.sleep(0.01)
        assert limiter.waiting == 4 and limiter.held == 1
        limiter.limit = 3
        await asyncio.sleep(0.01)
        assert running == 3
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return peak, limiter.held

    peak, held = asyncio.run(run())
    assert peak == 3 and held == 0


# -- the cut plan ---------------------------------------------------------------------------------


def page_of(blocks, size=(800, 1000)):
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in blocks:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(30, 30, 30))
    return image


def column(x0, x1, top, count, pitch=20, height=12):
    return [(x0, top + k * pitch, x1, top + k * pitch + height) for k in range(count)]


TWO_COLUMNS = column(50, 370, 100, 40) + column(430, 750, 100, 40)


def plan(blocks, *, read=(), known=(), target=1e9, fits=lambda box: True, rate=1 / 100):
    ink = ink_map(page_of(blocks), 2)
    planner = Planner(
        ink, known=list(known) + list(read), read=list(read), rate=rate, target=target, fits=fits
    )
    return planner.plan((0, 0, 800, 1000))


def inside(block, box, slack=2):
    return (
        box[0] - slack <= block[0]
        and box[1] - slack <= block[1]
        and block[2] <= box[2] + slack
        and block[3] <= box[3] + slack
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(300, 20000), st.integers(0, 80))
def test_parts_hold_every_unread_block_whole_once(target, read_count):
    read = TWO_COLUMNS[:read_count]
    parts = plan(TWO_COLUMNS, read=read, target=target)
    for block in TWO_COLUMNS[read_count:]:  # every unread block lies whole in one part
        assert sum(inside(block, p.box) for p in parts) == 1, block
    for p in parts:  # a part never cuts through a block
        for block in TWO_COLUMNS:
            ix = min(p.box[2], block[2]) - max(p.box[0], block[0])
            iy = min(p.box[3], block[3]) - max(p.box[1], block[1])
            assert ix <= 0 or iy <= 0 or inside(block, p.box), (p, block)


def test_the_cut_follows_the_columns_and_skips_what_was_read():
    parts = plan(TWO_COLUMNS, read=TWO_COLUMNS[:50], target=3000)
    # Column one was read, and the top of column two: only the rest of column two is left.
    assert parts and all(p.box[0] >= 420 for p in parts)
    assert parts[0].box[1] >= TWO_COLUMNS[49][3] - 2
    assert [p.box[1] for p in parts] == sorted(p.box[1] for p in parts)  # top to bottom


def test_a_cut_never_crosses_a_known_cell():
    # Lines of one paragraph, its box known (the cell an answer was cut in): no cut between them.
    lines = column(50, 750, 100, 30, pitch=16, height=12)
    paragraph = (50, 100, 750, lines[-1][3])
    parts = plan(lines, known=[paragraph], target=500)
    assert len(parts) == 1 and parts[0].single


def test_a_part_the_model_cannot_take_is_cut_even_when_its_answer_would_fit():
    parts = plan(TWO_COLUMNS, fits=lambda box: box[3] - box[1] < 300)
    assert len(parts) > 2 and all(p.box[3] - p.box[1] < 300 for p in parts)


# -- the overflow estimate ------------------------------------------------------------------------


def feed_lines(watch, count, tokens_per_line, pitch=20):
    """Feed ``count`` one-line cells of a page of lines, as a stream; the first reason given."""
    tokens = 0
    for k in range(count):
        cell = {"bbox": [50, 100 + k * pitch, 750, 112 + k * pitch], "category": "Text", "text": "x" * 60}
        tokens += tokens_per_line
        reason = watch.feed(json.dumps(cell) + ", ", tokens)
        if reason:
            return k, reason
    return None


def lines_ink(count, pitch=20):
    return ink_map(page_of(column(50, 750, 100, count, pitch)), 4)


def test_an_answer_that_will_not_fit_is_named_early():
    # 40 lines at 100 tokens each: 4,000 tokens against a budget of 2,048.
    found = feed_lines(OverflowWatch(2048, lines_ink(40)), 40, 100)
    assert found is not None
    k, reason = found
    assert k < 20 and reason.startswith("overflow: ")  # before half the budget was spent


def test_an_answer_that_fits_is_left_alone():
    # 40 lines at 40 tokens: 1,600 of 2,048.
    assert feed_lines(OverflowWatch(2048, lines_ink(40)), 40, 40) is None


def test_a_big_title_first_does_not_hide_a_dense_body():
    image = page_of([(50, 20, 750, 90), *column(50, 750, 100, 40)])
    watch = OverflowWatch(2048, ink_map(image, 4))
    title = {"bbox": [50, 20, 750, 90], "category": "Title", "text": "# T"}
    assert watch.feed(json.dumps(title) + ", ", 5) is None
    found = feed_lines(watch, 40, 100)
    assert found is not None and found[0] < 25


# -- order, duplicates, bands ---------------------------------------------------------------------


def cell(box, text="t", category="Text"):
    return Cell(category, tuple(float(v) for v in box), text)


def test_reading_order_reads_columns_one_after_another():
    title = cell((50, 20, 750, 60), "title", "Title")
    left = [cell(b, f"l{k}") for k, b in enumerate(column(50, 370, 100, 5))]
    right = [cell(b, f"r{k}") for k, b in enumerate(column(430, 750, 100, 5))]
    shuffled = [right[2], left[4], title, *right[:2], *left[:4], *right[3:]]
    assert [c.text for c in reading_order(shuffled)] == (
        ["title"] + [f"l{k}" for k in range(5)] + [f"r{k}" for k in range(5)]
    )


def test_a_cell_read_twice_is_kept_once_and_neighbours_are_not_merged():
    a, b = cell((50, 100, 750, 112), "a"), cell((50, 120, 750, 132), "b")
    again = cell((51, 99, 749, 113), "a")
    assert merge([a, b, again]) == [a, b]


def test_bands_cut_at_the_blank_lines_between_rows():
    rows = column(50, 750, 100, 30, pitch=20, height=12)
    ink = ink_map(page_of(rows), 2)
    bands = cut_bands(ink, (50, 100, 750, rows[-1][3]), 4)
    assert len(bands) == 4
    for band in bands[:-1]:  # every cut lies in a gap between rows, none through a row
        assert not any(r[1] < band[3] < r[3] for r in rows)


def test_band_answers_of_a_table_join_into_one_table():
    bands = ["<table><tr><th>H</th></tr><tr><td>1</td></tr></table>", "<table><tr><td>2</td></tr></table>"]
    assert join("Table", bands) == "<table><tr><th>H</th></tr><tr><td>1</td></tr><tr><td>2</td></tr></table>"
    assert join("Text", ["first line", "second line"]) == "first line\nsecond line"


def test_ink_is_what_is_clearly_darker_than_the_paper():
    image = Image.new("RGB", (200, 200), (236, 236, 230))  # grey paper
    ImageDraw.Draw(image).rectangle((20, 20, 59, 39), fill=(120, 120, 120))
    image.putpixel((150, 150), (226, 226, 226))  # paper grain, not ink
    ink = ink_map(image, 2)
    assert isinstance(ink, Ink)
    assert abs(ink.total - 40 * 20) <= 80
    assert ink.trim((0, 0, 200, 200)) == (20, 20, 60, 40)
