"""Watch the servers while a run goes: load readings, re-admission, stalled queues.

One small loop per server, every :data:`TICK` seconds:

* a server that is out is asked ``GET /health`` once its cooldown has passed, and put back
  when it answers 200;
* a usable server whose oldest request has waited ``read_timeout`` for its first token is
  asked ``GET /health`` (at most once per ``read_timeout``): a server that is only busy answers
  200 and its queue is left alone; one that does not is taken out, and the requests queued
  there go to another server;
* otherwise, while requests are in flight and the concurrency is not pinned, its load is read
  (``/metrics``, else our own view) and its capacity adjusted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from .capacity import Load
from .metrics import parse_load
from .server import Server

TICK = 0.5
logger = logging.getLogger("langchain_dotsocr")


class Monitor:
    """Runs the per-server loops; ``changed`` is called after each reading."""

    def __init__(self, servers: list[Server], changed: Callable[[], None], stall: float) -> None:
        self.servers = servers
        self.changed = changed
        self.stall = stall
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._watch(s)) for s in self.servers]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch(self, server: Server) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                await self.check(server)
            except Exception:  # a bug here must not stop the watch, nor the run
                logger.exception("watching %s failed", server.url)
            self.changed()

    async def check(self, server: Server) -> None:
        """One look at ``server``."""
        now = time.monotonic()
        if not server.usable:
            if now >= server.retry_at:
                if await server.client.health():
                    server.readmit()
                else:  # still down: requests queued there since leave too
                    server.retry_at = time.monotonic() + server.cooldown
                    server.gone.set()
            return
        if server.longest_wait() > self.stall and now - server.health_checked > self.stall:
            server.health_checked = now
            if not await server.client.health():
                server.eject(
                    f"GET /health failed while requests waited over {self.stall:g}s", dead=True
                )
            return
        if server.capacity.fixed is None and server.outstanding:
            outstanding, before = server.outstanding, server.capacity.limit
            load = await self.load(server)
            if load is not None:
                server.capacity.observe(load, outstanding)
            if server.capacity.limit != before:
                server.limit_changed = time.monotonic()

    async def load(self, server: Server) -> Load | None:
        """The server's own figures when it offers them, else our view of its queue."""
        if server.metrics:
            try:
                text = await server.client.metrics()
            except httpx.HTTPError:
                return None  # no reading this time
            load = parse_load(text, server.model) if text is not None else None
            if load is not None:
                return load
            server.metrics = False  # no /metrics, or not vLLM's: do not ask again
        return server.own_load(time.monotonic() - server.limit_changed)
