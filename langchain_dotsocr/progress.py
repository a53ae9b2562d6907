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

    def done(self, pages: int, requests: dict[str, int] | None = None) -> None:
        """``pages`` more done; ``requests``: tries sent so far to each server (by URL)."""
        if self._bar is not None:
            if requests:
                self._bar.set_postfix_str(server_counts(requests), refresh=False)
            self._bar.update(pages)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def server_counts(requests: dict[str, int]) -> str:
    """``"requests gpu-a:8000=120 gpu-b:8000=118"``: the host (and port) of each URL."""
    names = [url.split("://", 1)[-1].removesuffix("/v1") for url in requests]
    return "requests " + " ".join(f"{n}={c}" for n, c in zip(names, requests.values(), strict=True))
