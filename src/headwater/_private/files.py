"""Writing a file whole or not at all."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["create_private", "write_atomic"]


def create_private(path: Path) -> None:
    """Create ``path`` empty, readable by its owner only (0600), unless it exists.

    For database files: SQLite gives its write-ahead log and shared-memory
    files the mode of the database file, so they stay private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it.

    A reader sees the old file or the new one, never half of one; a failed
    write leaves no temporary file behind. The new file is readable by its
    owner only (0600, ``mkstemp``'s mode): profiles hold API keys, and the
    other files written this way (limits, spooled run records) are private
    to the user too.
    """
    import tempfile  # rarely needed: kept out of ``import headwater``

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
