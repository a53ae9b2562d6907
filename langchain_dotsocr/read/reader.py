"""One page in, its elements (or text) out: the ways of reading it, tried in turn."""

from __future__ import annotations

from dataclasses import replace

from ..errors import FATAL, DotsOCRError, PageError
from ..layout import Cell, Element, to_elements
from ..pages import Geometry
from ..sanitize import clean_table
from ..servers import Servers
from ..settings import DotsOCRSettings
from .context import Offload, PageContext, _inline
from .page import PageResult, Prepared
from .pictures import read_picture_texts
from .reading import Reading, better
from .steps import STEPS, State, Step

# Elements read in parts, for the page's extraction.
IN_PARTS = frozenset({"tiled", "grounded"})


class Reader:
    """Reads prepared pages against the run's servers.

    The steps (:data:`.steps.STEPS`: the whole page, asked again, in parts, plain OCR) run in
    turn while the page's best reading is incomplete; a step's reading is kept only if it
    carries more. The first request's errors are the page's; a later step that fails costs
    only itself.
    """

    def __init__(
        self,
        servers: Servers,
        settings: DotsOCRSettings,
        geometry: Geometry,
        offload: Offload = _inline,
        steps: tuple[Step, ...] = STEPS,
    ) -> None:
        self.servers = servers
        self.settings = settings
        self.geometry = geometry
        self.offload = offload
        self.steps = steps

    async def read(self, page: Prepared, result: PageResult) -> PageResult:
        """Fill ``result`` for ``page``; raises a :class:`DotsOCRError` when the page fails."""
        ctx = PageContext(page, result, self.servers, self.settings, self.geometry, self.offload)
        state = State(ctx)
        for step in self.steps:
            if state.complete or not step.applies(state):
                continue
            run = self._later(step, state) if state.done else step.run(state)
            before = len(ctx.result.failures)
            reading = await run
            state.done.append(step.name)
            if reading is not None and better(reading, state.best):
                state.best = reading
                if reading.complete:
                    _made_up(ctx.result, before, step.name)
        best = state.best
        if self.settings.ocr_pictures and best is not None and best.text is None:
            best = await read_picture_texts(ctx, best)
        return self._finish(ctx, best)

    async def _later(self, step: Step, state: State) -> Reading | None:
        """A fallback step; a page-level error ends the step, not the page."""
        try:
            return await step.run(state)
        except FATAL:
            raise
        except DotsOCRError as exc:
            state.ctx.lost(f"the page's {step.name} reading", exc)
            return None

    def _finish(self, ctx: PageContext, best: Reading | None) -> PageResult:
        result = ctx.result
        if best is None or (not best.complete and not best.cells and not best.text):
            why = [*result.problems, *(f.reason for f in result.failures)]
            raise PageError("no usable answer after every fallback: " + "; ".join(why))
        if best.text is not None:
            result.text = best.text
            result.extraction = best.extraction if best.complete else "salvaged"
            return result
        cells = best.cells
        if not best.complete:
            cells = [replace(c, extraction="salvaged") for c in cells]
        result.elements = elements_of(cells, ctx.page, self.settings)
        result.extraction = extraction_of(best)
        return result


def _made_up(result: PageResult, before: int, step: str) -> None:
    """The failures before ``before`` were made up for by ``step``'s complete reading: no
    longer a share the page lacks (the error policy never sees them), only a problem. A
    share this reading itself lacks stays a failure."""
    result.problems += [
        f"{f.reason} (made up for by the page's {step} reading)" for f in result.failures[:before]
    ]
    del result.failures[:before]


def elements_of(cells: list[Cell], page: Prepared, settings: DotsOCRSettings) -> list[Element]:
    """A page's cells as elements: boxes in page units, table HTML sanitised (if asked)."""
    if settings.sanitize_tables:
        cells = [
            replace(c, text=clean_table(c.text)) if c.category == "Table" and c.text else c
            for c in cells
        ]
    return to_elements(cells, page.info, page.width, page.height)


def extraction_of(reading: Reading) -> str:
    """How a page was read, from how its cells were."""
    if not reading.complete:
        return "salvaged"
    ways = {c.extraction for c in reading.cells}
    if ways & IN_PARTS:
        return "tiled"
    for way in ("ocr", "retried"):
        if way in ways:
            return way
    return "layout"
