"""Drive an async iterator from sync code without ``asyncio.run``.

The event loop runs in a worker thread owned by the iterator, so ``lazy_load`` works inside
notebooks and web servers that already run a loop, and keeps the async path's concurrency.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger("langchain_dotsocr")


def iterate_in_thread(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Yield the items of ``make()``, run on an event loop in a worker thread.

    However the caller stops (exhausted, ``break``, an exception such as KeyboardInterrupt
    while waiting), the run is cancelled and closed and the thread ends before this returns.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dotsocr-loop", daemon=True)
    thread.start()
    iterator = make()
    stepping: list[asyncio.Task[T]] = []

    async def step() -> T:
        task = asyncio.current_task()
        stepping[:] = [task] if task else []
        return await iterator.__anext__()

    async def shutdown() -> None:
        for task in stepping:  # a step the caller stopped waiting for: cancel, then close
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
        await loop.shutdown_asyncgens()

    try:
        while True:
            try:
                item = asyncio.run_coroutine_threadsafe(step(), loop).result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result()
        except Exception:  # never hide the caller's own exception behind a cleanup error
            logger.exception("closing the run failed")
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
