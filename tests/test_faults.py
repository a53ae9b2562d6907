"""Server faults, budgets and runaway answers, injected by the double on chosen pages."""

from __future__ import annotations

import logging
import socket
import threading
import time
import warnings

import pytest

from langchain_dotsocr import (
    AuthenticationError,
    ContextLengthError,
    DotsOCRError,
    DotsOCRLoader,
    DownscaleWarning,
    ServerError,
    ServerUnreachableError,
)
from tests.fakevllm import (
    FaultPlan,
    element_content,
    expected_boxes_displayed,
    make_pdf,
    sample_page,
)

PAGE = sample_page(0)


def expected(spec=PAGE, page=0):
    boxes = expected_boxes_displayed(spec)
    return sorted((page, b.category, element_content(b, boxes)) for b in boxes)


def got(docs):
    return sorted((d.metadata["page"], d.metadata["category"], d.page_content) for d in docs)


def load(fast, pages=(PAGE,), **options):
    return DotsOCRLoader(make_pdf(list(pages)), name="f.pdf", **(fast | options))


# -- budgets ---------------------------------------------------------------------------------


def test_small_context_downscales_with_one_warning(fast, fake):
    fake.max_model_len = 4096
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = load(fast, [sample_page(0), sample_page(1)]).load()
    downscale = [w for w in caught if issubclass(w.category, DownscaleWarning)]
    assert len(downscale) == 1
    assert "--max-model-len" in str(downscale[0].message)
    assert got(docs) == sorted(expected(sample_page(0), 0) + expected(sample_page(1), 1))
    for req in fake.chat_requests:
        assert req.status == 200 and req.prompt_tokens + req.max_tokens <= 4096
    # Boxes still map to points (the sent image is smaller, the mapping follows it).
    title = next(d for d in docs if d.metadata["category"] == "Title")
    assert abs(title.metadata["bbox"][0] - 72) <= 1.5


def test_context_too_small_for_any_page_is_a_clear_error(fast, fake):
    fake.max_model_len = 1024
    with pytest.raises(ContextLengthError, match=r"1024.*--max-model-len"):
        load(fast).load()
    assert fake.chat_requests == []


def test_no_downscaling_raises_before_sending(fast, fake):
    fake.max_model_len = 5000
    with pytest.raises(ContextLengthError) as err:
        load(fast, downscale_to_fit=False).load()
    message = str(err.value)
    assert "f.pdf, page 1 of 1 (page=0)" in message
    assert "max_model_len of 5000" in message and "--max-model-len 21" in message
    assert fake.chat_requests == []


@pytest.mark.parametrize("style", [1, 2, 3])
def test_context_400_is_read_and_retried_with_a_budget_that_fits(fast, fake, style):
    fake.max_model_len = 8192
    fake.context_error_style = style
    # The user pinned a wrong context length: the first request is too big.
    docs = load(fast, max_model_len=32768).load()
    assert got(docs) == expected()
    first, second = fake.chat_requests
    assert first.status == 400 and second.status == 200
    assert second.max_tokens <= 8192 - second.prompt_tokens


def test_decoder_prompt_400_gives_the_flag_to_change(fast, fake):
    fake.max_model_len = 4096
    with pytest.raises(ContextLengthError, match=r"--max-model-len \d+"):
        load(fast, max_model_len=32768, on_error="raise").load()


@pytest.mark.parametrize("kind", ["ctx_wording_1", "ctx_wording_2", "ctx_wording_3"])
def test_injected_context_wordings_are_survived(fast, fake, kind):
    fake.faults = FaultPlan(by_page={0: [kind]})
    assert got(load(fast).load()) == expected()


# -- runaway and broken answers --------------------------------------------------------------


def test_loop_is_cut_early_and_the_page_retried(fast, fake):
    from tests.fakevllm import LatencyModel

    # Paced like a (fast) GPU, so what the double sent is what the client had read when it cut.
    fake.latency = LatencyModel(slots=8, prefill_tokens_per_s=1e6, decode_tokens_per_s=4000)
    fake.faults = FaultPlan(by_page={0: ["loop_table"]})
    loader = load(fast)
    docs = loader.load()
    assert got(docs) == expected()
    assert {d.metadata["extraction"] for d in docs} == {"retried"}
    looped = fake.chat_requests[0]
    assert looped.disconnected and looped.sent_chars < 12000  # of a 16384-token budget
    assert fake.chat_requests[1].temperature == 0.5
    report = loader.reports["f.pdf"]
    assert (report.pages_done, report.pages_salvaged, report.requests) == (1, 1, 2)


