"""Drive an async iterator from sync code without ``asyncio.run``.

The event loop runs in a worker thread owned by the iterator, so ``lazy_load`` works inside
notebooks and web servers that already run a loop, and keeps the async path's concurrency.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def iterate_in_thread(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Yield the items of ``make()``, run on an event loop in a worker thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dotsocr-loop", daemon=True)
    thread.start()
    iterator = make()

    async def step() -> T:
        return await iterator.__anext__()

    try:
        while True:
            try:
                item = asyncio.run_coroutine_threadsafe(step(), loop).result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            asyncio.run_coroutine_threadsafe(close(), loop).result()
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
