"""The README's set-up commands stay true."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def test_exactly_two_setup_commands():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"```bash\n", setup)) == 2


def test_ci_runs_the_readme_test_command():
    test_command = bash_blocks()[1].strip()
    assert 'pip install -e ".[test]"' in test_command
    runner = test_command.rsplit("&&", 1)[1].strip()
    assert runner in (ROOT / ".ci" / "run").read_text()


def test_main_command_uses_files_that_exist():
    main = bash_blocks()[0]
    assert "docker-compose-vllm.yml" in main and (ROOT / "docker-compose-vllm.yml").exists()
    script = re.search(r"python (\S+\.py)", main).group(1)
    assert (ROOT / script).exists()


def test_every_setting_is_in_the_settings_table():
    from langchain_dotsocr import DotsOCRSettings

    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    for name in DotsOCRSettings.model_fields:
        assert f"`{name}`" in table, name


def test_every_metadata_key_is_in_the_metadata_table():
    from langchain_dotsocr.chunks import CHUNK_KEYS
    from langchain_dotsocr.documents.metadata import KEYS

    table = README.split("## Metadata", 1)[1].split("\n## ", 1)[0]
    for shape, keys in {**KEYS, "chunk": CHUNK_KEYS}.items():
        for key in keys:
            assert f"`{key}`" in table, (shape, key)


def code_blocks():
    """(language, code) of every fenced block outside the Set up section."""
    before, rest = README.split("## Set up", 1)
    after = rest.split("\n## ", 1)[1]
    return re.findall(r"```(python|bash)\n(.*?)```", before + after, re.S)


def _block_params():
    """One test per Python block and per command of a bash block (a slow one costs its own
    test, not all of them; the workers share them out), named by its place and first line;
    the Ray block joins the Ray tests' group and session."""
    params = []
    for n, (language, code) in enumerate(code_blocks()):
        parts = code.strip().splitlines() if language == "bash" else [code]
        for k, part in enumerate(parts):
            first = part.strip().splitlines()[0]
            place = f"{n}.{k}" if len(parts) > 1 else f"{n}"
            name = f"{place}-{language}-" + re.sub(r"\W+", "_", first)[:40].strip("_")
            ray = "langchain_dotsocr.ray_data" in part
            marks = [pytest.mark.xdist_group("ray"), pytest.mark.timeout(900)] if ray else []
            params.append(pytest.param(language, part, ray, id=name, marks=marks))
    return params


def test_the_readme_has_its_code_blocks():
    assert len(code_blocks()) >= 6


@pytest.fixture
def readme_dir(base_url, tmp_path, monkeypatch):
    """A folder holding what the README's blocks use, with the double as DOTSOCR_BASE_URL."""
    import shutil

    from tests.fakevllm import Box, make_image, make_pdf, sample_page

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "report.pdf").write_bytes(make_pdf([sample_page(0), sample_page(1)]))
    (tmp_path / "scans").mkdir()
    scan = make_image(400, 500, [Box("Text", 1, 10, 10, 300, 60)])
    (tmp_path / "scans" / "scan.png").write_bytes(scan)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOTSOCR_BASE_URL", base_url)
    return tmp_path


@pytest.mark.parametrize(("language", "code", "ray"), _block_params())
def test_code_block_runs(language, code, ray, readme_dir, request):
    import ast
    import contextlib
    import io
    import os
    import subprocess
    import sys
    import uuid

    if ray:  # the Ray tests' one local session, not a second cluster of its own
        request.getfixturevalue("ray_session")
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if language == "bash":  # one command; no time limit of its own (pytest-timeout's is)
        done = subprocess.run(code, shell=True, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (code, done.stdout, done.stderr)
        return
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    shown = re.search(r"^# (\{.*?\})$", code.replace("\n#  ", " "), re.M | re.S)
    if shown:  # a block that shows its output: the output must be what it shows
        want, got = ast.literal_eval(shown.group(1)), ast.literal_eval(out.getvalue().strip())
        box_want, box_got = want.pop("bbox"), got.pop("bbox")
        spans = want.pop("page_boxes"), got.pop("page_boxes")  # "page:box;...": its box too
        for span in spans:
            page, _, box = span.partition(":")
            assert page == "0" and len(box.split(",")) == 4
        box_want += [float(v) for v in spans[0][2:].split(",")]
        box_got += [float(v) for v in spans[1][2:].split(",")]
        for key in ("element_id", "parent_id"):  # ids hash the file's bytes: their form only
            assert str(uuid.UUID(want.pop(key))) and str(uuid.UUID(got.pop(key)))
        assert want == got
        assert all(abs(a - b) < 0.5 for a, b in zip(box_want, box_got, strict=True))
