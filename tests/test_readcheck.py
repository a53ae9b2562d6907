"""``dotsocr check --read`` / ``check_server(read=True)`` against the double, with the symptoms
of misconfigured and regressed servers injected: each named, with its fix; a correct server
passes."""

from __future__ import annotations

import asyncio
import json
import math
import re
import statistics

from langchain_dotsocr import DotsOCRLoader, DotsOCRSettings, check_server
from langchain_dotsocr.check.reference import reference_pages
from langchain_dotsocr.cli import main
from langchain_dotsocr.tables import table_shape
from tests.fakevllm import FaultPlan
from tests.fakevllm.answers import GROUNDING, LAYOUT_ALL, LAYOUT_ONLY

NAMES = [p.name for p in reference_pages()]


def read(base_url, **options):
    settings = DotsOCRSettings(base_url=base_url, retry_backoff=0.01, **options)
    return asyncio.run(check_server(settings, read=True))


def by_symptom(check, symptom):
    return [v for v in check.verdicts if v.symptom == symptom]


def cli(capsys, *argv):
    code = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_correct_server_reads_right(base_url, fake):
    check = read(base_url)
    assert check.ok and check.verdicts == ()
    assert check.read is not None and [p.name for p in check.read.pages] == NAMES
    for page in check.read.pages:
        assert page.parse == "ok" and page.score is not None, page
        assert page.score.text_similarity == 1.0 and page.score.mean_iou == 1.0
        assert page.score.matched == page.score.cells and page.seconds > 0
    (table,) = [t for p in check.read.pages if p.score for t in p.score.tables]
    assert table.found == table.truth and table.teds == 1.0
    # The prompts of text_layer="auto": layout_only's boxes, categories and order are the
    # truth's; grounding on a text of every page, the table and the formula gives their text.
    for page in check.read.pages:
        layout = page.layout_only.score
        assert page.layout_only.parse == "ok" and layout is not None
        assert layout.matched == layout.cells and layout.mean_iou == 1.0
        assert layout.categories_found == layout.categories_expected
        assert all(g.parse == "ok" and g.similarity == 1.0 for g in page.grounding), page.name
    grounded = {(p.name, g.category) for p in check.read.pages for g in p.grounding}
    assert grounded == {(n, "Text") for n in NAMES} | {("table", "Table"), ("formula", "Formula")}
    (table,) = [g.table for p in check.read.pages for g in p.grounding if g.category == "Table"]
    assert table.same_shape and table.teds == 1.0
    # Each page asked once per prompt and box, one after the other; nothing re-asked.
    want = [(n, mode) for n in NAMES for mode in
            [LAYOUT_ALL, LAYOUT_ONLY] + [GROUNDING] * (1 + (n in ("table", "formula")))]
    assert [(r.page, r.prompt_mode) for r in fake.chat_requests] == want


def test_pages_are_sent_as_the_loader_sends_them(base_url, fake):
    settings = {"max_tokens": 4000, "temperature": 0.2, "image_format": "jpeg"}
    read(base_url, **settings)
    checked = [r for r in fake.chat_requests if r.prompt_mode == LAYOUT_ALL]
    # The other prompts are sent with the same image, budget and sampling as layout_all.
    others = [r for r in fake.chat_requests if r.prompt_mode != LAYOUT_ALL]
    first = {r.page: r for r in checked}

    def sent(r):
        return (r.image_format, r.image_size, r.max_tokens, r.temperature, r.top_p, r.stream)

    assert others and all(sent(r) == sent(first[r.page]) for r in others)
    fake.reset()
    for page in reference_pages():
        DotsOCRLoader(page.png, name=f"{page.name}.png", base_url=base_url, **settings).load()
    loaded = fake.chat_requests

    def request(r):
        return (r.page, r.prompt_mode, r.image_format, r.image_size, r.max_tokens,
                r.max_completion_tokens, r.temperature, r.top_p, r.stream, r.include_usage)

    assert [request(r) for r in checked] == [request(r) for r in loaded]


