"""The double's /health and /metrics, its dead engine and its kill/restart, as vLLM's."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from tests.fakevllm import FakeVLLM, LatencyModel, make_pdf, render_page, sample_page, serve
from tests.test_fakevllm import body, conforming_size, png_bytes

GAUGE = re.compile(r'^(vllm:\w+)\{engine="0",model_name="([^"]+)"\} ([0-9.]+)$', re.M)


@pytest.fixture(scope="module")
def page_png() -> bytes:
    image = render_page(make_pdf([sample_page(3)]), 0, 100)
    return png_bytes(image.resize(conforming_size(*image.size)))


def gauges(root: str) -> dict[str, float]:
    response = httpx.get(root + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {name: float(v) for name, model, v in GAUGE.findall(response.text)}


def test_metrics_report_running_and_waiting_while_requests_queue(page_png: bytes) -> None:
    fake = FakeVLLM(latency=LatencyModel(slots=2, prefill_tokens_per_s=1e6, decode_tokens_per_s=400))
    with serve(fake) as url:
        root = url.removesuffix("/v1")
        idle = gauges(root)
        assert idle["vllm:num_requests_running"] == 0 and idle["vllm:num_requests_waiting"] == 0
        threads = [
            threading.Thread(target=httpx.post, args=(url + "/chat/completions",),
                             kwargs={"json": body(page_png), "timeout": 30})
            for _ in range(5)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60  # a poll: as long as a loaded machine needs
        busy = gauges(root)
        while busy["vllm:num_requests_waiting"] < 3 and time.monotonic() < deadline:
            busy = gauges(root)
        assert busy["vllm:num_requests_running"] == 2
        assert busy["vllm:num_requests_waiting"] == 3
        assert busy["vllm:kv_cache_usage_perc"] == 1.0
        for t in threads:
            t.join(30)
        text = httpx.get(root + "/metrics").text
    assert fake.max_waiting == 3
    done = re.search(r'request_success_total\{engine="0",finished_reason="stop",model_name="'
                     r'rednote-hilab/dots.ocr"\} ([0-9.]+)', text)
    assert done and float(done.group(1)) == 5
    prompt = re.search(r"^vllm:prompt_tokens_total\{[^}]*\} ([0-9.]+)$", text, re.M)
    assert prompt and float(prompt.group(1)) == sum(r.prompt_tokens or 0 for r in fake.chat_requests)


def test_metrics_can_be_hidden(page_png: bytes) -> None:
    with serve(FakeVLLM(metrics=False)) as url:
        assert httpx.get(url.removesuffix("/v1") + "/metrics").status_code == 404


def test_a_dead_engine_fails_health_and_requests(page_png: bytes) -> None:
    fake = FakeVLLM()
    with serve(fake) as url:
        root = url.removesuffix("/v1")
        assert httpx.get(root + "/health").status_code == 200
        fake.dead = True
        assert httpx.get(root + "/health").status_code == 503
        assert httpx.post(url + "/chat/completions", json=body(page_png)).status_code == 500
        fake.dead = False
        assert httpx.get(root + "/health").status_code == 200
        assert httpx.post(url + "/chat/completions", json=body(page_png)).status_code == 200


def test_kill_refuses_and_resets_then_restart_serves_on_the_same_port(page_png: bytes) -> None:
    fake = FakeVLLM(latency=LatencyModel(slots=4, decode_tokens_per_s=50))
    with serve(fake) as url:
        errors: list[BaseException] = []

        def slow() -> None:
            try:
                httpx.post(url + "/chat/completions", json=body(page_png), timeout=30)
            except httpx.TransportError as exc:
                errors.append(exc)

        thread = threading.Thread(target=slow)
        thread.start()
        while not fake.chat_requests:
            time.sleep(0.01)
        fake.kill()
        thread.join(10)
        assert errors and isinstance(errors[0], (httpx.RemoteProtocolError, httpx.ReadError))
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/models")
        fake.restart()
        assert fake.base_url == url
        assert httpx.get(url + "/models").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models")
