"""A noisy model: the double's answers made as imperfect as dots.ocr's own.

The double reads its pages exactly; the real model does not. Its published figures (the
dots.ocr report, OmniDocBench v1.5 end to end, and the layout tables of its README) put layout
F1 at IoU 0.5 near 0.92, the text edit distance near 0.03-0.05 and table TEDS near 0.88, and two
runs of one page can differ in a few cells (GPU batching is not bit-exact). :class:`Noise` turns
the elements the double found in one image into such an answer:

* every box edge moves by a few pixels (``jitter`` px plus ``scale`` of the box's size);
* ``confuse`` of the categories swap with a neighbour (:data:`NEIGHBOURS`);
* ``typo`` of the characters of the text are substituted, deleted or doubled (never markup:
  HTML tags, a heading's ``#``, a list marker);
* ``split`` of the text cells come back as two stacked cells (the text cut at a word),
  ``merge`` of the neighbouring pairs as one, ``drop`` of the cells not at all, ``swap`` of the
  neighbouring pairs in the other order;
* ``table_error`` of the tables have one structural error (a cell dropped, or two merged into a
  ``colspan``).

The noise is a function of the image's pixels and the seed: the same image asked again gets
the same answer (vLLM at temperature 0 on an unchanged batch), another image (a crop, another
page) or another seed gets another draw. With the default rates the scorer
(:mod:`.scoring`) measures, over sample and dense pages and 20 seeds, a layout F1@0.5 with
categories agreeing of 0.923 (0.956 by boxes alone), a text edit distance of 0.032 and a TEDS of
0.88 (``typo`` counts letters and digits only: 4% of them is about 3% of all characters);
:mod:`tests.test_noise` holds them in 0.89-0.95, 0.02-0.06 and 0.80-0.95.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from .answers import says
from .vision import Element

#: The confusions a layout model makes: each category and what it may be read as instead.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "Text": ("List-item", "Caption", "Footnote"),
    "List-item": ("Text",),
    "Caption": ("Text",),
    "Footnote": ("Text",),
    "Section-header": ("Title", "Text"),
    "Title": ("Section-header",),
    "Page-header": ("Section-header", "Text"),
    "Page-footer": ("Text",),
}
# Cells a split or a merge may touch: prose, whose text can be cut at a word.
PROSE = frozenset({"Text", "List-item", "Footnote", "Caption"})
# Markup the model writes as it is: never made wrong by a typo.
_MARKUP = re.compile(r"<[^>]*>|^#+ |^- |\\[a-z]+|[{}_^]")
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_CELL = re.compile(r"<(td|th)>(.*?)</\1>")


@dataclass(frozen=True)
class Noise:
    """How imperfect the double's answers are; see the module's docstring for each rate."""

    seed: int = 0
    jitter: float = 3.0
    scale: float = 0.01
    confuse: float = 0.035
    typo: float = 0.04
    split: float = 0.02
    merge: float = 0.02
    drop: float = 0.01
    swap: float = 0.03
    table_error: float = 0.5

    def apply(
        self, elements: list[Element], digest: str, size: tuple[int, int]
    ) -> list[Element]:
        """The answer a real model gives for an image whose exact elements are ``elements``.

        ``digest`` is the hash of the image's pixels and ``size`` its (w, h): boxes stay inside.
        """
        rng = random.Random(f"{self.seed}:{digest}")
        out: list[Element] = []
        for e in elements:
            if rng.random() < self.drop:
                continue
            # Words first: a category confused keeps what the element says, as a model does.
            e = self._category(self._text(self._box(e, size, rng), rng), rng)
            out.extend(self._split(e, rng))
        out = self._merge(out, rng)
        for i in range(len(out) - 1):
            if rng.random() < self.swap:
                out[i], out[i + 1] = out[i + 1], out[i]
        return out

    def apply_text(self, elements: list[Element], digest: str) -> list[Element]:
        """The answer to an ``ocr`` or grounding prompt: the same text errors, no layout noise
        (those prompts return text only, so there is no box or category to be wrong)."""
        rng = random.Random(f"{self.seed}:{digest}:text")
        return [self._text(e, rng) for e in elements]

    def _box(self, e: Element, size: tuple[int, int], rng: random.Random) -> Element:
        x0, y0, x1, y1 = e.bbox
        w, h = x1 - x0, y1 - y0

        def move(v: int, extent: int, limit: int) -> int:
            d = self.jitter + self.scale * extent
            return min(limit, max(0, round(v + rng.uniform(-d, d))))

        sx, sy = size
        box = (move(x0, w, sx), move(y0, h, sy), move(x1, w, sx), move(y1, h, sy))
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            return e
        return replace(e, bbox=box)

    def _category(self, e: Element, rng: random.Random) -> Element:
        options = NEIGHBOURS.get(e.category)
        if options and rng.random() < self.confuse:
            return replace(e, category=rng.choice(options))
        return e

    def _text(self, e: Element, rng: random.Random) -> Element:
        text = says(e)
        if text is None or e.rows:  # Pictures; striped tables are read row by row (grounding)
            return e
        if e.category == "Table" and text.startswith("<table"):
            text = _CELL.sub(lambda m: f"<{m[1]}>{typos(m[2], self.typo, rng)}</{m[1]}>", text)
            if rng.random() < self.table_error:
                text = table_error(text, rng)
        else:
            text = typos(text, self.typo, rng)
        return replace(e, text=text)

    def _split(self, e: Element, rng: random.Random) -> list[Element]:
        text = e.text or ""
        x0, y0, x1, y1 = e.bbox
        if e.category not in PROSE or " " not in text.strip() or y1 - y0 < 8:
            return [e]
        if rng.random() >= self.split:
            return [e]
        words = text.split(" ")
        cut = max(1, len(words) // 2)
        mid = (y0 + y1) // 2
        return [
            replace(e, bbox=(x0, y0, x1, mid - 1), text=" ".join(words[:cut])),
            replace(e, bbox=(x0, mid + 1, x1, y1), text=" ".join(words[cut:])),
        ]

    def _merge(self, cells: list[Element], rng: random.Random) -> list[Element]:
        out: list[Element] = []
        for e in cells:
            last = out[-1] if out else None
            if last is not None and _neighbours(last, e) and rng.random() < self.merge:
                box = (
                    min(last.bbox[0], e.bbox[0]),
                    min(last.bbox[1], e.bbox[1]),
                    max(last.bbox[2], e.bbox[2]),
                    max(last.bbox[3], e.bbox[3]),
                )
                out[-1] = replace(last, bbox=box, text=f"{last.text} {e.text}")
                continue
            out.append(e)
        return out


def _neighbours(a: Element, b: Element) -> bool:
    """Two prose cells one under the other, close and overlapping across: mergeable."""
    if a.category not in PROSE or b.category not in PROSE:
        return False
    across = min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0])
    gap = b.bbox[1] - a.bbox[3]
    height = min(a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1])
    return across > 0 and 0 <= gap <= max(4, height)


def typos(text: str, rate: float, rng: random.Random) -> str:
    """``text`` with about ``rate`` of its letters and digits wrong; markup kept as it is."""
    keep = {i for m in _MARKUP.finditer(text) for i in range(m.start(), m.end())}
    out = []
    for i, ch in enumerate(text):
        if i in keep or not ch.isalnum() or rng.random() >= rate:
            out.append(ch)
            continue
        kind = rng.randrange(3)
        if kind == 0:  # substituted
            out.append(rng.choice(_LETTERS.replace(ch.lower(), "")))
        elif kind == 1:  # doubled
            out.append(ch + ch)
        # else: deleted
    return "".join(out)


def table_error(html: str, rng: random.Random) -> str:
    """``html`` with one structural error: a cell dropped, or two neighbours merged."""
    cells = list(_CELL.finditer(html))
    if len(cells) < 2:
        return html
    k = rng.randrange(len(cells) - 1)
    a, b = cells[k], cells[k + 1]
    if html[a.end() : b.start()] == "" and rng.random() < 0.5:  # same row: merged into a span
        merged = f"<{a[1]} colspan=\"2\">{a[2]} {b[2]}</{a[1]}>"
        return html[: a.start()] + merged + html[b.end() :]
    return html[: a.start()] + html[a.end() :]