@pytest.mark.parametrize("kind", ["loop_cell", "loop_cell_creep", "loop_char"])
def test_other_loops_are_cut(fast, fake, kind):
    fake.faults = FaultPlan(by_page={0: [kind]})
    docs = load(fast).load()
    assert got(docs) == expected()
    assert fake.chat_requests[0].disconnected


def test_persistent_loop_keeps_what_came_and_reads_only_the_rest(fast, fake):
    # The table loops, then the re-ask loops on a cell: the cells before the loop are kept and
    # only the ink no cell covers is read again, in parts, not the whole page region by region.
    fake.faults = FaultPlan(by_page={0: ["loop_table", "loop_table"]})
    loader = load(fast)
    docs = loader.load()
    assert got(docs) == expected()
    modes = [r.prompt_mode for r in fake.chat_requests]
    assert "prompt_grounding_ocr" not in modes and modes.count("prompt_layout_only_en") <= 1
    parts = [r for r in fake.chat_requests[2:] if r.prompt_mode == "prompt_layout_all_en"]
    assert parts and all(r.image_size != fake.chat_requests[0].image_size for r in parts)
    assert loader.reports["f.pdf"].pages_tiled == 1
    ways = {d.metadata["category"]: d.metadata["extraction"] for d in docs}
    assert ways["Title"] == "layout" and ways["Footnote"] == "tiled"
    for d in docs:  # boxes read in a part still map to points
        assert 0 <= d.metadata["bbox"][0] < d.metadata["bbox"][2] <= 612


def test_a_loop_that_holds_every_cell_needs_nothing_more(fast, fake):
    # loop_cell repeats a whole cell after all the others: every element came back, so the
    # page is whole without another request once no ink is left unread.
    fake.faults = FaultPlan(by_page={0: ["loop_table", "loop_cell"]})
    docs = load(fast).load()
    assert got(docs) == expected()
    assert len(fake.chat_requests) == 2


def test_whole_page_ocr_only_when_nothing_with_boxes_came_back(fast, fake):
    # Every layout answer is prose (a server without --chat-template-content-format string):
    # no cell with a box anywhere, so the page's plain text is the last resort.
    fake.faults = FaultPlan(by_page={0: ["garbled"] * 4 + ["ok"], None: ["garbled"] * 40})
    (doc,) = load(fast).load()
    assert doc.metadata["extraction"] == "ocr" and doc.metadata["category"] == "Text"
    assert "Text block 0." in doc.page_content and "x_{0}" in doc.page_content
    assert doc.metadata["bbox"] == [0.0, 0.0, 612.0, 792.0]


def test_salvaged_cells_when_nothing_is_complete(fast, fake):
    # The answer is cut and every part of the page fails: the cut answer's cells are kept.
    # Each failed part is a share of the page lost: marked after the page's cells.
    fake.faults = FaultPlan(by_page={0: ["truncate"] + ["http_400"] * 20, None: ["http_400"] * 50})
    docs = load(fast, on_error="mark").load()
    read = [d for d in docs if d.metadata["category"] != "Error"]
    marks = docs[len(read):]
    assert read and {d.metadata["extraction"] for d in read} == {"salvaged"}
    assert set(got(read)) < set(expected())  # a true subset: nothing invented
    assert marks and all(d.metadata["category"] == "Error" and "HTTP 400" in d.metadata["error"]
                         for d in marks)


def test_salvaged_cells_come_out_before_the_raise(fast, fake):
    fake.faults = FaultPlan(by_page={0: ["truncate"] + ["http_400"] * 20, None: ["http_400"] * 50})
    read = []
    with pytest.raises(DotsOCRError, match=r"f\.pdf, page 1 of 1.*HTTP 400"):
        for doc in load(fast).lazy_load():
            read.append(doc)
    assert read and set(got(read)) < set(expected())


@pytest.mark.parametrize("kind", ["invalid_json", "malformed_boxes", "empty"])
def test_invalid_answers_are_recovered(fast, fake, kind):
    fake.faults = FaultPlan(by_page={0: [kind]})
    docs = load(fast).load()
    assert got(docs) == expected()


@pytest.mark.parametrize("kind", ["duplicate", "fenced", "wrapped", "ascii_escape"])
def test_quirky_but_complete_answers_need_no_retry(fast, fake, kind):
    fake.faults = FaultPlan(by_page={0: [kind]})
    docs = load(fast).load()
    assert got(docs) == expected()
    assert len(fake.chat_requests) == 1


