"""Crops written as files (``images=FOLDER``): named by source, page and element, atomically.

A file is named ``{stem}-{key}-p{page}-e{element_index}.png``: ``stem`` is the source's file
name made safe (letters, digits, ``.``, ``_`` and ``-``; at most 60 characters), ``key`` the
first 10 hex digits of the key the Documents' ids are made from (the source's bytes and the
settings that change the answer). So two files of one name in two folders never share a crop,
a re-run writes the same file again (same name, same bytes), and a run with other settings
(whose element ``e8`` may be another element) writes new files instead of changing the
pixels behind paths already stored.
Files are written atomically (:mod:`.atomic`), so processes can share the folder.
"""

from __future__ import annotations

import re
from pathlib import PurePath

HASH_CHARS = 10
MAX_STEM = 60
_UNSAFE = re.compile(r"[^\w.-]+")


def safe_stem(source: str) -> str:
    """A file-name-safe stem of a source's name (``"<bytes>"`` gives ``"bytes"``)."""
    name = PurePath(source.replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    stem = _UNSAFE.sub("_", stem).strip("._-")
    return stem[:MAX_STEM] or "source"


def crop_file_name(source: str, key: str, page: int, element_index: int) -> str:
    """The file name of the crop of element ``element_index`` on ``page`` of a source read
    under ``key`` (hex: :attr:`~langchain_dotsocr.identity.SourceId.key`)."""
    return f"{safe_stem(source)}-{key[:HASH_CHARS]}-p{page}-e{element_index}.png"
