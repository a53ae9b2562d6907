"""The actor that reads pages: the package's own async client and server pool, per actor."""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import DotsOCRError
from ..pages import Geometry
from ..read import PageResult, Reader
from ..servers import Servers
from ..settings import DotsOCRSettings
from .rows import error_row, page_info, prepared_page, result_json

#: Pages one actor reads at once: Ray Data runs this many rows of an async UDF per actor.
ROWS_PER_ACTOR = 16
#: CPUs a reader actor reserves: it mostly waits on the servers, and a whole CPU each would
#: leave none for reading and rendering on a small cluster.
READER_CPUS = 0.25


class PageReader:
    """An actor that reads pages with the package's own async client and server pool."""

    def __init__(self, settings: DotsOCRSettings, geometry: Geometry | None = None) -> None:
        self.settings = settings
        self.geometry = geometry or Geometry(dpi=settings.dpi)
        self._servers: Servers | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None

    async def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """A page row in, its result row out (``result`` JSON, or ``error``); no image."""
        out = {k: v for k, v in row.items() if k != "image"}
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
                return error_row(out, located) | {"result": None, "model": servers.model}
            return out | {"result": result_json(result), "model": servers.model}
        except Exception as exc:  # one bad page never fails the dataset
            return error_row(out, exc) | {"result": None, "model": None}

    async def _started(self) -> Servers:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a client belongs to one event loop
            self._loop, self._servers, self._starting = loop, None, asyncio.Lock()
        assert self._starting is not None
        async with self._starting:
            if self._servers is None:
                servers = Servers(self.settings)
                await servers.start()
                self._servers = servers
        return self._servers


