"""What an element contributes to ``page_content``: as itself, and inside a page's Markdown."""

from __future__ import annotations

from .headings import MAX_LEVEL, heading_text
from .page import HEADINGS, Item

#: Written between pages in ``mode="single"``.
PAGE_SEPARATOR = "\n\n<!-- page break -->\n\n"
#: ``page_content`` of a Picture element: the model does not transcribe pictures.
PICTURE_CONTENT = "[Picture]"


def element_content(item: Item) -> str:
    """An element-mode Document's ``page_content``: the element's safe text."""
    return PICTURE_CONTENT if item.category == "Picture" else item.text


def element_markdown(item: Item) -> str:
    """An element as it stands in a page's Markdown: headings with as many ``#`` as their
    level, formulas as ``$$`` blocks, pictures as :data:`PICTURE_CONTENT`."""
    text = item.text
    if item.category == "Picture":
        return PICTURE_CONTENT
    if item.category == "Formula" and text and not text.startswith("$$"):
        return f"$$\n{text}\n$$"
    if item.category in HEADINGS:  # an empty heading says nothing
        title = heading_text(text)
        return "#" * min(item.heading_level, MAX_LEVEL) + " " + title if title else ""
    return text


def page_markdown(items: list[Item]) -> str:
    """A page's Markdown from its items, in reading order."""
    return "\n\n".join(filter(None, (element_markdown(it) for it in items)))
