"""A tree of files -> FileEntry list: path, size, owning distribution, and what kind of file it is."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import stat
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from packaging.utils import canonicalize_name

from lambda_slim._artifacts.elf import ElfInfo, looks_like_shared_library, read_elf

APP = "(app)"  # the distribution name reports use for the project's own code
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class FileEntry:
    path: str  # posix path relative to the artifact's root
    size: int
    distribution: str = UNKNOWN
    executable: bool = False
    elf: ElfInfo | None = None
    python_script: bool = False  # a `#!...python` console script: its shebang names the build machine's Python

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


@dataclass(frozen=True)
class Inventory:
    files: tuple[FileEntry, ...]
    # Directories whose __init__.py makes them importable packages (a docs rule must never remove them).
    package_dirs: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def by_path(self) -> Mapping[str, FileEntry]:
        return {entry.path: entry for entry in self.files}

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def distributions(self) -> dict[str, list[FileEntry]]:
        grouped: dict[str, list[FileEntry]] = {}
        for entry in self.files:
            grouped.setdefault(entry.distribution, []).append(entry)
        return grouped


def package_dirs_of(paths: Iterable[str]) -> frozenset[str]:
    return frozenset(path.rsplit("/", 1)[0] for path in paths if path.endswith("/__init__.py"))


def scan_tree(root: Path, app_paths: frozenset[str] = frozenset()) -> Inventory:
    """Every regular file below `root`, sorted by path, attributed to distributions by their RECORD files."""
    found: list[tuple[str, os.stat_result]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in filenames:
            info = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(info.st_mode):
                found.append((prefix + name, info))
    found.sort()
    owners = _record_owners(root, [path for path, _ in found])
    entries = []
    for path, info in found:
        elf = None
        if looks_like_shared_library(path):
            with (root / path).open("rb") as handle:
                elf = read_elf(handle)
        distribution = APP if path in app_paths else owners.get(path, UNKNOWN)
        script = path.startswith("bin/") and _is_python_script(root / path)
        entries.append(FileEntry(path, info.st_size, distribution, bool(info.st_mode & 0o111), elf, script))
    paths = [path for path, _ in found]
    return Inventory(tuple(attribute_leftovers(entries)), package_dirs_of(paths))


def _is_python_script(path: Path) -> bool:
    with path.open("rb") as handle:
        first_line = handle.readline(256)
    return first_line.startswith(b"#!") and b"python" in first_line


def _record_owners(root: Path, paths: list[str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for path in paths:
        if path.count("/") == 1 and path.endswith(".dist-info/RECORD"):
            dist = dist_info_name(path.split("/", 1)[0])
            text = (root / path).read_text(encoding="utf-8", errors="replace")
            for recorded in record_paths(text):
                owners[recorded] = dist
    return owners


def record_paths(text: str) -> list[str]:
    """The file paths a dist-info RECORD lists, normalised to posix paths relative to the install root."""
    return [path for path, _hash in record_rows(text)]


def record_rows(text: str) -> list[tuple[str, str]]:
    """(path, hash) of each file a dist-info RECORD lists: the path as record_paths() gives it, the hash as RECORD
    spells it (`sha256=<urlsafe base64>`, or "" for files installed without one: RECORD itself, pycs)."""
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0]:
            path = os.path.normpath(row[0]).replace(os.sep, "/")
            if path.startswith("../") and "/bin/" in path:
                # pip --target moves scripts to <target>/bin, but RECORD keeps their path from the scheme's prefix.
                path = "bin/" + path.rsplit("/", 1)[1]
            rows.append((path, row[1] if len(row) > 1 else ""))
    return rows


def dist_info_name(directory: str) -> str:
    """`Foo_Bar-1.0.dist-info` -> `foo-bar`."""
    return canonicalize_name(directory.removesuffix(".dist-info").rsplit("-", 1)[0])


def attribute_leftovers(entries: list[FileEntry]) -> list[FileEntry]:
    """Files no RECORD lists (bytecode compiled later, files a package wrote): their source's or neighbours' owner."""
    owner_of = {entry.path: entry.distribution for entry in entries if entry.distribution != UNKNOWN}
    top_owner: dict[str, str] = {}
    for path, dist in owner_of.items():
        if dist != APP:
            top_owner.setdefault(path.split("/", 1)[0], dist)
    result = []
    for entry in entries:
        if entry.distribution == UNKNOWN:
            source = source_of_bytecode(entry.path)
            dist = owner_of.get(source, UNKNOWN) if source else UNKNOWN
            if dist == UNKNOWN:
                dist = top_owner.get(entry.path.split("/", 1)[0], UNKNOWN)
            entry = dataclasses.replace(entry, distribution=dist)
        result.append(entry)
    return result


class MetadataOwners:
    """Who owns a file no RECORD lists, from what the tree's dist-info directories still say: lambda-slim ships
    no RECORD (the installer-metadata rule) but keeps each distribution's dist-info directory (its name and version,
    as in METADATA) and top_level.txt. A file belongs to the distribution whose dist-info directory it is in, or
    whose top_level.txt names its top-level package or module, or whose name is that import name spelled as a
    distribution's (pydantic_core is pydantic-core's, numpy.libs numpy's, dateutil python-dateutil's,
    opentelemetry opentelemetry-api's when one distribution alone fits); a console script belongs to the one
    whose entry_points.txt declares it. None when nothing says."""

    def __init__(self, top_level_names: Mapping[str, Iterable[str]], scripts: Mapping[str, str] | None = None) -> None:
        """`top_level_names`: every top-level dist-info directory -> the names its top_level.txt lists (if any);
        `scripts`: console script name -> the dist-info directory whose entry_points.txt declares it."""
        self._dist_infos = {directory: dist_info_name(directory) for directory in top_level_names}
        self._scripts = {name: dist_info_name(directory) for name, directory in (scripts or {}).items()}
        self._distributions = sorted(set(self._dist_infos.values()))
        claims: dict[str, set[str]] = defaultdict(set)
        for directory, names in top_level_names.items():
            for name in names:
                claims[name.strip().split("/", 1)[0]].add(self._dist_infos[directory])
        # A name two distributions list (a namespace package such as google) says nothing on its own.
        self._top_level = {name: next(iter(owners)) for name, owners in claims.items() if name and len(owners) == 1}

    def owner(self, path: str) -> str | None:
        parts = (source_of_bytecode(path) or path).split("/")  # a pyc is its source's, __pycache__ at the root too
        if parts[0] in self._dist_infos:
            return self._dist_infos[parts[0]]
        if len(parts) > 1 and parts[0] == "bin":  # console scripts: no import name, only entry_points.txt
            return self._scripts.get(parts[-1])
        top = parts[0].split(".", 1)[0] if len(parts) == 1 else parts[0].removesuffix(".libs")
        if top in self._top_level:
            return self._top_level[top]
        name = canonicalize_name(top)
        candidates = [name]
        if len(parts) > 2:  # in a namespace package, google/protobuf is protobuf's and google/auth google-auth's
            candidates += [canonicalize_name(f"{top}-{parts[1]}"), canonicalize_name(parts[1])]
        for candidate in candidates:
            if candidate in self._dist_infos.values():
                return candidate
        fits = [d for d in self._distributions if d.endswith("-" + name) or d.startswith(name + "-")]
        return fits[0] if len(fits) == 1 else None


def source_of_bytecode(path: str) -> str | None:
    """`pkg/__pycache__/mod.cpython-311.pyc` -> `pkg/mod.py`; `pkg/mod.pyc` -> `pkg/mod.py`; else None."""
    if not path.endswith((".pyc", ".pyo")):
        return None
    directory, _, name = path.rpartition("/")
    stem = name.split(".", 1)[0]
    if directory == "__pycache__" or directory.endswith("/__pycache__"):
        parent = directory.rpartition("/")[0] if "/" in directory else ""
        return f"{parent}/{stem}.py" if parent else f"{stem}.py"
    return f"{directory}/{stem}.py" if directory else f"{stem}.py"


def bytecode_of(source: str, pyc_tag: str) -> str:
    """`pkg/mod.py` -> `pkg/__pycache__/mod.cpython-311.pyc`: where Python looks for the source's pyc."""
    directory, _, name = source.rpartition("/")
    cached = f"__pycache__/{name[:-3]}.{pyc_tag}.pyc"
    return f"{directory}/{cached}" if directory else cached