# -- transport -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    ["http_429", "http_500", "http_502", "http_503", "http_504", "drop_before", "drop_mid",
     "garbled_chunk", "error_chunk"],
)
def test_transport_faults_are_retried(fast, fake, kind):
    fake.faults = FaultPlan(by_page={0: [kind, kind]}, retry_after=0)
    loader = load(fast)
    assert got(loader.load()) == expected()
    assert len(fake.chat_requests) == 3
    assert loader.reports["f.pdf"].requests == 1  # transport retries are not content retries


def test_retry_after_is_honoured(fast, fake):
    fake.faults = FaultPlan(by_page={0: ["http_429"]}, retry_after=1)
    start = time.monotonic()
    load(fast).load()
    first, second = fake.chat_requests
    assert second.received_at - first.received_at >= 0.9
    assert time.monotonic() - start >= 0.9


def test_silence_mid_answer_hits_the_read_timeout_and_is_retried(fast, fake):
    # A stall far longer than any loaded machine's delay: the run took the timeout, not it
    # (the double's stall ends when the client leaves).
    fake.faults = FaultPlan(by_page={0: ["stall_mid"]}, hang_seconds=120)
    start = time.monotonic()
    docs = load(fast, read_timeout=0.5).load()
    assert got(docs) == expected()
    assert len(fake.chat_requests) == 2 and fake.chat_requests[0].disconnected
    assert time.monotonic() - start < 60


def test_waiting_for_the_first_token_is_not_a_timeout_while_the_server_is_healthy(fast, fake):
    # Before its first token a request may sit in vLLM's queue: neither read_timeout nor
    # page_timeout fires while GET /health answers 200.
    fake.faults = FaultPlan(by_page={0: ["hang"]}, hang_seconds=2)
    docs = load(fast, read_timeout=0.5, page_timeout=0.5).load()
    assert got(docs) == expected()
    assert {d.metadata["extraction"] for d in docs} == {"layout"}
    assert len(fake.chat_requests) == 1
    health = [r for r in fake.requests if r.path == "/health"]
    assert health and all(r.status == 200 for r in health)


def test_a_request_stuck_on_a_server_whose_health_fails_is_sent_again(fast, fake):
    fake.faults = FaultPlan(by_page={0: ["hang"]}, hang_seconds=120)

    def die_until_health_is_asked() -> None:
        while not fake.chat_requests:
            time.sleep(0.01)
        fake.dead = True  # the engine dies while the request waits for its first token
        while not any(r.path == "/health" and r.status == 503 for r in fake.requests):
            time.sleep(0.01)
        fake.dead = False  # and comes back (vLLM restarted by its supervisor)

    threading.Thread(target=die_until_health_is_asked, daemon=True).start()
    start = time.monotonic()
    docs = load(fast, read_timeout=0.5).load()
    assert got(docs) == expected()
    assert time.monotonic() - start < 60  # not the hang's 120 s
    assert fake.chat_requests[0].disconnected
    assert [r.status for r in fake.requests if r.path == "/health"].count(503) >= 1


def test_page_deadline_counts_from_the_first_token_and_sends_the_page_to_the_fallbacks(
    fast, fake
):
    fake.faults = FaultPlan(by_page={0: ["stall_mid"]}, hang_seconds=5)
    docs = load(fast, page_timeout=0.7, read_timeout=30).load()
    assert got(docs) == expected()
    assert {d.metadata["extraction"] for d in docs} == {"retried"}


# -- policies and clear errors ---------------------------------------------------------------

BAD = {1: ["http_503"] * 10}


def three_pages():
    return [sample_page(0), sample_page(1), sample_page(2)]


def test_on_error_raise_names_source_and_page(fast, fake):
    fake.faults = FaultPlan(by_page=BAD, retry_after=0)
    with pytest.raises(ServerError, match=r"f\.pdf, page 2 of 3 \(page=1\).*503"):
        load(fast, three_pages(), max_retries=3).load()


def test_on_error_skip_keeps_every_other_page(fast, fake, caplog):
    fake.faults = FaultPlan(by_page=BAD, retry_after=0)
    loader = load(fast, three_pages(), max_retries=3, on_error="skip")
    with caplog.at_level(logging.WARNING, logger="langchain_dotsocr"):
        docs = loader.load()
    assert got(docs) == sorted(expected(sample_page(0), 0) + expected(sample_page(2), 2))
    assert any("page=1" in r.getMessage() for r in caplog.records)
    report = loader.reports["f.pdf"]
    assert (report.pages_done, report.pages_failed) == (2, 1)


