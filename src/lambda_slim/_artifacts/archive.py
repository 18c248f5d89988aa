"""Deterministic zips: sorted entries, one fixed timestamp, normalised permissions, deflate, ZIP64 only if needed.

Two builds of the same inputs give byte-identical zips whatever the umask, file mtimes or directory order, so
Lambda's CodeSha256 (and Terraform's source_code_hash) only changes when the content does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.zipwrite import Entry, deflate_file, write_entries
from lambda_slim._errors import ArchiveError

_FILE_MODE = 0o100644
_EXECUTABLE_MODE = 0o100755
# Per entry, the local header (30 bytes) and central directory record (46 bytes) each repeat the name.
_ENTRY_OVERHEAD = 30 + 46
_END_RECORD = 22


@dataclass(frozen=True)
class Artifact:
    path: Path
    kind: str  # "function" or "layer"
    files: int
    zipped_bytes: int
    unzipped_bytes: int
    sha256: str
    name: str = "function"  # the layer's name, for layers
    distributions: tuple[str, ...] = ()  # what it holds

    @property
    def code_sha256(self) -> str:
        """Lambda's CodeSha256 and Terraform's source_code_hash: the base64 of the raw sha256."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")

    def describe(self) -> dict[str, Any]:
        """The fields the JSON report and the manifest both give for an artifact."""
        return {
            "kind": self.kind,
            "name": self.name,
            "distributions": list(self.distributions),
            "files": self.files,
            "zipped_bytes": self.zipped_bytes,
            "unzipped_bytes": self.unzipped_bytes,
            "sha256": self.sha256,
            "code_sha256": self.code_sha256,
        }


def tree_files(root: Path) -> list[str]:
    """Every regular file below root as a sorted posix path; sorting here is what makes entry order stable."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        found += [prefix + name for name in filenames if os.path.isfile(os.path.join(dirpath, name))]
    return sorted(found)


def write_zip(
    root: Path,
    dest: Path,
    *,
    kind: str,
    epoch: int,
    prefix: str = "",
    zipped: Callable[[int], None] | None = None,
) -> Artifact:
    """Zip every file below `root` into `dest`, atomically: `dest` is replaced only when whole.

    `prefix` is put before every entry name as is: a layer passes "python/". `zipped`: see write_entries.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    paths = tree_files(root)
    try:
        entries = [Entry(prefix + rel, root / rel, _mode(root / rel)) for rel in paths]
        with tmp.open("wb") as out:
            unzipped = write_entries(out, entries, epoch, zipped=zipped)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"cannot write {dest}: {exc.strerror or exc}. Check the output directory.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Artifact(dest, kind, len(paths), dest.stat().st_size, unzipped, sha256_file(dest))


def _mode(path: Path) -> int:
    return _EXECUTABLE_MODE if os.stat(path).st_mode & 0o111 else _FILE_MODE


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def deflated_size(path: Path) -> int:
    """What `path` costs inside one of our zips: its deflate stream at our level (the entry overhead aside)."""
    return deflate_file(path, discard=True).compressed_size


def deflated_total(root: Path, paths: list[str]) -> int:
    """What these files of `root` cost inside our zips, deflated on every core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return sum(pool.map(lambda path: deflated_size(root / path), paths))


def zip_overhead(names: Iterable[str]) -> int:
    """Bytes a zip spends on headers for these entry names (no extra fields, as write_zip writes them)."""
    return sum(_ENTRY_OVERHEAD + 2 * len(name.encode()) for name in names) + _END_RECORD
