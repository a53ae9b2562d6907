"""Chunks for retrieval: element Documents grouped by section and size, boxes kept.

:mod:`.units` makes the units (an element, or a figure with its captions and footnotes),
:mod:`.packer` groups them by the rules it lists, cutting with :mod:`.sentences` and
:mod:`.tables`, sized by :mod:`.tokens` or the user's counter; :mod:`.metadata` names each
chunk and says where its elements are.
"""

from .chunker import DotsOCRChunker
from .metadata import CHUNK_KEYS, chunk_boxes
from .tokens import estimate_tokens

__all__ = ["CHUNK_KEYS", "DotsOCRChunker", "chunk_boxes", "estimate_tokens"]
