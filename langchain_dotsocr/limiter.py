"""Request slots shared fairly between pages.

A dense page can have dozens of requests waiting at once (tiles, grounding reads). With a plain
first-come semaphore they would all go ahead of the pages queued behind them; here waiters are
grouped (one group per page) and free slots go to the groups in turn, so every page in flight
gets an equal share and none is starved. The limit can change while requests run (adaptive
concurrency): raising it wakes waiters at once, lowering it lets running requests finish.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager


class FairLimiter:
    """At most ``limit`` holders at once; waiting groups are served round-robin."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self.held = 0
        self._waiting: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()
        #: Called after the limit changed (the pipeline's page window follows it).
        self.resized: Callable[[], None] | None = None

    @property
    def limit(self) -> int:
        """Holders allowed at once."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        changed, self._limit = self._limit != max(1, value), max(1, value)
        self._wake()
        if changed and self.resized is not None:
            self.resized()

    @property
    def waiting(self) -> int:
        """Waiters not yet holding a slot."""
        return sum(len(q) for q in self._waiting.values())

    @asynccontextmanager
    async def hold(self, group: Hashable = None) -> AsyncIterator[None]:
        """Hold one slot for the block; waits its group's turn when all are taken."""
        if self.held < self._limit and not self._waiting:
            self.held += 1
        else:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(group, deque()).append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # granted just as we were cancelled: pass it on
                else:
                    self._forget(group, waiter)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self.held -= 1
        self._wake()

    def _forget(self, group: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self._waiting.get(group)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiting[group]

    def _wake(self) -> None:
        while self.held < self._limit and self._waiting:
            group, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            del self._waiting[group]
            if queue:  # the group goes to the back of the line
                self._waiting[group] = queue
            if not waiter.done():
                self.held += 1
                waiter.set_result(None)


class Gate:
    """A counter for one acquirer at a time whose bound ``size()`` may change while it runs."""

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self.taken = 0
        self._event = asyncio.Event()

    async def acquire(self) -> None:
        """Wait until fewer than ``size()`` are taken, then take one."""
        while self.taken >= self._size():
            self._event.clear()
            await self._event.wait()
        self.taken += 1

    def release(self) -> None:
        self.taken -= 1
        self._event.set()

    def wake(self) -> None:
        """Look at ``size()`` again (it grew)."""
        self._event.set()
