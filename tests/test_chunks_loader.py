"""mode="chunk" in the loader, the parser, the command line and Ray: the chunker's grouping
over the elements the run reads, streamed, with ids that hold across an edit of the file."""

from __future__ import annotations

import asyncio
import json

from langchain_dotsocr import DotsOCRChunker, DotsOCRLoader, DotsOCRSettings
from langchain_dotsocr.cli import main
from tests.fakevllm import Box, PageSpec, make_pdf, sample_page


def test_mode_chunk_is_the_chunker_over_the_elements_sync_and_async(fast, pdf):
    elements = DotsOCRLoader(pdf, dpi=72, **fast).load()
    chunks = DotsOCRLoader(pdf, mode="chunk", chunk_size=80, dpi=72, **fast).load()

    async def run():
        loader = DotsOCRLoader(pdf, mode="chunk", chunk_size=80, dpi=72, **fast)
        return [c async for c in loader.alazy_load()]

    assert chunks == list(DotsOCRChunker(chunk_size=80).transform_documents(elements))
    assert asyncio.run(run()) == chunks
    assert len(chunks) > 2 and {c.metadata["category"] for c in chunks} == {"Chunk"}
    furniture = {d.id for d in elements if d.metadata["category"] in ("Page-header", "Page-footer")}
    assert furniture and not furniture & {i for c in chunks for i in c.metadata["element_ids"].split(",")}


def test_chunk_mode_refuses_a_prompt_without_layout():
    import pytest

    with pytest.raises(ValueError, match="layout_all"):
        DotsOCRSettings(mode="chunk", prompt_mode="ocr")


def test_an_edited_page_leaves_the_other_pages_chunk_ids(fast):
    pages = [sample_page(i) for i in range(3)]
    before = make_pdf(pages)
    other = PageSpec(612, 792, (Box("Title", 5, 72, 60, 540, 100), Box("Text", 9, 72, 120, 540, 200)))
    edited = make_pdf([*pages[:2], other])  # the third page replaced
    load = lambda data: DotsOCRLoader(data, name="r.pdf", mode="chunk", dpi=72, **fast).load()  # noqa: E731
    a, b = load(before), load(edited)
    kept = {c.id for c in a if c.metadata["page_end"] < 2}
    assert kept and kept <= {c.id for c in b}
    texts = {c.page_content for c in a}
    changed = {c.id for c in b if c.metadata["page"] == 2 and c.page_content not in texts}
    assert changed and changed.isdisjoint({c.id for c in a})


def test_parse_mode_chunk_writes_the_loaders_chunks(fast, pdf, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DOTSOCR_BASE_URL", fast["base_url"])
    out = tmp_path / "chunks.jsonl"
    assert main(["parse", str(pdf), "--mode", "chunk", "--chunk-size", "100", "--dpi", "72", "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    chunks = DotsOCRLoader(pdf, mode="chunk", chunk_size=100, dpi=72, **fast).load()
    assert [(r["page_content"], r["metadata"]) for r in records] == [
        (c.page_content, c.metadata) for c in chunks
    ]
