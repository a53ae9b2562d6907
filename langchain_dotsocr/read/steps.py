"""The ways of reading a page, each a step: when it applies, and what it gives.

The reader (:mod:`.reader`) tries them in order while the best reading so far is incomplete,
and keeps a step's reading only if it carries more (:func:`.reading.better`). A new way of
reading a page is a new step here, not a new branch in the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..layout import Cell
from .asking import read_layout
from .context import PageContext
from .dense import RETRY_TEMPERATURE, read_dense
from .layered import read_layered, uses_layer
from .ocr import read_ocr, read_ocr_in_parts
from .reading import Reading


@dataclass
class State:
    """A page's reading so far."""

    ctx: PageContext
    best: Reading | None = None
    done: list[str] = field(default_factory=list)  # the steps that ran

    @property
    def complete(self) -> bool:
        return self.best is not None and self.best.complete


class Step(Protocol):
    name: str

    def applies(self, state: State) -> bool: ...

    async def run(self, state: State) -> Reading: ...


class Whole:
    """The page in one request: the ordinary way, and the only one an ordinary page needs.
    A page with a trusted text layer is asked for its layout alone (:mod:`.layered`)."""

    name = "whole"

    def applies(self, state: State) -> bool:
        return state.ctx.page.whole

    async def run(self, state: State) -> Reading:
        ctx = state.ctx
        if ctx.settings.prompt_mode == "ocr":
            return await read_ocr(ctx)
        if uses_layer(ctx):  # the layout from the model, the words from the PDF's layer
            reading = await read_layered(ctx)
            if reading is not None:
                return reading
        return await read_layout(ctx, ctx.page.image, ink=ctx.page.ink)


class Reask:
    """The same prompt again at a higher temperature, which moves the model off a loop or a
    broken answer. Not for an overflow: sampling cannot make a long answer shorter."""

    name = "reask"

    def applies(self, state: State) -> bool:
        best = state.best
        return (
            state.ctx.page.whole
            and state.ctx.settings.prompt_mode != "ocr"
            and best is not None
            and best.cause in ("loop", "broken", "timeout", "empty")
        )

    async def run(self, state: State) -> Reading:
        ctx = state.ctx
        reading = await read_layout(
            ctx, ctx.page.image, extraction="retried", temperature=RETRY_TEMPERATURE
        )
        if reading.cause == "empty" and state.best is not None and state.best.cause == "empty":
            reading.complete = True  # empty twice: a blank page, not a failure
        return reading


class Dense:
    """The page in parts, building on what came back (:mod:`.dense`)."""

    name = "dense"

    def applies(self, state: State) -> bool:
        return not state.complete

    async def run(self, state: State) -> Reading:
        ctx = state.ctx
        if ctx.settings.prompt_mode == "ocr":
            return await read_ocr_in_parts(ctx)
        return await read_dense(ctx, state.best)


class WholeOcr:
    """The last resort: the page's plain text as one element with the page's box, only when no
    way of reading it gave any cell with a box."""

    name = "ocr"

    def applies(self, state: State) -> bool:
        ctx = state.ctx
        return (
            ctx.settings.prompt_mode == "layout_all"
            and ctx.page.whole
            and (state.best is None or state.best.boxed == 0)
        )

    async def run(self, state: State) -> Reading:
        ctx = state.ctx
        text = await read_ocr(ctx)
        if not text.text:
            return Reading(cause="empty")
        page = (0.0, 0.0, float(ctx.page.width), float(ctx.page.height))
        blob = Cell("Text", page, text.text, "ocr")
        return Reading([blob], complete=text.complete, cause=text.cause)


STEPS: tuple[Step, ...] = (Whole(), Reask(), Dense(), WholeOcr())
