"""Units into chunks, greedily, one section at a time: the rules of the README's Chunks.

1. Reading order is kept: units are taken as they come.
2. A heading starts a new chunk, and so does a change of section path (a chunk never holds
   two sections; :mod:`.sections`), unless :func:`.sections.carries_on`: the chunk so far is
   below ``min_chunk_size`` and the heading is below the section it is in (a chapter heading
   followed at once by its first section's heading does not stand alone).
3. A page break is no boundary: a chunk goes on over it inside a section.
4. A unit goes into the open chunk when it fits, else into a new chunk when it fits there;
   a unit that fits no chunk is cut: text at sentences, words, then characters
   (:mod:`.sentences`), flowing into the open chunk first; a table between rows
   (:mod:`.tables`), its caption in the first part and its footnotes after the last, each
   part a chunk of its own with ``table_id``, ``table_part`` and ``table_parts``.
5. With ``contextualize``, a chunk's text begins with its heading path (:mod:`.context`; the
   first chunk of a section with the path above its heading, which it holds itself), counted
   in its size; a path longer than half of ``chunk_size`` is left out of the text.
6. With ``chunk_overlap``, a chunk that goes on from another in the same section begins with
   the last sentences of the one before (at most ``chunk_overlap`` tokens), when they fit.

Only the open chunk is held: it leaves as soon as the next unit does not fit it.
"""

from __future__ import annotations

from langchain_core.documents import Document

from .context import heading_prefix, overlap
from .draft import BLOCK_SEPARATOR, Draft, Rules, Section
from .metadata import chunk_id, chunk_metadata
from .sections import carries_on, section_of, starts_section
from .sentences import CUTS
from .tables import grid, split_rows
from .units import Element, Unit