def test_on_error_mark_yields_an_error_document(fast, fake):
    fake.faults = FaultPlan(by_page=BAD, retry_after=0)
    docs = load(fast, three_pages(), max_retries=3, on_error="mark").load()
    (error,) = [d for d in docs if d.metadata["category"] == "Error"]
    assert error.metadata["page"] == 1 and "503" in error.metadata["error"]
    assert [d.metadata["page"] for d in docs] == sorted(d.metadata["page"] for d in docs)


def test_unreachable_server_names_url_and_compose_file(fast):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ServerUnreachableError, match="docker-compose-vllm.yml") as err:
        load(fast | {"base_url": url}, on_error="skip").load()
    assert url in str(err.value)


def test_refused_key_is_not_echoed(fast, fake):
    fake.api_key = "right-key"
    with pytest.raises(AuthenticationError) as err:
        load(fast, api_key="wrong-key-123", on_error="mark").load()
    assert "wrong-key-123" not in str(err.value) and "401" in str(err.value)
    docs = load(fast, api_key="right-key").load()
    assert got(docs) == expected()


def test_every_error_is_a_dotsocr_error():
    assert issubclass(ContextLengthError, DotsOCRError)
    assert issubclass(ServerUnreachableError, DotsOCRError)


def test_other_400_is_raised_with_the_server_message_source_and_page(fast, fake):
    fake.faults = FaultPlan(by_page={1: ["http_400"]})
    with pytest.raises(ServerError, match=r"f\.pdf, page 2 of 3 \(page=1\): HTTP 400: Failed to load image"):
        load(fast, three_pages()).load()
    fake.reset()
    fake.faults = FaultPlan(by_page={1: ["http_400"]})
    docs = load(fast, three_pages(), on_error="skip").load()
    assert {d.metadata["page"] for d in docs} == {0, 2}


def test_a_failing_fallback_keeps_the_salvaged_cells(fast, fake):
    fake.faults = FaultPlan(
        by_page={0: ["loop_table", "loop_table"] + ["http_400"] * 20, None: ["http_400"] * 50}
    )
    docs = load(fast, on_error="skip").load()  # the failed parts are logged
    assert docs and {d.metadata["extraction"] for d in docs} == {"salvaged"}
    assert set(got(docs)) < set(expected())


def test_parts_of_a_page_do_not_outlive_their_run(fast, fake):
    import asyncio

    # Page 0 is ordinary; page 1 is cut, and every part of it hangs. Stopping after the first
    # Document cancels page 1's parts: no task is left, the hung requests are dropped.
    # (Attempt 1 is the page's layout_only skeleton; then its parts.)
    fake.faults = FaultPlan(by_page={1: ["truncate", "ok"] + ["hang"] * 20, None: ["hang"] * 50},
                            hang_seconds=30)
    # Page 0 prints no page number: a number that no earlier page confirms would
    # make page 0 wait for page 1 (page labels), and page 1 never comes.
    fake.texts = {("Page-footer", 0): "ACME", ("Page-header", 0): "Annual Report"}

    def parts_hang():
        return any(r.fault == "hang" and r.image_size != (1708, 2212) for r in fake.chat_requests)

    async def run():
        stream = load(fast, [sample_page(0), sample_page(1)], max_concurrency=4).alazy_load()
        first = await anext(stream)
        deadline = asyncio.get_running_loop().time() + 60  # a poll, however loaded the machine
        while not parts_hang() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)  # until page 1's parts are in flight
        await stream.aclose()
        await asyncio.sleep(0.05)  # let finalizers scheduled by the loop finish
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        return first, others

    first, others = asyncio.run(run())
    assert first.metadata["page"] == 0 and others == []
    hung = [r for r in fake.chat_requests if r.fault == "hang"]
    assert any(r.image_size != (1708, 2212) for r in hung)  # parts of the page were in flight
    import time

    deadline = time.monotonic() + 60  # a poll: as long as a loaded machine needs
    while not all(r.disconnected for r in hung) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(r.disconnected for r in hung)


def test_server_gone_mid_run_stops_the_run_under_any_policy(fast):
    from tests.fakevllm import FakeVLLM, serve

    pdf = make_pdf([sample_page(i) for i in range(6)])
    with pytest.raises(ServerUnreachableError, match="docker-compose-vllm.yml"):
        with serve(FakeVLLM()) as url:
            docs = DotsOCRLoader(pdf, base_url=url, on_error="skip", retry_backoff=0.01,
                                 max_concurrency=1).lazy_load()
            next(docs)
        for _ in docs:  # the server is gone now
            pass
