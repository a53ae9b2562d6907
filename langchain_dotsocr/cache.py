"""An on-disk cache of page results, so a second run sends no request and an interrupted
batch resumes where it stopped.

A page's key is made from its file's content hash, its index, the render geometry and every
setting that changes the answer (:mod:`.identity`, which also gives the Documents their ids).
Those fix the page image the model would see, so a hit needs neither a render nor a request.
Entries are JSON files written atomically (a temporary file, then ``os.replace``), so
processes can share a directory.
Only complete pages are stored: a salvaged page, or one a request of which failed, is tried
again on the next run.

Picture descriptions are stored beside the pages (``descriptions/``), keyed by the crop's
pixels, its caption and the describer (:mod:`.describe`): a re-run pays for none of them again.
Crops themselves are not stored: a cached page is rendered again for its crops.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from .atomic import write_atomically
from .identity import SourceId
from .layout import Element
from .pages import PageInfo
from .read import PageResult

VERSION = 3  # bump when the stored shape or the meaning of a result changes


class PageCache:
    """Page results stored as JSON files under ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def key(self, source: SourceId, index: int) -> str:
        """The entry of page ``index`` of ``source`` (see :mod:`.identity`)."""
        return hashlib.sha256(f"{VERSION}:{source.page_key(index)}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, source: str) -> PageResult | None:
        """The stored result of ``key``, now named ``source``; None when absent or unreadable."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return PageResult(
                PageInfo(source=source, **data["info"]),
                elements=[Element.from_dict(e) for e in data["elements"]],
                text=data["text"],
                extraction=data["extraction"],
                problems=list(data["problems"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a missing or damaged entry is a miss, never an error

    def put(self, key: str, result: PageResult) -> None:
        """Store a complete result; written whole or not at all."""
        if result.extraction == "salvaged" or result.failures:
            return
        info = asdict(result.info)
        del info["source"]
        data = {
            "info": info,
            "elements": [asdict(e) for e in result.elements],
            "text": result.text,
            "extraction": result.extraction,
            "problems": result.problems,
        }
        write_atomically(self._path(key), json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def _text_path(self, key: str) -> Path:
        return self.directory / "descriptions" / key[:2] / f"{key}.json"

    def text(self, key: str) -> str | None:
        """A stored description (see :mod:`.describe`); None when absent or unreadable."""
        try:
            value = json.loads(self._text_path(key).read_text(encoding="utf-8"))["text"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return value if isinstance(value, str) else None

    def put_text(self, key: str, text: str) -> None:
        """Store a description under ``key``; written whole or not at all."""
        data = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
        write_atomically(self._text_path(key), data)
