"""Several servers: balancing, start-up checks, ejection and re-admission, no failover on a 400,
and the concurrency found at run time. Two and three doubles on 127.0.0.1, end to end."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter

import pytest

from langchain_dotsocr import DotsOCRLoader, ServerUnreachableError, ServerWarning
from langchain_dotsocr.settings import DotsOCRSettings
from tests.fakevllm import (
    FakeVLLM,
    FaultPlan,
    LatencyModel,
    element_content,
    expected_boxes_displayed,
    make_pdf,
    sample_page,
    serve,
)

FAST = {"retry_backoff": 0.01, "dpi": 72}


@contextlib.contextmanager
def doubles(*fakes: FakeVLLM):
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(serve(f)) for f in fakes]


def chat(fake: FakeVLLM) -> list:
    return [r for r in fake.chat_requests if r.status is not None or r.disconnected]


def pages_of(docs) -> list[int]:
    return sorted({d.metadata["page"] for d in docs})


def expected(n: int):
    pages = [expected_boxes_displayed(sample_page(i)) for i in range(n)]
    return sorted(
        (i, b.category, element_content(b, boxes)) for i, boxes in enumerate(pages) for b in boxes
    )


def got(docs):
    return sorted((d.metadata["page"], d.metadata["category"], d.page_content) for d in docs)


def book(n: int) -> bytes:
    return make_pdf([sample_page(i) for i in range(n)])


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# -- settings ---------------------------------------------------------------------------------


def test_base_url_takes_a_list_a_comma_separated_string_or_the_environment(monkeypatch):
    a, b = "http://a:8000/v1", "http://b:8000/v1"
    assert DotsOCRSettings(base_url=[a, b]).base_urls == (a, b)
    assert DotsOCRSettings(base_url=f"{a}, {b}/").base_urls == (a, b)
    assert DotsOCRSettings(base_url=a).base_url == a  # one URL stays a string
    monkeypatch.setenv("DOTSOCR_BASE_URL", f"{a},{b}")
    assert DotsOCRSettings().base_urls == (a, b)
    with pytest.raises(ValueError, match="twice"):
        DotsOCRSettings(base_url=[a, a])
    with pytest.raises(ValueError, match="at least one"):
        DotsOCRSettings(base_url=" , ")


# -- balancing --------------------------------------------------------------------------------


def test_requests_are_spread_over_three_servers_and_reported_per_server():
    fakes = [FakeVLLM(latency=LatencyModel(slots=4, decode_tokens_per_s=3000)) for _ in range(3)]
    with doubles(*fakes) as urls:
        loader = DotsOCRLoader(book(24), name="b.pdf", base_url=urls, **FAST)
        docs = loader.load()
    assert got(docs) == expected(24)
    counts = [len(f.chat_requests) for f in fakes]
    assert sum(counts) == 24
    assert min(counts) >= 4, counts  # each got a share (fewest outstanding first)
    report = loader.reports["b.pdf"]
    assert report.requests_by_server == dict(zip(urls, counts, strict=True))


def test_a_slower_server_gets_fewer_requests():
    fast_one = FakeVLLM(latency=LatencyModel(slots=8, decode_tokens_per_s=4000))
    slow_one = FakeVLLM(latency=LatencyModel(slots=8, decode_tokens_per_s=300))
    with doubles(fast_one, slow_one) as urls:
        docs = DotsOCRLoader(book(20), base_url=urls, max_concurrency=4, **FAST).load()
    assert pages_of(docs) == list(range(20))
    assert len(fast_one.chat_requests) > 2 * len(slow_one.chat_requests)


def test_one_url_reports_one_server_and_warns_of_nothing(recwarn):
    fake = FakeVLLM()
    with doubles(fake) as (url,):
        loader = DotsOCRLoader(book(2), name="b.pdf", base_url=url, **FAST)
        loader.load()
    assert loader.reports["b.pdf"].requests_by_server == {url: 2}
    assert not [w for w in recwarn if issubclass(w.category, ServerWarning)]


# -- start-up -----------------------------------------------------------------------------------


def test_a_server_that_refuses_from_the_start_is_named_and_left_out():
    fake = FakeVLLM()
    dead = closed_port_url()
    with doubles(fake) as (url,):
        with pytest.warns(ServerWarning, match=dead.replace(".", r"\.")):
            docs = DotsOCRLoader(book(3), base_url=[dead, url], **FAST).load()
    assert got(docs) == expected(3)
    assert len(fake.chat_requests) == 3


def test_a_server_of_another_model_is_left_out():
    ours, other = FakeVLLM(), FakeVLLM(model_id="Qwen/Qwen2.5-VL-7B-Instruct")
    with doubles(ours, other) as urls:
        with pytest.warns(ServerWarning, match="Qwen2.5-VL-7B-Instruct, not rednote-hilab/dots.ocr"):
            docs = DotsOCRLoader(book(3), base_url=urls, **FAST).load()
    assert pages_of(docs) == [0, 1, 2]
    assert other.chat_requests == []


def test_the_run_fails_only_when_no_server_is_usable():
    a, b = closed_port_url(), closed_port_url()
    with pytest.raises(ServerUnreachableError) as err:
        DotsOCRLoader(book(1), base_url=[a, b], **FAST).load()
    assert a in str(err.value) and b in str(err.value)


def test_pages_are_sized_for_the_smallest_context_and_budgets_are_per_server():
    small, large = FakeVLLM(max_model_len=4096), FakeVLLM(max_model_len=32768)
    with doubles(small, large) as urls:
        with pytest.warns(UserWarning, match="downscaled"):
            docs = DotsOCRLoader(book(8), base_url=urls, dpi=200, retry_backoff=0.01).load()
    assert pages_of(docs) == list(range(8))
    for fake in (small, large):
        assert fake.chat_requests, "both served"
        for r in fake.chat_requests:
            assert r.status == 200
            assert r.budget == min(16384, fake.max_model_len - r.prompt_tokens - 64) or (
                r.budget is not None and r.prompt_tokens + r.budget <= fake.max_model_len
            )
    # Pages rendered once, for the smaller server: the same image size on both.
    sizes = {r.image_size for f in (small, large) for r in f.chat_requests}
    assert max(w * h for w, h in sizes) <= 4096 * 28 * 28


# -- failures -----------------------------------------------------------------------------------


def test_a_server_killed_mid_run_loses_nothing_and_comes_back_after_restart():
    slow = LatencyModel(slots=4, decode_tokens_per_s=400)
    a, b = FakeVLLM(latency=slow), FakeVLLM(latency=slow)
    n = 24
    with doubles(a, b) as urls:

        def kill_then_restart() -> None:
            while len(a.chat_requests) < 4:
                time.sleep(0.01)
            a.kill()
            time.sleep(1.0)
            a.restart()

        thread = threading.Thread(target=kill_then_restart)
        thread.start()
        loader = DotsOCRLoader(book(n), name="b.pdf", base_url=urls, **FAST)
        docs = loader.load()
        thread.join()
    assert got(docs) == expected(n)  # every page once: nothing lost, nothing twice
    dropped = [r for r in a.chat_requests if r.killed]
    assert dropped, "requests were in flight on the killed server"
    finished = Counter(r.page for f in (a, b) for r in f.chat_requests if r.status == 200
                       and not (r.disconnected or r.killed))
    assert set(finished) == set(range(n))
    restart_at = max(r.received_at for r in dropped)
    assert any(r.received_at > restart_at + 0.5 and r.status == 200 for r in a.chat_requests), (
        "the restarted server got requests again"
    )


def test_a_dead_engine_is_taken_out_and_its_pages_finish_elsewhere():
    a, b = FakeVLLM(), FakeVLLM(latency=LatencyModel(slots=2, decode_tokens_per_s=1000))
    a.dead = True  # /health 503, every request 500
    with doubles(a, b) as urls:
        docs = DotsOCRLoader(book(12), base_url=urls, max_concurrency=2, **FAST).load()
    assert got(docs) == expected(12)
    assert len(a.chat_requests) <= 3  # three 500s in a row take it out
    assert any(r.path == "/health" and r.status == 503 for r in a.requests)


def test_no_failover_on_a_400():
    plan = {0: ["http_400"] * 5}
    a, b = FakeVLLM(faults=FaultPlan(by_page=plan)), FakeVLLM(faults=FaultPlan(by_page=plan))
    with doubles(a, b) as urls:
        loader = DotsOCRLoader(book(4), name="b.pdf", base_url=urls, on_error="mark", **FAST)
        docs = loader.load()
    page0 = [r for f in (a, b) for r in f.chat_requests if r.page == 0]
    # The first layout request got a 400: the page's, so the page's fallbacks run, but no
    # request is ever repeated on the other server for a transport reason.
    assert all(r.status == 400 for r in page0)
    assert len(page0) == loader.reports["b.pdf"].requests - 3
    assert {d.metadata["category"] for d in docs if d.metadata["page"] == 0} in ({"Error"}, set())
    assert pages_of([d for d in docs if d.metadata["category"] != "Error"]) == [1, 2, 3]


# -- concurrency found at run time ----------------------------------------------------------------


def test_by_default_the_server_is_filled_past_the_first_guess_and_the_page_window():
    from langchain_dotsocr.pipeline import READ_AHEAD
    from langchain_dotsocr.servers.capacity import START

    # Long answers, so that the client keeps up on two shared cores.
    slots = 16
    # Filling it needs the capacity found at run time, and a page window that follows it.
    assert slots > START + READ_AHEAD
    fake = FakeVLLM(latency=LatencyModel(slots, prefill_tokens_per_s=1e6, decode_tokens_per_s=120))
    with doubles(fake) as (url,):
        docs = DotsOCRLoader(book(36), base_url=url, **FAST).load()
    assert pages_of(docs) == list(range(36))
    # Past the first guess and the page window (all 16 slots on an idle machine; on two loaded
    # cores the client can fall a slot behind, and that is not what this test is about).
    assert START + READ_AHEAD < fake.max_concurrency <= slots
    assert fake.max_waiting <= slots // 2  # and the queue stays short
    assert any(r.path == "/metrics" and r.status == 200 for r in fake.requests)


def test_without_metrics_the_capacity_is_found_from_the_first_token():
    fake = FakeVLLM(
        metrics=False,
        latency=LatencyModel(slots=12, prefill_tokens_per_s=1e6, decode_tokens_per_s=120),
    )
    with doubles(fake) as (url,):
        docs = DotsOCRLoader(book(28), base_url=url, **FAST).load()
    assert pages_of(docs) == list(range(28))
    assert fake.max_concurrency >= 10
    assert fake.max_waiting <= 12
    assert [r.status for r in fake.requests if r.path == "/metrics"] == [404]  # asked once


def test_max_concurrency_is_a_hard_cap_over_all_servers():
    a, b = (FakeVLLM(latency=LatencyModel(slots=64, decode_tokens_per_s=1500)) for _ in range(2))
    peak = 0
    with doubles(a, b) as urls:
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, a._in_flight + b._in_flight)
                time.sleep(0.005)

        thread = threading.Thread(target=watch)
        thread.start()
        DotsOCRLoader(book(20), base_url=urls, max_concurrency=3, **FAST).load()
        done.set()
        thread.join()
    assert 2 <= peak <= 3


# -- command line -------------------------------------------------------------------------------


def test_cli_base_url_is_repeatable_and_the_summary_counts_requests_per_server(tmp_path, capsys):
    from langchain_dotsocr.cli import main

    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(book(6))
    a, b = FakeVLLM(), FakeVLLM()
    with doubles(a, b) as (url_a, url_b):
        code = main(["parse", str(pdf), "--base-url", url_a, "--base-url", url_b,
                     "-o", str(tmp_path / "out.jsonl")])
        err = capsys.readouterr().err
        assert code == 0, err
        assert main(["check", "--base-url", url_a, "--base-url", url_b]) == 0
        out = capsys.readouterr().out
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == len(expected(6))
    host_a, host_b = (u.split("://")[1].removesuffix("/v1") for u in (url_a, url_b))
    assert f"{host_a}={len(a.chat_requests)}" in err and f"{host_b}={len(b.chat_requests)}" in err
    assert a.chat_requests and b.chat_requests
    assert f"reachable at {url_a}" in out and f"reachable at {url_b}" in out
