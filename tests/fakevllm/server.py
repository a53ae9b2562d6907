"""FakeVLLM: a test double of ``vllm serve rednote-hilab/dots.ocr`` (OpenAI-compatible API).

Use it as::

    fake = FakeVLLM(max_model_len=8192, faults=FaultPlan(by_page={3: ["http_429", "ok"]}))
    with serve(fake) as base_url:          # "http://127.0.0.1:PORT/v1"
        ...                                # talk to it; fake.requests records every request

Routes: ``GET /v1/models``, ``POST /v1/chat/completions``, ``GET /health``, ``GET /version``,
``GET /metrics`` (Prometheus text; ``metrics=False`` answers 404, as a server behind a proxy
that hides it). With ``api_key`` set, every path under /v1 needs ``Authorization: Bearer <key>``
(as vLLM). ``dead=True`` is an engine that died while the API server stays up (vLLM with
``VLLM_KEEP_ALIVE_ON_ENGINE_DEATH``): ``/health`` answers 503 and every chat request 500.
``kill()`` stops listening (connections refused, open ones reset); ``restart()`` listens again
on the same port.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .answers import Script, answer_tokens, budget_chars
from .errors import (
    CONTEXT_STYLES,
    ERROR_SHAPES,
    context_message,
    decoder_prompt_message,
    error_body,
    nginx_page,
)
from .faults import CONTEXT_FAULTS, HTTP_FAULTS, FaultPlan, answer_script
from .intake import JSON, Job, RecordedRequest, Reject, read_request
from .latency import LatencyModel, Scheduler
from .metrics import CONTENT_TYPE, Counters, exposition
from .noise import Noise
from .prefix import PrefixCache
from .scene import MAX_TOLERANCE
from .vision import Element
from .wire import Exchange, Server

SEEN_IMAGES = 64  # images whose reading the double remembers


@dataclass
class FakeVLLM:
    """Settings and state of the double. Settings may be changed between requests."""

    model_id: str = "rednote-hilab/dots.ocr"
    max_model_len: int = 32768
    api_key: str | None = None
    min_pixels: int = 3136
    max_pixels: int = 11_289_600
    context_error_style: int = 2  # 1..4, see errors.context_message
    accept_overlong_with_length: bool = False
    latency: LatencyModel | None = None
    faults: FaultPlan | None = None
    error_shape: str = "nested"  # "nested" (vLLM >= 0.10.1) or "flat" (older)
    strict: bool = True  # refuse requests that depart from the dots.ocr request contract
    colour_tolerance: int | None = None  # None: 9 for lossy images (JPEG, lossy WebP), else 4
    stream_tokens_per_chunk: int = 4
    root: str | None = None  # "root" in /v1/models (the model path); default model_id
    # The words of the test document: what the model reads in element (category, n), where
    # it is not scene.element_text (headings with numbers, printed page numbers, other scripts).
    texts: dict[tuple[str, int], str] = field(default_factory=dict)
    vllm_version: str = "0.11.0"
    metrics: bool = True  # serve GET /metrics
    dead: bool = False  # the engine died: /health 503, chat 500
    prefix_caching: bool = True  # as vLLM's V1 engine by default
    noise: Noise | None = None  # answers as imperfect as the real model's (noise.py)
    # How grounding reads a table's box: its HTML, or ("text") its words only, as a model
    # might: nothing published says which dots.ocr does, the loader must cope with both.
    table_grounding: str = "html"

    def __post_init__(self) -> None:
        if self.context_error_style not in CONTEXT_STYLES:
            raise ValueError(f"context_error_style must be one of {CONTEXT_STYLES}")
        if self.error_shape not in ERROR_SHAPES:
            raise ValueError(f"error_shape must be one of {ERROR_SHAPES}")
        if self.colour_tolerance is not None and not 0 <= self.colour_tolerance <= MAX_TOLERANCE:
            raise ValueError(f"colour_tolerance must be in 0..{MAX_TOLERANCE}")
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._attempts: dict[int | None, int] = {}
        self._mode_counts: dict[str | None, int] = {}  # requests seen per prompt mode
        self._active = 0
        self._max_active = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._stop = threading.Event()
        self._scheduler = Scheduler(lambda: self.latency, self._stop)
        self._created = int(time.time())
        self._counters = Counters()
        self._listener: _Listener | None = None
        self._prefix = PrefixCache()
        # What the double saw in an image, by its pixels' hash: vLLM's multimodal cache
        # likewise processes an image asked again (a re-ask, a grounding read) only once.
        self._seen: OrderedDict[tuple[str, int], tuple[Any, list[Element]]] = OrderedDict()
        self.base_url: str | None = None

    # -- public state ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in arrival order (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def max_concurrency(self) -> int:
        """The most chat completions generating at the same time (holding a slot)."""
        with self._lock:
            return self._max_active

    @property
    def max_in_flight(self) -> int:
        """The most chat requests open at the same time (queued, hanging or generating)."""
        with self._lock:
            return self._max_in_flight

    @property
    def max_waiting(self) -> int:
        """The most chat requests waiting at once for a slot (``vllm:num_requests_waiting``)."""
        return self._scheduler.max_waiting

    def attempts(self, page: int | None) -> int:
        """How many chat requests for ``page`` the double has seen (those it could read)."""
        with self._lock:
            return self._attempts.get(page, 0)

    def seen(
        self, digest: str, tolerance: int, see: Callable[[], tuple[Any, list[Element]]]
    ) -> tuple[Any, list[Element]]:
        """The page and elements of the image ``digest`` (``see()`` the first time)."""
        key = (digest, tolerance)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                page, elements = self._seen[key]
                return page, list(elements)
        page, elements = see()
        with self._lock:
            self._seen[key] = (page, list(elements))
            while len(self._seen) > SEEN_IMAGES:
                self._seen.popitem(last=False)
        return page, elements

    def reset(self) -> None:
        """Forget recorded requests, attempt counts and the concurrency high-water mark."""
        with self._lock:
            self._requests.clear()
            self._attempts.clear()
            self._mode_counts.clear()
            self._max_active = 0
            self._max_in_flight = 0
            self._prefix.clear()
        self._scheduler.max_waiting = 0

    # -- lifecycle (used by serve) -------------------------------------------------------------

    def _begin(self) -> None:
        self._stop = threading.Event()
        self._scheduler = Scheduler(lambda: self.latency, self._stop)

    def _end(self) -> None:
        self._stop.set()

    def kill(self) -> None:
        """Stop listening as a crashed server: open connections reset, new ones refused."""
        if self._listener is None:
            raise RuntimeError("kill() needs a double started with serve()")
        self._end()
        self._listener.stop()

    def restart(self) -> None:
        """Listen again on the same port, as a fresh server process."""
        if self._listener is None:
            raise RuntimeError("restart() needs a double started with serve()")
        self._begin()
        self._listener.start()

    # -- dispatch --------------------------------------------------------------------------------

    def handle(self, ex: Exchange) -> None:
        with self._lock:
            rec = RecordedRequest(
                len(self._requests), ex.method, ex.path, time.monotonic(), peer=ex.peer
            )
            self._requests.append(rec)
        try:
            self._route(ex, rec)
        except Exception as e:  # a bug of the double: say so rather than hang up silently
            rec.error = f"fakevllm internal error: {e!r}"
            if rec.status is None:
                self._send_json(
                    ex,
                    rec,
                    500,
                    error_body(rec.error, "InternalServerError", 500, shape=self.error_shape),
                )
            else:
                ex.drop()
            raise
        finally:
            rec.finished_at = time.monotonic()

    def _route(self, ex: Exchange, rec: RecordedRequest) -> None:
        if ex.path.startswith("/v1") and self.api_key is not None and not self._authorized(ex):
            self._send_json(ex, rec, 401, {"error": "Unauthorized"})
            return
        routes = {
            "/v1/models": ("GET", self._models),
            "/v1/chat/completions": ("POST", self._chat),
            "/health": ("GET", self._health),
            "/version": ("GET", self._version),
            "/metrics": ("GET", self._metrics),
        }
        route = routes.get(ex.path.rstrip("/") or "/")
        if route is None:
            self._send_json(ex, rec, 404, {"detail": "Not Found"})
        elif route[0] != ex.method:
            self._send_json(ex, rec, 405, {"detail": "Method Not Allowed"})
        else:
            route[1](ex, rec)

    def _authorized(self, ex: Exchange) -> bool:
        scheme, _, token = (ex.header("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and token == self.api_key

    def _send_json(
        self,
        ex: Exchange,
        rec: RecordedRequest,
        status: int,
        obj: object,
        headers: dict[str, str] | None = None,
    ) -> None:
        rec.status = status
        ex.send(status, _compact(obj), JSON, headers)

    def _error(
        self,
        ex: Exchange,
        rec: RecordedRequest,
        status: int,
        message: str,
        type_: str = "BadRequestError",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        rec.error = message
        body = error_body(message, type_, status, param, self.error_shape)
        self._send_json(ex, rec, status, body, headers)

    # -- simple routes ----------------------------------------------------------------------------

    def _health(self, ex: Exchange, rec: RecordedRequest) -> None:
        rec.status = 503 if self.dead else 200  # vLLM: 503 once EngineDeadError is raised
        ex.send(rec.status, b"", JSON)

    def _metrics(self, ex: Exchange, rec: RecordedRequest) -> None:
        if not self.metrics:
            self._send_json(ex, rec, 404, {"detail": "Not Found"})
            return
        sched, slots = self._scheduler, self.latency.slots if self.latency else 0
        running = sched.running
        with self._lock:
            text = exposition(self.model_id, running, sched.waiting,
                              min(1.0, running / slots) if slots else 0.0, self._counters)
        rec.status = 200
        ex.send(200, text.encode(), CONTENT_TYPE)

    def _version(self, ex: Exchange, rec: RecordedRequest) -> None:
        self._send_json(ex, rec, 200, {"version": self.vllm_version})

    def _models(self, ex: Exchange, rec: RecordedRequest) -> None:
        card = {
            "id": self.model_id,
            "object": "model",
            "created": self._created,
            "owned_by": "vllm",
            "root": self.root or self.model_id,
            "parent": None,
            "max_model_len": self.max_model_len,
            "permission": [
                {
                    "id": f"modelperm-{uuid.uuid4().hex}",
                    "object": "model_permission",
                    "created": self._created,
                    "allow_create_engine": False,
                    "allow_sampling": True,
                    "allow_logprobs": True,
                    "allow_search_indices": False,
                    "allow_view": True,
                    "allow_fine_tuning": False,
                    "organization": "*",
                    "group": None,
                    "is_blocking": False,
                }
            ],
        }
        self._send_json(ex, rec, 200, {"object": "list", "data": [card]})

    # -- chat completions ----------------------------------------------------------------------

    def _chat(self, ex: Exchange, rec: RecordedRequest) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._chat_in_flight(ex, rec)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _chat_in_flight(self, ex: Exchange, rec: RecordedRequest) -> None:
        if self.dead:  # vLLM's handler of EngineDeadError: a bare 500
            rec.status, rec.error = 500, "EngineDeadError"
            ex.send(500, b"", "text/plain")
            return
        try:
            job = read_request(ex, rec, self)
        except Reject as r:
            self._error(ex, rec, r.status, r.message, r.type_, r.param)
            return
        with self._lock:
            attempt = self._attempts.get(rec.page, 0)
            self._attempts[rec.page] = attempt + 1
            nth = self._mode_counts.get(rec.prompt_mode, 0)
            self._mode_counts[rec.prompt_mode] = nth + 1
        rec.attempt = attempt
        plan = self.faults
        fault = plan.choose(rec.page, attempt, rec.prompt_mode, nth) if plan is not None else "ok"
        rec.fault = fault
        if self._proxy_fault(ex, rec, fault, plan):
            return
        budget = self._budget(ex, rec, job, fault)
        if budget is None:
            return
        script = answer_script(fault, job.mode, job.elements, job.size, job.box)
        self._generate(ex, rec, job, script, budget, fault)

    def _proxy_fault(
        self, ex: Exchange, rec: RecordedRequest, fault: str, plan: FaultPlan | None
    ) -> bool:
        """Faults from the network or a proxy in front of vLLM. True when the request is done."""
        if fault in HTTP_FAULTS:
            status = HTTP_FAULTS[fault]
            if status in (502, 504):
                rec.status, rec.error = status, nginx_page(status)
                ex.send(status, nginx_page(status).encode(), "text/html")
            elif status == 429:
                headers = {}
                if plan is not None and plan.retry_after is not None:
                    headers["Retry-After"] = f"{plan.retry_after:g}"
                self._error(ex, rec, 429, "Too Many Requests", "RateLimitError", headers=headers)
            elif status == 503:
                self._error(ex, rec, 503, "Service Unavailable", "ServiceUnavailableError")
            elif status == 400:
                self._error(ex, rec, 400, "Failed to load image: cannot identify image file",
                            "BadRequestError")
            else:
                self._error(ex, rec, 500, "Internal Server Error", "InternalServerError")
            return True
        if fault == "drop_before":
            ex.drop()
            return True
        if fault == "hang":
            seconds = plan.hang_seconds if plan is not None else 30.0
            if not self._scheduler.wait(seconds, ex.gone):
                self._abandon(ex, rec)
                return True
        return False

    def _budget(self, ex: Exchange, rec: RecordedRequest, job: Job, fault: str) -> int | None:
        """The output budget, or None after answering a context-length error."""
        n, p, requested = self.max_model_len, job.prompt_tokens, job.requested
        if p >= n:
            if self.context_error_style == 3:
                message, param = context_message(3, p, requested or 0, n)
            else:
                message, param = decoder_prompt_message(p, n), None
            self._error(ex, rec, 400, message, param=param)
            return None
        budget = requested if requested is not None else n - p
        if p + budget > n:
            if not self.accept_overlong_with_length:
                message, param = context_message(self.context_error_style, p, budget, n)
                self._error(ex, rec, 400, message, param=param)
                return None
            budget = n - p
        if fault in CONTEXT_FAULTS:
            message, param = context_message(CONTEXT_FAULTS[fault], p, budget, n)
            self._error(ex, rec, 400, message, param=param)
            return None
        rec.budget = budget
        return budget

    def _generate(
        self, ex: Exchange, rec: RecordedRequest, job: Job, script: Script, budget: int, fault: str
    ) -> None:
        max_chars = budget_chars(budget)
        n_chars, finish = script.length(max_chars)
        rec.completion_tokens = answer_tokens(n_chars)
        rec.finish_reason = finish
        sched = self._scheduler
        if not sched.acquire(ex.gone):
            self._abandon(ex, rec)
            return
        with self._lock:
            self._active += 1
            self._max_active = max(self._max_active, self._active)
        try:
            rec.started_at = time.monotonic()
            if self.prefix_caching:
                with self._lock:
                    rec.cached_tokens = self._prefix.cached(
                        rec.image_digest, job.prompt_text, job.size, job.prompt_tokens
                    )
            if not sched.prefill(job.prompt_tokens - rec.cached_tokens, ex.gone):
                self._abandon(ex, rec)
                return
            if job.stream:
                self._stream(ex, rec, job, script, max_chars, n_chars, finish, fault)
            else:
                self._complete(ex, rec, job, script, max_chars, finish, fault)
        finally:
            with self._lock:
                self._active -= 1
                self._count(rec, job)
            sched.release()

    def _count(self, rec: RecordedRequest, job: Job) -> None:
        """Add a request that was scheduled to the counters of /metrics (under the lock)."""
        if rec.started_at is None:
            return
        c = self._counters
        c.prompt_tokens += job.prompt_tokens
        c.generation_tokens += answer_tokens(rec.sent_chars)
        done = not (rec.disconnected or rec.killed) and rec.finish_reason in ("stop", "length")
        reason = rec.finish_reason if done and rec.finish_reason else "abort"
        c.success[reason] += 1

    def _abandon(self, ex: Exchange, rec: RecordedRequest) -> None:
        self._cut(rec)
        ex.drop()

    def _cut(self, rec: RecordedRequest) -> None:
        """The answer ended early: killed with the server, or the client went away."""
        if self._stop.is_set():
            rec.killed = True
        else:
            rec.disconnected = True

    def _usage(self, rec: RecordedRequest) -> dict[str, int]:
        p, c = rec.prompt_tokens or 0, rec.completion_tokens or 0
        return {"prompt_tokens": p, "total_tokens": p + c, "completion_tokens": c}

    def _complete(
        self,
        ex: Exchange,
        rec: RecordedRequest,
        job: Job,
        script: Script,
        max_chars: int,
        finish: str,
        fault: str,
    ) -> None:
        start = time.monotonic()
        deadline = self._scheduler.decode_deadline(start, rec.completion_tokens or 0)
        if not self._scheduler.wait_until(deadline, ex.gone):
            self._abandon(ex, rec)
            return
        text = "".join(script.cut(max_chars))
        rec.first_token_at = time.monotonic()
        body = _compact(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": text,
                            "refusal": None,
                            "annotations": None,
                            "audio": None,
                            "function_call": None,
                            "tool_calls": [],
                            "reasoning_content": None,
                        },
                        "logprobs": None,
                        "finish_reason": finish,
                        "stop_reason": None,
                    }
                ],
                "service_tier": None,
                "system_fingerprint": None,
                "usage": {**self._usage(rec), "prompt_tokens_details": None},
                "prompt_logprobs": None,
                "kv_transfer_params": None,
            }
        )
        rec.status = 200
        if fault == "drop_mid":
            rec.sent_chars = len(text) // 2
            ex.send_partial(200, body[: len(body) // 2], len(body), JSON)
            return
        rec.sent_chars = len(text)
        if not ex.send(200, body, JSON):
            self._cut(rec)

    def _stream(
        self,
        ex: Exchange,
        rec: RecordedRequest,
        job: Job,
        script: Script,
        max_chars: int,
        n_chars: int,
        finish: str,
        fault: str,
    ) -> None:
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model_id,
                "choices": choices,
            }
            if usage is not None:
                obj["usage"] = usage
            return b"data: " + _compact(obj) + b"\n\n"

        def delta(content: str, reason: str | None) -> bytes:
            choice: dict[str, Any] = {
                "index": 0,
                "delta": {"content": content},
                "logprobs": None,
                "finish_reason": reason,
            }
            if reason is not None:
                choice["stop_reason"] = None
            if not job.continuous_usage:
                return chunk([choice])
            # vLLM's continuous_usage_stats: the tokens so far in every chunk.
            p, c = rec.prompt_tokens or 0, answer_tokens(rec.sent_chars)
            return chunk([choice], {"prompt_tokens": p, "total_tokens": p + c, "completion_tokens": c})

        rec.status = 200
        first = {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "logprobs": None,
            "finish_reason": None,
        }
        if not (ex.start_stream() and ex.stream(chunk([first]))):
            self._cut(rec)
            return
        if fault == "drop_mid" and n_chars == 0:
            ex.drop()
            return
        size = max(1, round(3.5 * self.stream_tokens_per_chunk))
        pieces = _rechunk(script.cut(max_chars), size)
        start = time.monotonic()
        stalled = False
        current = next(pieces, "")
        while True:
            following = next(pieces, None)
            rec.sent_chars += len(current)
            deadline = self._scheduler.decode_deadline(start, answer_tokens(rec.sent_chars))
            if not self._scheduler.wait_until(deadline, ex.gone):
                self._abandon(ex, rec)
                return
            if rec.first_token_at is None:
                rec.first_token_at = time.monotonic()
            if not ex.stream(delta(current, finish if following is None else None)):
                self._cut(rec)
                return
            if fault == "drop_mid" and rec.sent_chars >= n_chars // 2:
                ex.drop()
                return
            if fault == "stall_mid" and rec.sent_chars >= n_chars // 2 and not stalled:
                stalled = True
                hang = self.faults.hang_seconds if self.faults is not None else 30.0
                if not self._scheduler.wait(hang, ex.gone):
                    self._abandon(ex, rec)
                    return
                start += hang  # the stall does not count as decoding time
            if fault in ("garbled_chunk", "error_chunk") and rec.sent_chars >= n_chars // 2:
                error = {"message": "CUDA error: an illegal memory access was encountered",
                         "type": "InternalServerError", "param": None, "code": 500}
                bad = b'data: {"id": "chatcmpl-' if fault == "garbled_chunk" else (
                    b"data: " + _compact({"error": error}))
                rec.finish_reason = fault
                ex.stream(bad + b"\n\n")
                ex.stream(b"data: [DONE]\n\n")
                ex.end_stream()
                return
            if following is None:
                break
            current = following
        if job.include_usage and not ex.stream(chunk([], self._usage(rec))):
            self._cut(rec)
            return
        if not (ex.stream(b"data: [DONE]\n\n") and ex.end_stream()):
            self._cut(rec)


def _compact(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _rechunk(pieces: Iterator[str], size: int) -> Iterator[str]:
    """The text of ``pieces`` again, in pieces of ``size`` characters (the last may be shorter)."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


@contextmanager
def serve(fake: FakeVLLM, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``fake`` on a local port; yields its base URL ``http://HOST:PORT/v1``.

    On exit the server stops: waits (queue, prefill, decode, hang) end, open connections are
    closed, and the port is released.
    """
    fake._begin()
    listener = fake._listener = _Listener(fake, host, port)
    listener.start()
    fake.base_url = f"http://{host}:{listener.port}/v1"
    try:
        yield fake.base_url
    finally:
        fake._end()
        listener.stop()
        fake.base_url = None
        fake._listener = None


class _Listener:
    """The HTTP server of a double: started, stopped and started again on one port."""

    def __init__(self, fake: FakeVLLM, host: str, port: int) -> None:
        self.fake, self.host, self.port = fake, host, port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        server = self._server = Server((self.host, self.port), self.fake)
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakevllm",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
