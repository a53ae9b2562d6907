"""The model's text is untrusted input: nothing it writes may become markup in a rendered page.

Tables keep table markup only (nh3). Every other text is Markdown, and raw HTML in it is
stripped, not escaped: the text is embedded and shown as Markdown, and entities such as
``&lt;`` would end up in the vectors and inside LaTeX. Stripping keeps the words (``H<sub>2</sub>O``
gives ``H2O``), drops the content of ``script`` and ``style`` elements and comments, and turns
``<br>`` into a line break. Whatever still could open a tag (a ``<`` followed by a letter, ``/``,
``!`` or ``?``: a tag cut off, or one assembled by the stripping) gets a space after the ``<``,
which no HTML or Markdown parser reads as a tag. Links and images keep only ``http``, ``https``
and ``mailto`` targets (or none): any other scheme (``javascript:``, ``data:``, ...) is replaced
by ``#``, after undoing the entities and backslash escapes a Markdown renderer would undo.
"""

from __future__ import annotations

import html
import re

import nh3

TABLE_TAGS = frozenset({"table", "thead", "tbody", "tr", "th", "td", "br"})
_SPANS = frozenset({"rowspan", "colspan"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_TABLE = re.compile(r"<table\b.*?(?:</table\s*>|\Z)", re.I | re.S)
_DROPPED = re.compile(
    r"<(script|style|iframe|object|embed|template|textarea|title|noscript)\b.*?"
    r"(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)",
    re.I | re.S,
)
_BREAK = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
_LINK_START = re.compile(r"\]\(")
_REFERENCE = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def clean_table(html_text: str) -> str:
    """Table HTML with every other tag and attribute removed (scripts with their content).

    Uses Ammonia (through nh3), a maintained HTML sanitiser, not regular expressions.
    """
    return nh3.clean(
        html_text,
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
    """LaTeX that cannot open a tag: only the space after a ``<`` that could (``a<b`` gives
    ``a< b``, the same formula), since stripping would cut formulas such as ``a<b c>d``."""
    return _OPENER.sub("< ", latex)


def _safe_text(text: str) -> str:
    if "<" in text:
        text = _DROPPED.sub("", text)
        text = _BREAK.sub("\n", text)
        text = _TAG.sub("", text)
        text = _OPENER.sub("< ", text)
    if "](" in text or "]:" in text:
        text = _safe_links(text)
    return text


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
