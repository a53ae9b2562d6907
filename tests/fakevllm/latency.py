"""Time as a vLLM server with continuous batching spends it.

* at most ``slots`` requests generate at once; the others wait in a first-come queue;
* prefill is shared: the server works through prompt tokens at ``prefill_tokens_per_s`` in
  total, one request's prompt after another;
* each running sequence then decodes at ``decode_tokens_per_s`` on its own (a batch does not
  slow it down), and stream deltas are paced to that rate.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

_TICK = 0.02  # how often a waiting request looks for shutdown or a vanished client


@dataclass(frozen=True)
class LatencyModel:
    """A server's speed: concurrent sequences, prefill and decode rates."""

    slots: int = 64
    prefill_tokens_per_s: float = 20000.0
    decode_tokens_per_s: float = 80.0

    def __post_init__(self) -> None:
        if self.slots < 1 or self.prefill_tokens_per_s <= 0 or self.decode_tokens_per_s <= 0:
            raise ValueError("slots and rates must be positive")

    def prefill_seconds(self, prompt_tokens: int) -> float:
        return prompt_tokens / self.prefill_tokens_per_s

    def decode_seconds(self, completion_tokens: int) -> float:
        return completion_tokens / self.decode_tokens_per_s

    def request_seconds(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Time of one request on an idle server."""
        return self.prefill_seconds(prompt_tokens) + self.decode_seconds(completion_tokens)

    def ideal_pages_per_second(
        self, prompt_tokens: int, completion_tokens: int, concurrency: int | None = None
    ) -> float:
        """The most pages a second this server can answer, for pages of the given size, with
        ``concurrency`` requests kept in flight (default: enough to fill every slot)."""
        running = min(self.slots, concurrency if concurrency is not None else self.slots)
        by_slots = running / self.request_seconds(prompt_tokens, completion_tokens)
        by_prefill = self.prefill_tokens_per_s / max(1, prompt_tokens)
        return min(by_slots, by_prefill)


class Scheduler:
    """The runtime side of a :class:`LatencyModel`: slots, shared prefill, interruptible waits.

    Every wait returns ``False`` as soon as the server stops or ``gone()`` says the client left.
    ``model_of`` is asked for the current model at each step, so it may change while serving.
    """

    def __init__(self, model_of: Callable[[], LatencyModel | None], stop: threading.Event) -> None:
        self._model_of = model_of
        self.stop = stop
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._running = 0
        self._prefill_free_at = 0.0
        self.max_running = 0
        self.max_waiting = 0

    @property
    def model(self) -> LatencyModel | None:
        return self._model_of()

    @property
    def running(self) -> int:
        """Requests holding a slot (prefilling or decoding): vLLM's num_requests_running."""
        with self._cond:
            return self._running

    @property
    def waiting(self) -> int:
        """Requests queued for a slot: vLLM's num_requests_waiting."""
        with self._cond:
            return len(self._queue)

    def wait(self, seconds: float, gone: Callable[[], bool]) -> bool:
        end = time.monotonic() + seconds
        while True:
            if self.stop.is_set() or gone():
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            self.stop.wait(min(_TICK, left))

    def wait_until(self, deadline: float, gone: Callable[[], bool]) -> bool:
        return self.wait(deadline - time.monotonic(), gone)

    def acquire(self, gone: Callable[[], bool]) -> bool:
        """Wait for a free slot, first come first served."""
        if self.model is None:
            if self.stop.is_set():
                return False
            with self._cond:
                self._running += 1
            return True
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            if not (self._queue[0] is ticket and self._running < self._slots()):
                self.max_waiting = max(self.max_waiting, len(self._queue))
            while not (self._queue[0] is ticket and self._running < self._slots()):
                if self.stop.is_set() or gone():
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                    return False
                self._cond.wait(_TICK)
            self._queue.popleft()
            self._running += 1
            self.max_running = max(self.max_running, self._running)
            self._cond.notify_all()
        return True

    def _slots(self) -> int:
        model = self.model
        return model.slots if model is not None else 1 << 30

    def release(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def prefill(self, prompt_tokens: int, gone: Callable[[], bool]) -> bool:
        """Take this prompt's turn on the shared prefill and wait until it is done."""
        model = self.model
        if model is None:
            return not self.stop.is_set()
        with self._cond:
            start = max(time.monotonic(), self._prefill_free_at)
            self._prefill_free_at = start + model.prefill_seconds(prompt_tokens)
            done = self._prefill_free_at
        return self.wait_until(done, gone)

    def decode_deadline(self, start: float, tokens: int) -> float:
        """When ``tokens`` tokens decoded from ``start`` are ready (``start`` when no model)."""
        model = self.model
        if model is None:
            return start
        return start + model.decode_seconds(tokens)