def test_garbled_answers_on_a_share_of_pages(base_url, fake):
    # As a server without --chat-template-content-format string: about one answer in five.
    fake.faults = FaultPlan(rates={"garbled": 0.35}, seed=3)
    check = read(base_url)
    garbled = tuple(r.page for r in fake.chat_requests
                    if r.fault == "garbled" and r.prompt_mode == LAYOUT_ALL)
    assert 0 < len(garbled) < len(NAMES)
    (verdict,) = by_symptom(check, "garbled")
    assert verdict.level == "fail" and verdict.pages == garbled
    assert f"{len(garbled)} of {len(NAMES)} pages" in verdict.message
    assert "--chat-template-content-format string" in verdict.message
    assert not check.ok
    assert check.read is not None
    assert {p.name for p in check.read.pages if p.parse == "garbled"} == set(garbled)


def test_a_self_resizing_server_scales_boxes_and_the_fix_works(base_url, fake, monkeypatch):
    monkeypatch.setattr(fake, "max_pixels", 900_000)
    check = read(base_url)
    (verdict,) = by_symptom(check, "scaled_boxes")
    assert verdict.level == "fail" and set(verdict.pages) == set(NAMES)
    factors = [
        (r.model_image_size[0] / r.image_size[0], r.model_image_size[1] / r.image_size[1])
        for r in fake.chat_requests if r.prompt_mode == LAYOUT_ALL
    ]
    sx = statistics.median(f[0] for f in factors)
    assert f"scaled by {sx:.2f}" in verdict.message
    # One cause, one verdict: layout_only's boxes and grounding's are scaled alike.
    assert [by_symptom(check, k) for k in ("boxes", "layout_only", "grounding")] == [[]] * 3
    suggested = int(re.search(r"max_pixels=(\d+)", verdict.message).group(1))
    assert suggested <= 900_000
    # The fix it gives: pages then arrive at a size the server keeps, and boxes agree.
    fake.reset()
    fixed = read(base_url, max_pixels=suggested)
    assert fixed.ok, [v.message for v in fixed.verdicts]
    assert not any(r.image_resized for r in fake.chat_requests)


def test_an_upscaling_server_is_told_apart(base_url, fake, monkeypatch):
    monkeypatch.setattr(fake, "min_pixels", 1_600_000)
    check = read(base_url)
    (verdict,) = by_symptom(check, "scaled_boxes")
    suggested = int(re.search(r"min_pixels=(\d+)", verdict.message).group(1))
    fake.reset()
    assert read(base_url, min_pixels=suggested).ok


def test_a_table_with_columns_dropped(base_url, fake):
    fake.faults = FaultPlan(by_page={"table": ["table_columns_dropped"]})
    check = read(base_url)
    (truth,) = [c for p in reference_pages() if p.name == "table" for c in p.cells
                if c.category == "Table"]
    _rows, cols = table_shape(truth.text or "")
    (verdict,) = by_symptom(check, "table_structure")
    assert verdict.pages == ("table",) and verdict.level == "fail"
    assert f"the {cols}-column table" in verdict.message
    assert f"with {math.ceil(cols / 2)} columns" in verdict.message and "#268" in verdict.message
    assert not check.ok


def test_invalid_json(base_url, fake):
    fake.faults = FaultPlan(by_page={"cyrillic": ["invalid_json"], "scan": ["invalid_json"]})
    check = read(base_url)
    (verdict,) = by_symptom(check, "invalid_json")
    assert verdict.pages == ("cyrillic", "scan") and "2 of 6 pages" in verdict.message
    assert by_symptom(check, "garbled") == []  # cells are in it: not garbage


