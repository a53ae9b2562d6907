"""Tree edit distance (against the recursive definition) and table shape and TEDS."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_dotsocr.tables import join_tables, parse_table, table_rows, table_shape, teds
from langchain_dotsocr.treedist import Node, tree_distance


def unit(a: Node, b: Node) -> float:
    return 0.0 if a.label == b.label else 1.0


def t(label: str, *children: Node) -> Node:
    return Node(label, children=children)


def forest_distance(a: tuple[Node, ...], b: tuple[Node, ...]) -> float:
    """The textbook recursion over forests (exponential without memo; fine on small trees)."""

    @functools.cache
    def d(f: tuple[Node, ...], g: tuple[Node, ...]) -> float:
        if not f and not g:
            return 0.0
        if not f:
            return d(f, g[:-1] + g[-1].children) + 1
        if not g:
            return d(f[:-1] + f[-1].children, g) + 1
        x, y = f[-1], g[-1]
        return min(
            d(f[:-1] + x.children, g) + 1,
            d(f, g[:-1] + y.children) + 1,
            d(x.children, y.children) + d(f[:-1], g[:-1]) + unit(x, y),
        )

    return d(a, b)


def test_the_example_of_zhang_and_shasha():
    # f(d(a, c(b)), e) -> f(c(d(a, b)), e): delete c, insert c above d: 2 edits.
    one = t("f", t("d", t("a"), t("c", t("b"))), t("e"))
    two = t("f", t("c", t("d", t("a"), t("b"))), t("e"))
    assert tree_distance(one, two, unit) == 2
    assert tree_distance(one, one, unit) == 0


def test_inserting_and_relabelling_cost_one_each():
    base = t("r", t("a"), t("b"))
    assert tree_distance(base, t("r", t("a"), t("x"), t("b")), unit) == 1
    assert tree_distance(base, t("r", t("a"), t("c")), unit) == 1
    assert tree_distance(t("r"), t("r", t("a", t("b")), t("c")), unit) == 3


trees = st.recursive(
    st.sampled_from("abc").map(lambda label: Node(label)),
    lambda kids: st.tuples(st.sampled_from("abc"), st.lists(kids, max_size=3)).map(
        lambda pair: Node(pair[0], children=tuple(pair[1]))
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(trees, trees)
def test_zhang_shasha_equals_the_recursive_definition(a, b):
    assert tree_distance(a, b, unit) == forest_distance((a,), (b,))


TABLE = (
    '<table><thead><tr><th rowspan="2">Region</th><th colspan="4">Quarter</th>'
    '<th rowspan="2">Total</th></tr><tr><th>Q1</th><th>Q2</th><th>Q3</th><th>Q4</th></tr>'
    "</thead><tbody><tr><td>North</td><td>1</td><td>2</td><td>3</td><td>4</td><td>10</td></tr>"
    "</tbody></table>"
)


@pytest.mark.parametrize(
    ("html", "shape"),
    [
        (TABLE, (3, 6)),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td colspan='3'>c</td></tr></table>", (2, 3)),
        ("<table><tr><td rowspan=3>a</td><td>b</td></tr><tr><td>c</td></tr></table>", (2, 2)),
        ("<p>no table</p>", None),
        ("<table><tr><td>1<br>2</td></tr>", (1, 1)),  # unclosed, as a truncated answer
    ],
)
def test_table_shape_counts_spans(html, shape):
    assert table_shape(html) == shape


def test_teds_ignores_wrappers_and_header_tags_but_not_spans_or_text():
    plain = TABLE.replace("<thead>", "").replace("</thead>", "").replace("<tbody>", "")
    plain = plain.replace("</tbody>", "").replace("<th", "<td").replace("</th>", "</td>")
    assert teds(TABLE, plain) == 1.0
    nodes = parse_table(TABLE)
    assert nodes is not None
    size = nodes.size()
    assert size == 1 + 3 + (3 + 4 + 6)  # the table, its rows, their cells
    # One cell's text wholly different: one relabel of cost 1.
    assert teds(TABLE, TABLE.replace("North", "Xxxxx")) == pytest.approx(1 - 1 / size)
    # A span changed: the cell relabelled, whatever its text.
    assert teds(TABLE, TABLE.replace('colspan="4"', 'colspan="3"')) == pytest.approx(1 - 1 / size)
    assert teds(TABLE, "no table here") == 0.0


# -- Tables across pages ----------------------------------------------------------------


def test_a_repeated_header_is_dropped_and_the_rows_run_on():
    first = "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    again = "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>3</td><td>4</td></tr></tbody></table>"
    joined = join_tables(first, again)
    assert joined == (
        "<table><thead><tr><th>A</th><th>B</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></tbody></table>"
    )
    plain = "<table><tr><td>3</td><td>4</td></tr></table>"  # no header on the second page
    assert join_tables(first, plain) == joined


def test_a_header_of_two_rows_repeated_in_the_body_rows_is_dropped_too():
    head = '<tr><th colspan="2">Sales</th></tr><tr><th>Q1</th><th>Q2</th></tr>'
    first = f"<table>{head}<tr><td>1</td><td>2</td></tr></table>"
    second = f"<table>{head}<tr><td>3</td><td>4</td></tr></table>"
    joined = join_tables(first, second)
    assert joined is not None and joined.count("Sales") == 1 and joined.count("Q1") == 1
    assert table_shape(joined) == (4, 2)


def test_a_first_row_that_only_looks_like_the_header_in_part_is_kept():
    first = "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"
    second = "<table><tr><td>A</td><td>x</td></tr></table>"
    assert table_shape(join_tables(first, second)) == (3, 2)


def test_tables_of_other_widths_or_without_rows_do_not_join():
    two = "<table><tr><td>1</td><td>2</td></tr></table>"
    three = "<table><tr><td>1</td><td>2</td><td>3</td></tr></table>"
    assert join_tables(two, three) is None
    assert join_tables(two, "no table here") is None
    assert join_tables(two, "<table><tr><td>1<td>2</table>") is None  # rows never closed
    spans = '<table><tr><td colspan="2">1</td><td>3</td></tr></table>'
    assert join_tables(three, spans) is not None  # spans counted: three columns


def test_table_rows_keep_each_row_as_written():
    html = '<table><thead><tr><th>A</th></tr></thead><tbody><tr><td rowspan="2">1<br>x</td></tr></tbody></table>'
    rows = table_rows(html)
    assert rows is not None
    assert rows.head == ("<tr><th>A</th></tr>",)
    assert rows.body == ('<tr><td rowspan="2">1<br>x</td></tr>',)
    assert table_rows("<table><tr><td><table><tr><td>1</td></tr></table></td></tr></table>") is None
