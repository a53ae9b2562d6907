"""Files written whole or not at all: a temporary file in the same folder, then ``os.replace``.

A reader (another process sharing a cache or an image folder) never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# mkstemp makes files only their owner may read; a file written here gets the mode any file
# the user writes would get (a web server serving the crops runs as another user).
_UMASK = os.umask(0)
os.umask(_UMASK)
MODE = 0o666 & ~_UMASK


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (its folder is made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
