"""Scenes for pictures, captions and tables across pages, and a vision chat model double.

The pages are coloured boxes like every scene (:mod:`.scene`); what the model "reads" in an
element that the scene's default words do not cover (a table with several columns, a caption
that names its figure, the words drawn inside a picture) is given as ``FakeVLLM.texts``,
keyed by ``(category, n)``, the way a real page holds its own words. dots.ocr gives a Picture
no text in a layout answer; the words inside it come back only to the grounding prompt
(:func:`.answers.cell`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from PIL import Image
from pydantic import SecretStr

from .scene import Box, PageSpec, page_footer_box
from .vision import detect

Texts = dict[tuple[str, int], str]


def table_html(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], thead: bool = True
) -> str:
    """A table as dots.ocr writes one: a header row (in ``<thead>`` if asked; none if
    ``header`` is None), then the rows."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if header is None:
        return f"<table><tbody>{body}</tbody></table>"
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    if thead:
        return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
    return f"<table>{head}{body}</table>"


def figures_page(page_n: int = 0) -> tuple[PageSpec, Texts]:
    """A Letter page (points) of captioned figures and tables, and the words on it.

    Top: two pictures side by side, each with its caption below it (Figure 1, Figure 2), the
    second with words drawn inside it. Middle: a caption above a table ("Table 1"), the
    table, and two footnotes right under it; then a paragraph. Bottom: a caption that
    belongs to no figure (a text stands between it and the table above), and the page's own
    footnote far below the table.
    """
    boxes = (
        Box("Title", 1, 72, 40, 540, 70),
        Box("Picture", 1, 72, 90, 290, 250),
        Box("Picture", 2, 322, 90, 540, 250),
        Box("Caption", 1, 72, 258, 290, 272),
        Box("Caption", 2, 322, 258, 540, 272),
        Box("Text", 1, 72, 290, 540, 330),
        Box("Caption", 3, 72, 350, 540, 364),
        Box("Table", 1, 72, 370, 540, 470),
        Box("Footnote", 1, 72, 476, 400, 488),
        Box("Footnote", 2, 72, 492, 400, 504),
        Box("Text", 2, 72, 520, 540, 580),
        Box("Caption", 4, 72, 600, 540, 614),
        Box("Footnote", 3, 72, 700, 400, 714),
        page_footer_box(page_n, 612, 792),
    )
    texts: Texts = {
        ("Caption", 1): "Figure 1: Revenue by region, 2021 to 2024.",
        ("Caption", 2): "Figure 2: The warehouse network.",
        ("Picture", 2): "North hub\nSouth hub\nRail link",
        ("Caption", 3): "Table 1: Stock by warehouse.",
        ("Table", 1): table_html(["Warehouse", "Stock"], [["North", "120"], ["South", "80"]]),
        ("Footnote", 1): "a Counted on 30 June.",
        ("Footnote", 2): "b Excluding returns.",
        ("Caption", 4): "Source: internal ledgers.",
        ("Footnote", 3): "1 All figures are provisional.",
    }
    return PageSpec(612, 792, boxes), texts


def split_table(
    columns: int = 3,
    rows: tuple[int, int] = (6, 4),
    repeat_header: bool = True,
    second_columns: int | None = None,
) -> tuple[list[PageSpec], Texts]:
    """Two Letter pages: a table that runs to the bottom of the first page and goes on at the
    top of the second (Table 1, then Table 2), with a paragraph after it.

    The second part repeats the header row when ``repeat_header``; ``second_columns`` gives
    it another number of columns (a different table, which must not be joined).
    """
    header = [f"Col {c}" for c in range(columns)]
    first_rows = [[f"r{r}c{c}" for c in range(columns)] for r in range(rows[0])]
    width = second_columns or columns
    second_header = [f"Col {c}" for c in range(width)]
    second_rows = [[f"r{r}c{c}" for c in range(width)] for r in range(rows[0], sum(rows))]
    texts: Texts = {
        ("Table", 1): table_html(header, first_rows),
        ("Table", 2): table_html(second_header if repeat_header else None, second_rows),
    }
    first = PageSpec(
        612,
        792,
        (
            Box("Page-header", 0, 72, 30, 540, 44),
            Box("Title", 1, 72, 60, 540, 90),
            Box("Text", 1, 72, 100, 540, 160),
            Box("Table", 1, 72, 180, 540, 700),
            page_footer_box(0, 612, 792),
        ),
    )
    second = PageSpec(
        612,
        792,
        (
            Box("Page-header", 1, 72, 30, 540, 44),
            Box("Table", 2, 72, 60, 540, 300),
            Box("Text", 2, 72, 320, 540, 380),
            page_footer_box(1, 612, 792),
        ),
    )
    return [first, second], texts


class FakeVisionModel(BaseChatModel):
    """A LangChain chat model that "sees" the image it is sent, as a vision model would.

    It takes LangChain's multimodal message (text and an ``image_url`` data URL), finds the
    scene's elements in the image (:func:`.vision.detect`) and describes them; it refuses a
    message without an image. ``api_key`` stands for the secret a real model holds; ``fail``
    makes every call raise an error that quotes it (as a careless SDK might).
    """

    api_key: SecretStr = SecretStr("sk-vision-secret-0123456789")
    default_headers: dict[str, str] = {}  # noqa: RUF012 (as OpenAI's models take them)
    fail: bool = False
    prompts: list[str] = []  # noqa: RUF012 (pydantic copies the default per instance)

    @property
    def _llm_type(self) -> str:
        return "fake-vision"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.fail:
            raise RuntimeError(
                f"401 invalid key {self.api_key.get_secret_value()} "
                f"(sent with {self.default_headers})"
            )
        parts = messages[-1].content
        blocks = [p for p in parts if isinstance(p, dict)]
        urls = [p["image_url"]["url"] for p in blocks if p.get("type") == "image_url"]
        texts = [p["text"] for p in blocks if p.get("type") == "text"]
        if not urls:
            raise ValueError("no image in the message")
        self.prompts.append("".join(texts))
        image = Image.open(io.BytesIO(base64.b64decode(urls[0].partition(",")[2])))
        found = detect(image.convert("RGB"))
        seen = ", ".join(f"{e.category} {e.n}" for e in found) or "nothing"
        text = f"A picture of {image.width}x{image.height} px showing {seen}."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
