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
from langchain_dotsocr.cli import main
from langchain_dotsocr.check.reference import reference_pages
from langchain_dotsocr.tables import table_shape
from tests.fakevllm import FaultPlan

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
    # One request per page, nothing re-asked.
    assert [r.page for r in fake.chat_requests] == NAMES


def test_pages_are_sent_as_the_loader_sends_them(base_url, fake):
    settings = {"max_tokens": 4000, "temperature": 0.2, "image_format": "jpeg"}
    read(base_url, **settings)
    checked = fake.chat_requests
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
    garbled = tuple(r.page for r in fake.chat_requests if r.fault == "garbled")
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
        for r in fake.chat_requests
    ]
    sx = statistics.median(f[0] for f in factors)
    assert f"scaled by {sx:.2f}" in verdict.message
    assert by_symptom(check, "boxes") == []  # one cause, one verdict
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
