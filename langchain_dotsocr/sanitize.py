"""The model's table HTML is untrusted input: keep table markup only."""

from __future__ import annotations

import nh3

TABLE_TAGS = frozenset({"table", "thead", "tbody", "tr", "th", "td", "br"})
_SPANS = frozenset({"rowspan", "colspan"})


def clean_table(html: str) -> str:
    """Table HTML with every other tag and attribute removed (scripts with their content).

    Uses Ammonia (through nh3), a maintained HTML sanitiser, not regular expressions.
    """
    return nh3.clean(
        html,
        tags=set(TABLE_TAGS),
        attributes={"td": set(_SPANS), "th": set(_SPANS)},
        link_rel=None,
    )
