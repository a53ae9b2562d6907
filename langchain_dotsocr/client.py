"""The HTTP side of one server: discover it, probe it, send one request, stream the answer.

One try per call: which server, how often and after what pause a transport fault (429, 5xx,
refused or dropped connections, idle reads) is tried again is decided in :mod:`.servers`.
What to do about the *content* of an answer (truncated, looping, invalid) is decided by the
readers; the two kinds of retry never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import (
    AuthenticationError,
    ContextLengthError,
    ModelNotServedError,
    ServerError,
    ServerUnreachableError,
)
from .server_errors import ContextOverflow, context_overflow, error_message

logger = logging.getLogger("langchain_dotsocr")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Seconds a health or metrics probe may take: a server slower than this to say it is alive
# is not usable now.
PROBE_TIMEOUT = 5.0
COMPOSE_HINT = "Is the vLLM server running? docker-compose-vllm.yml in this project starts one."


@dataclass(frozen=True)
class Timeouts:
    """Seconds: to connect, of silence while reading (no token), and for a whole page."""

    connect: float = 10.0
    read: float = 60.0
    page: float = 600.0


@dataclass(frozen=True)
class Retry:
    """Transport retries: at most ``tries`` attempts, backoff ``base * 2**n`` (jittered)."""

    tries: int = 5
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.cap)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


@dataclass(frozen=True)
class ServerInfo:
    """What ``GET /v1/models`` told: the model to use, its context length, all served ids."""

    model: str
    max_model_len: int | None
    served: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """A finished (or stopped) answer. ``finish_reason`` is the server's (``"stop"``,
    ``"length"``) or, when the watcher cancelled the stream, the watcher's reason."""

    text: str
    finish_reason: str | None
    completion_tokens: int | None = None
    prompt_tokens: int | None = None


class ContextOverflowError(ContextLengthError):
    """A 400 about the context length, with the numbers the server gave."""

    def __init__(self, message: str, overflow: ContextOverflow) -> None:
        super().__init__(message)
        self.overflow = overflow


class TransportError(ServerError):
    """A transport fault that survived every retry."""


# Given each streamed delta and the tokens generated so far, a watcher returns a reason to
# stop, or None.
Watcher = Callable[[str, int], str | None]
# Called once when the first chunk of an answer arrives: the server has scheduled the request.
OnFirst = Callable[[], None]


