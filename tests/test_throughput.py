"""Concurrency, ordering, the page cache and the image format (behaviour, not timing)."""

from __future__ import annotations

import asyncio
import json

from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import FaultPlan, LatencyModel, make_pdf, sample_page


def keys(docs):
    return [(d.metadata["source"], d.metadata["page"], d.metadata.get("element_index")) for d in docs]


def test_requests_overlap_up_to_max_concurrency_and_order_is_kept(fast, fake, tmp_path):
    # Uneven answers: later pages finish first.
    fake.latency = LatencyModel(slots=64, decode_tokens_per_s=4000)
    fake.faults = FaultPlan(by_page={0: ["hang"], 3: ["hang"]}, hang_seconds=0.6)
    pdfs = []
    for name in ("a.pdf", "b.pdf"):
        pdfs.append(tmp_path / name)
        pdfs[-1].write_bytes(make_pdf([sample_page(i) for i in range(6)]))
    docs = DotsOCRLoader(pdfs, dpi=72, **(fast | {"max_concurrency": 5})).load()
    assert keys(docs) == sorted(keys(docs), key=lambda k: (str(k[0]), k[1], k[2]))
    assert len({(k[0], k[1]) for k in keys(docs)}) == 12
    assert 2 <= fake.max_concurrency <= 5
    # Pages of the second file were in flight while the first file's slow page waited.
    finished_a0 = max(r.finished_at for r in fake.chat_requests if r.page == 0)
    assert min(r.received_at for r in fake.chat_requests) < finished_a0


def test_alazy_load_is_concurrent(fast, fake):
    # Each answer takes about a second, so requests overlap even when rendering is slow.
    fake.latency = LatencyModel(slots=64, decode_tokens_per_s=300)
    pdf = make_pdf([sample_page(i) for i in range(8)])

    async def run():
        return [d async for d in DotsOCRLoader(pdf, dpi=72, **(fast | {"max_concurrency": 8})).alazy_load()]

    docs = asyncio.run(run())
    assert [d.metadata["page"] for d in docs] == sorted(d.metadata["page"] for d in docs)
    assert fake.max_concurrency >= 3


def test_cache_second_run_sends_no_request(fast, fake, tmp_path):
    pdf = make_pdf([sample_page(i) for i in range(3)])
    first_loader = DotsOCRLoader(pdf, name="c.pdf", cache_dir=tmp_path / "cache", **fast)
    first = first_loader.load()
    assert len(fake.chat_requests) == 3
    fake.reset()
    again = DotsOCRLoader(pdf, name="renamed.pdf", cache_dir=tmp_path / "cache", **fast)
    second = again.load()
    assert fake.chat_requests == []
    assert [(d.page_content, d.metadata["bbox"]) for d in second] == [
        (d.page_content, d.metadata["bbox"]) for d in first
    ]
    assert {d.metadata["source"] for d in second} == {"renamed.pdf"}
    assert again.reports["renamed.pdf"].pages_cached == 3
    # A setting that changes the answer is part of the key.
    DotsOCRLoader(pdf, cache_dir=tmp_path / "cache", temperature=0.2, **fast).load()
    assert len(fake.chat_requests) == 3


def test_cache_resumes_an_interrupted_run(fast, fake, tmp_path):
    pdf = make_pdf([sample_page(i) for i in range(6)])
    loader = DotsOCRLoader(pdf, cache_dir=tmp_path, **(fast | {"max_concurrency": 1}))
    for doc in loader.lazy_load():
        if doc.metadata["page"] == 2:
            break  # interrupted after page 2 began to come out
    answered = {
        r.page for r in fake.chat_requests if r.finish_reason == "stop" and not r.disconnected
    }
    fake.reset()
    docs = DotsOCRLoader(pdf, cache_dir=tmp_path, **fast).load()
    asked = {r.page for r in fake.chat_requests if r.status == 200}
    # Pages that came out are not asked again, a page never answered is. A page answered just
    # as the run stopped may or may not have reached the cache: either is right. (A request the
    # interrupted run was still writing may reach the double after the reset: it is no page's.)
    assert {0, 1, 2} <= answered
    assert asked.isdisjoint({0, 1, 2})
    assert set(range(6)) - answered <= asked
    assert sorted({d.metadata["page"] for d in docs}) == list(range(6))
    assert len(list(tmp_path.rglob("*.json"))) == 6


def test_cache_skips_salvaged_pages_and_damaged_entries(fast, fake, tmp_path):
    # Page 0 is cut and every part of it fails: salvaged.
    fake.faults = FaultPlan(by_page={0: ["truncate"] + ["http_400"] * 9, None: ["http_400"] * 9})
    pdf = make_pdf([sample_page(0), sample_page(1)])
    DotsOCRLoader(pdf, cache_dir=tmp_path, on_error="skip", **fast).load()
    entries = sorted(tmp_path.rglob("*.json"))
    assert len(entries) == 1  # page 1 only: the salvaged page 0 is tried again next time
    entries[0].write_text("{not json")
    fake.reset()
    fake.faults = None
    docs = DotsOCRLoader(pdf, cache_dir=tmp_path, **fast).load()
    assert {r.page for r in fake.chat_requests} == {0, 1}
    assert {d.metadata["extraction"] for d in docs} == {"layout"}
    assert all(json.loads(p.read_text()) for p in tmp_path.rglob("*.json"))
    assert not list(tmp_path.rglob(".tmp-*"))


def test_jpeg_option_sends_jpeg_and_keeps_boxes(fast, fake):
    docs = DotsOCRLoader(make_pdf([sample_page(0)]), image_format="jpeg", **fast).load()
    (req,) = fake.chat_requests
    assert req.image_format == "JPEG"
    title = next(d for d in docs if d.metadata["category"] == "Title")
    assert [round(v) for v in title.metadata["bbox"]] == [72, 72, 540, 104]


def test_progress_bar_counts_pages(fast, capsys):
    pdf = make_pdf([sample_page(i) for i in range(3)])
    DotsOCRLoader(pdf, show_progress=True, **fast).load()
    err = capsys.readouterr().err
    assert "3/3" in err and "page" in err


def test_two_processes_share_a_cache_directory(base_url, fake, tmp_path):
    import subprocess
    import sys

    pdf = tmp_path / "shared.pdf"
    pdf.write_bytes(make_pdf([sample_page(i) for i in range(6)]))
    cache = tmp_path / "cache"
    script = (
        "import sys; from langchain_dotsocr import DotsOCRLoader; "
        "docs = DotsOCRLoader(sys.argv[1], base_url=sys.argv[2], cache_dir=sys.argv[3]).load(); "
        "print(len(docs))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(pdf), base_url, str(cache)],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] == str(6 * len(sample_page(0).boxes))
    entries = list(cache.rglob("*.json"))
    assert len(entries) == 6 and all(json.loads(e.read_text())["elements"] for e in entries)
    assert not list(cache.rglob(".tmp-*"))
    fake.reset()
    DotsOCRLoader(pdf, base_url=base_url, cache_dir=cache).load()
    assert fake.chat_requests == []
