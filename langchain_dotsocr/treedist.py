"""Tree edit distance (Zhang and Shasha, 1989): the least cost of edits turning one ordered tree
into another, where deleting or inserting a node costs 1 and relabelling costs ``rename``.

The maintained Python packages for it (``zss``, ``apted``) were last released in 2017-2018, and
the trees here are small (a table is a few dozen nodes), so the textbook algorithm is enough.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    """An ordered tree: a label, the text it holds (``""`` for none) and its children."""

    label: str
    text: str = ""
    children: tuple[Node, ...] = field(default=())

    def size(self) -> int:
        """The number of nodes in this tree."""
        return 1 + sum(c.size() for c in self.children)


Rename = Callable[[Node, Node], float]


def _postorder(root: Node) -> tuple[list[Node], list[int], list[int]]:
    """Nodes in post-order, each node's leftmost leaf, and the keyroots (ascending)."""
    nodes: list[Node] = []
    leftmost: list[int] = []

    def walk(node: Node) -> int:
        first = None
        for child in node.children:
            leaf = walk(child)
            first = leaf if first is None else first
        nodes.append(node)
        leftmost.append(len(nodes) - 1 if first is None else first)
        return leftmost[-1]

    walk(root)
    # Keyroots: the root and every node with a left sibling, i.e. for each leftmost leaf the
    # highest node that has it.
    keyroots = sorted({leaf: i for i, leaf in enumerate(leftmost)}.values())
    return nodes, leftmost, keyroots


def tree_distance(a: Node, b: Node, rename: Rename) -> float:
    """The edit distance between trees ``a`` and ``b`` (delete and insert cost 1 each)."""
    nodes_a, left_a, keys_a = _postorder(a)
    nodes_b, left_b, keys_b = _postorder(b)
    tree = [[0.0] * len(nodes_b) for _ in nodes_a]
    for i in keys_a:
        for j in keys_b:
            _forest(i, j, nodes_a, left_a, nodes_b, left_b, tree, rename)
    return tree[-1][-1]


def _forest(
    i: int,
    j: int,
    nodes_a: list[Node],
    left_a: list[int],
    nodes_b: list[Node],
    left_b: list[int],
    tree: list[list[float]],
    rename: Rename,
) -> None:
    """Fill ``tree`` for the subtrees under keyroots ``i`` and ``j`` (one forest table)."""
    off_a, off_b = left_a[i] - 1, left_b[j] - 1
    rows, cols = i - off_a + 1, j - off_b + 1
    forest = [[0.0] * cols for _ in range(rows)]
    for x in range(1, rows):
        forest[x][0] = forest[x - 1][0] + 1
    for y in range(1, cols):
        forest[0][y] = forest[0][y - 1] + 1
    for x in range(1, rows):
        xa = x + off_a
        for y in range(1, cols):
            yb = y + off_b
            delete, insert = forest[x - 1][y] + 1, forest[x][y - 1] + 1
            if left_a[xa] == left_a[i] and left_b[yb] == left_b[j]:
                both = forest[x - 1][y - 1] + rename(nodes_a[xa], nodes_b[yb])
                forest[x][y] = min(delete, insert, both)
                tree[xa][yb] = forest[x][y]
            else:
                p, q = left_a[xa] - 1 - off_a, left_b[yb] - 1 - off_b
                forest[x][y] = min(delete, insert, forest[p][q] + tree[xa][yb])
