"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unwritable(directory: Path, *, create: bool) -> str | None:
    """Why no file can be written in `directory` (made first when `create`), or None when one can. A file is
    created and removed there to find out: permission bits do not say it for root, read-only mounts or ACLs."""
    try:
        if create:
            directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".slim-probe-", dir=directory):
            pass
    except OSError as exc:
        blocker = next((path for path in (directory, *directory.parents) if path.is_file()), None)
        return f"a part of the path is a file: {blocker}" if blocker is not None else exc.strerror or str(exc)
    return None
