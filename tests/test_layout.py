"""Decoding answers cell by cell: keep every good cell, never invent one."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_dotsocr.layout import decode_answer, to_elements
from langchain_dotsocr.pages import PageInfo
from langchain_dotsocr.prompts import CATEGORIES

W, H = 1708, 2212
GOOD = [
    {"bbox": [96, 62, 1120, 98], "category": "Page-header", "text": "ACME | Q3"},
    {"bbox": [188, 190, 1548, 262], "category": "Title", "text": "# Review"},
    {"bbox": [188, 800, 1560, 1064], "category": "Table",
     "text": "<table><tr><td>1</td><td>9.4<br>(r)</td></tr></table>"},
    {"bbox": [620, 1180, 1120, 1228], "category": "Formula", "text": "g = \\frac{a}{b}"},
    {"bbox": [188, 1260, 880, 1720], "category": "Picture"},
]


def test_valid_answer_gives_every_cell_in_order():
    d = decode_answer(json.dumps(GOOD), W, H)
    assert d.complete and not d.problems
    assert [c.category for c in d.cells] == [c["category"] for c in GOOD]
    assert d.cells[3].text == "g = \\frac{a}{b}"
    assert d.cells[4].text is None


def test_code_fences_and_wrapping_object():
    fenced = "```json\n" + json.dumps(GOOD) + "\n```"
    assert len(decode_answer(fenced, W, H).cells) == 5
    wrapped = json.dumps({"layout": GOOD})
    assert len(decode_answer(wrapped, W, H).cells) == 5


def test_truncated_answer_keeps_complete_cells():
    text = json.dumps(GOOD)
    cut = text[: text.index("Formula") + 20]
    d = decode_answer(cut, W, H)
    assert not d.complete
    assert [c.category for c in d.cells] == ["Page-header", "Title", "Table"]


def test_missing_comma_and_three_number_box():
    text = (
        '[{"bbox": [188, 288, 1560, 352], "category": "Text", "text": "Q3"} '
        '{"bbox": [188, 900, 1560], "category": "Text", "text": "bad"}, '
        '{"bbox": [188, 960, 1560, 990], "category": "Text", "text": "after"}]'
    )
    d = decode_answer(text, W, H)
    assert [c.text for c in d.cells] == ["Q3", "after"]
    assert any("unusable box" in p for p in d.problems)


def test_swapped_and_outside_boxes_are_repaired():
    text = json.dumps([
        {"bbox": [1560, 900, 188, 960], "category": "Text", "text": "swapped"},
        {"bbox": [-4, 10, W + 9, 40], "category": "Text", "text": "outside"},
    ])
    d = decode_answer(text, W, H)
    assert d.cells[0].bbox == (188, 900, 1560, 960)
    assert d.cells[1].bbox == (0, 10, W, 40)


def test_duplicates_are_dropped():
    d = decode_answer(json.dumps([GOOD[1], GOOD[1], GOOD[2]]), W, H)
    assert [c.category for c in d.cells] == ["Title", "Table"]


def test_boxes_map_to_page_units():
    info = PageInfo("x.pdf", 0, 1, 612.0, 792.0, "pt", 0)
    d = decode_answer(json.dumps([{"bbox": [0, 0, W, H], "category": "Text", "text": "t"}]), W, H)
    (e,) = to_elements(d.cells, info, W, H)
    assert e.bbox == (0.0, 0.0, 612.0, 792.0)


cells = st.lists(
    st.fixed_dictionaries(
        {
            "bbox": st.lists(st.integers(0, 1700), min_size=4, max_size=4),
            "category": st.sampled_from(CATEGORIES),
            "text": st.text(max_size=40),
        }
    ),
    max_size=12,
)


def _norm(cell):
    x1, y1, x2, y2 = (min(max(float(v), 0.0), float(lim)) for v, lim in zip(cell["bbox"], (W, H, W, H)))
    return (cell["category"], (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), cell.get("text"))


@settings(max_examples=300, deadline=None)
@given(cells, st.data())
def test_decoder_never_invents_and_keeps_complete_cells(original, data):
    text = json.dumps(original, ensure_ascii=data.draw(st.booleans()))
    cut = data.draw(st.integers(0, len(text)))
    broken = text[:cut]
    if data.draw(st.booleans()):  # drop the comma between two cells (not one inside a text)
        seps = [i for i in range(len(broken)) if broken.startswith("}, {", i)]
        if seps:
            i = data.draw(st.sampled_from(seps)) + 1
            broken = broken[:i] + broken[i + 1 :]
    decoded = decode_answer(broken, W, H)
    allowed = {_norm(c) for c in original}
    for c in decoded.cells:
        assert (c.category, c.bbox, c.text) in allowed
    if broken == text:
        # Every distinct cell, a box collapsed to a line or a point included (its text is content).
        expected = list(dict.fromkeys(_norm(c) for c in original))
        assert [(c.category, c.bbox, c.text) for c in decoded.cells] == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_decoder_never_crashes_on_random_text(text):
    decoded = decode_answer(text, W, H)
    for c in decoded.cells:
        assert c.category in text or json.dumps(c.category)[1:-1] in text


def test_non_finite_boxes_are_dropped():
    text = '[{"bbox": [NaN, 2, 30, 40], "category": "Text", "text": "a"}, {"bbox": [1, 2, Infinity, 40], "category": "Text", "text": "b"}, {"bbox": [1, 2, 30, 40], "category": "Text", "text": "c"}]'
    d = decode_answer(text, W, H)
    assert [c.text for c in d.cells] == ["c"] and not d.complete


# -- boxes, judged by how wrong they are -----------------------------------------------------

coordinate = st.floats(-200, 2000, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(st.lists(coordinate, min_size=4, max_size=4))
def test_a_box_is_clamped_within_one_patch_and_broken_beyond(box):
    from langchain_dotsocr.layout import EDGE_SLACK

    text = json.dumps([{"bbox": box, "category": "Text", "text": "t"}])
    d = decode_answer(text, W, H)
    x1, y1, x2, y2 = box
    near = all(-EDGE_SLACK <= v <= W + EDGE_SLACK for v in (x1, x2)) and all(
        -EDGE_SLACK <= v <= H + EDGE_SLACK for v in (y1, y2)
    )
    if near:  # kept, inside the image, corners in order; the answer stays complete
        (cell,) = d.cells
        bx1, by1, bx2, by2 = cell.bbox
        assert 0 <= bx1 <= bx2 <= W and 0 <= by1 <= by2 <= H
        assert d.complete
        assert (bx1, bx2) == tuple(sorted(min(max(v, 0), W) for v in (x1, x2)))
    else:  # a broken box: its cell is dropped and the answer is incomplete (asked again)
        assert d.cells == [] and not d.complete
        assert "far outside" in d.problems[0]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, W), st.integers(0, H), st.booleans())
def test_a_box_collapsed_to_a_line_or_point_keeps_its_cell(x, y, point):
    other = [x, y, x, y] if point else [x, y, min(W, x + 50), y]
    text = json.dumps([
        {"bbox": other, "category": "Text", "text": "line"},
        {"bbox": [10, 10, 100, 100], "category": "Title", "text": "t"},
    ])
    d = decode_answer(text, W, H)
    assert d.complete and [c.text for c in d.cells] == ["line", "t"]


def test_a_box_far_outside_is_not_clamped_into_a_confident_wrong_box():
    text = json.dumps([{"bbox": [100, 2100, 900, H + 60], "category": "Text", "text": "x"}])
    d = decode_answer(text, W, H)
    assert d.cells == [] and not d.complete
