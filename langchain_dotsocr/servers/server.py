"""One server of the pool: its client, what was learnt of it, its load and its health."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from ..client import Client, RetryableError, ServerInfo
from .capacity import Capacity, Load

#: First cooldown after an ejection; it doubles while the server keeps failing, up to the cap.
COOLDOWN = 1.0
MAX_COOLDOWN = 16.0
#: Consecutive HTTP 500s (or errors sent mid-answer) that take a server out.
FAILURE_STREAK = 3
#: Statuses that mean the server (or the proxy in front of it) cannot serve now.
DOWN_STATUS = frozenset({502, 503, 504})
#: Seconds past twice the fastest time to first token after which a request counts as queued.
QUEUE_GRACE = 0.25


class Server:
    """A discovered server: what it serves, how much to send it, whether it is usable."""

    def __init__(self, client: Client, info: ServerInfo, capacity: Capacity) -> None:
        self.client = client
        self.info = info
        self.max_model_len = info.max_model_len
        self.capacity = capacity
        self.outstanding = 0  # our requests in flight here
        self.sent = 0  # tries sent here, transport retries included
        self._pending: dict[int, float] = {}  # requests without a first token: id -> sent at
        self._ids = itertools.count()
        self.fastest_first_token: float | None = None
        self.limit_changed = time.monotonic()
        # Health: out of the pool until retry_at, then back when GET /health answers 200.
        self.out_since: float | None = None
        self.retry_at = 0.0
        self.cooldown = COOLDOWN
        self.failures = 0
        self.reason = ""
        self.metrics = True  # until the server shows it has no /metrics
        self.health_checked = 0.0
        self.gone = asyncio.Event()  # set when its health fails: requests queued here leave

    @property
    def url(self) -> str:
        return self.client.base_url

    @property
    def model(self) -> str:
        return self.info.model

    @property
    def usable(self) -> bool:
        return self.out_since is None

    @property
    def load_ratio(self) -> float:
        """Outstanding requests relative to capacity: the pool sends to the lowest."""
        return self.outstanding / max(1, self.capacity.limit)

    @contextmanager
    def track(self) -> Iterator[Callable[[], None]]:
        """Count one request in flight here; yields what to call at its first token."""
        rid, sent = next(self._ids), time.monotonic()
        self.outstanding += 1
        self.sent += 1
        self._pending[rid] = sent

        def first_token() -> None:
            if self._pending.pop(rid, None) is not None:
                waited = time.monotonic() - sent
                fastest = self.fastest_first_token
                self.fastest_first_token = waited if fastest is None else min(fastest, waited)

        try:
            yield first_token
        finally:
            self.outstanding -= 1
            self._pending.pop(rid, None)

    def own_load(self, since_change: float) -> Load | None:
        """Our own reading when the server has no /metrics: a request still without its first
        token well past the fastest first token seen is waiting in the server's queue.

        None (no reading) until a first token was seen, and within that wait after the last
        change of the limit: requests it let out could not have shown a queue yet.
        """
        if self.fastest_first_token is None:
            return None
        threshold = QUEUE_GRACE + 2 * self.fastest_first_token
        now = time.monotonic()
        waiting = sum(now - sent > threshold for sent in self._pending.values())
        if not waiting and since_change < threshold:
            return None
        return Load(self.outstanding - waiting, waiting)

    def longest_wait(self) -> float:
        """Seconds the oldest request still without a first token has waited."""
        return time.monotonic() - min(self._pending.values(), default=time.monotonic())

    # -- health --------------------------------------------------------------------------------

    def succeeded(self) -> None:
        self.failures = 0
        self.cooldown = COOLDOWN

    def failed(self, exc: BaseException) -> None:
        """Take the server out when a transport fault says it cannot serve."""
        if isinstance(exc, RetryableError):
            if exc.status in DOWN_STATUS:
                self.eject(str(exc))
            elif exc.status >= 500:
                self.failures += 1
                if self.failures >= FAILURE_STREAK:
                    self.eject(f"{self.failures} failures in a row, the last: {exc}")
            return  # 429: busy, not broken
        if isinstance(exc, httpx.TransportError):
            self.eject(str(exc) or type(exc).__name__)

    def eject(self, reason: str, *, dead: bool = False) -> None:
        """Take the server out for a cooldown. ``dead``: its health check failed, so requests
        still queued there leave too (one request's fault says nothing of the others')."""
        if dead:
            self.gone.set()
        if not self.usable:
            return
        now = time.monotonic()
        self.out_since, self.reason = now, reason
        self.retry_at = now + self.cooldown
        self.cooldown = min(MAX_COOLDOWN, self.cooldown * 2)

    def readmit(self) -> None:
        self.out_since = None
        self.failures = 0
        self.gone = asyncio.Event()


class ServerLeft(Exception):
    """The server was taken out while a request still waited there for its first token."""

    def __init__(self, server: Server) -> None:
        super().__init__(f"{server.url} was taken out of the pool ({server.reason})")
