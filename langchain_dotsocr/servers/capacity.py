"""How many requests to keep in flight on one server, learnt while the run goes.

vLLM runs up to ``--max-num-seqs`` sequences at once (fewer when the KV cache is full) and
queues the rest; it does not say its capacity. So the limit is found the way TCP finds a
path's: start small, grow by half while the server is kept full and nothing waits (slow
start), and as soon as requests wait, fall back to the requests the server actually runs for
us; from there on probe by an eighth at a time, so a server that grows (another client
left, KV cache freed) is found again while the queue stays within an eighth of the limit.
What "waits" means comes from the server's ``/metrics`` when it offers them
(``vllm:num_requests_waiting``), else from our own view: a request that has not had its first
token long after the fastest time to first token seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Requests in flight per server before anything is known of it.
START = 8
#: The most requests kept in flight on one server (vLLM's largest default --max-num-seqs is
#: 1024; dots.ocr pages fill the KV cache long before).
CEILING = 512
#: Slow start: the limit grows by this factor at each reading while nothing waits.
GROWTH = 1.5
#: After the first queue: the factor of each probe.
PROBE = 1.125


@dataclass(frozen=True)
class Load:
    """A reading of one server: requests it runs and requests waiting in its queue."""

    running: int
    waiting: int


class Capacity:
    """The in-flight limit of one server: fixed by the user, or adapted to readings."""

    def __init__(self, fixed: int | None = None) -> None:
        self.fixed = fixed
        self.limit = fixed if fixed is not None else START
        self.found = False  # the server has queued once: growth is one step at a time

    def observe(self, load: Load, outstanding: int) -> None:
        """Adjust the limit to a reading taken while ``outstanding`` of ours were in flight."""
        if self.fixed is not None:
            return
        if load.waiting > 0:
            # Ours beyond what the server runs only queue: keep what it runs.
            self.found = True
            self.limit = max(1, min(self.limit, outstanding - load.waiting))
            return
        slack = max(1, self.limit // 8)
        if outstanding < self.limit - slack:
            return  # we do not fill what we have: no reason to ask for more
        factor = PROBE if self.found else GROWTH
        self.limit = min(CEILING, self.limit + math.ceil(self.limit * (factor - 1)))
