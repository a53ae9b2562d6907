"""The Ray Data module end to end: local Ray on CPU (one session for all these tests) against
two doubles, with a failing page and a file that is not a document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

ray = pytest.importorskip("ray")

from langchain_dotsocr import DotsOCRLoader  # noqa: E402
from langchain_dotsocr.ray_data import (  # noqa: E402
    document_rows,
    documents,
    engine_request,
    read_pages,
    render_pages,
    result_of_answer,
)
from langchain_dotsocr.settings import DotsOCRSettings  # noqa: E402
from tests.fakevllm import FakeVLLM, FaultPlan, make_pdf, sample_page, serve  # noqa: E402

PAGES = 6
BAD_PAGE = 4  # the doubles refuse its image with a 400: a page that fails


# One worker runs these with the README's Ray block, in one Ray session (conftest's
# ray_session); Ray is slow to start and to run a pipeline, more so on a busy machine.
pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def two_doubles():
    plan = {BAD_PAGE: ["http_400"] * 20}
    fakes = [FakeVLLM(faults=FaultPlan(by_page=plan)) for _ in range(2)]
    with serve(fakes[0]) as a, serve(fakes[1]) as b:
        yield fakes, [a, b]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray-in")
    (root / "book.pdf").write_bytes(make_pdf([sample_page(i) for i in range(PAGES)]))
    (root / "notes.pdf").write_bytes(b"this is not a PDF")
    return root


@pytest.fixture(scope="module")
def results(ray_session, two_doubles, folder):
    fakes, urls = two_doubles
    for fake in fakes:
        fake.reset()
    ds = read_pages(str(folder), base_url=urls, dpi=72, retry_backoff=0.01, actors=2)
    return ds.materialize()


def test_pages_are_spread_over_both_servers_and_failures_are_rows(results, two_doubles, folder):
    fakes, urls = two_doubles
    rows = sorted(results.take_all(), key=lambda r: (r["source"], r["page"]))
    assert all("image" not in r for r in rows)  # result rows carry no image
    book = [r for r in rows if r["source"].endswith("book.pdf")]
    assert [r["page"] for r in book] == list(range(PAGES))
    failed = {r["page"]: r for r in book if r["error"]}
    assert set(failed) == {BAD_PAGE}
    assert "HTTP 400" in failed[BAD_PAGE]["error"] and "base64" not in failed[BAD_PAGE]["error"]
    (notes,) = [r for r in rows if r["source"].endswith("notes.pdf")]
    assert notes["page"] == -1 and notes["error_type"] == "DocumentError"
    by_server: dict[str, int] = {}
    for r in book:
        if r["result"]:
            for url, n in json.loads(r["result"])["requests_by_server"].items():
                by_server[url] = by_server.get(url, 0) + n
    assert set(by_server) == set(urls)  # both servers read pages
    assert sum(by_server.values()) + 2 >= PAGES - 1


def test_documents_on_the_driver_are_the_loaders(results, two_doubles, folder):
    _, urls = two_doubles
    docs = list(documents(results, on_error="mark"))
    book = str(folder / "book.pdf")
    loader = DotsOCRLoader(book, base_url=urls, dpi=72, retry_backoff=0.01, on_error="mark")
    want = [d for d in loader.load()]
    got = [d for d in docs if d.metadata["source"] == book]
    assert [(d.page_content, d.metadata) for d in got] == [(d.page_content, d.metadata) for d in want]
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    assert {(d.metadata["source"].rsplit("/", 1)[1], d.metadata["page"]) for d in errors} == {
        ("book.pdf", BAD_PAGE), ("notes.pdf", -1)
    }
    with pytest.raises(Exception, match="HTTP 400"):
        list(documents(results))  # on_error="raise", the default, raises on the driver


def test_document_rows_are_written_by_ray(results, tmp_path):
    out = tmp_path / "docs"
    document_rows(results).write_json(str(out))
    rows = [json.loads(line) for f in sorted(out.iterdir()) for line in f.read_text().splitlines()]
    text = [r for r in rows if r["category"] not in ("Error",)]
    assert {r["page"] for r in text} == set(range(PAGES)) - {BAD_PAGE}
    assert all(len(r["bbox"]) == 4 and r["page_content"] is not None for r in text)
    assert sum(r["category"] == "Error" for r in rows) == 2


def test_the_answer_to_records_step_for_engines_in_the_cluster(two_doubles, folder):
    import httpx

    from langchain_dotsocr.prompts import prompt_text

    settings = DotsOCRSettings(dpi=72, model="rednote-hilab/dots.ocr", text_layer="off")
    from langchain_dotsocr.pages import Geometry

    row = {"bytes": (folder / "book.pdf").read_bytes(), "path": "book.pdf"}
    page = render_pages(row, settings, Geometry(dpi=72))[0]
    assert page["layer"] is None  # "off": no layer read
    layered = settings.model_copy(update={"text_layer": "auto"})
    # One engine pass is the model's text: the layer's settings are refused, not misread.
    with pytest.raises(ValueError, match='text_layer="off"'):
        engine_request(page, layered)
    with pytest.raises(ValueError, match='text_layer="off"'):
        result_of_answer(page, "[]", layered)
    request = engine_request(page, settings)
    assert request["messages"][0]["content"][0]["image_url"]["url"] == page["image"]
    assert request["messages"][0]["content"][1]["text"] == prompt_text("layout_all", None)
    # An engine's generated_text (here the double's answer to the same messages) to records.
    _, urls = two_doubles
    body = {"model": settings.model, "messages": request["messages"], **request["sampling_params"]}
    answer = httpx.post(urls[0] + "/chat/completions", json=body, timeout=30).json()
    text = answer["choices"][0]["message"]["content"]
    out = result_of_answer(page, text, settings, settings.model)
    assert out["error"] is None and "image" not in out
    elements = json.loads(out["result"])["elements"]
    categories = sorted(e["category"] for e in elements)
    assert categories and "Page-footer" in categories
    broken = result_of_answer(page, "not json at all", settings)
    assert broken["error_type"] == "PageError" and broken["result"] is None


def test_the_example_writes_the_format_of_dotsocr_parse(ray_session, two_doubles, folder, tmp_path):
    import importlib.util
    from pathlib import Path

    from langchain_dotsocr.cli import main as dotsocr

    spec = importlib.util.spec_from_file_location(
        "ray_batch", Path(__file__).parent.parent / "examples" / "ray_batch.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    _, urls = two_doubles
    out = tmp_path / "ray.jsonl"
    argv = [str(folder), "--base-url", urls[0], "--base-url", urls[1], "-o", str(out)]
    assert example.main(argv) == 1  # a failed page and a broken file: named, exit code 1
    ours = out.read_text().splitlines()
    cli_out = tmp_path / "cli.jsonl"
    assert dotsocr(["parse", str(folder), "--base-url", urls[0], "--base-url", urls[1],
                    "-o", str(cli_out)]) == 1
    theirs = cli_out.read_text().splitlines()
    assert ours == theirs  # the same Documents, the same lines
    assert len(ours) > PAGES


def test_the_engine_recipe_turns_an_engines_row_into_a_result_row(two_doubles, folder):
    import importlib.util
    from pathlib import Path

    import httpx

    from langchain_dotsocr.pages import Geometry

    spec = importlib.util.spec_from_file_location(
        "ray_vllm_engines", Path(__file__).parent.parent / "examples" / "ray_vllm_engines.py"
    )
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)  # imports no ray.data.llm until main() runs
    row = {"bytes": (folder / "book.pdf").read_bytes(), "path": "book.pdf"}
    page = render_pages(row, recipe.SETTINGS, Geometry(dpi=72))[1]
    engine_row = recipe.preprocess(page)
    assert engine_row["sampling_params"]["max_tokens"] == recipe.SETTINGS.max_tokens
    _, urls = two_doubles
    body = {"model": recipe.MODEL, "messages": engine_row["messages"], "max_tokens": 4000}
    answer = httpx.post(urls[0] + "/chat/completions", json=body, timeout=30).json()
    engine_row |= {"generated_text": answer["choices"][0]["message"]["content"],
                   "num_generated_tokens": 10, "prompt": "..."}
    out = recipe.postprocess(engine_row)
    # A result row carries no pixels: neither the image nor the page's file (nor a layer).
    assert set(out) == {k for k in recipe_page_keys()
                        if k not in ("image", "page_file", "layer")} | {"result", "model"}
    assert json.loads(out["result"])["extraction"] == "layout"
    bad = recipe.unread(render_pages({"bytes": b"nope", "path": "x.pdf"}, recipe.SETTINGS,
                                     Geometry())[0])
    assert bad["error_type"] == "DocumentError" and bad["result"] is None and "image" not in bad


def recipe_page_keys():
    from langchain_dotsocr.ray_data import PAGE_ROW

    return PAGE_ROW


def test_error_rows_carry_neither_the_key_nor_the_image(two_doubles, folder):
    import asyncio
    import socket

    from langchain_dotsocr.pages import Geometry
    from langchain_dotsocr.ray_data import PageReader

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    secret = "sk-very-secret-key-123"
    settings = DotsOCRSettings(base_url=closed, api_key=secret, dpi=72, max_retries=1)
    row = {"bytes": (folder / "book.pdf").read_bytes(), "path": "book.pdf"}
    page = render_pages(row, settings, Geometry(dpi=72))[0]
    out = asyncio.run(PageReader(settings)(page))
    assert out["error_type"] == "ServerUnreachableError" and out["result"] is None
    text = json.dumps(out)
    assert secret not in text and "base64" not in text and "image" not in out
    # A key refused by a server: the error says so without echoing it.
    fakes, urls = two_doubles
    fakes[0].api_key = "the-real-key"
    try:
        refused = asyncio.run(PageReader(settings.model_copy(update={"base_url": urls[0]}))(page))
    finally:
        fakes[0].api_key = None
    assert refused["error_type"] == "AuthenticationError" and secret not in json.dumps(refused)



def test_captions_tables_across_pages_picture_text_crops_and_descriptions_reach_ray(
    ray_session, two_doubles, tmp_path
):
    from tests.fakevllm import Box, PageSpec, page_footer_box
    from tests.fakevllm.figures import FakeVisionModel, split_table
    from tests.test_crops import png, region_px

    fakes, urls = two_doubles
    specs, texts = split_table()
    texts[("Picture", 5)] = "North hub"
    figure = PageSpec(612, 792, (Box("Picture", 5, 72, 90, 300, 250),
                                 Box("Caption", 5, 72, 256, 300, 270), page_footer_box(7, 612, 792)))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "table.pdf").write_bytes(make_pdf(specs))
    (folder / "figure.pdf").write_bytes(make_pdf([figure]))
    for fake in fakes:
        fake.texts = texts
    try:
        options = {"base_url": urls, "dpi": 72, "retry_backoff": 0.01, "ocr_pictures": True,
                   "image_categories": ["Picture", "Table"]}
        # The describer is made in each actor (a chat model holding a client cannot be pickled).
        ray_crops, loader_crops = tmp_path / "ray-crops", tmp_path / "loader-crops"
        results = read_pages(str(folder), actors=2, describer=FakeVisionModel,
                             images=str(ray_crops), **options)
        docs = list(documents(results, images=str(ray_crops), **options))
        want = DotsOCRLoader(sorted(folder.iterdir()), images=str(loader_crops),
                             describe_pictures=FakeVisionModel(), **options).load()
    finally:
        for fake in fakes:
            fake.texts = {}

    def same_folder(doc):  # the crops' files are named alike in both folders
        path = doc.metadata["image_path"].replace(str(ray_crops), str(loader_crops))
        return doc.page_content, doc.metadata | {"image_path": path}

    assert [same_folder(d) for d in docs] == [(d.page_content, d.metadata) for d in want]
    (table,) = [d for d in docs if d.metadata["category"] == "Table"]
    assert table.metadata["pages"] == [0, 1]
    (picture,) = [d for d in docs if d.metadata["category"] == "Picture"]
    assert picture.metadata["caption"] == "Figure 5: caption."
    assert picture.metadata["picture_text"] == "North hub"
    # Cut at the render resolution from the page, and seen by the describer as what it is.
    x0, y0, x1, y1 = region_px(picture.metadata["bbox"], 612, 792, 72 / 72)
    assert png(picture).size == (x1 - x0, y1 - y0)
    assert picture.metadata["picture_description"] == (
        f"A picture of {x1 - x0}x{y1 - y0} px showing Picture 5."
    )
    cropped = [d for d in docs if d.metadata["image_path"]]
    assert {d.metadata["category"] for d in cropped} == {"Picture", "Table"}
    for doc, theirs in zip(cropped, [d for d in want if d.metadata["image_path"]], strict=True):
        assert png(doc).tobytes() == png(theirs).tobytes()
        assert Path(doc.metadata["image_path"]).parent == ray_crops.resolve()
    # Result rows carry the crops' place, never the page's pixels or file.
    rows = results.take_all()
    assert all("page_file" not in r and "image" not in r for r in rows)


def test_crops_as_base64_and_a_describer_that_cannot_be_made_on_an_actor(two_doubles, tmp_path):
    import asyncio
    import threading

    from langchain_dotsocr.pages import Geometry
    from langchain_dotsocr.ray_data import PageReader
    from langchain_dotsocr.ray_data.rows import page_result
    from tests.fakevllm.figures import figures_page

    fakes, urls = two_doubles
    spec, texts = figures_page()
    data = make_pdf([spec])
    options = {"base_url": urls[0], "dpi": 72, "images": "base64",
               "describe_pictures": lambda crop: f"{crop.width}x{crop.height}"}
    settings = DotsOCRSettings(**options)
    (page,) = render_pages({"bytes": data, "path": "f.pdf"}, settings, Geometry(dpi=72))
    assert page["page_file"]  # the page alone, for the actor to cut its crops from
    fakes[0].texts = texts
    try:
        out = asyncio.run(PageReader(settings, Geometry(dpi=72))(page))
        want = DotsOCRLoader(data, **options).load()
    finally:
        fakes[0].texts = {}
    figures = page_result(out).figures
    pictures = {d.metadata["element_index"]: d for d in want if d.metadata["category"] == "Picture"}
    assert pictures and set(figures) == set(pictures)
    for index, doc in pictures.items():
        assert figures[index].image_base64 == doc.metadata["image_base64"]
        assert figures[index].description == doc.metadata["picture_description"] != ""
    # A describer Ray cannot pickle is refused before anything runs, naming the way out.
    class Holding:
        def __init__(self):
            self.lock = threading.Lock()

        def __call__(self, crop):
            return "x"

    with pytest.raises(ValueError, match="describer="):
        read_pages(str(tmp_path), base_url=urls, describe_pictures=Holding())
    # One that fails to be made in the actor fails its pages as rows, the secrets masked.
    secret = "sk-very-secret-key-456"

    def broken():
        raise RuntimeError(f"401: key {secret} refused")

    keyed = settings.model_copy(update={"api_key": SecretStr(secret), "describe_pictures": None})
    row = asyncio.run(PageReader(keyed, Geometry(dpi=72), describer=broken)(page))
    assert row["error_type"] == "RuntimeError" and row["result"] is None
    assert secret not in json.dumps(row) and "401" in row["error"]


def test_chunk_mode_on_the_driver_is_the_chunker_over_its_elements(results):
    from langchain_dotsocr import DotsOCRChunker

    elements = list(documents(results, on_error="mark"))
    chunks = list(documents(results, on_error="mark", mode="chunk", chunk_size=100))
    assert chunks == list(DotsOCRChunker(chunk_size=100).transform_documents(elements))
    assert {c.metadata["category"] for c in chunks} == {"Chunk", "Error"}


def test_a_share_of_a_page_that_failed_follows_on_error_as_in_the_loader(ray_session, tmp_path):
    from langchain_dotsocr import DotsOCRError
    from tests.fakevllm.scene import Box, PageSpec, page_footer_box

    # The picture's grounding read is refused (400): the page comes out without its words.
    page = PageSpec(612, 792, (Box("Title", 1, 72, 40, 540, 70),
                               Box("Picture", 1, 72, 90, 300, 250), page_footer_box(0, 612, 792)))
    data = make_pdf([page, sample_page(1)])
    (tmp_path / "p.pdf").write_bytes(data)
    options = {"dpi": 72, "retry_backoff": 0.01, "ocr_pictures": True}

    def fake() -> FakeVLLM:
        # Page 0's layout is read, its picture's grounding read refused.
        return FakeVLLM(faults=FaultPlan(by_page={0: ["ok", "http_400"]}),
                        texts={("Picture", 1): "North hub"})

    with serve(fake()) as url:
        rows = read_pages(str(tmp_path), base_url=url, actors=1, **options).materialize()
    with serve(fake()) as url:
        want = DotsOCRLoader(str(tmp_path / "p.pdf"), base_url=url, on_error="mark",
                             **options).load()
    got = list(documents(rows, on_error="mark", **options))
    assert [d.metadata["category"] for d in got].count("Error") == 1
    assert [(d.page_content, d.metadata) for d in got] == [(d.page_content, d.metadata) for d in want]
    error = next(d for d in got if d.metadata["category"] == "Error")
    assert re.search(r"the text inside the Picture at box (\d+,){3}\d+ pt", error.metadata["error"])
    read = []
    with pytest.raises(DotsOCRError, match="p.pdf, page 1 of 2.*text inside the Picture"):
        for doc in documents(rows, **options):
            read.append(doc)
    assert [d.metadata["category"] for d in read] == [d.metadata["category"] for d in want
                                                       if d.metadata["page"] == 0
                                                       and d.metadata["category"] != "Error"]


def test_the_text_layer_travels_with_its_page_and_ray_gives_the_loaders_documents(
    ray_session, tmp_path
):
    from tests import textpdfs

    doc = textpdfs.report(2)
    (tmp_path / "report.pdf").write_bytes(doc.pdf)
    options = {"dpi": 72, "retry_backoff": 0.01}

    def same(docs):
        return [(d.page_content, d.metadata["text_source"], d.metadata["element_id"], d.id)
                for d in docs]

    got, want = {}, {}
    for mode in ("auto", "off"):
        fake = FakeVLLM()
        with serve(fake) as url:
            rows = read_pages(str(tmp_path), base_url=url, actors=1, text_layer=mode,
                              **options).materialize()
            prompts = sorted(r.prompt_mode for r in fake.chat_requests)
            fake.reset()
            want[mode] = DotsOCRLoader(str(tmp_path / "report.pdf"), base_url=url,
                                       text_layer=mode, **options).load()
            assert prompts == sorted(r.prompt_mode for r in fake.chat_requests)
        got[mode] = list(documents(rows, text_layer=mode, **options))
        assert all("layer" not in r and "image" not in r for r in rows.take_all())
    assert same(got["auto"]) == same(want["auto"])
    assert [(d.page_content, d.metadata) for d in got["auto"]] == [
        (d.page_content, d.metadata) for d in want["auto"]]
    # The words of the report's text elements are the file's, and the ids say so.
    layered = [d for d in got["auto"] if d.metadata["text_source"] == "layer"]
    assert layered and {d.metadata["category"] for d in layered} >= {"Text", "Page-footer"}
    truth = {text for page in doc.truths for text in page.values()}
    assert {d.page_content for d in layered if d.metadata["category"] == "Text"} <= truth
    assert same(got["off"]) == same(want["off"])
    assert {d.metadata["text_source"] for d in got["off"]} == {"model"}
    assert {d.id for d in got["off"]}.isdisjoint(d.id for d in got["auto"])


def test_a_pages_problems_travel_in_its_row_and_the_driver_logs_them(ray_session, caplog):
    import asyncio
    import logging

    from langchain_dotsocr.identity import answer_key
    from langchain_dotsocr.pipeline import geometry_for
    from langchain_dotsocr.ray_data import PageReader
    from langchain_dotsocr.ray_data.rows import page_result, result_json

    data = make_pdf([sample_page(0)])
    options = {"dpi": 72, "retry_backoff": 0.01}
    fake = FakeVLLM(faults=FaultPlan(by_page={0: ["malformed_boxes"]}))  # a cell dropped
    with serve(fake) as url:
        settings = DotsOCRSettings(base_url=url, **options)
        geometry = geometry_for(settings, fake.max_model_len)  # as the loader's, and its ids
        answer = answer_key(settings, fake.model_id, geometry)
        (page,) = render_pages({"bytes": data, "path": "f.pdf"}, settings, geometry, answer)
        out = asyncio.run(PageReader(settings, geometry)(page))
        fake.reset()  # the loader's page meets the same fault
        loader = DotsOCRLoader(data, name="f.pdf", base_url=url, **options)
        want = loader.load()
    result = page_result(out)
    assert result.noted() == loader.reports["f.pdf"].problems
    assert any("unusable box" in p for p in result.problems)
    again, sent = json.loads(result_json(result)), json.loads(out["result"])
    for key in ("elements", "problems", "text", "extraction"):  # they come back whole
        assert again[key] == sent[key]
    with caplog.at_level(logging.INFO, logger="langchain_dotsocr"):
        got = list(documents(ray.data.from_items([out]), **options))
    assert [(d.page_content, d.metadata) for d in got] == [
        (d.page_content, d.metadata) for d in want]
    told = [r.getMessage() for r in caplog.records
            if r.levelno == logging.INFO and r.name.startswith("langchain_dotsocr")]
    assert told == [f"f.pdf, {line}" for line in result.noted()]


def test_a_problem_quoting_a_secret_is_masked_in_its_row():
    from langchain_dotsocr.pages import PageInfo
    from langchain_dotsocr.ray_data.rows import result_json
    from langchain_dotsocr.read import PageResult

    secret = "sk-very-secret-key-123"
    echoed = f"the page's reask reading was not read: HTTP 400: bad key {secret}"
    result = PageResult(PageInfo("f.pdf", 0, 1, 612.0, 792.0, "pt", 1), problems=[echoed])
    text = result_json(result, (secret,))
    assert secret not in text
    assert json.loads(text)["problems"] == [echoed.replace(secret, "**********")]
