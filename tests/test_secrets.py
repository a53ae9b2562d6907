"""Secrets: the API key and the PDF password never show in a log line, an error, a repr, a
warning, a Document or a cassette.

Runs go against the vLLM double with a key it checks (so the key really is sent), every logger
captured at its lowest level, httpx's and httpcore's included.
"""

from __future__ import annotations

import logging
import socket
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_dotsocr import (
    AuthenticationError,
    DocumentError,
    DotsOCRError,
    DotsOCRLoader,
    DotsOCRParser,
    DotsOCRSettings,
    ServerUnreachableError,
)
from langchain_dotsocr.client import TransportError
from tests.badfiles import encrypt_pdf
from tests.cassette_config import CASSETTES
from tests.fakevllm import FaultPlan, make_pdf, sample_page

KEY = "sk-live-7f3a9c0e5b2d4e6f8a1c-SECRET"
PASSWORD = "pdf-Pa55-4e6f8a1c"
SECRETS = (KEY, PASSWORD, KEY[8:20])  # a slice too: no partial echo either


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret shows in {where}: {text[:300]!r}"


def exception_texts(exc: BaseException) -> Iterator[str]:
    """str, repr and args of an exception and of every exception in its chain, and the
    formatted traceback (what a user would paste into an issue)."""
    yield "".join(traceback.format_exception(exc))
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield str(e)
        yield repr(e)
        yield repr(e.args)
        yield repr(vars(e)) if hasattr(e, "__dict__") else ""
        todo += [e.__cause__, e.__context__]


@pytest.fixture
def logs(caplog):
    """Every record of every logger, down to level 1 (httpcore's trace is DEBUG)."""
    caplog.set_level(1)
    for name in ("httpx", "httpcore", "langchain_dotsocr", "asyncio", "urllib3"):
        caplog.set_level(1, logger=name)
    return caplog


def assert_logs_clean(caplog) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert caplog.records, "nothing was logged: the capture is not working"
    for record in caplog.records:
        assert_clean(formatter.format(record), f"log record of {record.name}")
        assert_clean(repr(record.args), f"log arguments of {record.name}")


def test_reprs_hide_the_key_and_the_password(monkeypatch):
    settings = DotsOCRSettings(api_key=KEY, password=PASSWORD)
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    parser = DotsOCRParser(api_key=KEY, password=PASSWORD)
    loader = DotsOCRLoader(b"%PDF-", api_key=KEY, password=PASSWORD)
    texts = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(settings.model_dump()),
        repr(parser),
        str(parser),
        repr(parser.settings),
        repr(loader),
        str(loader),
        repr(vars(loader)),
    ]
    monkeypatch.setenv("DOTSOCR_API_KEY", KEY)
    from_env = DotsOCRSettings()
    assert from_env.api_key is not None and from_env.api_key.get_secret_value() == KEY
    texts += [repr(from_env), str(from_env), repr(DotsOCRLoader(b"x"))]
    for text in texts:
        assert_clean(text, "a repr")


def test_a_run_with_faults_leaks_nothing(fast, fake, logs):
    fake.api_key = KEY
    fake.faults = FaultPlan(
        by_page={
            0: ["http_429", "http_500", "drop_before", "ok"],
            1: ["loop_table", "http_503", "ok"],
            2: ["http_500"] * 9,  # fails for good: an error Document
        },
        retry_after=0,
    )
    pdf = encrypt_pdf(make_pdf([sample_page(i) for i in range(3)]), user_password=PASSWORD)
    loader = DotsOCRLoader(
        pdf, name="locked.pdf", api_key=KEY, password=PASSWORD, on_error="mark", max_retries=5,
        **fast,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = loader.load()
    pages = {d.metadata["page"] for d in docs if d.metadata["category"] != "Error"}
    assert pages == {0, 1}  # the key and the password were right: the run really ran
    (error,) = [d for d in docs if d.metadata["category"] == "Error"]
    assert error.metadata["page"] == 2
    assert any(r.name.startswith("httpcore") for r in logs.records)
    assert any(r.name == "httpx" for r in logs.records)
    assert_logs_clean(logs)
    for w in caught:
        assert_clean(str(w.message), "a warning")
    for d in docs:
        assert_clean(d.page_content + repr(d.metadata), "a Document")
    for report in loader.reports.values():
        assert_clean(repr(report), "a report")


def test_a_refused_key_is_in_no_error_and_no_log(fast, fake, logs):
    fake.api_key = "the-server-s-own-key"
    for policy in ("raise", "skip", "mark"):
        with pytest.raises(AuthenticationError) as err:
            DotsOCRLoader(
                make_pdf([sample_page(0)]), api_key=KEY, on_error=policy, **fast
            ).load()
        assert "401" in str(err.value)
        for text in exception_texts(err.value):
            assert_clean(text, "the authentication error")
    assert_logs_clean(logs)


def test_an_unreachable_server_error_holds_no_key(fast, logs):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = fast | {"base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 1}
    with pytest.raises(ServerUnreachableError) as err:
        DotsOCRLoader(make_pdf([sample_page(0)]), api_key=KEY, **options).load()
    for text in exception_texts(err.value):
        assert_clean(text, "the unreachable-server error")
    assert_logs_clean(logs)


def test_a_wrong_password_is_in_no_error_and_no_log(fast, logs):
    locked = encrypt_pdf(make_pdf([sample_page(0)]), user_password="the-real-one")
    with pytest.raises(DocumentError, match="password is wrong") as err:
        DotsOCRLoader(locked, name="l.pdf", password=PASSWORD, api_key=KEY, **fast).load()
    for text in exception_texts(err.value):
        assert_clean(text, "the password error")
    docs = DotsOCRLoader(
        locked, name="l.pdf", password=PASSWORD, api_key=KEY, on_error="mark", **fast
    ).load()
    assert_clean(repr([d.metadata for d in docs]), "the error Document")
    assert_logs_clean(logs)


def test_every_error_of_a_failing_batch_is_clean(fast, fake, tmp_path):
    fake.api_key = KEY
    fake.faults = FaultPlan(by_page={0: ["http_500"] * 9}, retry_after=0)
    (tmp_path / "a.pdf").write_bytes(make_pdf([sample_page(0)]))
    (tmp_path / "b.pdf").write_bytes(encrypt_pdf(make_pdf([sample_page(1)]), "other"))
    errors: list[DotsOCRError] = []
    for path in sorted(tmp_path.iterdir()):
        try:
            DotsOCRLoader(path, api_key=KEY, password=PASSWORD, max_retries=2, **fast).load()
        except DotsOCRError as exc:
            errors.append(exc)
    assert [type(e) for e in errors] == [TransportError, DocumentError]
    for exc in errors:
        for text in exception_texts(exc):
            assert_clean(text, type(exc).__name__)


def test_cassettes_hold_no_key_and_no_authorization_header():
    from tests.test_cassettes import SECRET

    files = [p for p in sorted(Path(CASSETTES).iterdir()) if p.is_file()]
    assert any(p.suffix == ".yaml" for p in files)
    for path in files:
        text = path.read_text(errors="replace")
        assert SECRET not in text and SECRET[3:15] not in text, path
        if path.suffix == ".yaml":  # recorded headers, not the README's prose about them
            lowered = text.lower()
            assert "authorization:" not in lowered and "bearer" not in lowered, path
