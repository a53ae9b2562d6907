"""Does the server read right? Send the reference pages as the loader would and score the answers.

Each page goes out once through the loader's own request path (:class:`.servers.Servers`:
same sizing, image encoding, output budget, sampling and loop watch; the ``layout_all`` prompt
whatever ``prompt_mode`` says, since boxes and text are what is checked), one page after the
other so the time of one is not the queue of another. The server's first answer is judged as
it is: no re-ask, no salvage, no fallback (which live in :mod:`.read`, not used here), as
they would hide the very symptoms looked for. Transport faults (429, 5xx, dropped connections)
are retried as the loader retries them: they say nothing about reading.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from ..client import Answer
from ..encode import encode_image
from ..errors import FATAL, DotsOCRError
from ..layout import Cell, decode_answer
from ..pages import Geometry, PageImage, open_pages
from ..repetition import LoopDetector
from ..servers import Request, Servers, Tally
from ..settings import DotsOCRSettings
from .reference import ReferencePage, reference_pages
from .score import PageScore, score_page

__all__ = ["Parse", "ReadCheck", "ReadPage", "read_reference"]

PROMPT_MODE = "layout_all"
#: How an answer came back: a valid layout array; not valid JSON but with cells in it; no
#: layout cell at all (garbage); cut before its end (budget, loop or page_timeout); an empty
#: array for a page with content; no answer at all (an error).
Parse = Literal["ok", "invalid_json", "garbled", "truncated", "empty", "failed"]
PREVIEW_CHARS = 160


@dataclass(frozen=True)
class ReadPage:
    """One reference page as the server read it."""

    name: str
    #: The size of the image sent (the loader's sizing of the page).
    sent_size: tuple[int, int]
    seconds: float
    parse: Parse
    finish_reason: str | None
    completion_tokens: int | None
    #: The answer's first characters, to see what a broken answer looks like.
    preview: str
    #: Why there was no answer (``parse == "failed"``), else None.
    error: str | None
    #: Scores of a valid answer (``parse == "ok"``); None otherwise.
    score: PageScore | None


@dataclass(frozen=True)
class ReadCheck:
    """Every reference page as the server read it, in the order sent."""

    pages: tuple[ReadPage, ...]

    def by_parse(self, *kinds: Parse) -> list[ReadPage]:
        """The pages whose answer came back as one of ``kinds``."""
        return [p for p in self.pages if p.parse in kinds]

    @property
    def scored(self) -> list[ReadPage]:
        """The pages with a valid answer, which carry scores."""
        return [p for p in self.pages if p.score is not None]


def render(page: ReferencePage, settings: DotsOCRSettings) -> PageImage:
    """The page sized as the loader sizes an image (``min_pixels``, ``max_pixels``)."""
    document = open_pages(page.png, f"reference:{page.name}")
    try:
        return document.render(
            0, Geometry(settings.dpi, settings.min_pixels, settings.max_pixels)
        )
    finally:
        document.close()


async def ask_once(servers: Servers, page: PageImage, settings: DotsOCRSettings) -> Answer:
    """Send one page as the loader's first request for it; the server's answer, unjudged."""
    image = encode_image(page.image, settings.image_format, settings.jpeg_quality)
    request = Request(image, PROMPT_MODE, group=page.info.source)
    return await servers.ask(request, Tally(), lambda budget: LoopDetector().feed)


async def read_reference(servers: Servers, settings: DotsOCRSettings) -> ReadCheck:
    """Send every reference page once, one after the other, and score each answer.

    ``servers`` must be started. Raises what no page can survive (unreachable server, refused
    key, model not served).
    """
    pages = []
    for reference in reference_pages():
        image = render(reference, settings)
        start = time.monotonic()
        try:
            answer = await ask_once(servers, image, settings)
        except FATAL:
            raise
        except (DotsOCRError, TimeoutError) as exc:
            seconds = time.monotonic() - start
            reason = _why(exc, settings)
            pages.append(ReadPage(reference.name, image.image.size, seconds, "failed", None,
                                  None, "", reason, None))
            continue
        seconds = time.monotonic() - start
        pages.append(judge(reference, image, answer, seconds))
    return ReadCheck(tuple(pages))


def _why(exc: BaseException, settings: DotsOCRSettings) -> str:
    if isinstance(exc, TimeoutError):
        return f"no complete answer within page_timeout={settings.page_timeout:g}s"
    return exc.reason if isinstance(exc, DotsOCRError) else str(exc)


def judge(reference: ReferencePage, image: PageImage, answer: Answer, seconds: float) -> ReadPage:
    """Classify one answer and, when it is a valid layout, score it against the truth."""
    width, height = image.image.size
    decoded = decode_answer(answer.text, width, height)
    parse: Parse = "ok"
    if answer.finish_reason != "stop":
        parse = "truncated"
    elif answer.text.strip() in ("", "[]"):
        parse = "empty"
    elif not decoded.cells:  # text, but not one layout cell in it
        parse = "garbled"
    elif any("not valid JSON" in p for p in decoded.problems):
        parse = "invalid_json"
    score = None
    if parse == "ok":
        sx, sy = reference.width / width, reference.height / height
        cells = [
            Cell(c.category, (c.bbox[0] * sx, c.bbox[1] * sy, c.bbox[2] * sx, c.bbox[3] * sy),
                 c.text)
            for c in decoded.cells
        ]
        score = score_page(reference, cells)
    preview = " ".join(answer.text.split())[:PREVIEW_CHARS]
    return ReadPage(reference.name, (width, height), seconds, parse, answer.finish_reason,
                    answer.completion_tokens, preview, None, score)
