"""The layer's characters as a reader reads them.

- Ligatures and the compatibility forms a reader reads as plain letters or spaces are expanded
  by NFKC (``ﬁ`` -> ``fi``, a no-break space -> a space); nothing else is: NFKC would also turn
  full-width Latin, half-width katakana, superscripts (``¹``) and CJK compatibility ideographs
  into other characters than the page prints, so those stay as written. Arabic and Hebrew
  presentation forms (the shapes a letter takes at a word's start, middle or end, and their
  ligatures, which some PDF producers map glyphs to) are read as their letters, as a reader reads
  them and the model writes them, save the few whose compatibility form starts with a space (an
  isolated vowel mark drawn alone).
- Soft hyphens, the zero-width space and control characters are dropped: they are not printed
  (a soft hyphen shows only where a line breaks, and :mod:`.lines` joins such a break). The
  zero-width joiner and non-joiner stay: they decide how Persian and Indic letters and emoji
  sequences are drawn, and are part of the word's spelling. PDFium
  reports a hyphen at a line's end as U+0002 whether it was a soft one or not: it becomes
  ``-`` and :mod:`.lines` decides by the word whether the break joins it.
- Quotes, dashes and every other character stay as printed (curly quotes are not straightened).
- Runs of white space become one space, as the model writes text.
"""

from __future__ import annotations

import re
import unicodedata

# What NFKC may expand: Latin and Armenian ligatures, and the Unicode spaces.
_EXPAND = frozenset(
    [chr(c) for c in range(0xFB00, 0xFB07)]
    + [chr(c) for c in range(0xFB13, 0xFB18)]
    + ["\u0132", "\u0133", "\u013f", "\u0140", "\u01c4", "\u01c5", "\u01c6", "\u01c7", "\u01c8",
       "\u01c9", "\u01ca", "\u01cb", "\u01cc", "\u01f1", "\u01f2", "\u01f3"]
    + ["\u00a0", "\u1680", "\u202f", "\u205f"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + [
        ch
        for c in (*range(0xFB1D, 0xFB50), *range(0xFB50, 0xFE00), *range(0xFE70, 0xFEFF))
        if (ch := chr(c)) != (form := unicodedata.normalize("NFKC", ch)) and " " not in form
    ]
)
SOFT_HYPHEN = "\u00ad"
# PDFium reports a hyphen that ends a line, printed or soft, as U+0002: read as the hyphen it
# prints, and :mod:`.lines` decides whether it joins a word or stays.
LINE_END_HYPHEN = "\x02"
# Not printed: soft hyphen, zero-width space, word joiner, BOM, bidi controls.
_DROP = frozenset(
    [SOFT_HYPHEN, "\u200b", "\u2060", "\ufeff"]
    + [chr(c) for c in range(0x200E, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
_SPACES = re.compile(r"\s+")


def is_control(ch: str) -> bool:
    """C0/C1 controls and DEL, white space aside."""
    return unicodedata.category(ch) == "Cc" and not ch.isspace()


def reader_char(ch: str) -> str:
    """One layer character as a reader reads it: expanded, dropped ("") or as is."""
    if ch == LINE_END_HYPHEN:
        return "-"
    if ch in _DROP or is_control(ch):
        return ""
    if ch in _EXPAND:
        return unicodedata.normalize("NFKC", ch)
    if ch.isspace():
        return " "
    return ch


def squeeze(text: str) -> str:
    """White space as the model writes it: one space between words, none at the ends."""
    return _SPACES.sub(" ", text).strip()
