"""What an element contributes to ``page_content``: as itself, and inside a page's Markdown.

A Picture's text is what is known of it, each part present only when there is one, in this
order and separated by blank lines: its linked caption, its description (``describe_pictures``)
and the text inside it (``ocr_pictures``). With none of these it is :data:`PICTURE_CONTENT`.
In a page's Markdown the caption stands as its own element, so a Picture is its crop as an
image (``![caption](path)``, or a ``data:`` URL with ``images="base64"``), then its
description and the text inside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .headings import MAX_LEVEL, heading_text
from .page import HEADINGS, Item

#: Written between pages in ``mode="single"``.
PAGE_SEPARATOR = "\n\n<!-- page break -->\n\n"
#: ``page_content`` of a Picture element of which nothing is known: no caption, description
#: or text (the model does not transcribe pictures).
PICTURE_CONTENT = "[Picture]"
#: Page and single mode: after a table that goes on at the top of the next page, and before
#: the rest of it there (see :mod:`.tablejoin`).
TABLE_CONTINUES = "<!-- the table continues on the next page -->"
TABLE_CONTINUED = "<!-- the table continues from the previous page -->"

_ALT_SPECIAL = re.compile(r"([\\\[\]])")


def _known(item: Item, *first: str) -> str:
    """The non-empty ones of ``first``, the picture's description and its text."""
    parts = (*first, item.figure.description, item.text)
    return "\n\n".join(p for p in parts if p)


def element_content(item: Item) -> str:
    """An element-mode Document's ``page_content``: the element's safe text; for a Picture
    what is known of it (see the module)."""
    if item.category == "Picture":
        return _known(item, item.caption) or PICTURE_CONTENT
    return item.text


def image_reference(item: Item) -> str:
    """Where an element's crop is, as a Markdown image target: its file, or a ``data:`` URL;
    ``""`` when it has no crop."""
    figure = item.figure
    if figure.image_path:
        target = Path(figure.image_path).as_posix()
        return f"<{target}>" if re.search(r"[\s()<>]", target) else target
    if figure.image_base64:
        return f"data:{figure.image_mime_type};base64,{figure.image_base64}"
    return ""


def _picture_markdown(item: Item) -> str:
    target = image_reference(item)
    image = ""
    if target:
        alt = " ".join(_ALT_SPECIAL.sub(r"\\\1", item.caption).split()) or "Picture"
        image = f"![{alt}]({target})"
    return _known(item, image) or PICTURE_CONTENT


def element_markdown(item: Item) -> str:
    """An element as it stands in a page's Markdown: headings with as many ``#`` as their
    level, formulas as ``$$`` blocks, pictures as their crop and what is known of them (see
    the module), tables continued across pages marked as such."""
    text = item.text
    if item.category == "Picture":
        return _picture_markdown(item)
    if item.category == "Table":
        before = TABLE_CONTINUED + "\n" if item.continued else ""
        after = "\n" + TABLE_CONTINUES if item.continues else ""
        return before + text + after
    if item.category == "Formula" and text and not text.startswith("$$"):
        return f"$$\n{text}\n$$"
    if item.category in HEADINGS:  # an empty heading says nothing
        title = heading_text(text)
        return "#" * min(item.heading_level, MAX_LEVEL) + " " + title if title else ""
    return text


def page_markdown(items: list[Item]) -> str:
    """A page's Markdown from its items, in reading order."""
    return "\n\n".join(filter(None, (element_markdown(it) for it in items)))
