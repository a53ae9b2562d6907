"""``text_layer="auto"`` end to end with the double: each kind of test PDF, every element the
text a reader sees, from the right source, with the requests it should cost."""

from __future__ import annotations

import json

import pytest

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.cli import main
from langchain_dotsocr.read.layertext import as_model_writes
from tests import textpdfs
from tests.fakevllm import FaultPlan, answer_tokens
from tests.fakevllm.answers import LAYOUT_ALL, LAYOUT_ONLY
from tests.fakevllm.scene import element_text

GROUNDING = "prompt_grounding_ocr"
FOCUSED = {"Table", "Formula"}  # the model reads these on their box
NAME = "layer.pdf"


def load(fast, pdf: bytes, **options):
    loader = DotsOCRLoader(pdf, name=NAME, **(fast | options))
    return loader, loader.load()


def read(docs):
    return [(d.metadata["category"], d.page_content) for d in docs]


def sources(docs):
    return {d.metadata["category"]: d.metadata["text_source"] for d in docs}


def modes(fake):
    return [r.prompt_mode for r in fake.chat_requests]


@pytest.mark.parametrize("rotate", [0, 90])
def test_a_good_layer_gives_the_words_and_the_model_the_layout(fast, fake, rotate):
    pdf = textpdfs.good(rotate)
    _, off = load(fast, pdf.pdf, text_layer="off")
    assert modes(fake) == [LAYOUT_ALL]  # "off": today's single request
    assert set(sources(off).values()) == {"model"}
    fake.reset()
    loader, auto = load(fast, pdf.pdf, text_layer="auto")
    assert read(auto) == read(off)  # the same text a reader sees, element by element
    assert [d.metadata["bbox"] for d in auto] == [d.metadata["bbox"] for d in off]
    for doc in auto:
        category = doc.metadata["category"]
        want = "model" if category in FOCUSED | {"Picture"} else "layer"
        assert doc.metadata["text_source"] == want, category
    focused = sum(1 for c, _ in pdf.truth if c in FOCUSED)
    assert modes(fake) == [LAYOUT_ONLY] + [GROUNDING] * focused
    grounded = {r.grounding_box for r in fake.chat_requests if r.prompt_mode == GROUNDING}
    assert len(grounded) == focused  # one focused request per table and formula
    report = loader.reports[NAME]
    assert report.pages_by_text_source == {"layer": 1}
    layered = sum(1 for d in auto if d.metadata["text_source"] == "layer")
    assert report.elements_by_text_source == {"layer": layered, "model": len(auto) - layered}
    assert report.requests == 1 + focused


def test_a_scan_without_a_layer_is_read_as_today(fast, fake):
    pdf = textpdfs.scan()
    loader, docs = load(fast, pdf.pdf, text_layer="auto")
    assert modes(fake) == [LAYOUT_ALL]
    assert set(sources(docs).values()) == {"model"}
    assert loader.reports[NAME].pages_by_text_source == {"model": 1}
    fake.reset()
    _, off = load(fast, pdf.pdf, text_layer="off")
    assert read(docs) == read(off)


def test_a_good_ocr_layer_is_trusted_after_the_model_agrees_on_a_sample(fast, fake):
    pdf = textpdfs.ocr_scan(correct=True)
    _, docs = load(fast, pdf.pdf, text_layer="auto")
    sent = modes(fake)
    checks = sent.index(LAYOUT_ONLY)
    assert checks >= 1 and sent[:checks] == [GROUNDING] * checks  # the check comes first
    assert sources(docs)["Text"] == "layer" and sources(docs)["Title"] == "layer"
    fake.reset()
    _, off = load(fast, pdf.pdf, text_layer="off")
    assert read(docs) == read(off)


def test_a_wrong_ocr_layer_is_never_used(fast, fake):
    pdf = textpdfs.ocr_scan(correct=False)
    _, docs = load(fast, pdf.pdf, text_layer="auto")
    sent = modes(fake)
    assert sent[-1] == LAYOUT_ALL and LAYOUT_ONLY not in sent  # the check failed: as today
    assert set(sources(docs).values()) == {"model"}
    text = " ".join(d.page_content for d in docs)
    for misread in ("Tcxt blnck", "Secti0n", "Tit1e"):
        assert misread not in text  # what the wrong layer holds never reaches a Document


