"""The ``dotsocr`` command line against the vLLM double: parse, check, draw, exit codes."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from langchain_dotsocr import PAGE_SEPARATOR, DotsOCRLoader
from langchain_dotsocr.cli import main
from langchain_dotsocr.draw import PALETTE
from tests.fakevllm import (
    FaultPlan,
    PageSpec,
    element_text,
    expected_boxes_displayed,
    make_image,
    make_pdf,
    sample_page,
    smart_resize,
)

LETTER, A4 = (612.0, 792.0), (595.28, 841.89)


@pytest.fixture
def env(base_url, monkeypatch):
    """The server from the environment, as a user would set it."""
    monkeypatch.setenv("DOTSOCR_BASE_URL", base_url)
    for name in ("DOTSOCR_API_KEY", "DOTSOCR_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return base_url


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def failed_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("dotsocr: failed: ")]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# -- parse ---------------------------------------------------------------------------------


def test_parse_jsonl_is_the_loaders_documents(env, pdf, tmp_path, capsys):
    out = tmp_path / "out" / "docs.jsonl"
    code, _, err = run(capsys, "parse", pdf, "-o", out)
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    docs = DotsOCRLoader(pdf).load()
    assert [(r["page_content"], r["metadata"]) for r in records] == [
        (d.page_content, d.metadata) for d in docs
    ]
    assert len(records) == 2 * len(sample_page(0).boxes)
    assert failed_lines(err) == []


def test_parse_to_stdout_with_pages_and_mode(env, pdf, fake, capsys):
    code, out, _ = run(capsys, "parse", pdf, "-o", "-", "--pages", "1", "--mode", "page")
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["metadata"]["page"] == 1 and "# Title 0" in record["page_content"]
    assert len(fake.chat_requests) == 1


def test_parse_markdown_one_file_per_source(env, pdf, tmp_path, capsys):
    other = tmp_path / "sub" / "report.png"  # the same stem: the names are kept apart
    other.parent.mkdir()
    other.write_bytes(make_image(600, 800, []))
    code, _, err = run(capsys, "parse", pdf, other.parent, "--format", "markdown", "-o",
                       tmp_path / "md")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["report-2.md", "report.md"]
    pages = DotsOCRLoader(pdf, mode="page").load()
    text = (tmp_path / "md" / "report.md").read_text()
    assert text == PAGE_SEPARATOR.join(d.page_content for d in pages) + "\n"
    assert "Header 0" not in text and "<table>" in text


def test_parse_layout_one_file_per_page_from_one_request_each(env, fake, tmp_path, capsys):
    specs = [sample_page(i, rotate=90 if i == 2 else 0) for i in range(4)]
    path = tmp_path / "four.pdf"
    path.write_bytes(make_pdf(specs))
    code, _, err = run(capsys, "parse", path, "--pages", "0,2-3", "--format", "layout", "-o",
                       tmp_path / "layout")
    assert code == 0, err
    assert len(fake.chat_requests) == 3
    files = sorted(p.name for p in (tmp_path / "layout").iterdir())
    assert files == ["four.page-0.json", "four.page-2.json", "four.page-3.json"]
    page = json.loads((tmp_path / "layout" / "four.page-2.json").read_text())
    assert (page["page_width"], page["page_height"], page["coordinate_unit"]) == (792, 612, "pt")
    cells = {(c["category"], c.get("text")): c for c in page["elements"]}
    for box in expected_boxes_displayed(specs[2]):
        cell = cells[(box.category, element_text(box.category, box.n))]
        assert ("text" in cell) == (box.category != "Picture")
        want = [box.x0, box.y0, box.x1, box.y1]
        assert all(abs(g - w) <= 1 for g, w in zip(cell["bbox"], want, strict=True))


def test_bad_and_missing_files_one_line_each_others_parsed(env, pdf, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.pdf").write_text("a text file named bad.pdf")
    (folder / "good.pdf").write_bytes(pdf.read_bytes())
    out = tmp_path / "docs.jsonl"
    code, _, err = run(capsys, "parse", folder, tmp_path / "missing.pdf", "-o", out)
    assert code == 1
    lines = failed_lines(err)
    assert len(lines) == 2
    assert str(tmp_path / "missing.pdf") in lines[0] and "no such file" in lines[0]
    assert str(folder / "bad.pdf") in lines[1] and "not a PDF" in lines[1]
    sources = {json.loads(line)["metadata"]["source"] for line in out.read_text().splitlines()}
    assert sources == {str(folder / "good.pdf")}
    # --on-error mark writes the failure into the output as well.
    code, out_text, err = run(capsys, "parse", folder, "--on-error", "mark", "-o", "-")
    assert code == 1 and len(failed_lines(err)) == 1
    errors = [r for r in map(json.loads, out_text.splitlines())
              if r["metadata"]["category"] == "Error"]
    assert [e["metadata"]["source"] for e in errors] == [str(folder / "bad.pdf")]


def test_failed_pages_are_one_line_per_file(env, fake, tmp_path, capsys):
    fake.faults = FaultPlan(by_page={1: ["http_429"] * 20, 2: ["http_429"] * 20}, retry_after=0)
    path = tmp_path / "f.pdf"
    path.write_bytes(make_pdf([sample_page(i) for i in range(4)]))
    code, out, err = run(capsys, "parse", path, "-o", "-")
    assert code == 1
    (line,) = failed_lines(err)
    assert f"{path}: 2 of 4 page(s) failed (page=1, 2)" in line and "429" in line
    assert sorted({json.loads(r)["metadata"]["page"] for r in out.splitlines()}) == [0, 3]
    # raise: stop at the first failure.
    code, out, err = run(capsys, "parse", path, "--on-error", "raise", "-o", "-")
    assert code == 1 and "(page=1)" in failed_lines(err)[0]
    assert {json.loads(r)["metadata"]["page"] for r in out.splitlines()} == {0}


def test_the_summary_counts_the_problems_and_v_logs_them(env, fake, tmp_path, capsys):
    fake.faults = FaultPlan(by_page={1: ["malformed_boxes"]})  # page 1 loses a cell's box
    path = tmp_path / "f.pdf"
    path.write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    loader = DotsOCRLoader(path)
    loader.load()
    problems = loader.reports[str(path)].problems
    assert problems
    fake.reset()
    code, _, err = run(capsys, "parse", path, "-o", "-")
    assert code == 0
    assert f"2 page(s) of 1 file(s) parsed, {len(problems)} problem(s) noted (-v logs them)" in err
    assert not any(p in err for p in problems)
    fake.reset()
    code, _, err = run(capsys, "-v", "parse", path, "-o", "-")
    assert code == 0 and all(f"{path}, {p}\n" in err for p in problems)
    fake.faults = FaultPlan()
    code, _, err = run(capsys, "parse", path, "-o", "-")
    assert code == 0 and "dotsocr: 2 page(s) of 1 file(s) parsed\n" in err


def test_mark_writes_failures_into_markdown_and_layout(env, fake, tmp_path, capsys):
    fake.faults = FaultPlan(by_page={1: ["http_429"] * 20}, retry_after=0)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "f.pdf").write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    (folder / "g.pdf").write_bytes(b"%PDF-1.7 but nothing after")
    md, lay = tmp_path / "md", tmp_path / "layout"
    code, _, err = run(capsys, "parse", folder, "--on-error", "mark", "--format", "markdown",
                       "-o", md)
    assert code == 1 and len(failed_lines(err)) == 2
    pages = (md / "f.md").read_text().split(PAGE_SEPARATOR)
    assert "# Title 0" in pages[0] and pages[1].startswith("<!-- page=1 failed: ")
    assert (md / "g.md").read_text().startswith("<!-- failed: ")
    code, _, err = run(capsys, "parse", folder, "--on-error", "mark", "--format", "layout",
                       "-o", lay)
    assert code == 1
    assert sorted(p.name for p in lay.iterdir()) == [
        "f.page-0.json", "f.page-1.json", "g.error.json"
    ]
    failed = json.loads((lay / "f.page-1.json").read_text())
    assert "elements" not in failed and "429" in failed["error"]
    assert "elements" in json.loads((lay / "f.page-0.json").read_text())


def test_unusable_server_stops_everything_with_exit_2(env, fake, pdf, capsys):
    url = closed_port_url()
    code, out, err = run(capsys, "parse", pdf, "--base-url", url)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and url in err
    code, _, err = run(capsys, "parse", pdf, "--model", "no/such-model")
    assert code == 2 and "no/such-model" in err and "rednote-hilab/dots.ocr" in err


def test_api_key_from_the_environment_never_printed(env, fake, pdf, monkeypatch, capsys):
    fake.api_key = "sk-right-7f3a"
    monkeypatch.setenv("DOTSOCR_API_KEY", "sk-wrong-91bc")
    code, out, err = run(capsys, "-v", "parse", pdf, "-o", "-")
    assert code == 2 and "API key" in err and "sk-wrong-91bc" not in out + err
    monkeypatch.setenv("DOTSOCR_API_KEY", "sk-right-7f3a")
    code, out, err = run(capsys, "-v", "parse", pdf, "-o", "-")
    assert code == 0 and out and "sk-right-7f3a" not in out + err
    code, out, err = run(capsys, "-v", "check", "--api-key", "sk-right-7f3a")
    assert code == 0 and "sk-right-7f3a" not in out + err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pages", "2-1"], "not a page list"),
        (["--format", "markdown"], "-o DIRECTORY"),
        (["--format", "layout", "--mode", "page", "-o", "x"], "--mode element"),
        (["--format", "layout", "--prompt-mode", "ocr", "-o", "x"], "ocr"),
        (["--dpi", "5000"], "dpi"),
    ],
)
def test_usage_errors_exit_2(env, pdf, fake, capsys, argv, message):
    code, _, err = run(capsys, "parse", pdf, *argv)
    assert code == 2 and message in err
    assert fake.chat_requests == []


def test_page_lists():
    from langchain_dotsocr.cli import page_list

    assert page_list("0,2,5-7") == [0, 2, 5, 6, 7]
    assert page_list(" 3 ") == [3]


# -- check ---------------------------------------------------------------------------------


def check(capsys, *argv):
    code, out, err = run(capsys, "check", *argv)
    return code, out + err


def sent_budgets(base_url, fake, dpi=200) -> list[int]:
    """The output budget the loader sends for a Letter and an A4 page on this server."""
    pages = [sample_page(0, *LETTER), sample_page(1, *A4)]
    before = len(fake.chat_requests)
    DotsOCRLoader(make_pdf(pages), base_url=base_url, dpi=dpi).load()
    return [r.max_tokens for r in fake.chat_requests[before:]]


def test_check_a_server_that_fits(env, fake, capsys):
    code, out = check(capsys)
    assert code == 0
    assert f"reachable at {env}" in out and "rednote-hilab/dots.ocr" in out
    assert "32768" in out and out.count(": fits") == 2
    assert sent_budgets(env, fake) == [16384, 16384]


def test_check_says_the_exact_max_model_len(env, fake, capsys):
    fake.max_model_len = 1024
    code, out = check(capsys)
    assert code == 1 and out.count("does NOT fit") == 2
    needed = int(out.split("--max-model-len ")[1].split()[0])
    assert "No dpi fits" in out and "cannot parse any page" in out
    # Exact: the loader gets its full output budget for both pages at that length, not below.
    fake.max_model_len = needed
    assert check(capsys)[0] == 0
    assert sent_budgets(env, fake) == [16384, 16384]
    fake.max_model_len = needed - 1
    assert check(capsys)[0] == 1
    assert min(sent_budgets(env, fake)) == 16383


def test_check_says_the_dpi_that_fits(env, fake, capsys):
    fake.max_model_len = 20000
    code, out = check(capsys)
    assert code == 1 and "cuts answers to" in out
    dpi = int(out.split("--dpi ")[1].split(":")[0])
    assert 72 < dpi < 200
    assert check(capsys, "--dpi", dpi)[0] == 0
    assert sent_budgets(env, fake, dpi=dpi) == [16384, 16384]
    assert min(sent_budgets(env, fake, dpi=dpi + 1)) < 16384


@pytest.mark.parametrize("dpi", [72, 150, 200, 300])
def test_check_sizes_pages_as_the_page_layer_renders_them(dpi):
    from langchain_dotsocr.check.server import page_fits
    from langchain_dotsocr.pages import Geometry, open_pages
    from langchain_dotsocr.settings import DotsOCRSettings

    pdf = make_pdf([PageSpec(*LETTER, ()), PageSpec(*A4, ())], kind="vector")
    document = open_pages(pdf, "blank.pdf")
    try:
        rendered = [document.render(i, Geometry(dpi=dpi)).image.size for i in (0, 1)]
    finally:
        document.close()
    fits = page_fits(DotsOCRSettings(base_url="http://unused/v1"), dpi)
    assert [(f.width_px, f.height_px) for f in fits] == rendered


def test_check_an_unreachable_server(env, capsys):
    url = closed_port_url()
    code, out = check(capsys, "--base-url", url)
    assert code == 2 and url in out and len(out.strip().splitlines()) == 1


def test_check_a_model_not_served(env, capsys):
    code, out = check(capsys, "--model", "other/model")
    assert code == 2 and "other/model" in out


# -- draw ----------------------------------------------------------------------------------


def test_draw_writes_the_page_with_its_boxes(env, pdf, fake, tmp_path, capsys):
    png = tmp_path / "page.png"
    code, _, err = run(capsys, "draw", pdf, "--page", "1", "-o", png, "--dpi", "150")
    assert code == 0, err
    assert [r.page for r in fake.chat_requests] == [1]
    image = Image.open(png)
    assert image.format == "PNG"
    h, w = smart_resize(math.ceil(792 * 150 / 72), math.ceil(612 * 150 / 72))
    assert image.size == (w, h)
    sx, sy = w / 612, h / 792
    for box in sample_page(1).boxes:
        y_mid = round((box.y0 + box.y1) / 2 * sy)
        near = {image.getpixel((round(box.x0 * sx) + d, y_mid)) for d in (0, 1, 2)}
        assert PALETTE[box.category] in near, box


def test_draw_a_missing_page_exits_1(env, pdf, tmp_path, capsys):
    code, _, err = run(capsys, "draw", pdf, "--page", "7", "-o", tmp_path / "x.png")
    assert code == 1 and "page=7" in err and not (tmp_path / "x.png").exists()


# -- help and the installed command --------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["parse"], ["check"], ["draw"]])
def test_help_shows_examples(command, capsys):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "examples:" in out and f"dotsocr {command[0] if command else 'parse'} " in out


def test_console_script_is_installed(base_url, pdf):
    script = Path(sys.executable).with_name("dotsocr")
    env = dict(os.environ, DOTSOCR_BASE_URL=base_url)
    done = subprocess.run(
        [str(script), "parse", str(pdf), "--pages", "0"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(sample_page(0).boxes)
    assert "1 page(s) of 1 file(s) parsed" in done.stderr
