"""The actor that reads pages: the package's own async client and server pool, per actor.

With crops or descriptions asked, the actor finishes each read page as the loader does
(:class:`..figures.Figures`): the crops are cut from the row's ``page_file`` at the render
resolution, kept as files or base64, and the pictures described.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..crops import Describer
from ..describe import PictureDescriber
from ..errors import DotsOCRError
from ..figures import Figures
from ..layout import Box
from ..pages import Geometry
from ..read import PageResult, Reader
from ..servers import Servers
from ..settings import DotsOCRSettings
from .rows import (
    PAGE_ONLY,
    crop_source,
    error_row,
    page_info,
    prepared_page,
    result_json,
    source_id,
)

#: Pages one actor reads at once: Ray Data runs this many rows of an async UDF per actor.
ROWS_PER_ACTOR = 16
#: CPUs a reader actor reserves: it mostly waits on the servers, and a whole CPU each would
#: leave none for reading and rendering on a small cluster.
READER_CPUS = 0.25


class PageReader:
    """An actor that reads pages with the package's own async client and server pool.

    Args:
        settings: the loader's settings.
        geometry: how the pages were rendered (the driver's, sized for the servers).
        describer: makes the describer in the actor (``describe_pictures=`` of the settings
            when None), for a chat model that cannot be pickled (it holds a client).
    """

    def __init__(
        self,
        settings: DotsOCRSettings,
        geometry: Geometry | None = None,
        describer: Callable[[], Describer] | None = None,
    ) -> None:
        self.settings = settings
        self.geometry = geometry or Geometry(dpi=settings.dpi)
        self._make_describer = describer
        self._secrets = tuple(
            s.get_secret_value() for s in (settings.api_key, settings.password) if s
        )
        self._servers: Servers | None = None
        self._figures: Figures | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None

    async def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """A page row in, its result row out (``result`` JSON, or ``error``); no pixels."""
        out = {k: v for k, v in row.items() if k not in PAGE_ONLY}
        if row.get("error"):
            return out | {"result": None, "model": None}
        info = page_info(row)
        try:
            servers = await self._started()
            page = await asyncio.to_thread(prepared_page, row)
            result = PageResult(info)
            try:
                # Pixel work (dense pages) runs in a thread: the actor's loop keeps streaming.
                reader = Reader(servers, self.settings, self.geometry, asyncio.to_thread)
                await reader.read(page, result)
            except DotsOCRError as exc:
                located = exc.located(info.source, info.index, info.total)
                return error_row(out, located, self._secrets) | {
                    "result": None,
                    "model": servers.model,
                }
            if self._figures is not None and row.get("page_file") is not None:
                await self._finish(row, result, self._figures)
            return out | {"result": result_json(result, self._secrets), "model": servers.model}
        except Exception as exc:  # one bad page never fails the dataset
            return error_row(out, exc, self._secrets) | {"result": None, "model": None}

    async def _finish(self, row: dict[str, Any], result: PageResult, figures: Figures) -> None:
        """The page's crops and descriptions, cut from its file as the loader cuts them."""
        document, index = await asyncio.to_thread(crop_source, row)
        try:

            async def cut(regions: list[Box]) -> list[Any]:
                return await asyncio.to_thread(document.crops, index, regions, self.settings.dpi)

            key = source_id(row).key
            result.figures = await figures.of_page(result, key, cut, asyncio.to_thread)
        finally:
            document.close()

    async def _started(self) -> Servers:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a client belongs to one event loop
            self._loop, self._servers, self._starting = loop, None, asyncio.Lock()
        assert self._starting is not None
        async with self._starting:
            if self._servers is None:
                self._figures = self._made_figures()
                servers = Servers(self.settings)
                await servers.start()
                self._servers = servers
        return self._servers

    def _made_figures(self) -> Figures | None:
        settings = self.settings
        if self._make_describer is not None:
            settings = settings.model_copy(update={"describe_pictures": self._make_describer()})
        figures = Figures.of(settings, None)
        if figures is not None and figures.describer is not None:
            self._secrets = _with_secrets(self._secrets, figures.describer)
        return figures


def _with_secrets(secrets: tuple[str, ...], describer: PictureDescriber) -> tuple[str, ...]:
    """``secrets`` and the describer's, masked in error rows as in its log lines."""
    return tuple(dict.fromkeys((*secrets, *describer.secrets)))