def test_a_looping_page_is_cut_and_named(base_url, fake):
    fake.faults = FaultPlan(by_page={"table": ["loop_table"]})
    check = read(base_url)
    (verdict,) = by_symptom(check, "truncated")
    assert verdict.pages == ("table",)
    assert check.read is not None
    (page,) = [p for p in check.read.pages if p.name == "table"]
    # Cut by the loader's loop watch (its reason), not waited out to the budget ("length").
    assert page.finish_reason not in ("stop", "length") and "loop" in verdict.message


def test_a_slow_page_is_named_but_not_failed(base_url, fake):
    fake.faults = FaultPlan(by_page={"formula": ["hang"]}, hang_seconds=1.5)
    check = read(base_url)
    (verdict,) = by_symptom(check, "slow")
    assert verdict.level == "note" and verdict.pages == ("formula",)
    assert check.ok  # time depends on the hardware: reported, not failed


def test_a_context_too_small_for_the_pages(base_url, fake):
    fake.max_model_len = 2500
    check = read(base_url)
    assert not check.fits
    (verdict,) = by_symptom(check, "no_answer")
    assert set(verdict.pages) == set(NAMES) and "--max-model-len" in verdict.message
    assert fake.chat_requests == []  # refused by the budget before sending, as the loader does


# -- the command line ---------------------------------------------------------------------


def test_cli_read_exit_codes_and_text(base_url, fake, capsys):
    code, out, _ = cli(capsys, "--base-url", base_url, "--read")
    assert code == 0 and "OK: the server reads the reference pages right." in out
    assert all(re.search(rf"^{name}\s", out, re.M) for name in NAMES)
    fake.reset()
    fake.faults = FaultPlan(by_page={"chinese": ["garbled"]})
    code, out, _ = cli(capsys, "--base-url", base_url, "--read")
    assert code == 1 and "FAIL: answers are garbage" in out and "(chinese)" in out


