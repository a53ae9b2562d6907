"""The capacity rule and the reading of vLLM's /metrics (pure logic)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from langchain_dotsocr.progress import Progress, server_counts
from langchain_dotsocr.servers.capacity import CEILING, START, Capacity, Load
from langchain_dotsocr.servers.metrics import parse_load
from tests.fakevllm.metrics import Counters, exposition


def run_against(slots: int, readings: int = 40) -> list[tuple[int, int]]:
    """Feed a capacity the readings of a server with ``slots`` that we alone keep full."""
    cap, seen = Capacity(), []
    for _ in range(readings):
        outstanding = cap.limit  # the client keeps every slot it has busy
        load = Load(min(slots, outstanding), max(0, outstanding - slots))
        seen.append((cap.limit, load.waiting))
        cap.observe(load, outstanding)
    return seen


def test_slow_start_finds_a_big_server_then_the_queue_stays_within_an_eighth():
    seen = run_against(64)
    assert seen[0][0] == START
    reached = next(i for i, (limit, _) in enumerate(seen) if limit >= 64)
    assert reached <= 6  # 8, 12, 18, 27, 41, 62, 93: a handful of readings
    steady = seen[reached + 2 :]
    assert all(64 <= limit <= 72 for limit, _ in steady)
    assert all(waiting <= 8 for _, waiting in steady)


def test_a_small_server_gets_at_most_the_first_guess_queued_then_almost_nothing():
    for slots in (1, 2, 8, 12):
        seen = run_against(slots)
        assert max(w for _, w in seen) <= 8  # never more than 8 waiting (issue: 8 slots)
        found = next(i for i, (_, w) in enumerate(seen) if w > 0)
        assert all(w <= max(1, -(-slots // 8)) for _, w in seen[found + 1 :]), (slots, seen)


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600), st.integers(0, 700)),
                max_size=60))
def test_the_limit_stays_between_one_and_the_ceiling(readings):
    cap = Capacity()
    for running, waiting, outstanding in readings:
        cap.observe(Load(running, waiting), outstanding)
        assert 1 <= cap.limit <= CEILING


def test_a_limit_the_user_set_never_moves():
    cap = Capacity(fixed=5)
    cap.observe(Load(0, 30), 40)
    cap.observe(Load(5, 0), 5)
    assert cap.limit == 5


def test_an_idle_client_does_not_raise_the_limit():
    cap = Capacity()
    cap.observe(Load(2, 0), 2)
    assert cap.limit == START


def test_parse_load_reads_vllms_exposition_of_our_model_only():
    ours = exposition("rednote-hilab/dots.ocr", 12, 3, 0.5, Counters())
    other = exposition("other/model", 40, 9, 0.9, Counters()).replace("engine=\"0\"", "engine=\"1\"")
    assert parse_load(ours + other, "rednote-hilab/dots.ocr") == Load(12, 3)
    two_engines = ours + ours.replace('engine="0"', 'engine="1"')
    assert parse_load(two_engines, "rednote-hilab/dots.ocr") == Load(24, 6)
    assert parse_load("vllm:num_requests_running 4.0\nvllm:num_requests_waiting 1.0\n", "m") == (
        Load(4, 1)
    )
    assert parse_load("# nothing of vLLM here\nup 1\n", "m") is None
    assert parse_load(ours, "another-model") is None


def test_the_progress_bar_shows_requests_per_server(capsys):
    progress = Progress(True)
    progress.add(3)
    progress.done(2, {"http://gpu-a:8000/v1": 5, "http://gpu-b:8000/v1": 4})
    progress.close()
    err = capsys.readouterr().err
    assert "requests gpu-a:8000=5 gpu-b:8000=4" in err
    assert server_counts({"https://x.example/v1": 1}) == "requests x.example=1"
