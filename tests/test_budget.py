"""The model's resize rule and the token arithmetic."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_dotsocr.budget import (
    MAX_PIXELS,
    MIN_OUTPUT_TOKENS,
    MIN_PIXELS,
    SAFETY_MARGIN,
    fit_max_pixels,
    image_tokens,
    output_budget,
    prompt_tokens,
    required_context,
    smart_resize,
)


def test_letter_page_at_200_dpi():
    # 8.5 x 11 in at 200 dpi = 1700 x 2200 px: rounded to multiples of 28.
    assert smart_resize(2200, 1700) == (2212, 1708)
    assert image_tokens(2212, 1708) == 79 * 61


def test_large_image_is_scaled_below_max_pixels():
    h, w = smart_resize(8000, 6000)
    assert h * w <= MAX_PIXELS
    assert h % 28 == 0 and w % 28 == 0
    assert abs(h / w - 8000 / 6000) < 0.02


def test_tiny_image_is_scaled_up_to_min_pixels():
    h, w = smart_resize(10, 20)
    assert h * w >= MIN_PIXELS and h % 28 == 0 and w % 28 == 0


def test_extreme_aspect_ratio_is_refused():
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(28, 28 * 201)


@given(st.integers(28, 20000), st.integers(28, 20000))
def test_resize_rule_invariants(h, w):
    if max(h, w) / min(h, w) > 200:
        return
    rh, rw = smart_resize(h, w)
    assert rh % 28 == 0 and rw % 28 == 0
    assert MIN_PIXELS <= rh * rw <= MAX_PIXELS
    # Idempotent: an image already resized is left alone (the server changes nothing), unless
    # rounding pushed it past 200:1, which the page layer refuses before sending.
    if max(rh, rw) / min(rh, rw) <= 200:
        assert smart_resize(rh, rw) == (rh, rw)


def test_output_budget_is_cut_to_the_context():
    assert output_budget(32768, 5000, 16384) == 16384
    assert output_budget(8192, 5000, 16384) == 8192 - 5000 - SAFETY_MARGIN
    assert output_budget(1024, 5000, 16384) == 0


def test_fit_max_pixels_leaves_room_for_an_answer():
    limit = 4096
    pixels = fit_max_pixels(limit, "layout_all")
    h, w = smart_resize(2200, 1700, max_pixels=pixels)
    need = prompt_tokens(h, w, "layout_all") + SAFETY_MARGIN + MIN_OUTPUT_TOKENS
    assert need <= limit
    assert fit_max_pixels(1024, "layout_all") == 0


def test_required_context_of_a_letter_page_exceeds_4096():
    # The field report: 4096 cannot hold a 200-dpi page with the default output budget.
    need = required_context(1700, 2200)
    assert need > 4096
    assert need == prompt_tokens(2212, 1708, "layout_all") + SAFETY_MARGIN + 16384
    assert math.isclose(need, 4819 + 16384 + 400, rel_tol=0.05)