def test_cli_json_for_a_pipeline(base_url, fake, capsys):
    fake.faults = FaultPlan(by_page={"table": ["table_columns_dropped"]})
    code, out, _ = cli(capsys, "--base-url", base_url, "--read", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["fits"] is True
    assert [p["name"] for p in data["read"]["pages"]] == NAMES
    assert [v["symptom"] for v in data["read"]["verdicts"]] == ["table_structure"]
    assert data["read"]["overall"]["tables_right"] == 0
    code, out, _ = cli(capsys, "--base-url", base_url.replace("/v1", "/nothing"), "--json")
    assert code == 2 and json.loads(out)["ok"] is False


def test_cli_export_reference_sends_nothing(base_url, fake, tmp_path, capsys):
    code, _, err = cli(capsys, "--export-reference", tmp_path / "ref")
    assert code == 0 and fake.requests == []
    assert len(list((tmp_path / "ref").iterdir())) == 2 * len(NAMES)
    assert err.count("wrote ") == 2 * len(NAMES)


def test_the_key_never_shows(base_url, fake, capsys, monkeypatch):
    fake.api_key = "sk-read-2b7e"
    monkeypatch.setenv("DOTSOCR_API_KEY", "sk-read-2b7e")
    code, out, err = cli(capsys, "--base-url", base_url, "--read", "--json")
    assert code == 0 and "sk-read-2b7e" not in out + err
    monkeypatch.setenv("DOTSOCR_API_KEY", "sk-wrong-0000")
    code, out, err = cli(capsys, "--base-url", base_url, "--read", "--json")
    assert code == 2 and "sk-wrong-0000" not in out + err


def test_check_help_lists_the_read_options(capsys):
    code = main(["check", "--help"])
    out = capsys.readouterr().out
    assert code == 0 and "--read" in out and "--export-reference" in out and "--json" in out


# -- the prompts of text_layer="auto" -------------------------------------------------------


def test_a_server_that_misreads_only_layout_only_is_told_apart(base_url, fake):
    # The 2nd and 4th layout_only answers (table, cyrillic) spoiled; layout_all reads all right.
    fake.faults = FaultPlan(by_mode={LAYOUT_ONLY: ["ok", "empty", "ok", "garbled"]})
    check = read(base_url)
    assert [v.symptom for v in check.verdicts] == ["layout_only"] and not check.ok
    (verdict,) = check.verdicts
    assert verdict.level == "fail" and verdict.pages == ("table", "cyrillic")
    assert "table: empty" in verdict.message and "cyrillic: garbage" in verdict.message
    assert 'text_layer="auto"' in verdict.message and "--text-layer off" in verdict.message
    assert all(p.score is not None and p.score.text_similarity == 1.0 for p in check.read.pages)


def test_a_server_whose_grounding_drops_columns_or_rambles_is_told_apart(base_url, fake):
    # Grounding requests in order: text's Text, table's Text, the Table, formula's Text, the
    # Formula, ...: the table's HTML loses half its columns (#268), the formula is prose.
    plan = ["ok", "ok", "table_columns_dropped", "ok", "garbled"]
    fake.faults = FaultPlan(by_mode={GROUNDING: plan})
    check = read(base_url)
    assert [v.symptom for v in check.verdicts] == ["grounding"] and not check.ok
    (verdict,) = check.verdicts
    assert verdict.pages == ("table", "formula") and "--text-layer off" in verdict.message
    (truth,) = [c for p in reference_pages() if p.name == "table" for c in p.cells
                if c.category == "Table"]
    rows, cols = table_shape(truth.text or "")
    assert "the Table at" in verdict.message
    assert f"{rows}x{math.ceil(cols / 2)} cells of {rows}x{cols}" in verdict.message
    (formula,) = [g for p in check.read.pages for g in p.grounding if g.category == "Formula"]
    assert formula.parse == "ok" and formula.similarity < 0.5
    assert f"text similarity {formula.similarity:.2f}" in verdict.message
    # The layout prompts read every page right.
    assert all(p.layout_only.score.mean_iou == 1.0 for p in check.read.pages)


def test_cli_reports_each_prompt_per_page(base_url, fake, capsys):
    fake.faults = FaultPlan(by_mode={GROUNDING: ["truncate"]})
    code, out, _ = cli(capsys, "--base-url", base_url, "--read")
    assert code == 1 and "FAIL: grounding" in out and "cut before its end" in out
    layout_only = out[out.index("layout_only (boxes"):out.index("grounding (one")]
    assert all(re.search(rf"^{name}\s.*\bok\b", layout_only, re.M) for name in NAMES)
    assert re.search(r"^text\s+Text\s.*truncated", out, re.M)
    fake.reset()
    fake.faults = FaultPlan()
    code, out, _ = cli(capsys, "--base-url", base_url, "--read", "--json")
    data = json.loads(out)
    assert code == 0
    for page in data["read"]["pages"]:
        assert page["layout_only"]["score"]["mean_iou"] == 1.0
        assert [g["similarity"] for g in page["grounding"]] == [1.0] * len(page["grounding"])
    assert data["read"]["overall"]["grounding_similarity"] == 1.0


def test_layout_only_cells_are_matched_in_reading_order_by_category():
    from langchain_dotsocr.check.score import score_layout
    from langchain_dotsocr.layout import Cell

    (page,) = [p for p in reference_pages() if p.name == "table"]
    boxes = [Cell(c.category, c.bbox, None) for c in page.cells]  # no text, as layout_only answers
    whole = score_layout(page, boxes)
    assert (whole.matched, whole.mean_iou) == (len(page.cells), 1.0)
    # A cell left out costs only itself; in the order turned round, cells meet others' boxes.
    missing = score_layout(page, boxes[:2] + boxes[3:])
    assert missing.matched == len(page.cells) - 1
    assert missing.mean_iou == (len(page.cells) - 1) / len(page.cells)
    backwards = score_layout(page, boxes[::-1])
    assert backwards.mean_iou < 0.5
