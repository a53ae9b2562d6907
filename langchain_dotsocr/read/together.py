"""A page's requests run at once, failing as one request would.

``asyncio.TaskGroup`` keeps no request alive past the page, but wraps whatever fails in an
``ExceptionGroup``, which no ``except DotsOCRError`` of a page's steps catches: one band's HTTP
400 then escaped every error policy and lost the whole run. Here the group is undone: the
package's own error comes out (a fatal one first), so it ends in the part, step or page it
belongs to. A group holding anything else (a bug) is raised as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from ..errors import FATAL, DotsOCRError

T = TypeVar("T")


async def together(calls: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Await ``calls`` at once, results in order; if one fails the others are cancelled and
    its :class:`DotsOCRError` is raised (not an ``ExceptionGroup``)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in calls]
    except BaseExceptionGroup as failed:
        raise _first_error(failed) or failed from None
    return [t.result() for t in tasks]


def _first_error(group: BaseExceptionGroup[BaseException]) -> DotsOCRError | None:
    """The group's fatal error, else its first package error; None if it holds anything
    else."""
    leaves = _leaves(group)
    if not all(isinstance(e, DotsOCRError) for e in leaves):
        return None
    errors = [e for e in leaves if isinstance(e, DotsOCRError)]
    return next((e for e in errors if isinstance(e, FATAL)), errors[0])


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