def test_a_failed_focused_request_costs_its_element_and_follows_on_error(fast, fake):
    pdf = textpdfs.good()
    focused = sum(1 for c, _ in pdf.truth if c in FOCUSED)
    fake.faults = FaultPlan(by_mode={GROUNDING: ["http_400"] * focused})
    loader, docs = load(fast, pdf.pdf, text_layer="auto", on_error="mark")
    errors = [d for d in docs if d.metadata["category"] == "Error"]
    assert len(errors) == focused and all(" at box " in e.metadata["error"] for e in errors)
    assert loader.reports[NAME].pages_incomplete == 1
    kept = read(docs)
    assert ("Text", "Text block 0.") in kept and ("Title", "# Title 0") in kept  # the rest
    lost = [d.page_content for d in docs if d.metadata["category"] in FOCUSED]
    assert lost == [""] * focused  # what was lost, not made up


def test_the_text_source_is_part_of_ids_and_cache_key(fast, fake, tmp_path):
    pdf = textpdfs.good().pdf
    _, off = load(fast, pdf, text_layer="off", cache_dir=tmp_path)
    _, auto = load(fast, pdf, text_layer="auto", cache_dir=tmp_path)
    assert LAYOUT_ONLY in modes(fake)  # no false hit on the "off" entry
    assert not {d.id for d in off} & {d.id for d in auto}
    fake.reset()
    _, again = load(fast, pdf, text_layer="auto", cache_dir=tmp_path)
    assert fake.chat_requests == []  # a hit, with the same sources and ids
    assert [(d.id, d.metadata["text_source"]) for d in again] == [
        (d.id, d.metadata["text_source"]) for d in auto
    ]


