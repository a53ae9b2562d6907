"""One page in, its elements (or text) out: budget the request, send it, decode the answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from .budget import (
    MIN_OUTPUT_TOKENS,
    SAFETY_MARGIN,
    image_tokens,
    output_budget,
    prompt_tokens,
    required_context,
)
from .client import Answer, Client, ContextOverflowError, ServerInfo
from .errors import ContextLengthError
from .layout import Element, decode_answer, to_elements
from .pages import PageImage, PageInfo, data_url
from .prompts import chat_body, prompt_text
from .settings import DotsOCRSettings


@dataclass(frozen=True)
class Prepared:
    """A page encoded for sending; the pixels are no longer held."""

    info: PageInfo
    width: int
    height: int
    url: str


def prepare(page: PageImage) -> Prepared:
    """Encode a rendered page (runs in the render thread, off the event loop)."""
    return Prepared(page.info, page.image.width, page.image.height, data_url(page.image))


@dataclass
class PageResult:
    """What one page gave: elements for the layout modes, text for ``ocr``."""

    info: PageInfo
    elements: list[Element] = field(default_factory=list)
    text: str | None = None
    extraction: str = "layout"
    problems: list[str] = field(default_factory=list)
    requests: int = 0


class Extractor:
    """Turns prepared pages into results against one discovered server."""

    def __init__(self, client: Client, server: ServerInfo, settings: DotsOCRSettings) -> None:
        self.client = client
        self.server = server
        self.settings = settings
        self.max_model_len = server.max_model_len

    async def extract(self, page: Prepared, result: PageResult) -> PageResult:
        """Fill ``result`` for ``page``; raises a :class:`DotsOCRError` when the page fails."""
        mode = self.settings.prompt_mode
        answer = await self.ask(page, mode, result)
        if mode == "ocr":
            result.text = answer.text.strip()
            result.extraction = "ocr"
            if answer.finish_reason != "stop":
                result.problems.append(f"answer ended with finish_reason={answer.finish_reason}")
            return result
        decoded = decode_answer(answer.text, page.width, page.height)
        result.elements = to_elements(decoded.cells, page.info, page.width, page.height)
        result.problems.extend(decoded.problems)
        if answer.finish_reason != "stop":
            result.problems.append(f"answer ended with finish_reason={answer.finish_reason}")
        return result

    async def ask(
        self,
        page: Prepared,
        mode: str,
        result: PageResult,
        box: tuple[int, int, int, int] | None = None,
        temperature: float | None = None,
    ) -> Answer:
        """Send one request with a budget that fits; after a context-length 400, once more."""
        text = prompt_text(mode, box)
        needed = prompt_tokens(page.height, page.width, mode)
        budget = self._budget(page, needed)
        for attempt in (0, 1):
            body = chat_body(
                model=self.server.model,
                image_url=page.url,
                text=text,
                max_tokens=budget,
                temperature=self.settings.temperature if temperature is None else temperature,
                top_p=self.settings.top_p,
            )
            result.requests += 1
            try:
                return await self.client.complete(body)
            except ContextOverflowError as exc:
                overflow = exc.overflow
                self.max_model_len = overflow.max_model_len
                used = overflow.input_tokens or needed
                budget = output_budget(overflow.max_model_len, used, self.settings.max_tokens)
                if attempt == 1 or overflow.input_alone_too_long or budget <= 0:
                    raise self._too_big(page, used, overflow.max_model_len) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _budget(self, page: Prepared, needed: int) -> int:
        if self.max_model_len is None:
            return self.settings.max_tokens
        budget = output_budget(self.max_model_len, needed, self.settings.max_tokens)
        if budget < min(MIN_OUTPUT_TOKENS, self.settings.max_tokens):
            raise self._too_big(page, needed, self.max_model_len)
        return budget

    def _too_big(self, page: Prepared, needed: int, limit: int) -> ContextLengthError:
        return context_error(page.info, page.width, page.height, needed, limit, self.settings)


def context_error(
    info: PageInfo, width: int, height: int, needed: int, limit: int, settings: DotsOCRSettings
) -> ContextLengthError:
    """The error for a page that does not fit, with the numbers and the flag to change."""
    want = required_context(
        width,
        height,
        mode=settings.prompt_mode,
        max_tokens=settings.max_tokens,
        max_pixels=settings.max_pixels,
    )
    return ContextLengthError(
        f"the page image ({width}x{height} px, {image_tokens(height, width)} image tokens, "
        f"about {needed} input tokens with the prompt) leaves no room for an answer in the "
        f"server's max_model_len of {limit} (a margin of {SAFETY_MARGIN} and at least "
        f"{MIN_OUTPUT_TOKENS} output tokens are kept). Start vLLM with --max-model-len {want} "
        "(see docker-compose-vllm.yml), or lower dpi / max_pixels, or leave "
        "downscale_to_fit=True",
        source=info.source,
        page=info.index,
    )
