"""An opt-in progress bar over pages (tqdm), growing as sources are opened."""

from __future__ import annotations

from typing import Any


class Progress:
    """Counts pages planned and done; draws a bar only when asked to."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, unit="page", desc="dots.ocr", dynamic_ncols=True)

    def add(self, pages: int) -> None:
        if self._bar is not None:
            self._bar.total += pages
            self._bar.refresh()

    def done(self, pages: int) -> None:
        if self._bar is not None:
            self._bar.update(pages)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
