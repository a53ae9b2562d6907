"""Table HTML as the model writes it: its grid shape, its rows, two parts of one table joined
(:func:`join_tables`, for tables cut by a page break), and TEDS against another table.

TEDS (tree-edit-distance similarity, Zhong et al. 2020, the table score of PubTabNet and
OmniDocBench) is ``1 - distance / max(nodes)`` over the trees of two tables, where a cell
relabelled into another costs 1 if its span differs and the normalised edit distance of the two
texts otherwise. ``thead``/``tbody`` wrappers are dropped and ``th`` counts as ``td``: the model
uses either for a header, and neither changes what a reader of the table gets.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

from rapidfuzz.distance import OSA, Levenshtein

from .treedist import Node, tree_distance

__all__ = ["join_tables", "parse_table", "table_rows", "table_shape", "teds", "usual_widths"]


class _Builder(HTMLParser):
    """Collects the first table's rows: each row a list of (rowspan, colspan, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[int, int, str]]] = []
        self.depth = 0  # nested tables count as text of their cell
        self.cell: list[str] | None = None
        self.spans = (1, 1)
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
            self.found = True
        elif self.depth == 1 and tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif self.depth == 1 and tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            given = dict(attrs)
            self.spans = (_span(given.get("rowspan")), _span(given.get("colspan")))
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._close_cell()
            self.depth -= 1
        elif self.depth == 1 and tag in ("td", "th", "tr"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def _close_cell(self) -> None:
        if self.cell is not None and self.rows:
            text = " ".join("".join(self.cell).split())
            self.rows[-1].append((*self.spans, text))
        self.cell = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(1000, int(value or 1)))
    except ValueError:
        return 1


def _rows(html: str) -> list[list[tuple[int, int, str]]] | None:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.rows if builder.found else None


def parse_table(html: str) -> Node | None:
    """The tree of the first table in ``html`` (``None`` without a ``<table>``).

    Cells are ``td`` nodes labelled with their spans (``td 1x2`` for ``colspan="2"``) holding
    their text, whitespace collapsed.
    """
    rows = _rows(html)
    if rows is None:
        return None
    return Node(
        "table",
        children=tuple(
            Node("tr", children=tuple(Node(f"td {r}x{c}", text) for r, c, text in row))
            for row in rows
        ),
    )


def _grid(rows: list[list[tuple[int, int, str]]]) -> set[tuple[int, int]]:
    """Every (row, column) a cell covers, spans expanded."""
    taken: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        c = 0
        for rowspan, colspan, _text in row:
            while (r, c) in taken:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            c += colspan
    return taken


def table_shape(html: str) -> tuple[int, int] | None:
    """``(rows, columns)`` of the first table in ``html``, spans taken into account."""
    rows = _rows(html)
    if rows is None:
        return None
    taken = _grid(rows)
    in_rows = [c + 1 for r, c in taken if r < len(rows)]
    return len(rows), max(in_rows, default=0)


def usual_widths(html: str) -> frozenset[int] | None:
    """The numbers of columns that most rows of the first table in ``html`` cover, spans
    expanded (several on a tie): a cell the model split or dropped in one row does not
    change them."""
    rows = _rows(html)
    if rows is None:
        return None
    taken = _grid(rows)
    widths = Counter(sum(1 for r_, _c in taken if r_ == r) for r in range(len(rows)))
    most = max(widths.values(), default=0)
    return frozenset(w for w, n in widths.items() if n == most and w > 0)


def _rename(a: Node, b: Node) -> float:
    if a.label != b.label:
        return 1.0
    if a.label.startswith("td"):
        return float(Levenshtein.normalized_distance(a.text, b.text))
    return 0.0


def teds(truth: str, found: str) -> float:
    """TEDS of table ``found`` against ``truth``, from 0 to 1 (1: the same table).

    0 when either has no ``<table>``.
    """
    a, b = parse_table(truth), parse_table(found)
    if a is None or b is None:
        return 0.0
    return 1.0 - tree_distance(a, b, _rename) / max(a.size(), b.size())


