"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    if path.exists() and not path.is_file():
        # A device or a pipe (`-o /dev/stdout`, `-o /dev/null`, a FIFO) is written to, never replaced: the rename
        # would put a regular file in its place, and as root that could be /dev/null.
        with path.open("w", encoding="utf-8") as stream:
            stream.write(text)
        return
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unwritable(directory: Path) -> str | None:
    """Why no file could be written in `directory`, or None when one can. Tried in the directory, or, when it does
    not exist yet, in the nearest directory above it, where it would be made: a check makes nothing. A file is
    created and removed there, since permission bits do not say it for root, read-only mounts or ACLs."""
    existing = next(path for path in (directory, *directory.parents) if path.exists() or path.is_symlink())
    if not existing.is_dir():
        return f"a part of the path is not a directory: {existing}"
    try:
        with tempfile.NamedTemporaryFile(prefix=".slim-probe-", dir=existing):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
