"""The open chunk while units go into it, the section it is of, and the chunk settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from .units import Element

BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Rules:
    """The chunk settings (see :class:`~langchain_dotsocr.DotsOCRChunker`)."""

    chunk_size: int
    chunk_overlap: int
    min_chunk_size: int
    length_function: Callable[[str], int]
    contextualize: bool

    @property
    def key(self) -> str:
        """What of the settings decides the chunks, hashed: a part of every chunk id."""
        f = self.length_function
        name = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', type(f).__name__)}"
        parts = [self.chunk_size, self.chunk_overlap, self.min_chunk_size, self.contextualize]
        return hashlib.sha256(json.dumps([*parts, name]).encode()).hexdigest()


@dataclass
class Section:
    source: str
    path: str
    parent_id: str
    headed: bool  # it begins with its heading
    chunks: int = 0  # chunks made of it so far


@dataclass
class Draft:
    """The open chunk."""

    section: Section
    prefix: str
    seed: str = ""  # the overlap taken from the chunk before
    blocks: list[str] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)
    table: tuple[str, int, int] = ("", 0, 0)

    def text(self, extra: str = "") -> str:
        body = [b for b in (self.seed, *self.blocks, extra.strip()) if b]
        return self.prefix + BLOCK_SEPARATOR.join(body)

    def take(self, elements: list[Element]) -> None:
        have = {id(e) for e in self.elements}
        self.elements += [e for e in elements if id(e) not in have]
