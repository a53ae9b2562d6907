"""The two prompts ``text_layer="auto"`` reads a born-digital PDF page by, asked of each
reference page.

With a trusted text layer the loader asks a page ``layout_only`` (boxes, categories, reading
order; no text) and reads each table and formula, and any text element whose box holds no
layer text, with the grounding prompt on its box (``prompt_grounding_ocr``: a text's words, a
table's HTML, a formula's LaTeX). A server can read ``layout_all`` right and these wrong (a
chat template or a checkpoint that handles one prompt and not another), so the check asks
them too, on the image ``layout_all`` was sent:

- ``layout_only`` on the page, its boxes and categories scored against the page's truth in
  reading order (:func:`.score.score_layout`);
- grounding on the first true box of each category of :data:`GROUNDED` the page has, in
  pixels of the image sent, its text scored by edit similarity as a page's text is
  (:func:`.score.similarity` of :func:`.score.normalise`), a table's HTML by its shape and
  TEDS as well (:func:`.score.table_score`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from ..encode import EncodedImage
from ..layout import Cell, decode_answer
from ..servers import Servers
from ..settings import DotsOCRSettings
from .asking import Asked, Parse, ask, in_truth_frame, layout_parse
from .reference import ReferencePage
from .score import LayoutScore, TableScore, normalise, score_layout, similarity, table_score

__all__ = ["GROUNDED", "Grounded", "LayoutOnly", "read_layered"]

#: The categories read by grounding on each page that has one: what the loader asks it for.
GROUNDED = ("Text", "Table", "Formula")


@dataclass(frozen=True)
class LayoutOnly:
    """A reference page's ``layout_only`` answer (fields as :class:`.reading.ReadPage`'s)."""

    seconds: float
    parse: Parse
    finish_reason: str | None
    completion_tokens: int | None
    preview: str
    error: str | None
    #: Boxes, categories and order of a valid answer (``parse == "ok"``); None otherwise.
    score: LayoutScore | None


@dataclass(frozen=True)
class Grounded:
    """The grounding answer on one true box of a reference page."""

    category: str
    #: The box asked, in pixels of the image sent.
    box: tuple[int, int, int, int]
    seconds: float
    parse: Parse
    finish_reason: str | None
    completion_tokens: int | None
    preview: str
    error: str | None
    #: 1 - normalised edit distance of the box's text (``parse == "ok"``); None otherwise.
    similarity: float | None
    #: A table's shape and TEDS (``parse == "ok"`` on a Table); None otherwise.
    table: TableScore | None = None


async def read_layered(
    servers: Servers,
    reference: ReferencePage,
    image: EncodedImage,
    settings: DotsOCRSettings,
    group: Hashable,
) -> tuple[LayoutOnly, tuple[Grounded, ...]]:
    """Ask ``reference`` (sent as ``image``) ``layout_only``, then grounding on its boxes of
    :data:`GROUNDED`, one request after the other; raises what no page can survive."""
    asked = await ask(servers, image, "layout_only", settings, group)
    layout_only = _judge_layout(reference, image, asked)
    grounded = []
    for truth in grounding_cells(reference):
        box = sent_box(truth, reference, image)
        asked = await ask(servers, image, "grounding", settings, group, box)
        grounded.append(_judge_grounding(truth, box, asked))
    return layout_only, tuple(grounded)


def grounding_cells(reference: ReferencePage) -> list[Cell]:
    """The page's first true cell with text of each category of :data:`GROUNDED`."""
    first = {}
    for cell in reference.cells:
        if cell.category in GROUNDED and cell.text and cell.category not in first:
            first[cell.category] = cell
    return [first[c] for c in GROUNDED if c in first]


def sent_box(
    cell: Cell, reference: ReferencePage, image: EncodedImage
) -> tuple[int, int, int, int]:
    """A true cell's box (PNG pixels) in whole pixels of the image sent."""
    sx, sy = image.width / reference.width, image.height / reference.height
    x0, y0, x1, y1 = cell.bbox
    return round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)


def _judge_layout(reference: ReferencePage, image: EncodedImage, asked: Asked) -> LayoutOnly:
    answer = asked.answer
    if answer is None:
        return LayoutOnly(asked.seconds, "failed", None, None, "", asked.error, None)
    decoded = decode_answer(answer.text, image.width, image.height)
    parse = layout_parse(answer, decoded)
    score = None
    if parse == "ok":
        cells = in_truth_frame(reference, (image.width, image.height), decoded.cells)
        score = score_layout(reference, cells)
    return LayoutOnly(asked.seconds, parse, answer.finish_reason, answer.completion_tokens,
                      asked.preview, None, score)


def _judge_grounding(truth: Cell, box: tuple[int, int, int, int], asked: Asked) -> Grounded:
    answer = asked.answer
    if answer is None:
        return Grounded(truth.category, box, asked.seconds, "failed", None, None, "",
                        asked.error, None)
    text = answer.text.strip()
    parse: Parse = "ok"
    if answer.finish_reason != "stop":
        parse = "truncated"
    elif not text:
        parse = "empty"
    found = Cell(truth.category, truth.bbox, text)
    ok = parse == "ok"
    table = table_score(truth, found) if ok and truth.category == "Table" else None
    return Grounded(
        truth.category, box, asked.seconds, parse, answer.finish_reason, answer.completion_tokens,
        asked.preview, None, similarity(normalise(truth), normalise(found)) if ok else None,
        table,
    )
