"""Does the server hold a page? ``GET /v1/models`` and the budget arithmetic, before any page.

A Letter and an A4 page, rendered at the loader's ``dpi``, must fit the server's
``max_model_len`` together with the prompt and the full output budget (``max_tokens``). When
they do not, the check says the ``--max-model-len`` to start vLLM with, or the highest dpi
that fits as the server is, and what the loader would do meanwhile. With ``read=True`` the
server also reads the reference pages (:mod:`.reading`) and each symptom gets a verdict.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ..budget import fit_max_pixels, output_budget, prompt_tokens, required_context, smart_resize
from ..pages import Geometry, pdf_pixel_size
from ..servers import Servers
from ..settings import DotsOCRSettings
from .reading import ReadCheck, read_reference
from .report import read_dict, read_lines
from .verdict import Verdict, summarise, verdicts

#: Page sizes checked, in PDF points.
PAPERS: dict[str, tuple[float, float]] = {"Letter": (612.0, 792.0), "A4": (595.28, 841.89)}
PROMPT_MODE = "layout_all"


def render_size(
    width_pt: float, height_pt: float, dpi: float, max_pixels: int
) -> tuple[int, int]:
    """``(width, height)`` in pixels of a PDF page as the page layer renders it, before resize."""
    return pdf_pixel_size(width_pt, height_pt, Geometry(dpi=dpi, max_pixels=max_pixels))


@dataclass(frozen=True)
class PageFit:
    """One paper size at the checked dpi: the image as sent and the context it needs."""

    paper: str
    width_px: int
    height_px: int
    context: int

    @property
    def image_tokens(self) -> int:
        """Visual tokens of the image as sent (one per 28x28 px)."""
        return (self.width_px // 28) * (self.height_px // 28)


@dataclass(frozen=True)
class ServerCheck:
    """What the server serves and whether a page fits it."""

    base_url: str
    model: str
    served: tuple[str, ...]
    max_model_len: int | None
    dpi: float
    max_tokens: int
    pages: tuple[PageFit, ...]
    #: The highest whole dpi (at most ``dpi``) whose pages fit; ``None`` if none does.
    fitting_dpi: int | None
    #: The reference pages as the server read them (``read=True``), else None.
    read: ReadCheck | None = None
    #: The symptoms the read check found (failures first).
    verdicts: tuple[Verdict, ...] = ()

    @property
    def needed(self) -> int:
        """The least ``--max-model-len`` that holds every checked page with the full budget."""
        return max(p.context for p in self.pages)

    @property
    def fits(self) -> bool:
        """Whether every checked page fits with the full output budget."""
        return self.max_model_len is not None and self.needed <= self.max_model_len

    @property
    def ok(self) -> bool:
        """Whether pages fit and the read check (if run) found no failing symptom."""
        return self.fits and not any(v.level == "fail" for v in self.verdicts)

    def as_dict(self) -> dict[str, Any]:
        """The check as plain data (what ``dotsocr check --json`` prints)."""
        data: dict[str, Any] = {
            "ok": self.ok,
            "base_url": self.base_url,
            "model": self.model,
            "served": list(self.served),
            "max_model_len": self.max_model_len,
            "dpi": self.dpi,
            "max_tokens": self.max_tokens,
            "fits": self.fits,
            "needed_max_model_len": self.needed,
            "fitting_dpi": self.fitting_dpi,
            "pages": [{**asdict(p), "image_tokens": p.image_tokens} for p in self.pages],
            "read": None,
        }
        if self.read is not None:
            data["read"] = read_dict(self.read, summarise(self.read), list(self.verdicts))
        return data


def page_fits(settings: DotsOCRSettings, dpi: float) -> tuple[PageFit, ...]:
    """Letter and A4 at ``dpi``: image sent and context needed for the full output budget."""
    fits = []
    for paper, (w, h) in PAPERS.items():
        width, height = render_size(w, h, dpi, settings.max_pixels)
        rh, rw = smart_resize(height, width, max_pixels=settings.max_pixels)
        context = required_context(
            width,
            height,
            mode=PROMPT_MODE,
            max_tokens=settings.max_tokens,
            max_pixels=settings.max_pixels,
        )
        fits.append(PageFit(paper, rw, rh, context))
    return tuple(fits)


def fitting_dpi(settings: DotsOCRSettings, max_model_len: int, dpi: float) -> int | None:
    """The highest whole dpi, at most ``dpi``, at which every paper fits ``max_model_len``."""
    for d in range(math.floor(dpi), 0, -1):
        if all(p.context <= max_model_len for p in page_fits(settings, d)):
            return d
    return None


async def check_server(
    settings: DotsOCRSettings, base_url: str | None = None, *, read: bool = False
) -> ServerCheck:
    """Ask one server for its models and limits, then do the budget arithmetic.


    Args:
        settings: the loader's settings (server, key, model, dpi, pixel limits, budget).
        base_url: the server to check (default: the first of ``settings.base_url``).
        read: also send the reference pages, each asked ``layout_all``, ``layout_only`` and
            grounding on a few of its boxes (:mod:`.reading`), and judge the answers
            (``ServerCheck.read`` and ``ServerCheck.verdicts``).

    Raises:
        What discovery raises: ``ServerUnreachableError``, ``AuthenticationError``,
        ``ModelNotServedError``, ``ServerError``; the read check raises the same when the
        server goes away during it.

    Example:
        .. code-block:: python

            check = asyncio.run(check_server(DotsOCRSettings(), read=True))
            print(check.ok, [v.message for v in check.verdicts])
    """
    settings = settings.model_copy(update={"base_url": base_url or settings.base_urls[0]})
    servers = Servers(settings)
    reading = None
    try:
        info = await servers.start()
        if read:
            reading = await read_reference(servers, settings)
    finally:
        await servers.aclose()
    pages = page_fits(settings, settings.dpi)
    limit = info.max_model_len
    best = None
    if limit is not None and any(p.context > limit for p in pages):
        best = fitting_dpi(settings, limit, settings.dpi)
    elif limit is not None:
        best = math.floor(settings.dpi)
    return ServerCheck(
        servers.clients[0].base_url,
        info.model,
        info.served,
        limit,
        settings.dpi,
        settings.max_tokens,
        pages,
        best,
        reading,
        tuple(verdicts(reading)) if reading is not None else (),
    )


def report(check: ServerCheck, settings: DotsOCRSettings) -> list[str]:
    """The check in plain lines: what to do if a page does not fit, then the read check."""
    dpi = f"{check.dpi:g} dpi"
    served = ", ".join(m + (" (used)" if m == check.model else "") for m in check.served)
    limit = check.max_model_len
    lines = [
        f"server         reachable at {check.base_url}",
        f"models         {served}",
        f"max_model_len  {limit if limit is not None else 'not reported by the server'}",
    ]
    for p in check.pages:
        verdict = "?" if limit is None else ("fits" if p.context <= limit else "does NOT fit")
        lines.append(
            f"{p.paper} at {dpi}: sent as {p.width_px}x{p.height_px} px ({p.image_tokens} image "
            f"tokens); needs a context of {p.context} with {check.max_tokens} output tokens: "
            f"{verdict}"
        )
    if check.fits:
        lines.append(f"OK: Letter and A4 pages at {dpi} fit with the full output budget.")
    else:
        lines += _what_to_do(check, settings)
    if check.read is not None:
        lines += read_lines(check.read, summarise(check.read), list(check.verdicts))
    return lines


def _what_to_do(check: ServerCheck, settings: DotsOCRSettings) -> list[str]:
    """What to change when a page does not fit, and what the loader does meanwhile."""
    dpi = f"{check.dpi:g} dpi"
    limit = check.max_model_len
    lines = [
        f"Start vLLM with --max-model-len {check.needed} (or more) for Letter and A4 pages at "
        f"{dpi} with the full output budget of {check.max_tokens} tokens."
    ]
    if limit is None:
        return lines
    if check.fitting_dpi is not None:
        lines.append(f"Or parse at --dpi {check.fitting_dpi}: the highest dpi that fits as is.")
    else:
        lines.append(
            f"No dpi fits as is: the output budget of {check.max_tokens} tokens alone does not "
            f"fit in {limit}."
        )
    lines.append("As is, the loader " + _meanwhile(settings, limit) + ".")
    return lines


def _meanwhile(settings: DotsOCRSettings, limit: int) -> str:
    """What the loader does with a Letter page at the settings' dpi on this server."""
    allowed = fit_max_pixels(limit, PROMPT_MODE, settings.max_pixels)
    if allowed < settings.min_pixels:
        return (
            "cannot parse any page: the context does not hold even the smallest image with "
            "its prompt and 1024 output tokens"
        )
    width, height = render_size(*PAPERS["Letter"], settings.dpi, allowed)
    h, w = smart_resize(height, width, max_pixels=allowed)
    budget = output_budget(limit, prompt_tokens(h, w, PROMPT_MODE), settings.max_tokens)
    natural = render_size(*PAPERS["Letter"], settings.dpi, settings.max_pixels)
    shrunk = natural[0] * natural[1] > allowed
    how = f"downscales Letter pages to {w}x{h} px and " if shrunk else ""
    return (
        f"{how}cuts answers to {budget} of {settings.max_tokens} tokens: dense pages may come "
        "back incomplete"
    )
