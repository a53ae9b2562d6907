"""Shared fixtures: the vLLM double on a real local port, the local Ray session, test
documents; and how the two xdist workers share the suite (see :func:`_group`)."""

from __future__ import annotations

import pytest

from tests.fakevllm import FakeVLLM, make_pdf, sample_page, serve


# The group that runs first: Ray's tests (and the README's Ray block) share one local Ray
# session, and are the suite's longest group; started first, the other worker takes the rest.
FIRST = "ray"


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups in the test ids
def pytest_collection_modifyitems(config, items):
    """Each test joins its file's xdist group unless it names its own (``--dist loadgroup``:
    a group runs on one worker, so a file's module fixtures are made once, as with
    ``loadfile``; a slow file may put some of its tests in a group of their own). Ray's group
    goes first."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.path.name))
    items.sort(key=lambda item: _group(item) != FIRST)


def _group(item) -> str:
    return next(item.iter_markers("xdist_group")).args[0]


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for every test that uses Ray (two CPUs, no dashboard), its shuffles sized
    for two CPUs: Ray Data's default of 200 partitions a groupby (``document_rows``) is made
    for a cluster, and costs a local session most of a test's time; the rows are the same."""
    ray = pytest.importorskip("ray")
    import ray.data

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.default_hash_shuffle_parallelism = 2
    context.enable_progress_bars = False
    yield
    ray.shutdown()


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
        "noise",
        "table_grounding",
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
