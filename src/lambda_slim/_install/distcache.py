"""The per-distribution cache: the installed, compiled tree of each locked wheel, keyed by the wheel's content.

An entry is keyed by the wheel's sha256 (from slim.lock), the target, the interpreter that compiles its bytecode
(if any) and lambda-slim's version (which fixes how it installs and compiles); it holds that distribution's files,
pycs included, made read-only, and a meta.json listing them. Builds hard-link the files into their staging tree,
so a rebuild of an unchanged dependency set copies nothing and installs nothing. Slimming is not cached here: it
depends on the project's rules and is cheap once the tree exists.

meta.json also holds the sha256 of every file (for the files the wheel's RECORD hashes, that hash, checked against the
installed file; for the rest, pycs and RECORD itself, our own), written before the entry is published. Every lookup
hashes the files again before any is linked: a file changed in place, even at the same size, makes the whole entry
damaged, and a build drops it and installs that distribution afresh. An entry without those hashes (an older
lambda-slim's) counts as damaged too.

Two builds may fill the same entry at once: each writes a private directory and renames it into place, and the
loser's copy is dropped, so an entry is either absent or whole. A killed build leaves only private directories,
which later builds remove once they are a day old.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lambda_slim._artifacts.inventory import record_rows
from lambda_slim._inputs.target import Target
from lambda_slim._install.resolve import Pin
from lambda_slim._version import __version__

ENV_VAR = "SLIM_CACHE_DIR"
# 2: entries hold no REQUESTED marker (install.forget_requested); entries of layout 1 may, so they are not reused.
LAYOUT = "2"
_STALE_SECONDS = 24 * 3600
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# hashlib lets go of the GIL while it hashes a large buffer, so threads hash big files side by side; for the many
# small files of a package, they overlap the opens and reads.
_HASH_THREADS = min(8, (os.cpu_count() or 1) * 2)


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
class Damaged:
    """An entry that was dropped: `files` no longer hold what was recorded when it was published, or, when empty,
    the entry had no readable record of its files' hashes (an older lambda-slim wrote it, or meta.json is broken)."""

    files: tuple[str, ...]


@dataclass(frozen=True)
class DistCache:
    root: Path

    def key(self, pin: Pin, target: Target, compiler: str | None) -> str:
        """`compiler`: compiler_identity() of the interpreter that writes the pycs, None when there are none."""
        parts = [LAYOUT, __version__, pin.name, pin.version, *pin.hashes, target.runtime, target.arch, str(compiler)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.root / "dists" / key[:2] / key

    def lookup(self, key: str) -> CachedDist | Damaged | None:
        return self.lookup_all([key]).get(key)

    def lookup_all(self, keys: Iterable[str]) -> dict[str, CachedDist | Damaged]:
        """The entries among `keys` that exist: each one's listing when every file still has the sha256 recorded
        when it was published, else what is damaged (that entry is then removed, so the caller rebuilds it). All
        the files are hashed in one pool, so one large distribution does not hold up the rest."""
        found: dict[str, CachedDist | Damaged] = {}
        expected: list[tuple[str, str, str]] = []  # (key, path, sha256)
        for key in keys:
            entry = self._entry(key)
            if not entry.exists():
                continue
            try:
                meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
                dist = CachedDist(
                    tuple((path, size) for path, size in meta["files"]),
                    tuple(meta["compiled"]),
                    tuple((path, why) for path, why in meta["failed"]),
                )
                expected += [(key, path, meta["sha256"][path]) for path, _size in dist.files]
            except (OSError, ValueError, KeyError, TypeError):
                found[key] = Damaged(())
                continue
            found[key] = dist
        actual = sha256_files([self._entry(key) / "tree" / path for key, path, _ in expected])
        mismatched: dict[str, list[str]] = {}
        for (key, path, recorded), digest in zip(expected, actual, strict=True):
            if digest != recorded:
                mismatched.setdefault(key, []).append(path)
        for key, paths in mismatched.items():
            found[key] = Damaged(tuple(paths))
        for key, result in found.items():
            if isinstance(result, Damaged):
                self._discard(self._entry(key))
        return found

    def store(self, key: str, tree: Path, dist: CachedDist) -> bool:
        """Put the listed files of `tree` into the entry `key`, with their sha256; False when the cache cannot be
        written, or when a file other than the pycs compile wrote does not match the hash its wheel's RECORD gives
        it (an entry every later lookup would reject is not worth writing)."""
        entry = self._entry(key)
        if entry.exists():
            return True
        paths = [path for path, _size in dist.files]
        hashes = dict(zip(paths, sha256_files([tree / path for path in paths]), strict=True))
        recorded = _recorded_sha256(tree, paths)
        for pyc in dist.compiled:  # ours, written over the one a wheel may ship (and RECORD hashes)
            recorded.pop(pyc, None)
        if any(hashes[path] is None or recorded.get(path, hashes[path]) != hashes[path] for path in paths):
            return False

        def fill(private: Path) -> None:
            for path in paths:
                link_or_copy(tree / path, private / "tree" / path, read_only=True)
            meta = {"files": dist.files, "compiled": dist.compiled, "failed": dist.failed, "sha256": hashes}
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


def sha256_files(paths: list[Path]) -> list[str | None]:
    """The hex sha256 of each file, None for one that cannot be read; hashed on a few threads."""
    if len(paths) < 2:
        return [_sha256(path) for path in paths]
    with ThreadPoolExecutor(_HASH_THREADS) as pool:
        return list(pool.map(_sha256, paths, chunksize=64))


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _recorded_sha256(tree: Path, paths: list[str]) -> dict[str, str]:
    """path -> hex sha256, for the files the RECORD among `paths` hashes with sha256 (the other algorithms RECORD
    allows are left to our own hash)."""
    recorded: dict[str, str] = {}
    for record in paths:
        if record.count("/") == 1 and record.endswith(".dist-info/RECORD"):
            text = (tree / record).read_text(encoding="utf-8", errors="replace")
            for path, spelled in record_rows(text):
                algorithm, _, value = spelled.partition("=")
                if algorithm == "sha256":
                    with contextlib.suppress(binascii.Error):
                        recorded[path] = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    return recorded


def _make_writable(path: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