def test_parse_text_layer_flag(base_url, fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DOTSOCR_BASE_URL", base_url)
    path = tmp_path / "good.pdf"
    path.write_bytes(textpdfs.good().pdf)
    out = tmp_path / "auto.jsonl"
    assert main(["parse", str(path), "--text-layer", "auto", "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["metadata"]["text_source"] for r in records} == {"layer", "model"}
    assert LAYOUT_ONLY in modes(fake)
    fake.reset()
    assert main(["parse", str(path), "--text-layer", "off", "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["metadata"]["text_source"] for r in records} == {"model"}
    assert modes(fake) == [LAYOUT_ALL]
    capsys.readouterr()


def test_the_double_answers_layout_only_with_layout_alls_boxes_and_fewer_tokens(fast, fake):
    pdf = textpdfs.good().pdf
    cells = {}
    tokens = {}
    for mode in ("layout_all", "layout_only"):
        fake.reset()
        _, docs = load(fast, pdf, prompt_mode=mode, text_layer="off")
        cells[mode] = [(d.metadata["category"], d.metadata["bbox"]) for d in docs]
        (request,) = fake.chat_requests
        tokens[mode] = answer_tokens(request.sent_chars)
        assert request.completion_tokens == tokens[mode]  # billed as decoded, paced so
    assert cells["layout_only"] == cells["layout_all"]  # same boxes, categories and order
    assert tokens["layout_only"] < tokens["layout_all"]


def test_the_doubles_grounding_answers_from_the_pages_truth(fast, fake):
    pdf = textpdfs.good()
    _, docs = load(fast, pdf.pdf, text_layer="auto")
    answers = [r for r in fake.chat_requests if r.prompt_mode == GROUNDING]
    assert answers and all(r.grounding_box for r in answers)
    formula = next(d for d in docs if d.metadata["category"] == "Formula")
    assert formula.page_content == element_text("Formula", 0)  # the truth of the box asked


@pytest.mark.parametrize(
    ("category", "layer", "written"),
    [
        ("Title", "Annual report", "# Annual report"),
        ("Section-header", "2 Methods", "## 2 Methods"),
        ("Section-header", "# Printed hash", "# Printed hash"),
        ("List-item", "\u2022 First point", "- First point"),
        ("List-item", "\u2022Tight bullet", "- Tight bullet"),
        ("List-item", "- Dashed", "- Dashed"),
        ("List-item", "3. Numbered", "3. Numbered"),
        ("List-item", "-5 degrees", "-5 degrees"),
        ("Text", "\u2022 not a list here", "\u2022 not a list here"),
    ],
)
def test_layer_text_is_written_as_the_model_writes_it(category, layer, written):
    assert as_model_writes(category, layer) == written


def test_a_layer_that_cannot_be_read_costs_the_layer_not_the_page(fast, fake, monkeypatch, caplog):
    import pypdfium2 as pdfium

    import langchain_dotsocr.textlayer as textlayer

    def broken(page, image=None):
        raise pdfium.PdfiumError("Failed to load text page")

    pdf = textpdfs.good()
    _, off = load(fast, pdf.pdf, text_layer="off")
    monkeypatch.setattr(textlayer, "read_layer", broken)
    fake.reset()
    with caplog.at_level("WARNING", logger="langchain_dotsocr"):
        loader, docs = load(fast, pdf.pdf, text_layer="auto")
    assert read(docs) == read(off)  # the model read every word: nothing lost
    assert modes(fake) == [LAYOUT_ALL]
    assert loader.reports[NAME].pages_by_text_source == {"model": 1}
    warned = [r.getMessage() for r in caplog.records if "text layer" in r.getMessage()]
    assert warned == [f"{NAME}, page 1 of 1 (page=0): its text layer cannot be read (Failed to "
                      "load text page); the model reads every word"]


def test_a_born_digital_report_costs_a_short_answer_a_page_and_one_per_table_and_formula(
    fast, fake
):
    doc = textpdfs.report(3)
    _, off = load(fast, doc.pdf, text_layer="off")
    typed = sum(r.completion_tokens for r in fake.chat_requests)
    fake.reset()
    loader, auto = load(fast, doc.pdf)  # "auto" is the default
    assert read(auto) == read(off)
    assert [d.metadata["bbox"] for d in auto] == [d.metadata["bbox"] for d in off]
    for d in auto:
        written = {element_text(c, n) for c, n in doc.truths[d.metadata["page"]]}
        category = d.metadata["category"]
        if category not in FOCUSED | {"Picture"}:  # the words the model writes, from the layer
            assert d.metadata["text_source"] == "layer", category
            assert d.page_content in written
    assert len(fake.chat_requests) == 3 + doc.focused
    assert loader.reports[NAME].pages_by_text_source == {"layer": 3}
    assert sum(r.completion_tokens for r in fake.chat_requests) < 0.5 * typed


ANSWER_IDS = ("element_id", "parent_id", "belongs_to")  # made from the answer key: they differ


def test_the_layer_keeps_boxes_headings_captions_and_crops_as_the_model_gives_them(fast, fake):
    doc = textpdfs.report(4)
    options = {"images": "base64"}
    _, off = load(fast, doc.pdf, text_layer="off", **options)
    fake.reset()
    _, auto = load(fast, doc.pdf, text_layer="auto", **options)
    assert len(auto) == len(off)
    for a, o in zip(auto, off, strict=True):
        for key, value in o.metadata.items():
            if key not in (*ANSWER_IDS, "text_source"):
                assert a.metadata[key] == value, key
    assert {d.metadata["section_path"] for d in auto} >= {"Title 0", "Title 0 > Section 1"}
    assert {d.metadata["category"] for d in auto if d.metadata["image_base64"]} == {"Picture"}
    linked = [d for d in auto if d.metadata["belongs_to"]]
    assert [d.metadata["category"] for d in linked] == ["Caption", "Caption"]  # pages 1 and 3
    by_id = {d.id: i for i, d in enumerate(auto)}
    parents = [by_id.get(d.metadata["parent_id"]) for d in auto]
    assert parents == [{d.id: i for i, d in enumerate(off)}.get(d.metadata["parent_id"])
                       for d in off]  # the same heading tree


def test_a_dense_born_digital_page_is_one_short_layout_answer(fast, fake):
    pdf = textpdfs.dense_text()
    _, off = load(fast, pdf.pdf, text_layer="off")
    fake.reset()
    _, auto = load(fast, pdf.pdf, text_layer="auto")
    assert modes(fake) == [LAYOUT_ONLY]  # ~4,000 characters a layout-only answer need not type
    assert read(auto) == read(off)
    assert {d.metadata["text_source"] for d in auto} == {"layer"}
    assert len({d.id for d in auto}) == len(auto)


def test_pages_of_one_file_spread_over_two_servers_with_the_layer(fast, fake):
    from tests.fakevllm import FakeVLLM, serve

    doc = textpdfs.report(4)
    other = FakeVLLM()
    with serve(other) as second:
        urls = [fast["base_url"], second]
        _, auto = load(fast, doc.pdf, base_url=urls)
    _, alone = load(fast, doc.pdf)
    assert fake.chat_requests and other.chat_requests  # both servers read pages
    assert read(auto) == read(alone)
    assert [d.id for d in auto] == [d.id for d in alone]


def test_a_table_whose_box_is_answered_with_words_is_read_from_its_crop(fast, fake):
    pdf = textpdfs.good()
    _, off = load(fast, pdf.pdf, text_layer="off")
    fake.reset()
    fake.table_grounding = "text"  # a model that reads a table's box as plain words
    _, auto = load(fast, pdf.pdf, text_layer="auto")
    tables = [d for d in auto if d.metadata["category"] == "Table"]
    assert [d.metadata["text_as_html"] for d in tables] == [
        d.metadata["text_as_html"] for d in off if d.metadata["category"] == "Table"
    ]
    assert tables and all(d.page_content.startswith("<table") for d in tables)
    focused = sum(1 for c, _ in pdf.truth if c in FOCUSED)
    assert sorted(modes(fake)) == sorted(
        [LAYOUT_ONLY] + [GROUNDING] * focused + [LAYOUT_ALL] * len(tables)
    )
    assert read(auto) == read(off)


def test_a_tables_misread_words_take_the_layers_where_they_fit(fast, fake):
    from tests.fakevllm.scene import Box, PageSpec

    table = Box("Table", 0, 72, 100, 540, 160)
    title = Box("Title", 0, 72, 60, 540, 90)
    spec = PageSpec(612, 792, (title, table))
    head = (72, 100, 540, 130)
    body = (72, 130, 540, 160)
    runs = (
        textpdfs.element_runs(title)
        + textpdfs.box_runs(head, ["Region Quarter Revenue"])
        + textpdfs.box_runs(body, ["Northwest 2024-Q3 1,250.00"])
    )
    pdf = textpdfs.write([textpdfs.Page(spec, tuple(runs))])
    model = ("<table><tr><th>Regi0n</th><th>Quarter</th><th>Revenue</th></tr>"
             "<tr><td>N0rthwest</td><td>2024-Q3</td><td>1,256.00</td></tr></table>")
    fake.texts[("Table", 0)] = model
    _, off = load(fast, pdf, text_layer="off")
    (typed,) = [d for d in off if d.metadata["category"] == "Table"]
    assert "N0rthwest" in typed.metadata["text_as_html"]  # without the layer: the model's words
    fake.reset()
    _, docs = load(fast, pdf)
    (got,) = [d for d in docs if d.metadata["category"] == "Table"]
    # each word one character from a printed word is put right; the structure is the model's
    fixed = typed.metadata["text_as_html"]
    for misread, printed in (("Regi0n", "Region"), ("N0rthwest", "Northwest"),
                             ("1,256.00", "1,250.00")):
        fixed = fixed.replace(misread, printed)
    assert got.metadata["text_as_html"] == fixed
    assert got.metadata["text_source"] == "model"
