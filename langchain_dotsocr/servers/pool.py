"""Where requests go: the pool of servers, each request's budget, slot, server and retries.

The readers (:mod:`..read`) say *what* to ask (an image, a prompt mode, a box); the pool
says *where and how*:

* every request in flight holds a slot of one :class:`FairLimiter` (pages served in turn),
  whose size is the sum of the usable servers' capacities (learnt, or ``max_concurrency``);
* the slot's request goes to the usable server with the fewest outstanding requests relative
  to its capacity (ties broken at random), with an output budget that fits *that* server's
  context (its ``max_model_len`` minus the prompt);
* a transport fault takes the server out when it says the server cannot serve
  (:meth:`Server.failed`) and the request goes to another server at once; with no other
  usable server it is tried again after a backoff, as with one server. A 400 and the
  loader's own loop cut are the page's, never a reason to change server.

A context-length 400 teaches the server's real limit, and the request is sent once more with a
budget that fits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..budget import (
    MIN_OUTPUT_TOKENS,
    SAFETY_MARGIN,
    image_tokens,
    output_budget,
    prompt_tokens,
    required_context,
)
from ..client import (
    Answer,
    Client,
    ContextOverflowError,
    Retry,
    RetryableError,
    ServerInfo,
    Timeouts,
    TransportError,
    Watcher,
    describe,
)
from ..encode import EncodedImage
from ..errors import ContextLengthError, DotsOCRError, ModelNotServedError, ServerError
from ..limiter import FairLimiter
from ..prompts import chat_body, prompt_text
from ..settings import DotsOCRSettings
from .capacity import START, Capacity
from .monitor import Monitor
from .server import Server, ServerLeft

logger = logging.getLogger("langchain_dotsocr")

# Makes a fresh watcher for one try, given the output budget of the request.
WatchFactory = Callable[[int], Watcher]
# Idle keep-alive connections kept per server.
KEEPALIVE = 64


class ServerWarning(UserWarning):
    """A server given in ``base_url`` was left out of the run (the warning says why)."""


@dataclass(frozen=True)
class Request:
    """One question to the model: an image, a prompt mode, for grounding a box."""

    image: EncodedImage
    mode: str
    box: tuple[int, int, int, int] | None = None
    temperature: float | None = None  # None: the settings' temperature
    group: Hashable = None  # requests of one group (a page) share the slots as one


@dataclass
class Tally:
    """What a page's requests cost: requests (transport retries not counted), tokens, and
    tries sent to each server (retries and failovers counted)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_server: dict[str, int] = field(default_factory=dict)

    def add(self, answer: Answer) -> None:
        self.prompt_tokens += answer.prompt_tokens or 0
        self.completion_tokens += answer.completion_tokens or 0

    def sent(self, server: Server) -> None:
        self.by_server[server.url] = self.by_server.get(server.url, 0) + 1


