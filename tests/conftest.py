"""Shared fixtures: the vLLM double on a real local port, and test documents."""

from __future__ import annotations

import pytest

from tests.fakevllm import FakeVLLM, make_pdf, sample_page, serve


@pytest.fixture(scope="session")
def _server():
    fake = FakeVLLM()
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def fake(_server):
    """The double, reset to a plain dots.ocr server before each test."""
    fake, url = _server
    fake.reset()
    defaults = FakeVLLM()
    for name in (
        "model_id",
        "max_model_len",
        "api_key",
        "context_error_style",
        "accept_overlong_with_length",
        "latency",
        "faults",
        "strict",
        "root",
        "texts",
        "metrics",
        "dead",
    ):
        setattr(fake, name, getattr(defaults, name))
    return fake


@pytest.fixture
def base_url(_server, fake):
    return _server[1]


@pytest.fixture
def fast(base_url):
    """Loader options for tests: the double's URL and short retry pauses."""
    return {"base_url": base_url, "retry_backoff": 0.01, "max_concurrency": 4}


@pytest.fixture
def pdf(tmp_path):
    """A two-page PDF of the double's sample pages, on disk."""
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    return path
