"""Drive an async iterator from sync code without ``asyncio.run``.

The event loop runs in a worker thread owned by the iterator, so ``lazy_load`` works inside
notebooks and web servers that already run a loop, and keeps the async path's concurrency.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar, cast

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


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The result of ``make()`` run to its end on an event loop of its own in a worker thread
    (so it works where a loop already runs: notebooks, web handlers)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="dotsocr-call", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])
