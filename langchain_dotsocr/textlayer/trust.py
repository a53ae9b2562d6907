"""Whether a page's text layer can be trusted, and which of its characters, with evidence.

A character is not trusted when nobody sees it or nobody can read it:

- **invisible**: render mode 3 or 7 (OCR tools write their layer so);
- **hidden**: filled in a colour within :data:`~.ink.HIDDEN_CONTRAST` (each channel) of the
  rendered background under it, where nothing shows in its box (white on white), or under
  an image painted after it;
- **off the page**: its centre lies outside the page's box (the crop box);
- **garbage**: no Unicode mapping for its glyph, a private-use code point (U+E000-F8FF, planes
  15-16), U+FFFD, or a control character; and every character of a font where more than
  :data:`FONT_GARBAGE` of them are garbage, mix scripts inside a word, or where one code stands
  for nearly all of its glyphs (a ToUnicode map that gives nonsense). The script test counts
  letters only, treats Han, kana and Hangul as one script and Latin digits and punctuation as
  neutral, so Cyrillic, Greek and CJK text with Latin words passes.

The page's verdict (:class:`Trust`), first rule that holds:

1. ``"none"``, no characters at all: "no text layer".
2. ``"check"``, more invisible characters over an image than trusted ones: an OCR layer over a
   scan. Its text is used only after the model reads a sample of it alike (:func:`.agree.agrees`).
3. ``"none"``, no trusted characters: the main reason they are not trusted is given.
4. ``"none"``, more than :data:`PAGE_GARBAGE` of the visible characters are garbage.
5. ``"none"``, images cover at least :data:`IMAGE_PAGE` of the page and the trusted glyphs'
   boxes cover less than :data:`TOO_LITTLE` of the images' area: the page is a scan with a few
   words of text on it (a stamped page number or header). The comparison is with the images'
   area, not with the page's ink: coloured boxes and rules are ink too, and telling text ink
   from other ink on the whole page costs as much as rendering it. Text drawn as outlines over
   a page with a little real text is missed by this rule; per element, :meth:`share_in` (ink
   against glyphs inside the element's box) catches it.
6. ``"trusted"``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .chars import Box, Char, PageText
from .ink import Ink, close
from .normalise import LINE_END_HYPHEN, is_control

# A font with more than a tenth of its characters garbage is a broken map, not a stray symbol
# (a Word document's bullets, U+F0B7, are one character in hundreds).
FONT_GARBAGE = 0.10
# One code for nearly all glyphs: a font of at least this many letters with this few codes.
_REPEAT_MIN, _REPEAT_CODES = 20, 2
# More than half the visible text garbage: the page is read by the model, not box by box.
PAGE_GARBAGE = 0.5
# A page at least half image whose trusted glyph boxes cover under 5% of the images' area is a
# scan with a stamped line or two: a page of text has its glyph boxes over 30-50% of its text
# area, a stamped header and page number under 3%. A wrong "trusted" there would cost a request
# per element, a wrong "none" only the layer's speed (a photograph with a short caption).
IMAGE_PAGE = 0.5
TOO_LITTLE = 0.05

Level = Literal["trusted", "check", "none"]


@dataclass(frozen=True)
class Trust:
    """A page's verdict on its text layer.

    ``level``: ``"trusted"`` (read the text from the layer), ``"check"`` (an invisible OCR layer
    over a scan: trust it only once the model reads a sample alike), ``"none"`` (the model reads
    the page). ``reason``: the evidence in plain words. ``chars``: the characters the verdict
    lets the layer give (trusted ones; for ``"check"``, the OCR layer's).
    """

    level: Level
    reason: str
    chars: int


def is_garbage(ch: str) -> bool:
    """A code point no reader reads: private use, U+FFFD, controls (not PDFium's mark of a
    hyphen at a line end)."""
    cp = ord(ch)
    return (
        0xE000 <= cp <= 0xF8FF
        or cp >= 0xF0000
        or ch == "\ufffd"
        or (is_control(ch) and ch != LINE_END_HYPHEN)
    )


_CJK_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC"})


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    head = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
    if head in ("FULLWIDTH", "HALFWIDTH"):
        return "CJK" if "KATAKANA" in unicodedata.name(ch, "") else "LATIN"
    return "CJK" if head in _CJK_SCRIPTS else head


def _mixed(word: str) -> bool:
    """A word whose letters come from more than one script (Latin with a Cyrillic letter)."""
    if word.isascii():
        return False
    scripts = {s for s in map(_script, word) if s is not None}
    return len(scripts) > 1


def _runs(chars: Sequence[Char], words: bool) -> list[list[Char]]:
    """Stretches of a line as the file writes them: characters in PDFium's order, broken at a
    change of font or fill and where the next character is not next on the same line; with
    ``words``, at white space too."""
    runs: list[list[Char]] = []
    run: list[Char] = []
    last: Char | None = None
    for c in chars:
        if last is not None:
            top, bottom = last.box[1], last.box[3]
            gap = c.box[0] - last.box[2]
            height = bottom - top
            if (
                (words and c.space_before)
                or c.font != last.font
                or c.fill != last.fill
                or not top <= (c.box[1] + c.box[3]) / 2 <= bottom
                or not -0.5 * height <= gap <= height
            ):
                run = []
        if not run:
            runs.append(run)
        run.append(c)
        last = c
    return runs


def _bad_fonts(chars: Sequence[Char]) -> dict[str, str]:
    """Fonts whose map gives nonsense, each with why."""
    bad: dict[str, str] = {}
    by_font: dict[str, list[list[Char]]] = {}
    for run in _runs(chars, words=True):
        by_font.setdefault(run[0].font, []).append(run)
    for font, font_runs in by_font.items():
        glyphs = [c for run in font_runs for c in run]
        garbage = sum(c.unmapped or is_garbage(c.text) for c in glyphs)
        mixed = sum(_mixed("".join(c.text for c in run)) for run in font_runs)
        letters = [c.text for c in glyphs if c.text.isalpha()]
        if garbage > FONT_GARBAGE * len(glyphs):
            bad[font] = f"{garbage * 100 // len(glyphs)}% of its characters have no readable code"
        elif mixed > FONT_GARBAGE * len(font_runs):
            bad[font] = f"{mixed * 100 // len(font_runs)}% of its words mix scripts"
        elif len(letters) >= _REPEAT_MIN and len(set(letters)) <= _REPEAT_CODES:
            codes = len(set(letters))
            bad[font] = f"{len(letters)} letters map to {codes} code{'s' * (codes > 1)}"
    return bad


def _hidden(chars: Sequence[Char], size: tuple[float, float], ink: Ink | None) -> dict[int, str]:
    """Why nobody sees each hidden glyph of ``chars``, by ``id``. The colour test is made per
    stretch of a line (:func:`_runs`): one look at the pixels under its box."""
    hidden: dict[int, str] = {}
    for run in _runs(chars, words=False):
        painted = []
        for c in run:
            x, y = c.centre
            if not (0 <= x <= size[0] and 0 <= y <= size[1]):
                hidden[id(c)] = "outside the crop box"
            elif c.invisible:
                hidden[id(c)] = "invisible (render mode 3)"
            elif c.under_image:
                hidden[id(c)] = "under an image"
            else:
                painted.append(c)
        if not painted:
            continue
        fill = painted[0].fill
        box = box_of(painted)
        if ink is not None:
            why = ink.hidden(box, fill)
        else:
            why = "the colour of the page under it" if close(fill, (255, 255, 255)) else None
        if why is not None:
            hidden.update((id(c), why) for c in painted)
    return hidden


@dataclass(frozen=True)
class Verdict:
    trust: Trust
    chars: tuple[Char, ...]  # the characters the layer gives text from


def judge(page: PageText, ink: Ink | None) -> Verdict:
    """The verdict on a page's text; ``ink`` from the rendered page."""
    chars, size = page.chars, page.frame.size
    glyphs = chars
    if not glyphs:
        return Verdict(Trust("none", "no text layer", 0), ())
    hidden = _hidden(chars, size, ink)
    visible = [c for c in chars if id(c) not in hidden]
    bad_fonts = _bad_fonts(visible)
    trusted = tuple(
        c for c in visible
        if c.font not in bad_fonts and not c.unmapped and not is_garbage(c.text)
    )
    trusted_glyphs = len(trusted)
    ocr = tuple(
        c for c in chars
        if c.invisible and c.over_image and hidden.get(id(c), "").startswith("invisible")
        and not c.unmapped and not is_garbage(c.text)
    )
    ocr_glyphs = len(ocr)
    if ocr_glyphs > trusted_glyphs:
        return Verdict(
            Trust("check", "the text is invisible (render mode 3) over an image: an OCR layer,"
                  " to be checked against the model's reading", ocr_glyphs),
            ocr,
        )
    visible_glyphs = visible
    if trusted_glyphs == 0:
        if not visible_glyphs:
            why = Counter(hidden.values()).most_common(1)[0][0]
            return Verdict(Trust("none", f"the text is {why}", 0), ())
        return Verdict(Trust("none", _garbage_reason(visible_glyphs, bad_fonts), 0), ())
    untrusted = len(visible_glyphs) - trusted_glyphs
    if untrusted > PAGE_GARBAGE * len(visible_glyphs):
        return Verdict(Trust("none", _garbage_reason(visible_glyphs, bad_fonts), 0), ())
    glyph_area = sum((c.box[2] - c.box[0]) * (c.box[3] - c.box[1]) for c in trusted)
    image_area = page.image_share * size[0] * size[1]
    if page.image_share >= IMAGE_PAGE and glyph_area < TOO_LITTLE * image_area:
        return Verdict(
            Trust("none", f"too little text for the page: {page.image_share:.0%} of it is "
                  f"images and the layer's glyphs cover {glyph_area / image_area:.1%} of them",
                  0),
            (),
        )
    notes = [f"{trusted_glyphs} characters"]
    for why, count in Counter(hidden.values()).most_common():
        notes.append(f"{count} not trusted: {why}")
    if untrusted:
        notes.append(f"{untrusted} not trusted: unreadable codes")
    return Verdict(Trust("trusted", "; ".join(notes), trusted_glyphs), trusted)


def glyph_boxes(level: Level, chars: Sequence[Char]) -> list[Box]:
    """Where the glyphs a verdict of ``level`` lets through lie, to mark on the page's ink:
    trusted text by the stretches of its lines (the gaps between words are its ink too), an
    OCR layer glyph by glyph; none for ``"none"``."""
    if level == "trusted":
        return [box_of(run) for run in _runs(chars, words=False)]
    return [c.box for c in chars] if level == "check" else []


def _garbage_reason(glyphs: Sequence[Char], bad_fonts: dict[str, str]) -> str:
    if not glyphs:
        return "no visible text"
    unmapped = sum(c.unmapped for c in glyphs)
    if unmapped * 2 >= len(glyphs):
        return f"{unmapped * 100 // len(glyphs)}% of the characters have no Unicode mapping"
    odd = sum(is_garbage(c.text) for c in glyphs)
    if odd * 2 >= len(glyphs):
        return f"{odd * 100 // len(glyphs)}% of the characters are private-use or replacement codes"
    if bad_fonts:
        font, why = next(iter(bad_fonts.items()))
        return f"the font {font or '(unnamed)'} has a map that gives nonsense: {why}"
    return "no readable characters"


def box_of(chars: Sequence[Char]) -> Box:
    return (
        min(c.box[0] for c in chars),
        min(c.box[1] for c in chars),
        max(c.box[2] for c in chars),
        max(c.box[3] for c in chars),
    )
