"""ruff and mypy --strict pass on the package (part of the test command, so CI runs them)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_passes():
    done = run("ruff", "check", "langchain_dotsocr")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes():
    done = run("mypy", "--strict", "langchain_dotsocr")
    assert done.returncode == 0, done.stdout + done.stderr


def test_public_api_is_exported_and_documented():
    import langchain_dotsocr

    for name in langchain_dotsocr.__all__:
        obj = getattr(langchain_dotsocr, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"
    for cls in (langchain_dotsocr.DotsOCRLoader, langchain_dotsocr.DotsOCRParser):
        for section in ("Setup:", "Instantiate:", "Load:", "Async load:"):
            assert section in cls.__doc__, f"{cls.__name__} lacks {section}"


def test_options_match_settings():
    from langchain_dotsocr import DotsOCROptions, DotsOCRSettings

    assert set(DotsOCROptions.__annotations__) == set(DotsOCRSettings.model_fields)
