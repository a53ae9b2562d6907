"""Where requests go: budget each for its server, hold a fair slot, send, retry transport faults.

The readers (:mod:`.read`) say *what* to ask (an image, a prompt mode, a box); this module
says *where and how*: which server, with which output budget (the server's context minus the
prompt), under which request slot (:class:`FairLimiter`: pages share the slots in turn), and
how often a transport fault is tried again. A context-length 400 teaches the server's real
limit, and the request is sent once more with a budget that fits.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import httpx

from .budget import (
    MIN_OUTPUT_TOKENS,
    SAFETY_MARGIN,
    image_tokens,
    output_budget,
    prompt_tokens,
    required_context,
)
from .client import (
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
from .encode import EncodedImage
from .errors import ContextLengthError
from .limiter import FairLimiter
from .prompts import chat_body, prompt_text
from .settings import DotsOCRSettings

logger = logging.getLogger("langchain_dotsocr")

# Makes a fresh watcher for one try, given the output budget of the request.
WatchFactory = Callable[[int], Watcher]


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
    """What a page's requests cost: requests sent (transport retries not counted), tokens."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, answer: Answer) -> None:
        self.prompt_tokens += answer.prompt_tokens or 0
        self.completion_tokens += answer.completion_tokens or 0


class Server:
    """One discovered server and what was learnt of it."""

    def __init__(self, client: Client, info: ServerInfo) -> None:
        self.client = client
        self.info = info
        self.max_model_len = info.max_model_len

    @property
    def model(self) -> str:
        return self.info.model


class Servers:
    """The servers of one run, the run's request slots and the transport retries."""

    def __init__(self, settings: DotsOCRSettings) -> None:
        s = self.settings = settings
        self.retry = Retry(tries=s.max_retries, base=s.retry_backoff)
        self.client = Client(
            s.base_url,
            s.api_key.get_secret_value() if s.api_key else None,
            timeouts=Timeouts(s.connect_timeout, s.read_timeout, s.page_timeout),
            retry=self.retry,
            max_concurrency=s.max_concurrency,
        )
        # Every request in flight, from any page or fallback, holds one of these.
        self.limiter = FairLimiter(s.max_concurrency)
        self._server: Server | None = None

    async def start(self) -> ServerInfo:
        """Discover the server: its model and ``max_model_len``."""
        info = await self.client.discover(self.settings.model, self.settings.max_model_len)
        self._server = Server(self.client, info)
        return info

    @property
    def server(self) -> Server:
        if self._server is None:
            raise RuntimeError("Servers.start() was not awaited")
        return self._server

    @property
    def model(self) -> str:
        """The served model id."""
        return self.server.model

    @property
    def max_model_len(self) -> int | None:
        """The context length pages must fit (the smallest of the servers')."""
        return self.server.max_model_len

    async def aclose(self) -> None:
        await self.client.aclose()

    async def ask(
        self, request: Request, tally: Tally, watch: WatchFactory | None = None
    ) -> Answer:
        """Send ``request`` with a budget that fits; after a context-length 400, once more.

        Raises :class:`TimeoutError` past ``page_timeout`` (counted from the moment the request
        has a slot), :class:`ContextLengthError` when the image leaves no room for an answer,
        and what the server answers otherwise.
        """
        image, s = request.image, self.settings
        server = self.server
        needed = prompt_tokens(image.height, image.width, request.mode)
        text = prompt_text(request.mode, request.box)
        for attempt in (0, 1):
            budget = self._budget(server, image, needed)
            body = chat_body(
                model=server.model,
                image_url=image.url,
                text=text,
                max_tokens=budget,
                temperature=s.temperature if request.temperature is None else request.temperature,
                top_p=s.top_p,
            )
            tally.requests += 1
            watcher = functools.partial(watch, budget) if watch else None
            try:
                answer = await self._send(server, body, watcher, request.group)
            except ContextOverflowError as exc:
                overflow = exc.overflow
                server.max_model_len = overflow.max_model_len
                used = overflow.input_tokens or needed
                budget = output_budget(overflow.max_model_len, used, s.max_tokens)
                floor = min(MIN_OUTPUT_TOKENS, s.max_tokens)
                if attempt == 1 or overflow.input_alone_too_long or budget < floor:
                    raise context_error(image, used, overflow.max_model_len, s) from exc
                continue
            tally.add(answer)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _budget(self, server: Server, image: EncodedImage, needed: int) -> int:
        s = self.settings
        if server.max_model_len is None:
            return s.max_tokens
        budget = output_budget(server.max_model_len, needed, s.max_tokens)
        if budget < min(MIN_OUTPUT_TOKENS, s.max_tokens):
            raise context_error(image, needed, server.max_model_len, s)
        return budget

    async def _send(
        self,
        server: Server,
        body: dict[str, object],
        watcher: Callable[[], Watcher] | None,
        group: Hashable,
    ) -> Answer:
        """One request with transport retries; each try holds a slot, the pauses do not.

        ``page_timeout`` bounds each try from the moment it has a slot, so time spent queueing
        behind other pages never counts.
        """
        retry = self.retry
        for attempt in range(retry.tries):
            try:
                async with self.limiter.hold(group), asyncio.timeout(self.settings.page_timeout):
                    return await server.client.stream(body, watcher() if watcher else None)
            except (httpx.TransportError, RetryableError) as exc:
                retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
                if attempt + 1 >= retry.tries:
                    if isinstance(exc, httpx.ConnectError):  # the server went away mid-run
                        raise server.client.unreachable(exc) from exc
                    raise TransportError(
                        f"gave up after {retry.tries} tries: {describe(exc)}"
                    ) from exc
                delay = retry.delay(attempt, retry_after)
                logger.info(
                    "transport fault (%s); retry %d in %.1fs", describe(exc), attempt + 1, delay
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


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
