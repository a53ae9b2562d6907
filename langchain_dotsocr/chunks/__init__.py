"""Chunks for retrieval: element Documents grouped by section and size, boxes kept.

:mod:`.units` makes the units (an element, or a figure with its captions and footnotes);
:mod:`.packer` puts them into chunks (:mod:`.draft`) by the rules it lists: sections begin
by :mod:`.sections`, text begins with :mod:`.context`, too long a unit is cut by
:mod:`.sentences` and :mod:`.tables`, all sized by :mod:`.tokens` or the user's counter;
:mod:`.metadata` names each chunk and says where its elements are.
"""

from .chunker import DotsOCRChunker
from .metadata import CHUNK_KEYS, chunk_boxes
from .tokens import estimate_tokens

__all__ = ["CHUNK_KEYS", "DotsOCRChunker", "chunk_boxes", "estimate_tokens"]