class Client:
    """An async client of one server's OpenAI-compatible API. One per server and run."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeouts: Timeouts = Timeouts(),
        retry: Retry = Retry(),
        max_concurrency: int = 16,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # vLLM answers /health and /metrics beside /v1, not under it.
        self.root_url = self.base_url.removesuffix("/v1")
        self.retry = retry
        self.timeouts = timeouts
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(
                connect=timeouts.connect, read=timeouts.read, write=60.0, pool=None
            ),
            # No cap on the pool: requests are capped by the run's limiter instead, so none ever
            # waits in httpcore's pool, where a cancelled waiter can leak a connection slot
            # for good (encode/httpcore#1093): cancelling is how loops are stopped.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=max_concurrency),
        )
        self.requests_sent = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def discover(self, model: str | None, max_model_len: int | None) -> ServerInfo:
        """Read the served ids and ``max_model_len``; check a pinned model is served."""
        response = await self._send(lambda: self._http.get("/models"))
        if response.status_code == 404:
            raise ServerError(
                f"{self.base_url}/models answered 404: is this an OpenAI-compatible "
                "server, and does base_url end with /v1?"
            )
        self._raise_for_status(response.status_code, response.content)
        try:
            data = response.json()["data"]
            served = {str(m["id"]): m for m in data}
        except (ValueError, KeyError, TypeError) as exc:
            raise ServerError(
                f"{self.base_url}/models gave an answer that is not a model list"
            ) from exc
        if not served:
            raise ModelNotServedError(f"{self.base_url} serves no model")
        if model is None:
            model = next(iter(served))
        elif model not in served:
            raise ModelNotServedError(
                f"model {model!r} is not served by {self.base_url}; it serves: "
                + ", ".join(sorted(served))
            )
        limit = max_model_len or served[model].get("max_model_len")
        return ServerInfo(model, int(limit) if limit else None, tuple(served))

    async def health(self) -> bool:
        """Whether ``GET /health`` answers 200 within :data:`PROBE_TIMEOUT` seconds."""
        try:
            response = await self._http.get(self.root_url + "/health", timeout=PROBE_TIMEOUT)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def metrics(self) -> str | None:
        """The text of ``GET /metrics``, or None when the server does not offer it.

        Raises ``httpx.HTTPError`` when it cannot be read this time.
        """
        response = await self._http.get(self.root_url + "/metrics", timeout=PROBE_TIMEOUT)
        return response.text if response.status_code == 200 else None

    async def stream(
        self, body: dict[str, Any], watch: Watcher | None = None, on_first: OnFirst | None = None
    ) -> Answer:
        """Send one chat completion and read its answer: one try, no retry.

        Streams when ``body`` asks to; ``watch`` sees each delta and may stop the answer early.
        vLLM sends its first chunk only once the request is scheduled and prefilled, so the
        wait for it is not bounded here (:mod:`.servers` watches the server's health instead);
        from the first chunk on, ``read_timeout`` bounds each silence, and ``on_first`` is
        called. Raises :class:`RetryableError` or an ``httpx.TransportError`` for a fault worth
        another try, a :class:`ServerError` (or subclass) for an answer that is final.
        """
        self.requests_sent += 1
        unbounded = httpx.Timeout(connect=self.timeouts.connect, read=None, write=60.0, pool=None)
        async with self._http.stream(
            "POST", "/chat/completions", json=body, timeout=unbounded
        ) as response:
            if response.status_code != 200:
                content = await response.aread()
                if response.status_code in RETRY_STATUS:
                    raise RetryableError(
                        response.status_code,
                        response.headers.get("retry-after"),
                        error_message(content),
                    )
                self._raise_for_status(response.status_code, content)
            if not body.get("stream"):
                content = await response.aread()
                if on_first:
                    on_first()
                return _answer_of(json.loads(content))
            return await _read_stream(response, watch, on_first, self.timeouts.read)

    async def _send(self, call: Callable[[], Any]) -> httpx.Response:
        for attempt in range(self.retry.tries):
            try:
                response: httpx.Response = await call()
            except httpx.ConnectError as exc:
                raise self.unreachable(exc) from exc
            except httpx.TransportError as exc:
                if attempt + 1 >= self.retry.tries:
                    raise TransportError(
                        f"gave up after {self.retry.tries} tries: {describe(exc)}"
                    ) from exc
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            if response.status_code in RETRY_STATUS and attempt + 1 < self.retry.tries:
                await asyncio.sleep(
                    self.retry.delay(attempt, _seconds(response.headers.get("retry-after")))
                )
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def unreachable(self, exc: Exception) -> ServerUnreachableError:
        return ServerUnreachableError(
            f"cannot connect to {self.base_url} ({describe(exc)}). " + COMPOSE_HINT
        )

    def _raise_for_status(self, status: int, content: bytes) -> None:
        if status < 400:
            return
        message = error_message(content)
        if status in (401, 403):
            raise AuthenticationError(
                f"the server refused the request (HTTP {status}): check the API key "
                "(api_key= or DOTSOCR_API_KEY)"
            )
        if status == 404 and "does not exist" in message:
            raise ModelNotServedError(f"HTTP 404: {message}")
        if status == 400:
            overflow = context_overflow(message)
            if overflow is not None:
                raise ContextOverflowError(f"HTTP 400: {message}", overflow)
        raise ServerError(f"HTTP {status}: {message}")


class RetryableError(Exception):
    """An answer worth another try: 429 or a 5xx status, or an error sent mid-stream."""

    def __init__(self, status: int, retry_after: str | None, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.retry_after = _seconds(retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _answer_of(data: dict[str, Any]) -> Answer:
    choice = data["choices"][0]
    usage = data.get("usage") or {}
    return Answer(
        choice["message"].get("content") or "",
        choice.get("finish_reason"),
        usage.get("completion_tokens"),
        usage.get("prompt_tokens"),
    )


async def _lines(
    response: httpx.Response, on_first: OnFirst | None, read_timeout: float
) -> AsyncGenerator[str, None]:
    """The answer's lines; after the first chunk, silence longer than ``read_timeout`` is a
    :class:`httpx.ReadTimeout` (a transport fault)."""
    lines = response.aiter_lines()
    first = await anext(lines, None)
    if first is None:
        return
    if on_first:
        on_first()
    yield first
    while True:
        try:
            async with asyncio.timeout(read_timeout):
                line = await anext(lines, None)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no token for {read_timeout:g}s (read_timeout)") from None
        if line is None:
            return
        yield line


async def _read_stream(
    response: httpx.Response, watch: Watcher | None, on_first: OnFirst | None, read_timeout: float
) -> Answer:
    parts: list[str] = []
    finish: str | None = None
    usage: dict[str, Any] = {}
    estimate = 0.0  # tokens so far when the server does not report them per chunk

    def answer(reason: str | None) -> Answer:
        return Answer(
            "".join(parts), reason, usage.get("completion_tokens"), usage.get("prompt_tokens")
        )

    async with contextlib.aclosing(_lines(response, on_first, read_timeout)) as lines:
        async for line in lines:
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            chunk = _chunk(payload)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or ():
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    parts.append(delta)
                    # Without per-chunk usage: an upper estimate, as budget.text_tokens makes it.
                    estimate += len(delta.encode("utf-8")) / 3
                    tokens = usage.get("completion_tokens") or int(estimate)
                    reason = watch(delta, tokens) if watch else None
                    if reason:
                        # Leaving closes the connection, which makes vLLM abort the request.
                        return answer(reason)
                finish = choice.get("finish_reason") or finish
        else:
            if finish is None:
                raise httpx.RemoteProtocolError("the stream ended without a finish reason")
    return answer(finish)


def _chunk(payload: str) -> dict[str, Any]:
    """One streamed chunk; a garbled or an error chunk is a transport fault (retried)."""
    try:
        chunk = json.loads(payload)
    except ValueError:
        chunk = None
    if not isinstance(chunk, dict):
        raise httpx.RemoteProtocolError(
            f"the stream sent a chunk that is not JSON: {payload[:80]!r}"
        )
    if "error" in chunk or chunk.get("object") == "error":
        # The engine failed mid-answer (vLLM streams an error object): worth another try.
        raise RetryableError(500, None, f"failed mid-answer: {error_message(payload.encode())}")
    return chunk