class Packer:
    """Takes units in order and gives chunks as they are done (see the module)."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.section: Section | None = None
        self.draft: Draft | None = None
        self.tail = ""  # the piece of a unit being cut that goes into the open chunk
        self.out: list[Document] = []

    def size(self, text: str) -> int:
        return self.rules.length_function(text)

    def fits(self, draft: Draft, extra: str) -> bool:
        if self.size(draft.text(extra)) <= self.rules.chunk_size:
            return True
        if draft.seed and not draft.blocks and not self.tail:  # the overlap gives way to the
            # first text of the chunk, which must fit
            draft.seed = ""
            return self.fits(draft, extra)
        return False

    def push(self, unit: Unit) -> list[Document]:
        """The chunks done once ``unit`` comes."""
        if unit.kind == "error":
            self.close()
            self.out.append(_error_chunk(unit.main))
        else:
            self._enter(unit)
            if unit.kind == "table":
                self._table(unit)
            else:
                self._blocks(unit, unit.blocks, unit.elements)
        out, self.out = self.out, []
        return out

    def finish(self) -> list[Document]:
        """The last chunk, at the end of the documents."""
        self.close()
        self.section = None
        out, self.out = self.out, []
        return out

    # -- sections and drafts ----------------------------------------------------------------

    def _enter(self, unit: Unit) -> None:
        if not starts_section(unit, self.section):
            return
        section = section_of(unit)
        d = self.draft
        if d is not None and carries_on(d, unit, self.size(d.text()), self.rules):
            d.section = section
        else:
            self.close()
        self.section = section

    def _open(self) -> Draft:
        if self.draft is None:
            assert self.section is not None
            first = self.section.chunks == 0
            self.draft = Draft(self.section, heading_prefix(self.section, first, self.rules))
        return self.draft

    def _fresh(self) -> Draft:
        """The chunk that would follow the open one, empty."""
        assert self.section is not None
        first = self.draft is None and self.section.chunks == 0
        return Draft(self.section, heading_prefix(self.section, first, self.rules))

    def close(self, going_on: bool = False) -> None:
        """Send the open chunk off (with what it holds of a unit being cut); ``going_on``: the
        next chunk is of the same section (it may begin with an overlap)."""
        d, self.draft = self.draft, None
        if d is None:
            return
        if self.tail.strip():
            d.blocks.append(self.tail.strip())
        self.tail = ""
        if not d.elements:
            return
        content = d.text()
        s = d.section
        meta = chunk_metadata(
            s.source,
            d.elements,
            section_path=s.path,
            parent_id=s.parent_id,
            chunk_index=s.chunks,
            table=d.table,
        )
        s.chunks += 1
        ident = chunk_id(s.source, d.elements, content, self.rules.key)
        self.out.append(Document(content, metadata=meta, id=ident))
        if going_on and self.rules.chunk_overlap and d.blocks and not d.table[0]:
            self._open().seed = overlap(d.blocks[-1], self.rules)

    # -- units --------------------------------------------------------------------------------

    def _whole(self, text: str, elements: list[Element]) -> bool:
        """Put ``text`` whole into the open chunk, or a new one; False if it fits neither."""
        d = self._open()
        if self.fits(d, text):
            d.blocks += [text] if text else []
            d.take(elements)
            return True
        if (d.blocks or d.seed) and self.fits(self._fresh(), text):
            self.close(going_on=True)
            return self._whole(text, elements)
        return False

    def _blocks(self, unit: Unit, blocks: list[str], elements: list[Element]) -> None:
        if self._whole(BLOCK_SEPARATOR.join(blocks), elements):
            return
        for block in blocks:  # too long for any chunk: cut it
            self._cut(block, elements, 0)
            d = self._open()
            if self.tail.strip():
                d.blocks.append(self.tail.strip())
            d.take(elements)
            self.tail = ""

    def _cut(self, text: str, elements: list[Element], level: int) -> None:
        for piece in CUTS[level](text):
            d = self._open()
            if self.fits(d, self.tail + piece):
                self.tail += piece
                continue
            if self.tail.strip() or d.blocks:
                if self.tail.strip():
                    d.take(elements)
                self.close(going_on=True)
                d = self._open()
            if self.fits(d, piece):
                self.tail = piece
            elif level + 1 < len(CUTS):
                self._cut(piece, elements, level + 1)
            else:  # a character no chunk holds: the indivisible unit (never met in practice)
                self.tail += piece

    def _table(self, unit: Unit) -> None:
        if self._whole(BLOCK_SEPARATOR.join(unit.blocks), unit.elements):
            return
        table = grid(unit.main.text)
        caption = BLOCK_SEPARATOR.join(unit.texts(unit.before))
        if table is None:  # rows that cannot be told apart: the table stands whole, alone
            self.close(going_on=True)
            d = self._open()
            d.blocks.append(BLOCK_SEPARATOR.join(filter(None, (caption, unit.main.text))))
            d.take([*unit.before, unit.main])
            self._notes(unit)
            return
        d = self._open()
        first = BLOCK_SEPARATOR.join(filter(None, (caption, table.part(table.body[:1]))))
        if d.table[0] or ((d.blocks or d.seed) and not self.fits(d, first)):
            self.close(going_on=True)
            d = self._open()
        fresh = self._fresh()
        parts = split_rows(
            table,
            lambda html: self.fits(d, BLOCK_SEPARATOR.join(filter(None, (caption, html)))),
            lambda html: self.fits(fresh, html),
        )
        for i, html in enumerate(parts):
            if i:
                self.close(going_on=True)
            d = self._open()
            d.seed = ""
            d.blocks.append(BLOCK_SEPARATOR.join(filter(None, (caption, html))) if i == 0 else html)
            d.take([*unit.before, unit.main] if i == 0 else [unit.main])
            d.table = (unit.main.id, i + 1, len(parts))
        self._notes(unit)

    def _notes(self, unit: Unit) -> None:
        """The footnotes (and captions below) of a table after its last part."""
        texts = unit.texts(unit.after)
        if unit.after:
            self._blocks(unit, texts, unit.after)


def _error_chunk(error: Element) -> Document:
    meta = chunk_metadata(
        str(error.meta.get("source", "")),
        [error],
        section_path=str(error.meta.get("section_path", "")),
        parent_id="",
        chunk_index=0,
    )
    return Document("", metadata=meta, id=error.id)
