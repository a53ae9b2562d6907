"""The servers of a run: dispatch over a pool, health, and the concurrency each can take.

:mod:`.pool` sends each request (budget, slot, server, retries); :mod:`.server` holds what is
known of one server; :mod:`.monitor` watches them while the run goes; :mod:`.capacity` and
:mod:`.metrics` say how many requests a server can take.
"""

from .pool import Request, Servers, ServerWarning, Tally, WatchFactory, context_error
from .server import Server

__all__ = [
    "Request",
    "Server",
    "ServerWarning",
    "Servers",
    "Tally",
    "WatchFactory",
    "context_error",
]
