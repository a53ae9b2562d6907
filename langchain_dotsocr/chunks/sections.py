"""Rule 2: where a section, and so a chunk, begins; and the one exception, a small chunk
that takes the heading of its first subsection (``min_chunk_size``)."""

from __future__ import annotations

from ..documents.headings import PATH_SEPARATOR
from .draft import Draft, Rules, Section
from .metadata import section_id
from .units import Unit


def starts_section(unit: Unit, section: Section | None) -> bool:
    """Whether ``unit`` begins a section: a heading, another source or another path."""
    return (
        section is None
        or unit.kind == "heading"
        or unit.source != section.source
        or unit.section_path != section.path
    )


def section_of(unit: Unit) -> Section:
    """The section ``unit`` begins; its ``parent_id`` is its heading's id (or, before the
    first heading, the source's preamble id)."""
    headed = unit.kind == "heading"
    parent = unit.main.id if headed else unit.parent_id
    return Section(unit.source, unit.section_path, parent or section_id(unit.source), headed)


def carries_on(draft: Draft, unit: Unit, size: int, rules: Rules) -> bool:
    """Rule 2's exception: whether heading ``unit`` joins the small open chunk ``draft``."""
    s = draft.section
    return (
        unit.kind == "heading"
        and unit.source == s.source
        and s.chunks == 0
        and bool(s.path)
        and unit.section_path.startswith(s.path + PATH_SEPARATOR)
        and size < rules.min_chunk_size
    )
