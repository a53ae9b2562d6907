"""What makes a page's answer what it is, hashed once: for the page cache and for Document ids.

A page's answer depends on the file's bytes, the page, the image sent (render geometry, image
format) and the request (model, prompt, sampling, budget, sanitising). :func:`answer_key`
hashes every setting among those; :class:`SourceId` adds the file's content hash. The page
cache keys its entries and the Documents take their ids from the same :class:`SourceId`, so
the two can never disagree on what "the same page, read the same way" means.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .layout import Box
from .pages import Geometry
from .settings import DotsOCRSettings

#: Settings that change what the model answers for a page, or what is kept of the answer.
ANSWER_SETTINGS = (
    "prompt_mode",
    "temperature",
    "top_p",
    "max_tokens",
    "sanitize_tables",
    "image_format",
    "jpeg_quality",
)
# Ids are UUID 5 names in this namespace (itself a UUID 5 of the package's name).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pypi.org/project/langchain-dotsocr/")
# What a model confuses keeps one family (Text read as List-item, Section-header as Title):
# a confusion keeps the id. Tables, pictures and formulas are read as one another rarely.
FAMILIES = {"Table": "table", "Picture": "picture", "Formula": "formula"}
# The grid an element's id is anchored on: the cell of its box's middle, the page cut into
# GRID[0] columns and GRID[1] rows. Few columns, and an odd number: the middles of one to four
# equal columns (1/2; 1/4, 3/4; 1/6, 1/2, 5/6; 1/8 ...) lie inside a third, not on a line, where
# every element of a column would cross at once (with 11 columns a two-column page kept 39% of
# its ids under noise, with 3 it keeps 85-95%: benchmarks/noise.py). Rows: many, about a line
# of text each, so two elements rarely share a cell and a rank moves rarely; a box's middle
# moves about a point between two readings, well inside a row (17 rows kept 83% of a dense
# page's ids, 96 rows 95%).
GRID = (3, 96)


def _sha256(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def content_hash(data: bytes) -> str:
    """The hash of a source's bytes: the same file under any name or path has the same one."""
    return hashlib.sha256(data).hexdigest()


def answer_key(settings: DotsOCRSettings, model: str, geometry: Geometry) -> str:
    """A hash of everything but the file that decides a page's answer."""
    parts: dict[str, Any] = {name: getattr(settings, name) for name in ANSWER_SETTINGS}
    parts |= {"model": model, "geometry": asdict(geometry)}
    if settings.ocr_pictures:  # the text inside pictures is read: part of the answer
        parts["ocr_pictures"] = True  # (only when on, so ids made without it stay as they were)
    return _sha256(_numbers_as_floats(parts))


def _numbers_as_floats(value: Any) -> Any:
    """Numbers as floats: ``dpi=200`` and ``--dpi 200`` (200.0) are one setting, one id."""
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True)
class SourceId:
    """One source read with one set of answer settings; names its pages and Documents.

    ``key`` hashes the answer settings with the file's content hash, or, for a file that
    could not be read, with its name (so its Error Document still gets a stable id).
    """

    key: str

    @classmethod
    def of_content(cls, digest: str, answer: str) -> SourceId:
        return cls(_sha256({"content": digest, "answer": answer}))

    @classmethod
    def of_name(cls, name: str, answer: str) -> SourceId:
        return cls(_sha256({"unread": name, "answer": answer}))

    def page_key(self, page: int) -> str:
        """A hex key of one page of the source."""
        return _sha256({"source": self.key, "page": page})

    def _id(self, *parts: object) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(map(str, (self.key, *parts)))))

    def element(self, page: int, anchor: str) -> str:
        """The id of the element of ``page`` at ``anchor`` (see :func:`anchors`)."""
        return self._id("element", page, anchor)

    def page(self, page: int) -> str:
        """The id of a page-mode Document."""
        return self._id("page", page)

    def whole(self) -> str:
        """The id of the single-mode Document of the source."""
        return self._id("single")

    def error(self, page: int | None, part: str = "") -> str:
        """The id of the Error Document of ``page`` (``None``: of the whole source), or of the
        ``part`` of it that was not read."""
        return self._id("error", -1 if page is None else page, *([part] if part else []))


def anchors(width: float, height: float, elements: Sequence[tuple[str, Box]]) -> list[str]:
    """What each element's id rests on: what stays when the model's answer wobbles.

    The family of its category (:data:`FAMILIES`), the cell of :data:`GRID` the middle of its
    box lies in, and its rank among the elements of its family in that cell, top to bottom. Not
    its place in the reading order: one cell dropped, split or merged would move every id after
    it; here it moves at most those below it in its own cell. Two elements never share an
    anchor on one page.
    """
    keys = []
    for category, (x0, y0, x1, y1) in elements:
        x, y = (x0 + x1) / 2 / (width or 1), (y0 + y1) / 2 / (height or 1)
        keys.append((FAMILIES.get(category, "text"), _cell(x, GRID[0]), _cell(y, GRID[1]), y, x))
    out = [""] * len(keys)
    seen: dict[tuple[str, int, int], int] = {}
    for i in sorted(range(len(keys)), key=lambda i: keys[i]):
        family, cx, cy = keys[i][:3]
        rank = seen.get((family, cx, cy), 0)
        seen[(family, cx, cy)] = rank + 1
        out[i] = f"{family}:{cx}.{cy}:{rank}"
    return out


def _cell(v: float, lines: int) -> int:
    return min(lines - 1, max(0, int(v * lines)))
