"""A table too long for one chunk, cut between rows into tables that each stand alone.

Every part is a whole ``<table>`` with the table's header rows first: those of its
``<thead>``, or, without one, the rows at its top made only of ``<th>`` cells. A table with
neither has no header to repeat. Rows are never cut: one row (with the header) is the
indivisible unit a part may not get below, so a row longer than a chunk makes a part longer
than a chunk. A table whose rows cannot be told apart (nested tables, rows never closed)
is not cut at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..tables import table_rows

_TD = re.compile(r"<td\b", re.I)
_TH = re.compile(r"<th\b", re.I)


@dataclass(frozen=True)
class Grid:
    """A table's header rows (repeated in every part) and its other rows, as HTML."""

    head: tuple[str, ...]
    body: tuple[str, ...]

    def part(self, rows: tuple[str, ...] | list[str]) -> str:
        """A table of the header and ``rows``."""
        body = "".join(rows)
        if self.head:
            return f"<table><thead>{''.join(self.head)}</thead><tbody>{body}</tbody></table>"
        return f"<table>{body}</table>"


def grid(html: str) -> Grid | None:
    """The header and other rows of ``html``'s table; None when its rows cannot be told apart
    or there is no row to cut between."""
    rows = table_rows(html)
    if rows is None:
        return None
    if rows.head:
        head, body = rows.head, rows.body
    else:
        n = 0
        while n < len(rows.body) and _TH.search(rows.body[n]) and not _TD.search(rows.body[n]):
            n += 1
        head, body = rows.body[:n], rows.body[n:]
    return Grid(head, body) if len(body) > 1 else None


def split_rows(
    table: Grid, fits_first: Callable[[str], bool], fits: Callable[[str], bool]
) -> list[str]:
    """The parts of ``table``: as many rows in each as fit (the first part by ``fits_first``,
    the others by ``fits``), at least one row each."""
    parts: list[str] = []
    rows: list[str] = []
    for row in table.body:
        test = fits if parts else fits_first
        if rows and not test(table.part([*rows, row])):
            parts.append(table.part(rows))
            rows = []
        rows.append(row)
    parts.append(table.part(rows))
    return parts
