"""Does the server read right? Send the reference pages as the loader would and score the answers.

Each page is asked, one request after the other so the time of one is not the queue of
another, through the loader's own request path (:mod:`.asking`: once, no re-ask, no salvage,
transport faults retried): with ``layout_all`` whatever ``prompt_mode`` says, since boxes and
text are what is checked; then with the two prompts ``text_layer="auto"`` reads a born-digital
PDF page by (:mod:`.layered`): ``layout_only`` on the page, and grounding on a few of its true
boxes. Each answer is judged as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..client import Answer
from ..encode import encode_image
from ..layout import decode_answer
from ..pages import Geometry, PageImage, open_pages
from ..servers import Servers
from ..settings import DotsOCRSettings
from .asking import Asked, Parse, ask, in_truth_frame, layout_parse
from .layered import Grounded, LayoutOnly, read_layered
from .reference import ReferencePage, reference_pages
from .score import PageScore, score_page

__all__ = ["Grounded", "LayoutOnly", "Parse", "ReadCheck", "ReadPage", "read_reference"]

PROMPT_MODE = "layout_all"


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
    #: The page asked ``layout_only`` (boxes, categories, order), None when not asked.
    layout_only: LayoutOnly | None = None
    #: Grounding reads of some of the page's true boxes (a text, a table, a formula).
    grounding: tuple[Grounded, ...] = ()


@dataclass(frozen=True)
class ReadCheck:
    """Every reference page as the server read it, in the order sent."""

    pages: tuple[ReadPage, ...]

    def by_parse(self, *kinds: Parse) -> list[ReadPage]:
        """The pages whose ``layout_all`` answer came back as one of ``kinds``."""
        return [p for p in self.pages if p.parse in kinds]

    @property
    def scored(self) -> list[ReadPage]:
        """The pages with a valid ``layout_all`` answer, which carry scores."""
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


async def read_reference(servers: Servers, settings: DotsOCRSettings) -> ReadCheck:
    """Send every reference page, one request after the other, and score each answer.

    ``servers`` must be started. Raises what no page can survive (unreachable server, refused
    key, model not served).
    """
    pages = []
    for reference in reference_pages():
        page = render(reference, settings)
        image = encode_image(page.image, settings.image_format, settings.jpeg_quality)
        asked = await ask(servers, image, PROMPT_MODE, settings, page.info.source)
        if asked.answer is None:
            read = ReadPage(reference.name, page.image.size, asked.seconds, "failed", None,
                            None, "", asked.error, None)
        else:
            read = judge(reference, page, asked.answer, asked.seconds)
        layout_only, grounding = await read_layered(
            servers, reference, image, settings, page.info.source
        )
        pages.append(replace(read, layout_only=layout_only, grounding=grounding))
    return ReadCheck(tuple(pages))


def judge(reference: ReferencePage, image: PageImage, answer: Answer, seconds: float) -> ReadPage:
    """Classify one answer and, when it is a valid layout, score it against the truth."""
    width, height = image.image.size
    decoded = decode_answer(answer.text, width, height)
    parse = layout_parse(answer, decoded)
    score = None
    if parse == "ok":
        score = score_page(reference, in_truth_frame(reference, (width, height), decoded.cells))
    return ReadPage(reference.name, (width, height), seconds, parse, answer.finish_reason,
                    answer.completion_tokens, Asked(answer, seconds).preview, None, score)
