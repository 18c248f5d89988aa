"""The per-distribution cache: the installed, compiled tree of each locked wheel, keyed by the wheel's content.

An entry is keyed by the wheel's sha256 (from slim.lock), the target, the interpreter that compiles its bytecode
(if any) and lambda-slim's version (which fixes how it installs and compiles); it holds that distribution's files,
pycs included, made read-only, and a meta.json listing them. Builds hard-link the files into their staging tree,
so a rebuild of an unchanged dependency set copies nothing and installs nothing. Slimming is not cached here: it
depends on the project's rules and is cheap once the tree exists.

Two builds may fill the same entry at once: each writes a private directory and renames it into place, and the
loser's copy is dropped, so an entry is either absent or whole. A killed build leaves only private directories,
which later builds remove once they are a day old. An entry whose files do not match its meta.json is ignored and
removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .resolve import Pin
from .target import Target

ENV_VAR = "SLIM_CACHE_DIR"
LAYOUT = "1"
_STALE_SECONDS = 24 * 3600
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def default_cache_dir() -> Path:
    """$SLIM_CACHE_DIR, else the user's cache directory ($XDG_CACHE_HOME or ~/.cache) / lambda-slim."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda-slim"


@dataclass(frozen=True)
class CachedDist:
    files: tuple[tuple[str, int], ...]  # (path relative to the install root, size)
    compiled: tuple[str, ...]  # the pycs among them that compile wrote
    failed: tuple[tuple[str, str], ...]  # sources that do not compile for the target, and why


@dataclass(frozen=True)
class DistCache:
    root: Path

    def key(self, pin: Pin, target: Target, compiler: str | None) -> str:
        """`compiler`: compiler_identity() of the interpreter that writes the pycs, None when there are none."""
        parts = [LAYOUT, __version__, pin.name, pin.version, *pin.hashes, target.runtime, target.arch, str(compiler)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.root / "dists" / key[:2] / key

    def lookup(self, key: str) -> CachedDist | None:
        """The entry's listing, when the entry exists and its files are still as it recorded them."""
        entry = self._entry(key)
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            dist = CachedDist(
                tuple((path, size) for path, size in meta["files"]),
                tuple(meta["compiled"]),
                tuple((path, why) for path, why in meta["failed"]),
            )
            intact = all((entry / "tree" / path).stat().st_size == size for path, size in dist.files)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            intact = False
        if not intact:
            self._discard(entry)
            return None
        return dist

    def store(self, key: str, tree: Path, dist: CachedDist) -> bool:
        """Put the listed files of `tree` into the entry `key`; False when the cache cannot be written."""
        entry = self._entry(key)
        if entry.exists():
            return True

        def fill(private: Path) -> None:
            for path, _size in dist.files:
                link_or_copy(tree / path, private / "tree" / path, read_only=True)
            meta = {"files": dist.files, "compiled": dist.compiled, "failed": dist.failed}
            (private / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

        try:
            publish(entry, fill)
        except OSError:
            return False
        return True

    def link_into(self, key: str, dist: CachedDist, dest: Path) -> None:
        tree = self._entry(key) / "tree"
        for path, _size in dist.files:
            target = dest / path
            if not target.exists():  # a namespace package's shared file: the first distribution's stays
                link_or_copy(tree / path, target)

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private staging directory inside the cache, so entries and builds are hard links of each other."""
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self._prune_stale(tmp)
        with tempfile.TemporaryDirectory(prefix="build-", dir=tmp) as path:
            yield Path(path)

    def _prune_stale(self, tmp: Path) -> None:
        """Remove what killed builds left: staging directories and half-written entries over a day old."""
        now = time.time()
        leftovers = [*tmp.iterdir(), *(self.root / "dists").glob("*/.tmp-*"), *(self.root / "runtime").glob(".tmp-*")]
        for path in leftovers:
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > _STALE_SECONDS:
                    _make_writable(path)
                    shutil.rmtree(path, ignore_errors=True)

    def _discard(self, entry: Path) -> None:
        doomed = entry.parent / f".tmp-{uuid.uuid4().hex}"
        with contextlib.suppress(OSError):
            os.rename(entry, doomed)
            _make_writable(doomed)
            shutil.rmtree(doomed, ignore_errors=True)


def publish(dest: Path, fill: Callable[[Path], None]) -> None:
    """Make the directory `dest` appear whole or not at all: `fill` writes a private directory beside it, which is
    then renamed into place. When another process published `dest` first, ours is dropped."""
    private = dest.parent / f".tmp-{uuid.uuid4().hex}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        fill(private)
        try:
            os.rename(private, dest)
        except OSError:
            if not dest.exists():
                raise
    finally:
        shutil.rmtree(private, ignore_errors=True)  # gone already when the rename succeeded


def compiler_identity(interpreter: str) -> str:
    """Which interpreter binary compiles: another patch release may marshal a module differently, so its pycs
    are not reused."""
    path = os.path.realpath(interpreter)
    info = os.stat(path)
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


def usable_cache(path: Path | None) -> DistCache | None:
    """The cache at `path` (default: default_cache_dir()), or None when it cannot be created or written."""
    root = path or default_cache_dir()
    try:
        (root / "dists").mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root / "tmp", delete=True)  # noqa: SIM115
        probe.close()
    except OSError:
        return None
    return DistCache(root)


def link_or_copy(source: Path, dest: Path, *, read_only: bool = False) -> None:
    """Hard-link `source` at `dest` (a copy across file systems); `read_only` takes write permission away first,
    so nothing can change a cached file in place through one of its links."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if read_only:
        mode = source.stat().st_mode
        if mode & _WRITE_BITS:
            source.chmod(stat.S_IMODE(mode) & ~_WRITE_BITS)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _make_writable(path: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
