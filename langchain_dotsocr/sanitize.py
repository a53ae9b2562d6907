r"""The model's text is untrusted input: nothing it writes may become markup in a rendered page,
and nothing the page says may be lost on the way.

Which ``<`` is markup is decided by :mod:`.markup`: an HTML element written as markup (with
attributes, as an opening and closing pair, or ``<br>``). Markup is stripped, not escaped, so
the words stay (``H<sub>2</sub>O`` gives ``H2O``; ``<br>`` a line break; ``script``, ``style``
and the like go with their content). Every other ``<`` that a renderer could read as the start
of a tag, a comment or an autolink is the document's own text (``vector<int>``, ``<expr>``,
``<https://...>``, ``a<b``): it gets a Markdown backslash escape, ``\<``, which every Markdown
renderer shows as ``<`` and none reads as a tag; code spans and fenced code are left as written
(a renderer shows them literally). In table HTML the same ``<`` becomes ``&lt;``, its HTML
spelling, before nh3 keeps only table markup. Links and images keep only ``http``, ``https``
and ``mailto`` targets (or none): any other scheme (``javascript:``, ``data:``, ...) is
replaced by ``#``, after undoing the entities and backslash escapes a Markdown renderer would
undo.
"""

from __future__ import annotations

import html
import re

import nh3

from .markup import code_spans, markup_tags, openers

TABLE_TAGS = frozenset({"table", "thead", "tbody", "tr", "th", "td", "br"})
_SPANS = frozenset({"rowspan", "colspan"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_TABLE = re.compile(r"<table\b.*?(?:</table\s*>|\Z)", re.I | re.S)
_FORMULA_OPENER = re.compile(r"<(?=[A-Za-z]|/[A-Za-z]|[!?])")
_BREAKS = frozenset({"br", "hr"})
_LINK_START = re.compile(r"\]\(")
_REFERENCE = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def clean_table(html_text: str) -> str:
    """Table HTML with every other tag and attribute removed (scripts with their content), and
    every ``<`` of the cells' own text written ``&lt;`` so no word is lost to the parser.

    Uses Ammonia (through nh3), a maintained HTML sanitiser, not regular expressions.
    """
    return nh3.clean(
        _text_brackets_as_entities(html_text),
        tags=set(TABLE_TAGS),
        attributes={"td": set(_SPANS), "th": set(_SPANS)},
        link_rel=None,
    )


def safe_markdown(text: str, *, tables: bool = True) -> str:
    """Markdown that cannot inject markup: tables inside it cleaned with :func:`clean_table`
    (kept as the model wrote them when ``tables`` is false), every other tag stripped, and
    unsafe link targets replaced (see the module's description)."""
    out, end = [], 0
    for match in _TABLE.finditer(text):
        out.append(_safe_text(text[end : match.start()]))
        out.append(clean_table(match.group()) if tables else match.group())
        end = match.end()
    out.append(_safe_text(text[end:]))
    return "".join(out)


def safe_formula(latex: str) -> str:
    """LaTeX that cannot open a tag: only a space after a ``<`` that could (``a<b`` gives
    ``a< b``, the same formula; ``x</2`` stays), since stripping would cut formulas such as
    ``a<b c>d`` and a backslash would make a LaTeX command."""
    return _FORMULA_OPENER.sub("< ", latex)


def _safe_text(text: str) -> str:
    if "<" in text:
        text = _strip_markup(text)
    if "](" in text or "]:" in text:
        text = _safe_links(text)
    return text


def _strip_markup(text: str) -> str:
    """Markup stripped (``<br>`` as a line break), every other ``<`` that could open a tag
    escaped with a backslash, code left as written."""
    code = code_spans(text)
    out, pos = [], 0
    for tag in [*markup_tags(text, code), None]:
        stop = len(text) if tag is None else tag.start
        out.append(_escape_openers(text, pos, stop, code))
        if tag is not None:
            out.append("\n" if tag.name in _BREAKS else "")
            pos = tag.drop_to
    return "".join(out)


def _escape_openers(text: str, start: int, stop: int, code: list[tuple[int, int]]) -> str:
    out, pos = [], start
    for at in openers(text, start, stop, code):
        out += [text[pos:at], "\\"]
        pos = at
    out.append(text[pos:stop])
    return "".join(out)


def _text_brackets_as_entities(html_text: str) -> str:
    """``html_text`` with each ``<`` that starts no markup tag (table tags always do) as
    ``&lt;``: the HTML parser would otherwise take ``vector<int>`` or ``x</2`` for markup."""
    if "<" not in html_text:
        return html_text
    out, pos = [], 0
    for tag in [*markup_tags(html_text, [], always=TABLE_TAGS | {"tfoot"}), None]:
        stop = len(html_text) if tag is None else tag.start
        out.append(html_text[pos:stop].replace("<", "&lt;"))
        if tag is not None:
            out.append(html_text[tag.start : tag.drop_to])  # nh3 drops what must go
            pos = tag.drop_to
    return "".join(out)


def _safe_links(text: str) -> str:
    text = _REFERENCE.sub(lambda m: m.group(1) + _safe_target(m.group(2)), text)
    out, pos = [], 0
    for match in _LINK_START.finditer(text):
        start = match.end()
        if start < pos:
            continue
        while start < len(text) and text[start] in " \t\n":
            start += 1
        stop = _target_end(text, start)
        out.append(text[pos:start])
        out.append(_safe_target(text[start:stop]))
        pos = stop
    out.append(text[pos:])
    return "".join(out)


def _target_end(text: str, start: int) -> int:
    """Where a link target that starts at ``start`` ends: at white space or at the ``)`` that
    closes the link (targets may hold balanced parentheses)."""
    if start < len(text) and text[start] == "<":
        close = text.find(">", start)
        return len(text) if close == -1 else close + 1
    depth, i = 0, start
    while i < len(text) and text[i] not in " \t\n":
        if text[i] == "\\":
            i += 1
        elif text[i] == "(":
            depth += 1
        elif text[i] == ")":
            if depth == 0:
                break
            depth -= 1
        i += 1
    return min(i, len(text))


def _safe_target(target: str) -> str:
    """``target`` if its scheme is safe (or it has none), else ``#``."""
    plain = html.unescape(_ESCAPED.sub(r"\1", target.strip("<>")))
    scheme = _SCHEME.match(_INVISIBLE.sub("", plain).lower())
    return target if scheme is None or scheme.group(1) in SAFE_SCHEMES else "#"