class Servers:
    """The servers of one run, the run's request slots and the transport retries."""

    def __init__(self, settings: DotsOCRSettings) -> None:
        s = self.settings = settings
        self.retry = Retry(tries=s.max_retries, base=s.retry_backoff)
        key = s.api_key.get_secret_value() if s.api_key else None
        timeouts = Timeouts(s.connect_timeout, s.read_timeout, s.page_timeout)
        self.clients = [
            Client(url, key, timeouts=timeouts, retry=self.retry, max_concurrency=KEEPALIVE)
            for url in s.base_urls
        ]
        # Every request in flight, from any page or fallback, holds one of these.
        self.limiter = FairLimiter(s.max_concurrency or START * len(self.clients))
        self.servers: list[Server] = []
        self._monitor: Monitor | None = None

    async def start(self) -> ServerInfo:
        """Discover every server (model, ``max_model_len``); leave out, with a
        :class:`ServerWarning`, those that cannot serve; raise when none can."""
        s = self.settings
        found = await asyncio.gather(
            *(c.discover(s.model, s.max_model_len) for c in self.clients), return_exceptions=True
        )
        for result in found:
            if isinstance(result, BaseException) and not isinstance(result, DotsOCRError):
                raise result
        infos = [r for r in found if isinstance(r, ServerInfo)]
        # The model: the one asked for, else the first usable server's.
        model = s.model or (infos[0].model if infos else "")
        errors = [
            error
            for client, result in zip(self.clients, found, strict=True)
            if (error := self._admit(client, result, model)) is not None
        ]
        if len(self.clients) == 1 and errors:
            raise errors[0]  # one server: its own error, as it always was
        if not self.servers:
            raise type(errors[0])("no server can be used: " + "; ".join(map(str, errors)))
        for error in errors:
            warnings.warn(f"left out of this run: {error}", ServerWarning, stacklevel=2)
        self._resize()
        self._monitor = Monitor(self.servers, self._resize, stall=s.read_timeout)
        self._monitor.start()
        return self.servers[0].info

    def _admit(
        self, client: Client, found: ServerInfo | BaseException, model: str
    ) -> DotsOCRError | None:
        """Add the server to the pool, or say why it cannot serve ``model``."""
        if isinstance(found, DotsOCRError):
            return found
        assert isinstance(found, ServerInfo)
        if model not in found.served:
            return ModelNotServedError(
                f"{client.base_url} serves {', '.join(found.served)}, not {model}"
            )
        info = ServerInfo(model, found.max_model_len, found.served)
        self.servers.append(Server(client, info, Capacity(self.settings.max_concurrency)))
        return None

    @property
    def model(self) -> str:
        """The served model id."""
        return self._started()[0].model

    @property
    def max_model_len(self) -> int | None:
        """The context length pages are sized for: the smallest of the servers' (so every
        server can take every page); None when no server reports one."""
        known = [s.max_model_len for s in self._started() if s.max_model_len is not None]
        return min(known) if known else None

    def requests_by_server(self) -> dict[str, int]:
        """Tries sent to each server so far in this run."""
        return {s.url: s.sent for s in self.servers}

    def _started(self) -> list[Server]:
        if not self.servers:
            raise RuntimeError("Servers.start() was not awaited")
        return self.servers

    async def aclose(self) -> None:
        if self._monitor is not None:
            await self._monitor.stop()
        await asyncio.gather(*(c.aclose() for c in self.clients))

    def _resize(self) -> None:
        """Slots = the usable servers' capacities (all servers' while none is usable)."""
        usable = [s for s in self.servers if s.usable] or self.servers
        total = sum(s.capacity.limit for s in usable)
        cap = self.settings.max_concurrency
        self.limiter.limit = min(total, cap) if cap else total

    async def ask(
        self, request: Request, tally: Tally, watch: WatchFactory | None = None
    ) -> Answer:
        """Send ``request`` with a budget that fits; after a context-length 400, once more.

        Raises :class:`TimeoutError` past ``page_timeout`` (counted from the request's first
        token: time queued here or on the server never counts), :class:`ContextLengthError`
        when the image leaves no room for an answer, and what the server answers otherwise.
        """
        needed = prompt_tokens(request.image.height, request.image.width, request.mode)
        for attempt in (0, 1):
            tally.requests += 1
            try:
                answer = await self._send(request, needed, tally, watch)
            except ContextOverflowError as exc:
                overflow, s = exc.overflow, self.settings
                used = overflow.input_tokens or needed
                budget = output_budget(overflow.max_model_len, used, s.max_tokens)
                floor = min(MIN_OUTPUT_TOKENS, s.max_tokens)
                if attempt == 1 or overflow.input_alone_too_long or budget < floor:
                    raise context_error(request.image, used, overflow.max_model_len, s) from exc
                continue
            tally.add(answer)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, request: Request, needed: int, tally: Tally, watch: WatchFactory | None
    ) -> Answer:
        """One request with transport retries; each try holds a slot, the pauses do not.

        A try that failed for a transport reason goes at once to another usable server if
        there is one, else after a backoff (to the same server, or the one out longest).
        """
        retry, last = self.retry, None
        for attempt in range(retry.tries):
            server: Server | None = None
            try:
                async with self.limiter.hold(request.group):
                    server = self._pick(avoid=last)
                    tally.sent(server)
                    return await self._try(server, request, needed, watch)
            except (httpx.TransportError, RetryableError, ServerLeft) as exc:
                assert server is not None
                if not isinstance(exc, ServerLeft):
                    server.failed(exc)
                    self._resize()
                if attempt + 1 >= retry.tries:
                    raise self._gave_up(server, exc) from exc
                last = server
                following = self._pick(avoid=server)
                if following is not server and following.usable:
                    logger.info("%s: %s; sent to %s", server.url, describe(exc), following.url)
                    continue
                retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
                delay = retry.delay(attempt, retry_after)
                logger.info(
                    "transport fault (%s); retry %d in %.1fs", describe(exc), attempt + 1, delay
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pick(self, avoid: Server | None = None) -> Server:
        """The usable server with the lowest load relative to capacity (not ``avoid`` if
        another is usable); with none usable, the one whose cooldown ends first."""
        usable = [s for s in self.servers if s.usable]
        if not usable:
            return min(self._started(), key=lambda s: s.retry_at)
        others = [s for s in usable if s is not avoid] or usable
        return min(others, key=lambda s: (s.load_ratio, random.random()))

    async def _try(
        self, server: Server, request: Request, needed: int, watch: WatchFactory | None
    ) -> Answer:
        """One try on ``server``, with a budget that fits its context."""
        s = self.settings
        budget = self._budget(server, request.image, needed)
        body = chat_body(
            model=server.model,
            image_url=request.image.url,
            text=prompt_text(request.mode, request.box),
            max_tokens=budget,
            temperature=s.temperature if request.temperature is None else request.temperature,
            top_p=s.top_p,
        )
        try:
            answer = await self._stream(server, body, watch(budget) if watch else None)
        except ContextOverflowError as exc:
            server.max_model_len = exc.overflow.max_model_len
            raise
        server.succeeded()
        return answer

    async def _stream(
        self, server: Server, body: dict[str, Any], watcher: Watcher | None
    ) -> Answer:
        """Stream one answer. ``page_timeout`` runs from the first token; until then the
        request may wait in the server's queue, and leaves if the server is taken out."""
        loop = asyncio.get_running_loop()
        with server.track() as first_token:
            async with asyncio.timeout(None) as deadline:
                # Sent to a server already known down (none is usable): no reason to leave it.
                gone: asyncio.Future[Any] = (
                    loop.create_future()
                    if server.gone.is_set()
                    else asyncio.ensure_future(server.gone.wait())
                )

                def on_first() -> None:
                    first_token()
                    gone.cancel()  # from here on the request is the server's to finish
                    deadline.reschedule(loop.time() + self.settings.page_timeout)

                stream: asyncio.Future[Any] = asyncio.ensure_future(
                    server.client.stream(body, watcher, on_first)
                )
                try:
                    await asyncio.wait({stream, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if not stream.done() and gone.done() and not gone.cancelled():
                        raise ServerLeft(server)
                    answer: Answer = await stream
                    return answer
                finally:
                    gone.cancel()
                    if not stream.done():
                        stream.cancel()
                        await asyncio.gather(stream, return_exceptions=True)

    def _budget(self, server: Server, image: EncodedImage, needed: int) -> int:
        s = self.settings
        if server.max_model_len is None:
            return s.max_tokens
        budget = output_budget(server.max_model_len, needed, s.max_tokens)
        if budget < min(MIN_OUTPUT_TOKENS, s.max_tokens):
            raise context_error(image, needed, server.max_model_len, s)
        return budget

    def _gave_up(self, server: Server, exc: BaseException) -> ServerError:
        tries = self.retry.tries
        if isinstance(exc, httpx.ConnectError) and not any(s.usable for s in self.servers):
            if len(self.servers) == 1:
                return server.client.unreachable(exc)  # the server went away mid-run
            return type(server.client.unreachable(exc))(
                "no server is reachable any more: " + ", ".join(s.url for s in self.servers)
            )
        return TransportError(f"gave up after {tries} tries: {describe(exc)}")


def context_error(
    image: EncodedImage, needed: int, limit: int, settings: DotsOCRSettings
) -> ContextLengthError:
    """The error for an image that does not fit, with the numbers and the flag to change."""
    width, height = image.width, image.height
    want = required_context(
        width,
        height,
        mode=settings.prompt_mode,
        max_tokens=settings.max_tokens,
        max_pixels=settings.max_pixels,
    )
    return ContextLengthError(
        f"the page image ({width}x{height} px, {image_tokens(height, width)} image tokens, "
        f"about {needed} input tokens with the prompt) leaves no room for an answer in the "
        f"server's max_model_len of {limit} (a margin of {SAFETY_MARGIN} and at least "
        f"{MIN_OUTPUT_TOKENS} output tokens are kept). Start vLLM with --max-model-len {want} "
        "(see docker-compose-vllm.yml), or lower dpi / max_pixels, or leave "
        "downscale_to_fit=True"
    )
