"""Which ``<`` in the model's text is markup, and which is the document's own text.

The model writes HTML for what Markdown cannot say (``H<sub>2</sub>O``, ``<br>``), and it
transcribes pages that hold angle brackets of their own: C++ templates (``vector<int>``), BNF
(``<expr>``), autolinks (``<https://...>``), e-mail addresses, inequalities. A tag is taken as
markup only on evidence: its name is an HTML element, and it is written as markup is written
(with an attribute and its value, as a pair of an opening and a closing tag, or as ``<br>``).
The content of ``script``, ``style`` and the like, written so, is markup too. Everything else
is text and is kept whole, comments included (the model writes none of its own). Code spans
and fenced code blocks are text whatever they hold.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

# The elements of the HTML standard, with the obsolete ones still parsed, SVG and MathML roots.
HTML_ELEMENTS = frozenset(
    """a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big
    blink blockquote body br button canvas caption center cite code col colgroup data datalist dd
    del details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form
    frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins
    isindex kbd keygen label legend li link listing main map mark marquee math menu menuitem meta
    meter nav nobr noembed noframes noscript object ol optgroup option output p param picture
    plaintext pre progress q rb rp rt rtc ruby s samp script search section select slot small
    source span strike strong style sub summary sup svg table tbody td template textarea tfoot th
    thead time title tr track tt u ul var video wbr xmp""".split()  # noqa: SIM905
)
# Elements whose content is never the page's text: dropped with it.
DROPPED = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "textarea", "title", "noscript",
     "noembed", "noframes", "xmp", "plaintext", "applet", "frameset", "svg", "math"}
)
# Written without attributes and alone, these are markup all the same.
BARE_VOIDS = frozenset({"br", "hr", "wbr"})

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)(/?)>")
# A `<` a CommonMark or HTML parser could read as the start of markup: a tag, a closing tag,
# a comment, a declaration, a processing instruction, an autolink.
_OPENER = re.compile(r"<(?=[A-Za-z]|/[A-Za-z]|[!?])")
_LINE_LEAD = re.compile(r"[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+[ \t>]*)*")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
_TICKS = re.compile(r"`+")


@dataclass(frozen=True)
class Tag:
    """One piece of markup: ``text[start:end]``; ``name`` lower case; ``drop_to`` the end of the
    content dropped with it (``script`` and the like), else ``end``."""

    start: int
    end: int
    name: str
    closing: bool
    drop_to: int


def code_spans(text: str) -> list[tuple[int, int]]:
    """The ranges of fenced code blocks and code spans: text, whatever they hold."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    while (fence := _FENCE.search(text, pos)) is not None:
        ranges += _inline_code(text, pos, fence.start())
        mark = fence.group(1)
        close = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$", re.M)
        line_end = text.find("\n", fence.end())
        found = close.search(text, len(text) if line_end == -1 else line_end + 1)
        end = len(text) if found is None else found.end()
        ranges.append((fence.start(), end))
        pos = end
    return ranges + _inline_code(text, pos, len(text))


def _inline_code(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """Code spans: a run of backticks closed by the next run of the same length."""
    ranges, pos = [], start
    while (opening := _TICKS.search(text, pos, stop)) is not None:
        closing = next(
            (t for t in _TICKS.finditer(text, opening.end(), stop)
             if len(t.group()) == len(opening.group())),
            None,
        )
        if closing is None:
            pos = opening.end()
            continue
        ranges.append((opening.start(), closing.end()))
        pos = closing.end()
    return ranges


def markup_tags(
    text: str, code: list[tuple[int, int]], always: frozenset[str] = frozenset()
) -> list[Tag]:
    """The tags of ``text`` that are markup by the module's rule, in order, outside ``code``;
    tags named in ``always`` are markup however they are written."""
    found = [
        m for m in _TAG.finditer(text)
        if m.group(2).lower() in HTML_ELEMENTS and not _inside(m.start(), code)
    ]
    paired = _pairs(found)
    tags: list[Tag] = []
    drop_until = -1
    for i, m in enumerate(found):
        if m.start() < drop_until:
            continue
        name, closing = m.group(2).lower(), bool(m.group(1))
        if not (i in paired or "=" in m.group(3) or name in BARE_VOIDS or name in always):
            continue
        drop_to = m.end()
        if name in DROPPED and not closing:
            end = re.compile(rf"</{name}\s*>", re.I).search(text, m.end())
            # Never closed: only the tag goes, the text after it is the page's.
            drop_to = m.end() if end is None else end.end()
            drop_until = drop_to
        tags.append(Tag(m.start(), m.end(), name, closing, drop_to))
    return tags


def _pairs(found: list[re.Match[str]]) -> set[int]:
    """Indices of opening tags that a later closing tag of the same name closes, and of those
    closing tags."""
    open_at: dict[str, list[int]] = defaultdict(list)
    paired: set[int] = set()
    for i, m in enumerate(found):
        name = m.group(2).lower()
        if not m.group(1):
            if not m.group(4):
                open_at[name].append(i)
        elif open_at[name]:
            paired.update((open_at[name].pop(), i))
    return paired


def openers(text: str, start: int, stop: int, code: list[tuple[int, int]]) -> list[int]:
    """Positions in ``text[start:stop]``, outside ``code``, of every ``<`` a CommonMark parser
    could read as markup and no backslash escapes already. Inline markup needs a ``>`` after
    it; without one, only a ``<`` that begins a line's content can open an HTML block, so
    ``a<b`` and ``0<x<1`` stay as written."""
    return [
        m.start() for m in _OPENER.finditer(text, start, stop)
        if not _inside(m.start(), code)
        and not _escaped(text, m.start())
        and (text.find(">", m.start()) != -1 or _begins_line(text, m.start()))
    ]


def _begins_line(text: str, pos: int) -> bool:
    """Whether only indentation, quote marks and list markers stand before ``pos`` on its
    line (where an HTML block may start)."""
    line = text[text.rfind("\n", 0, pos) + 1 : pos]
    return _LINE_LEAD.fullmatch(line) is not None


def _escaped(text: str, pos: int) -> bool:
    slashes = 0
    while pos - slashes - 1 >= 0 and text[pos - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


def _inside(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in ranges)
