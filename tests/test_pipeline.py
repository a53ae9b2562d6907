"""The run itself: a failure that is not a document's fails loudly instead of hanging."""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRLoader, DotsOCRParser


class Exploding:
    """A blob-like source whose reading fails with an error that is not about the document."""

    source = "exploding.pdf"

    def as_bytes(self) -> bytes:
        raise RuntimeError("disk controller on fire")


@pytest.mark.timeout(30)
def test_unexpected_error_while_reading_propagates(fast):
    with pytest.raises(RuntimeError, match="on fire"):
        list(DotsOCRParser(**fast).lazy_parse_many([Exploding()]))  # type: ignore[list-item]


class Stop(Exception):
    """Stands for Ctrl-C (pytest reserves KeyboardInterrupt for itself)."""


@pytest.mark.timeout(60)
def test_interrupting_lazy_load_cancels_the_run(fast, fake):
    import signal
    import threading
    import time

    from tests.fakevllm import FaultPlan, make_pdf, sample_page

    fake.faults = FaultPlan(by_page={0: ["hang"]}, hang_seconds=120)

    def interrupt(*_):
        if not fake.chat_requests:  # a loaded machine: interrupt once the request hangs
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            return
        raise Stop

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    start = time.monotonic()
    try:
        with pytest.raises(Stop):  # the caller's own exception, not a cleanup error
            for _ in DotsOCRLoader(make_pdf([sample_page(0)]), **fast).lazy_load():
                pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 60  # not the hang's 120 s
    assert not [t for t in threading.enumerate() if t.name.startswith("dotsocr-loop")]
    deadline = time.monotonic() + 60  # a poll: as long as a loaded machine needs
    while not fake.chat_requests[0].disconnected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.chat_requests[0].disconnected  # the hung request was cancelled, not left


def test_pdfium_is_never_entered_from_two_threads_at_once():
    import subprocess
    import sys

    script = """
import sys, threading
sys.path.insert(0, '.')
from tests.fakevllm import make_pdf, sample_page
from langchain_dotsocr.pages import Geometry, open_pages
data = make_pdf([sample_page(i) for i in range(6)], kind="vector")
def work():
    for _ in range(3):
        doc = open_pages(data, "x.pdf")
        for i in range(doc.total):
            doc.render(i, Geometry(dpi=100))
        doc.close()
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("ok")
"""
    for _ in range(2):  # without the lock this crashed PDFium about one run in three
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-500:]


def test_a_cache_that_cannot_be_written_costs_only_the_cache(fast, fake, tmp_path, caplog):
    import shutil

    from tests.fakevllm import make_pdf, sample_page

    pdf = make_pdf([sample_page(0), sample_page(1)])
    cache = tmp_path / "cache"
    DotsOCRLoader(pdf, cache_dir=cache, **fast).load()
    shards = [p.name for p in cache.iterdir()]
    shutil.rmtree(cache)
    cache.mkdir()
    for shard in shards:  # a file where each entry's folder must go: every write fails
        (cache / shard).write_text("in the way")
    with caplog.at_level("WARNING", logger="langchain_dotsocr"):
        docs = DotsOCRLoader(pdf, cache_dir=cache, **fast).load()
    assert {d.metadata["page"] for d in docs} == {0, 1}
    assert sum("not cached" in r.getMessage() for r in caplog.records) == 2