# -- Tables across pages --------------------------------------------------------------------

_STRUCTURE = re.compile(r"<(/?)\s*(table|thead|tbody|tfoot|tr)\b[^>]*>", re.I)
# Header rows a continued table may repeat (MinerU's table merge allows as many).
MAX_HEADER_ROWS = 5


@dataclass(frozen=True)
class TableRows:
    """A table's top-level rows as HTML, those of its ``<thead>`` apart from the others."""

    head: tuple[str, ...]
    body: tuple[str, ...]

    @property
    def rows(self) -> tuple[str, ...]:
        return self.head + self.body


def table_rows(html: str) -> TableRows | None:
    """The rows of the first table in ``html``, each ``<tr>...</tr>`` as written; ``None``
    when the rows cannot be told apart (no table, a row never closed, nested tables)."""
    head: list[str] = []
    body: list[str] = []
    depth, start, in_head, found = 0, -1, False, False
    for m in _STRUCTURE.finditer(html):
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag == "table":
            if closing and depth == 1:
                return TableRows(tuple(head), tuple(body)) if found else None
            if closing or depth:
                return None  # a nested table, or a stray end: not a plain grid
            depth = 1
        elif depth != 1:
            continue
        elif tag == "thead":
            in_head = not closing
        elif tag == "tr" and not closing:
            if start != -1:
                return None  # a row opened inside a row: not closed
            start = m.start()
        elif tag == "tr":
            if start == -1:
                return None
            (head if in_head else body).append(html[start : m.end()])
            start, found = -1, True
    return None


def _row_key(row: str) -> list[tuple[int, int, str]]:
    rows = _rows(f"<table>{row}</table>") or [[]]
    return rows[0] if rows else []


def _is_header(row: str, in_head: bool) -> bool:
    return in_head or ("<th" in row.lower() and "<td" not in row.lower())


def _same_row(a: str, b: str, header: bool) -> bool:
    """Whether row ``b`` repeats row ``a``: equal cells and spans, or, for a header row,
    texts within :data:`HEADER_TYPOS` edits (one misread character, two swapped) and the same
    spans."""
    ka, kb = _row_key(a), _row_key(b)
    if ka == kb:
        return True
    if not header or [c[:2] for c in ka] != [c[:2] for c in kb]:
        return False
    ta, tb = " | ".join(c[2] for c in ka), " | ".join(c[2] for c in kb)
    return bool(ta) and OSA.distance(ta, tb) <= 1 + len(ta) // HEADER_TYPOS


#: A repeated header row may differ by one edit, plus one for every this many characters.
HEADER_TYPOS = 25


def repeated_header(first: TableRows, second: TableRows) -> int:
    """How many of ``second``'s first rows repeat ``first``'s first rows (its header): by
    their cells' text and spans, a header row (``<thead>`` or ``<th>`` cells) also when its
    text differs by a misread character; 0 when none does."""
    for k in range(min(MAX_HEADER_ROWS, len(first.rows), len(second.rows) - 1), 0, -1):
        if all(
            _same_row(a, b, _is_header(a, i < len(first.head)))
            for i, (a, b) in enumerate(zip(first.rows[:k], second.rows[:k], strict=True))
        ):
            return k
    return 0


def join_tables(first: str, second: str) -> str | None:
    """One table from ``first`` and its continuation ``second``: the header once, then every
    body row in order. ``None`` when they do not join: no usual number of columns in common
    (spans expanded, see :func:`usual_widths`), or rows that cannot be told apart."""
    a, b = usual_widths(first), usual_widths(second)
    if a is None or b is None or not a & b:
        return None
    rows_a, rows_b = table_rows(first), table_rows(second)
    if rows_a is None or rows_b is None:
        return None
    rest = rows_b.rows[repeated_header(rows_a, rows_b) :]
    if rows_a.head:
        body = "".join(rows_a.body + rest)
        return f"<table><thead>{''.join(rows_a.head)}</thead><tbody>{body}</tbody></table>"
    return "<table>" + "".join(rows_a.body + rest) + "</table>"
