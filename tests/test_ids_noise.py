"""Ids that survive a re-run: anchored on what stays when the model's answer wobbles."""

import pytest

from langchain_dotsocr.identity import anchors
from tests.fakevllm import sample_page
from tests.fakevllm.scene import dense_page
from tests.noisy import ids_kept, run

W, H = 612.0, 792.0
PAGE = [
    ("Title", (72, 40, 540, 70)),
    ("Text", (72, 90, 540, 140)),
    ("Text", (72, 150, 540, 200)),
    ("Table", (72, 220, 540, 400)),
    ("Text", (72, 420, 300, 470)),
    ("Text", (320, 420, 540, 470)),
]


def test_a_category_confused_within_its_family_and_a_box_moved_keep_the_ids():
    before = anchors(W, H, PAGE)
    # Edges moved by a point or two, the middles by less than a row of the grid (8 pt here).
    wobbled = [("Section-header", (74, 41, 538, 70))] + [
        (c, (x0 + 2, y0 - 1, x1 - 1, y1 + 1)) for c, (x0, y0, x1, y1) in PAGE[1:]
    ]
    wobbled[1] = ("List-item", wobbled[1][1])
    assert anchors(W, H, wobbled) == before


def test_a_dropped_element_moves_no_id_but_its_own_and_none_repeats():
    before = anchors(W, H, PAGE)
    after = anchors(W, H, PAGE[:1] + PAGE[2:])
    assert after == before[:1] + before[2:]
    twins = anchors(W, H, [("Text", (72, 90, 540, 140))] * 3)
    assert len(set(twins)) == 3


def test_a_table_read_as_text_is_another_element():
    assert anchors(W, H, [("Table", PAGE[3][1])]) != anchors(W, H, [("Text", PAGE[3][1])])


@pytest.mark.parametrize(
    ("pages", "options"),
    [
        ([sample_page(i) for i in range(4)], {}),
        ([dense_page(120, 2)], {"max_tokens": 2048}),
    ],
    ids=["ordinary", "dense-in-parts"],
)
def test_most_ids_survive_a_second_reading_under_noise(fake, base_url, pages, options):
    both = same = 0
    for seeds in ((0, 1), (2, 3), (4, 5)):
        a, b = (run(fake, base_url, pages, s, **options) for s in seeds)
        kept = ids_kept(pages, a, b)
        assert kept.repeated == 0  # never an id twice within a file
        both, same = both + kept.both, same + kept.same
    assert same / both >= 0.85
