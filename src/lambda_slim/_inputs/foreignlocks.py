"""The project's own lock file (uv.lock, poetry.lock, pylock.toml, Pipfile.lock) -> the production packages to ship.

Pure parsing and selection: no pip, no network. Markers are judged with `Marker.evaluate` against the marker
environment the caller passes (the Lambda target's, never this machine's), so an arm64 build never picks the
x86_64-only dependency. Versions are taken as locked; nothing is re-resolved.

What ships: the project's dependencies, plus the extras and groups the caller names. A group nobody names never
ships: uv's dev-dependencies (its default `dev` group included), Poetry's groups and legacy dev-dependencies,
Pipfile's `develop` and custom categories. pylock.toml's default-groups ship unless named like a dev group
(DEV_GROUP_NAMES), since pipenv puts production packages in one called `default`.

Formats, as relied on here:
- uv.lock (astral-sh/uv, `uv lock` 0.13 output): `[[package]]` with `source`, `dependencies`,
  `optional-dependencies`, `dev-dependencies`, `sdist`/`wheels` (`url`, `hash`), and the root's
  `[package.metadata] requires-dist` / `requires-dev` recording what pyproject.toml asked.
- poetry.lock (python-poetry/poetry src/poetry/packages/locker.py): `[[package]]` with `files`
  (`file`, `hash`), `[package.dependencies]`, `[package.extras]`, `[package.source]`; `[metadata] content-hash`
  is `Locker._get_content_hash`: sha256 of `json.dumps(relevant, sort_keys=True)`.
- Pipfile.lock (pypa/pipenv utils/pipfile.py `calculate_hash`, vendored plette `Pipfile.get_hash`): flat
  `default`/`develop`/category tables; `_meta.hash.sha256` over the Pipfile's sections as compact sorted JSON.
- pylock.toml (PEP 751, packaging.python.org/specifications/pylock-toml): `packages` selected by `marker`
  with `extras` and `dependency_groups` as sets; `wheels`/`sdist`/`archive`/`directory`/`vcs`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from lambda_slim._errors import ConfigError, ProjectError

# Without a name, the first of these that exists. A pylock.toml is the file a user exports on purpose for
# installers (PEP 751 asks deployment services to look for it), so it wins; then the tool-native locks by how much
# they record: uv.lock has the whole graph with every file's URL and hash, poetry.lock the graph with file hashes,
# Pipfile.lock only a flat list resolved on the machine that locked it. A named `pylock.<name>.toml` (PEP 751: one
# of several locks, e.g. pylock.docs.toml) is used when named, or when it is the project's only lock file.
LOCK_FILES = ("pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock")
_NAMED_PYLOCK = re.compile(r"^pylock\.([^.]+)\.toml$")

REFRESH_COMMANDS = {"uv": "uv lock", "poetry": "poetry lock", "pipenv": "pipenv lock"}

# What each format lets us check for staleness, said in the report.
FRESHNESS = {
    "uv": "uv.lock's recorded requires-dist and requires-dev compared with pyproject.toml",
    "poetry": "poetry.lock's content-hash recomputed from pyproject.toml",
    "pipenv": "Pipfile.lock's _meta hash recomputed from the Pipfile",
    "pylock": "not checked: pylock.toml records nothing about the inputs it was made from",
}

# pylock.toml's default-groups can hold the production packages (pipenv writes `default`), but a default group
# under one of these names is for development and never ships unless named.
DEV_GROUP_NAMES = frozenset({"dev", "develop", "development", "test", "tests", "testing", "lint", "docs", "typing"})

LOCAL_KINDS = frozenset({"directory", "editable", "path", "vcs"})


@dataclass(frozen=True)
class LockedFile:
    filename: str | None  # None when the lock lists bare hashes (Pipfile.lock)
    url: str | None
    hashes: tuple[str, ...]  # sha256 hex digests


@dataclass(frozen=True)
class LockedPackage:
    name: str  # canonical
    version: str | None  # None only for a local or VCS source the lock records without one
    files: tuple[LockedFile, ...]
    kind: str  # "registry", "url", or one of LOCAL_KINDS
    # The URL (url, vcs), the path relative to the lock file (local kinds), or the index URL the lock names for a
    # registry package (None: the tool's default index, or the lock does not say).
    location: str | None = None
    via: tuple[str, ...] = ()  # who asked for it ("project" for the root's own requirements)

    @property
    def is_local(self) -> bool:
        return self.kind in LOCAL_KINDS

    @property
    def hashes(self) -> tuple[str, ...]:
        return tuple(sorted({digest for file in self.files for digest in file.hashes}))


@dataclass(frozen=True)
class ProjectLock:
    path: Path
    tool: str  # "uv", "poetry", "pipenv" or "pylock"
    packages: tuple[LockedPackage, ...]
    created_by: str = ""  # pylock.toml's created-by

    @property
    def source(self) -> str:
        return self.path.name

    @property
    def refresh_command(self) -> str:
        return REFRESH_COMMANDS.get(self.tool, f"the tool that wrote {self.path.name} ({self.created_by or '?'})")

    @property
    def freshness(self) -> str:
        return FRESHNESS[self.tool]

    @property
    def indexes(self) -> tuple[str, ...]:
        """The package indexes the lock names: pip must be pointed at them to fetch the locked files."""
        return tuple(sorted({p.location for p in self.packages if p.kind == "registry" and p.location}))


def tool_of(path: Path) -> str:
    if path.name == "uv.lock":
        return "uv"
    if path.name == "poetry.lock":
        return "poetry"
    if path.name == "Pipfile.lock":
        return "pipenv"
    if path.name == "pylock.toml" or _NAMED_PYLOCK.match(path.name):
        return "pylock"
    raise ProjectError(f"{path.name} is not a lock file slim reads (it reads {', '.join(LOCK_FILES)}).")


def find_project_locks(project_dir: Path) -> list[Path]:
    """Every lock file of the project, in precedence order: LOCK_FILES, then named pylock files by name."""
    found = [project_dir / name for name in LOCK_FILES if (project_dir / name).is_file()]
    named = sorted(p for p in project_dir.glob("pylock.*.toml") if _NAMED_PYLOCK.match(p.name) and p.is_file())
    return found + named


def find_project_lock(project_dir: Path, name: str | None = None) -> Path | None:
    """The lock file to build from: `pylock.<name>.toml` when a name is given, else the first in precedence.

    A project whose only lock files are several named pylock files must say which (a ConfigError lists them).
    """
    locks = find_project_locks(project_dir)
    if name is not None:
        path = project_dir / f"pylock.{name}.toml"
        if not path.is_file():
            present = ", ".join(p.name for p in locks) or "none"
            raise ConfigError(f"no {path.name} in {project_dir} (lock files there: {present}).")
        return path
    if len(locks) > 1 and all(_NAMED_PYLOCK.match(p.name) for p in locks):
        names = ", ".join(p.name for p in locks)
        raise ConfigError(f"{project_dir} has several named lock files ({names}) and no pylock.toml: name one.")
    return locks[0] if locks else None


def read_project_lock(
    path: Path,
    pyproject: Mapping[str, Any],
    extras: Iterable[str],
    groups: Iterable[str],
    environment: Mapping[str, str],
) -> ProjectLock:
    """The packages to install for production, for the target whose marker environment is `environment`.

    `environment` must hold every marker variable (the target's `Target.marker_environment()`):
    `Marker.evaluate` fills a missing one from this machine, which would judge markers for the host.
    """
    missing = set(default_environment()) - set(environment)
    if missing:
        raise ValueError(f"marker environment lacks {', '.join(sorted(missing))}")
    request = _Request(tuple(extras), tuple(groups), dict(environment))
    tool = tool_of(path)
    if tool == "pipenv":
        data = _load_json(path)
        return ProjectLock(path, tool, _pipenv_packages(path, data, request))
    data = _load_toml(path)
    if tool == "uv":
        return ProjectLock(path, tool, _uv_packages(path, data, request))
    if tool == "poetry":
        return ProjectLock(path, tool, _poetry_packages(path, data, pyproject, request))
    return ProjectLock(path, tool, _pylock_packages(path, data, request), str(data.get("created-by", "")))


def stale_reason(path: Path, pyproject: Mapping[str, Any]) -> str | None:
    """Why the lock no longer matches pyproject.toml (or the Pipfile), with the command that refreshes it.

    None when it matches, and for pylock.toml, whose freshness cannot be checked (see FRESHNESS).
    """
    tool = tool_of(path)
    if tool == "uv":
        changes = _uv_changes(path, _load_toml(path), pyproject)
    elif tool == "poetry":
        changes = _poetry_changes(path, _load_toml(path), pyproject)
    elif tool == "pipenv":
        changes = _pipenv_changes(path, _load_json(path))
    else:
        return None
    if not changes:
        return None
    source = "Pipfile" if tool == "pipenv" else "pyproject.toml"
    return (
        f"{path.name} is stale: {source} changed since it was written ({'; '.join(changes)}). "
        f"Run `{REFRESH_COMMANDS[tool]}` to refresh it."
    )


def to_pinned_requirements(lock: ProjectLock) -> str:
    """pip requirements for `--require-hashes`: every hash the lock has for each locked version.

    Install it with `--no-deps`: the set is complete for the target, and pip would judge the packages' own
    dependency markers for this machine. Local and VCS packages cannot be hash-checked; they are listed as
    comments and installed by the caller. (Checked: pip accepts the text with --require-hashes --no-deps.)
    """
    lines = [f"# from {lock.source}, versions as locked"]
    for package in lock.packages:
        if package.is_local:
            lines.append(f"# {package.name}: {package.kind} {package.location} (not hash-checked)")
            continue
        if not package.hashes:
            raise ProjectError(
                f"{lock.source} lists no sha256 hash for {package.name} {package.version}: it cannot be installed "
                f"with its hash checked. Run `{lock.refresh_command}` so the lock records the files' hashes."
            )
        pin = f" @ {package.location}" if package.kind == "url" else f"=={package.version}"
        head = f"{package.name}{pin}"
        lines.append(" \\\n    ".join([head, *(f"--hash=sha256:{digest}" for digest in package.hashes)]))
    return "\n".join(lines) + "\n"


def no_wheel_hint(tool: str, name: str, version: str, reason: str, *, machine: str = "x86_64") -> str:
    """The message for a locked version with no wheel for the target, with the fix in that tool's terms."""
    lock_file = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}.get(tool, "pylock.toml")
    head = f"{name} {version} is pinned by {lock_file}, but {reason}. slim keeps locked versions as they are"
    environment = f"sys_platform == 'linux' and platform_machine == '{machine}'"
    if tool == "uv":
        # uv locks for every platform at once and knows no glibc: only a constraint excludes a version whose
        # Linux wheels need a newer glibc; required-environments helps when no Linux wheel exists at all.
        fix = (
            f'constrain it in pyproject.toml: `[tool.uv] constraint-dependencies = ["{name}<{version}"]` (lower '
            f"still if that version has no such wheel either); when it has no wheel for Linux {machine} at all, "
            f'`[tool.uv] required-environments = ["{environment}"]` makes uv lock a version that has one; '
            "then run `uv lock`"
        )
    elif tool == "poetry":
        fix = (
            f'constrain it in pyproject.toml, e.g. `{name} = {{ version = "<{version}", markers = "{environment}" }}` '
            f"under [tool.poetry.dependencies] (or `poetry add '{name}<{version}'`); then run `poetry lock`"
        )
    elif tool == "pipenv":
        fix = f"pin an older version in the Pipfile (`pipenv install '{name}<{version}'`); then run `pipenv lock`"
    else:
        fix = f"re-create pylock.toml for Lambda ({environment}) with a constraint `{name}<{version}`"
    return f"{head}: {fix}."


def wheel_tags(python_version: tuple[int, int], platforms: Iterable[str]) -> frozenset[Tag]:
    """Every wheel tag CPython `python_version` accepts on `platforms` (the target's `platform_tags()`)."""
    platforms = list(platforms)
    return frozenset(
        [*cpython_tags(python_version, platforms=platforms), *compatible_tags(python_version, None, platforms)]
    )


def no_wheel_reason(package: LockedPackage, tags: frozenset[Tag]) -> str | None:
    """Why none of the files the lock lists for this version installs on the target, or None.

    None also when the lock names no files (Pipfile.lock lists bare hashes; pip then decides) and for local and
    VCS sources, which are built rather than downloaded.
    """
    names = [f.filename for f in package.files if f.filename]
    if package.is_local or not names:
        return None
    wheels = []
    for filename in names:
        if filename.endswith(".whl"):
            try:
                wheels.append(parse_wheel_filename(filename)[3])
            except InvalidWheelFilename:
                continue
    if any(wheel & tags for wheel in wheels):
        return None
    if not wheels:
        return f"the lock lists only a source distribution ({names[0]}) and slim installs wheels only"
    pythons = sorted({tag.interpreter for wheel in wheels for tag in wheel})
    # Lambda's own kind (manylinux: glibc) first: the glibc a wheel needs is the usual reason none fits.
    platforms = sorted({tag.platform for wheel in wheels for tag in wheel}, key=lambda p: (p[:9] != "manylinux", p))
    shown = ", ".join(platforms[:6]) + (f" and {len(platforms) - 6} more" if len(platforms) > 6 else "")
    return f"none of its {len(wheels)} wheels fits the target (they are for {', '.join(pythons)} on {shown})"


# --- shared ---------------------------------------------------------------------------------------------------


@dataclass
class _Request:
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    environment: dict[str, str]

    def marker_true(self, marker: str | None, where: str, path: Path, extras: Iterable[str] = ("",)) -> bool:
        if not marker:
            return True
        try:
            parsed = Marker(marker)
        except InvalidMarker as exc:
            raise ProjectError(f"{path.name}: {where} has an invalid marker {marker!r} ({exc}).") from exc
        return any(parsed.evaluate({**self.environment, "extra": extra}) for extra in extras)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path} is not valid TOML ({exc}): regenerate it with its tool.") from exc
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror}.") from exc


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{path} is not valid JSON ({exc}): run `pipenv lock` to regenerate it.") from exc
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror}.") from exc
    if not isinstance(data, dict):
        raise ProjectError(f"{path} is not a Pipfile.lock (no top-level object): run `pipenv lock`.")
    return data


def _table(value: Any, where: str, path: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError(f"{path.name}: {where} must be a table.")
    return value


def _array(value: Any, where: str, path: Path) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProjectError(f"{path.name}: {where} must be an array.")
    return value


def _unknown(kind: str, wanted: Iterable[str], known: Iterable[str], where: str) -> None:
    known_names = {canonicalize_name(k): k for k in known}
    for name in wanted:
        if canonicalize_name(name) not in known_names:
            raise ConfigError(
                f"--{kind} {name}: {where} has no {kind} {name!r} "
                f"(it has: {', '.join(sorted(known_names.values())) or 'none'})."
            )


def _pick(table: Mapping[str, Any], names: Iterable[str]) -> list[Any]:
    """Values of `table` under each name, names compared canonically (PEP 685 extras, PEP 735 groups)."""
    by_canonical = {canonicalize_name(k): v for k, v in table.items()}
    return [by_canonical[canonicalize_name(n)] for n in names if canonicalize_name(n) in by_canonical]


def _filename(url_or_path: str) -> str:
    return unquote(urlsplit(url_or_path).path.rsplit("/", 1)[-1])


def _sha256(value: Any, where: str, path: Path) -> tuple[str, ...]:
    """A `sha256:<hex>` string (uv, Poetry, Pipfile) -> its digest; other algorithms are ignored."""
    if not isinstance(value, str):
        raise ProjectError(f"{path.name}: {where} has a hash that is not a string: {value!r}.")
    algorithm, _, digest = value.partition(":")
    return (digest.lower(),) if algorithm == "sha256" and digest else ()


def _is_project_itself(location: str | None, path: Path) -> bool:
    """A directory source at the lock's own directory is the app, which slim ships from its files."""
    return location is not None and (path.parent / location).resolve() == path.parent.resolve()


def _merge(packages: dict[str, LockedPackage], package: LockedPackage, path: Path) -> None:
    """Keeps one entry per name; two versions of one package both selected for a target is a broken lock."""
    old = packages.get(package.name)
    if old is None:
        packages[package.name] = package
    elif (old.version, old.location) != (package.version, package.location):
        raise ProjectError(
            f"{path.name} selects two versions of {package.name} for this target ({old.version} and "
            f"{package.version}): regenerate the lock with its tool."
        )
    elif package.via and not set(package.via) <= set(old.via):
        packages[package.name] = LockedPackage(
            old.name, old.version, old.files, old.kind, old.location, tuple(sorted({*old.via, *package.via}))
        )


def _requirement(line: str, where: str, path: Path) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement as exc:
        raise ProjectError(f"{path.name}: {where}: {line!r} is not a valid requirement ({exc}).") from exc


# --- uv.lock ----------------------------------------------------------------------------------------------------


# uv encodes `[tool.uv] conflicts` as markers on made-up extras: `extra == 'extra-8-demo-app-cpu'`.
_UV_CONFLICT_MARKER = re.compile(r"""extra\s*[!=]=\s*['"](?:extra|group|project)-\d+-""")


def _uv_root(path: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    for entry in entries:
        source = entry.get("source", {})
        if isinstance(source, dict) and (source.get("editable") == "." or source.get("virtual") == "."):
            return entry
    raise ProjectError(
        f'{path.name} has no entry for the project itself (a package with source editable or virtual "."): '
        "run `uv lock` in the project directory."
    )


def _uv_entries(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("version") != 1 or "package" not in data:
        raise ProjectError(
            f"{path.name} is not a uv.lock slim reads (lock version {data.get('version')!r} with [[package]] "
            "entries is expected): run `uv lock` with uv 0.3 or later to rewrite it."
        )
    return [_table(e, "[[package]]", path) for e in _array(data.get("package"), "[[package]]", path)]


def _uv_packages(path: Path, data: dict[str, Any], request: _Request) -> tuple[LockedPackage, ...]:
    entries = _uv_entries(path, data)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if not isinstance(entry.get("name"), str):
            raise ProjectError(f"{path.name}: a [[package]] has no name: run `uv lock` to regenerate it.")
        by_name.setdefault(canonicalize_name(entry["name"]), []).append(entry)
    root = _uv_root(path, entries)
    optional = _table(root.get("optional-dependencies"), "optional-dependencies", path)
    dev = _table(root.get("dev-dependencies"), "dev-dependencies", path)
    _unknown("extra", request.extras, optional, path.name)
    _unknown("group", request.groups, dev, path.name)
    edges = list(_array(root.get("dependencies"), "dependencies", path))
    for items in [*_pick(optional, request.extras), *_pick(dev, request.groups)]:
        edges += _array(items, "dependencies", path)
    selected: dict[str, LockedPackage] = {}
    done: dict[int, set[str]] = {}
    work = [(edge, "project") for edge in edges]
    while work:
        edge, via = work.pop()
        edge = _table(edge, f"a dependency of {via}", path)
        if _UV_CONFLICT_MARKER.search(str(edge.get("marker", ""))):
            raise ProjectError(
                f"{path.name}: the dependency of {via} on {edge.get('name')} carries a [tool.uv] conflicts marker "
                f"({edge['marker']}), which slim cannot judge yet: export the selection you want with "
                "`uv export --no-dev --extra NAME -o requirements.txt` and pass --requirements requirements.txt."
            )
        if not request.marker_true(edge.get("marker"), f"a dependency of {via}", path):
            continue
        entry = _uv_entry(path, by_name, edge, via)
        wanted = {"", *edge.get("extra", [])}
        seen = done.setdefault(id(entry), set())
        if wanted <= seen:
            continue
        new_extras = wanted - seen
        seen |= wanted
        name = canonicalize_name(entry["name"])
        if entry is not root:
            _merge(selected, _uv_package(path, entry, via), path)
        deps = list(_array(entry.get("dependencies"), f"{name} dependencies", path)) if "" in new_extras else []
        for items in _pick(_table(entry.get("optional-dependencies"), f"{name} extras", path), new_extras - {""}):
            deps += _array(items, f"{name} extras", path)
        work += [(dep, name) for dep in deps]
    return tuple(selected[name] for name in sorted(selected))


def _uv_entry(path: Path, by_name: dict[str, list[dict[str, Any]]], edge: dict[str, Any], via: str) -> dict[str, Any]:
    name = canonicalize_name(str(edge.get("name", "")))
    candidates = [
        entry
        for entry in by_name.get(name, [])
        if ("version" not in edge or entry.get("version") == edge["version"])
        and ("source" not in edge or entry.get("source") == edge["source"])
    ]
    if len(candidates) != 1:
        state = "no entry" if not candidates else "several entries"
        raise ProjectError(f"{path.name} has {state} for {name} (needed by {via}): run `uv lock` to regenerate it.")
    return candidates[0]


def _uv_package(path: Path, entry: dict[str, Any], via: str) -> LockedPackage:
    name = canonicalize_name(entry["name"])
    source = _table(entry.get("source"), f"{name} source", path)
    files = []
    for item in [entry.get("sdist"), *_array(entry.get("wheels"), f"{name} wheels", path)]:
        if item is None:
            continue
        item = _table(item, f"{name} files", path)
        location = item.get("url") or item.get("path") or item.get("filename")
        hashes = _sha256(item["hash"], f"{name} files", path) if "hash" in item else ()
        files.append(LockedFile(_filename(location) if location else None, item.get("url"), hashes))
    version = entry.get("version")
    for kind, key in (("editable", "editable"), ("directory", "directory"), ("path", "path"), ("vcs", "git")):
        if key in source:
            location = source[key] if kind != "vcs" else f"git+{source[key]}"
            return LockedPackage(name, version, tuple(files), kind, location, (via,))
    if "url" in source:
        url = next((f.url for f in files if f.url), source["url"])
        return LockedPackage(name, version, tuple(files), "url", url, (via,))
    index = source.get("registry")
    return LockedPackage(name, version, tuple(files), "registry", index if isinstance(index, str) else None, (via,))


def _uv_changes(path: Path, data: dict[str, Any], pyproject: Mapping[str, Any]) -> list[str]:
    root = _uv_root(path, _uv_entries(path, data))
    metadata = _table(root.get("metadata"), "[package.metadata]", path)
    project = _table(pyproject.get("project"), "[project]", path)
    changes = []
    wanted_python = project.get("requires-python")
    locked_python = data.get("requires-python")
    if wanted_python and locked_python and SpecifierSet(wanted_python) != SpecifierSet(locked_python):
        changes.append(f"requires-python is {wanted_python!r}, the lock has {locked_python!r}")
    asked = [*project.get("dependencies", [])]
    for extra, lines in project.get("optional-dependencies", {}).items():
        asked += [_with_extra_marker(line, extra) for line in lines]
    changes += _requirement_changes(
        "dependencies", asked, _array(metadata.get("requires-dist"), "requires-dist", path), path
    )
    groups = dict(pyproject.get("dependency-groups", {}))
    legacy_dev = pyproject.get("tool", {}).get("uv", {}).get("dev-dependencies")
    if legacy_dev:
        groups["dev"] = [*groups.get("dev", []), *legacy_dev]
    locked_groups = _table(metadata.get("requires-dev"), "requires-dev", path)
    for group in sorted({*groups, *locked_groups}, key=canonicalize_name):
        lines = [item for item in groups.get(group, []) if isinstance(item, str)]
        changes += _requirement_changes(f"group {group}", lines, locked_groups.get(group, []), path)
    return changes


def _with_extra_marker(line: str, extra: str) -> str:
    requirement = Requirement(line)
    marker = f'extra == "{extra}"'
    if requirement.marker is not None:
        marker = f"({requirement.marker}) and {marker}"
    requirement.marker = Marker(marker)
    return str(requirement)


# uv rewrites python_version comparisons as python_full_version ones; clauses are compared, not their structure.
_MARKER_CLAUSE = re.compile(r"""(\w+|'[^']*'|"[^"]*")\s*(===|==|!=|<=|>=|~=|<|>|not in|in)\s*(\w+|'[^']*'|"[^"]*")""")


def _marker_clauses(marker: str | None) -> frozenset[tuple[str, str, str]]:
    if not marker:
        return frozenset()
    clauses = set()
    for left, op, right in _MARKER_CLAUSE.findall(str(marker)):
        left, right = (side.strip("'\"").replace("python_full_version", "python_version") for side in (left, right))
        clauses.add((left, op, right))
    return frozenset(clauses)


def _requirement_key(name: str, extras: Iterable[str], specifier: str, marker: str | None) -> tuple[Any, ...]:
    return (
        canonicalize_name(name),
        tuple(sorted(canonicalize_name(e) for e in extras)),
        SpecifierSet(specifier),
        _marker_clauses(marker),
    )


def _requirement_changes(where: str, asked: list[str], locked: list[Any], path: Path) -> list[str]:
    wanted = {}
    for line in asked:
        requirement = _requirement(line, f"pyproject.toml {where}", path)
        key = _requirement_key(
            requirement.name, requirement.extras, str(requirement.specifier), str(requirement.marker or "")
        )
        wanted[key] = requirement.name
    recorded = {}
    for item in locked:
        item = _table(item, f"recorded {where}", path)
        key = _requirement_key(
            str(item.get("name", "")), item.get("extras", []), item.get("specifier", ""), item.get("marker")
        )
        recorded[key] = str(item.get("name", ""))
    changes = []
    for key in sorted(wanted.keys() - recorded.keys(), key=repr):
        state = "changed" if key[0] in {k[0] for k in recorded} else "added"
        changes.append(f"{where}: {wanted[key]} {state}")
    for key in sorted(recorded.keys() - wanted.keys(), key=repr):
        if key[0] not in {k[0] for k in wanted}:
            changes.append(f"{where}: {recorded[key]} removed")
    return changes


# --- poetry.lock ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PoetryEdge:
    name: str
    extras: tuple[str, ...] = ()
    marker: str | None = None
    python: str | None = None
    platform: str | None = None
    optional: bool = False


def _poetry_edges(name: str, spec: Any, where: str, path: Path) -> list[_PoetryEdge]:
    """One [*.dependencies] entry (a constraint string, a table, or a list of tables) -> its edges."""
    specs = spec if isinstance(spec, list) else [spec]
    edges = []
    for item in specs:
        if isinstance(item, str):
            edges.append(_PoetryEdge(canonicalize_name(name)))
        elif isinstance(item, dict):
            edges.append(
                _PoetryEdge(
                    canonicalize_name(name),
                    tuple(item.get("extras", ())),
                    item.get("markers"),
                    item.get("python"),
                    item.get("platform"),
                    bool(item.get("optional", False)),
                )
            )
        else:
            raise ProjectError(f"{path.name}: {where} {name} has an entry Poetry does not write: {item!r}.")
    return edges


def _pep508_edges(lines: list[Any], where: str, path: Path) -> list[_PoetryEdge]:
    edges = []
    for line in lines:
        if not isinstance(line, str):
            continue  # a PEP 735 {include-group = ...}; Poetry expands it into the lock itself
        requirement = _requirement(line, where, path)
        marker = str(requirement.marker) if requirement.marker else None
        edges.append(_PoetryEdge(canonicalize_name(requirement.name), tuple(requirement.extras), marker))
    return edges


def _poetry_root(pyproject: Mapping[str, Any], request: _Request, path: Path) -> list[_PoetryEdge]:
    project = pyproject.get("project", {})
    poetry = pyproject.get("tool", {}).get("poetry", {})
    edges: list[_PoetryEdge] = []
    if "dependencies" in project:
        optional = project.get("optional-dependencies", {})
        _unknown("extra", request.extras, optional, "pyproject.toml [project.optional-dependencies]")
        edges += _pep508_edges(project["dependencies"], "[project] dependencies", path)
        for lines in _pick(optional, request.extras):
            edges += _pep508_edges(lines, "[project.optional-dependencies]", path)
    else:
        extras_table = poetry.get("extras", {})
        _unknown("extra", request.extras, extras_table, "pyproject.toml [tool.poetry.extras]")
        chosen = {canonicalize_name(n) for names in _pick(extras_table, request.extras) for n in names}
        for name, spec in poetry.get("dependencies", {}).items():
            if name != "python":
                edges += [
                    e
                    for e in _poetry_edges(name, spec, "[tool.poetry.dependencies]", path)
                    if not e.optional or e.name in chosen
                ]
    groups = {name: table.get("dependencies", {}) for name, table in poetry.get("group", {}).items()}
    if "dev-dependencies" in poetry:
        groups.setdefault("dev", poetry["dev-dependencies"])
    pep735 = pyproject.get("dependency-groups", {})
    _unknown("group", request.groups, {*groups, *pep735}, "pyproject.toml")
    for table in _pick(groups, request.groups):
        for name, spec in table.items():
            edges += _poetry_edges(name, spec, "[tool.poetry.group]", path)
    for lines in _pick(pep735, request.groups):
        edges += _pep508_edges(lines, "[dependency-groups]", path)
    return edges


def _poetry_edge_true(edge: _PoetryEdge, request: _Request, path: Path, extras: Iterable[str]) -> bool:
    if edge.platform and edge.platform != request.environment["sys_platform"]:
        return False
    if edge.python and not _poetry_python_matches(edge.python, request.environment["python_full_version"], path):
        return False
    return request.marker_true(edge.marker, f"the dependency on {edge.name}", path, extras)


def _poetry_python_matches(constraint: str, python: str, path: Path) -> bool:
    """Poetry's constraint syntax (`^3.8`, `~3.9`, `>=3.8,<3.12`, `3.9 || 3.10`) for a `python = ...` key."""
    version = Version(python)
    for alternative in constraint.split("||"):
        clauses = [c for c in re.split(r"[,\s]+(?=[\^~<>=!*\d])", alternative.strip()) if c.strip()]
        if all(version in _poetry_clause(clause.replace(" ", ""), path) for clause in clauses):
            return True
    return False


def _poetry_clause(clause: str, path: Path) -> SpecifierSet:
    try:
        if clause in ("*", ""):
            return SpecifierSet()
        if clause.startswith(("^", "~")) and not clause.startswith("~="):
            base = Version(clause[1:].rstrip(".*"))
            parts = [*base.release, 0, 0][:3]
            if clause.startswith("^"):
                first = next((i for i, part in enumerate(parts) if part), 0)
                upper = [*parts[:first], parts[first] + 1]
            else:
                upper = [parts[0], parts[1] + 1] if len(base.release) > 1 else [parts[0] + 1]
            return SpecifierSet(f">={base},<{'.'.join(map(str, upper))}")
        if clause[0].isdigit():
            return SpecifierSet(f"=={clause}" if "*" in clause or clause.count(".") > 1 else f"=={clause}.*")
        return SpecifierSet(str(Specifier(clause)))
    except (InvalidSpecifier, InvalidVersion, IndexError) as exc:
        raise ProjectError(f"{path.name}: python constraint {clause!r} is not one slim understands ({exc}).") from exc


def _poetry_packages(
    path: Path, data: dict[str, Any], pyproject: Mapping[str, Any], request: _Request
) -> tuple[LockedPackage, ...]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in _array(data.get("package"), "[[package]]", path):
        entry = _table(entry, "[[package]]", path)
        if not isinstance(entry.get("name"), str) or not isinstance(entry.get("version"), str):
            raise ProjectError(f"{path.name}: a [[package]] has no name or version: run `poetry lock`.")
        by_name.setdefault(canonicalize_name(entry["name"]), []).append(entry)
    selected: dict[str, LockedPackage] = {}
    done: dict[int, set[str]] = {}
    work = [(edge, "project") for edge in _poetry_root(pyproject, request, path)]
    while work:
        edge, via = work.pop()
        if not _poetry_edge_true(edge, request, path, ("",)):
            continue
        entry = _poetry_entry(path, by_name, edge, via, request)
        seen = done.setdefault(id(entry), set())
        wanted = {"", *edge.extras}
        if wanted <= seen:
            continue
        new_extras = wanted - seen
        seen |= wanted
        _merge(selected, _poetry_package(path, entry, via), path)
        name = canonicalize_name(entry["name"])
        extras_table = _table(entry.get("extras"), f"{name} extras", path)
        by_extra = {
            extra: {canonicalize_name(re.split(r"[\s(\[<>=!~;]", item, maxsplit=1)[0]) for item in items}
            for extra, items in extras_table.items()
        }
        for dep_name, spec in _table(entry.get("dependencies"), f"{name} dependencies", path).items():
            for dep in _poetry_edges(dep_name, spec, f"{name} dependencies", path):
                if dep.optional:
                    enabling = [e for e in new_extras - {""} if dep.name in by_extra.get(e, set())]
                    if enabling and _poetry_edge_true(dep, request, path, enabling):
                        work.append((_PoetryEdge(dep.name, dep.extras), name))
                elif "" in new_extras:
                    work.append((dep, name))
    return tuple(selected[name] for name in sorted(selected))


def _poetry_entry(
    path: Path, by_name: dict[str, list[dict[str, Any]]], edge: _PoetryEdge, via: str, request: _Request
) -> dict[str, Any]:
    candidates = by_name.get(edge.name, [])
    if len(candidates) > 1:
        # Poetry locks one version per marker split; the package's own markers say which one this target takes.
        candidates = [c for c in candidates if _poetry_entry_markers_true(c, request, path)]
    if len(candidates) != 1:
        state = "no entry" if not candidates else "several entries"
        raise ProjectError(
            f"{path.name} has {state} for {edge.name} (needed by {via}) on this target: it is stale or damaged; "
            "run `poetry lock`."
        )
    return candidates[0]


def _poetry_entry_markers_true(entry: dict[str, Any], request: _Request, path: Path) -> bool:
    """A package's `markers` (lock 2.1): one string, or one per group; root extras appear as `extra == ...`."""
    markers = entry.get("markers")
    if isinstance(markers, dict):
        groups = {canonicalize_name(g) for g in ("main", *request.groups)}
        markers = [m for group, m in markers.items() if canonicalize_name(group) in groups]
    else:
        markers = [markers]
    extras = ("", *request.extras)
    return any(request.marker_true(m, entry.get("name", "?"), path, extras) for m in markers)


def _poetry_package(path: Path, entry: dict[str, Any], via: str) -> LockedPackage:
    name = canonicalize_name(entry["name"])
    files = []
    for item in _array(entry.get("files"), f"{name} files", path):
        item = _table(item, f"{name} files", path)
        hashes = _sha256(item["hash"], f"{name} files", path) if "hash" in item else ()
        files.append(LockedFile(item.get("file"), item.get("url"), hashes))
    source = _table(entry.get("source"), f"{name} source", path)
    kind_of = {"directory": "directory", "file": "path", "git": "vcs", "url": "url"}
    kind = kind_of.get(str(source.get("type")), "registry")
    location = source.get("url")  # for a registry package, the index of a `legacy` source
    if kind == "directory" and entry.get("develop"):
        kind = "editable"
    if kind == "vcs":
        location = f"git+{location}@{source.get('resolved_reference') or source.get('reference')}"
    return LockedPackage(name, entry["version"], tuple(files), kind, location, (via,))


def poetry_content_hash(pyproject: Mapping[str, Any], *, with_dependency_groups: bool = True) -> str:
    """Poetry's `Locker._get_content_hash` (Poetry 2.x; without groups for locks written before 2.3)."""
    project = pyproject.get("project", {})
    groups = pyproject.get("dependency-groups", {}) if with_dependency_groups else {}
    poetry = pyproject.get("tool", {}).get("poetry", {})
    relevant_project = {
        k: project[k] for k in ("requires-python", "dependencies", "optional-dependencies") if k in project
    }
    legacy = ("dependencies", "source", "extras", "dev-dependencies")
    relevant_poetry = {}
    for key in (*legacy, "group"):
        value = poetry.get(key)
        if value is None and (key not in legacy or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    relevant: dict[str, Any] = {}
    if relevant_project:
        relevant["project"] = relevant_project
    if groups:
        relevant["dependency-groups"] = groups
    if relevant:
        relevant["tool"] = {"poetry": relevant_poetry}
    else:
        relevant = relevant_poetry
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def _poetry_changes(path: Path, data: dict[str, Any], pyproject: Mapping[str, Any]) -> list[str]:
    recorded = _table(data.get("metadata"), "[metadata]", path).get("content-hash")
    if not isinstance(recorded, str):
        return ["poetry.lock records no content-hash"]
    if recorded in (poetry_content_hash(pyproject), poetry_content_hash(pyproject, with_dependency_groups=False)):
        return []
    locked = {canonicalize_name(e.get("name", "")) for e in _array(data.get("package"), "[[package]]", path)}
    poetry = pyproject.get("tool", {}).get("poetry", {})
    every_group = (*poetry.get("group", {}), *pyproject.get("dependency-groups", {}))
    every_extra = (*pyproject.get("project", {}).get("optional-dependencies", {}), *poetry.get("extras", {}))
    request = _Request(every_extra, every_group, {})
    try:
        new = sorted({edge.name for edge in _poetry_root(pyproject, request, path)} - locked)
    except ConfigError:
        new = []
    detail = f"; not in the lock: {', '.join(new)}" if new else ""
    return [f"its dependency sections no longer match the content-hash poetry.lock recorded{detail}"]


# --- Pipfile.lock -----------------------------------------------------------------------------------------------

_PIPFILE_SECTIONS = frozenset({"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv"})
_DEFAULT_SOURCE = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}


def pipfile_hashes(pipfile: Mapping[str, Any]) -> set[str]:
    """pipenv's Pipfile hash: plette's `get_hash`, and pipenv 2025+'s variant with canonical package names."""

    def digest(normalise: bool) -> str:
        def section(values: Any) -> Any:
            return {canonicalize_name(k): v for k, v in values.items()} if normalise else values

        data: dict[str, Any] = {
            "_meta": {"sources": pipfile.get("source", [_DEFAULT_SOURCE]), "requires": pipfile.get("requires", {})},
            "default": section(pipfile.get("packages", {})),
            "develop": section(pipfile.get("dev-packages", {})),
        }
        for category, values in pipfile.items():
            if category not in _PIPFILE_SECTIONS and category not in ("default", "develop"):
                data[category] = section(values)
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    return {digest(False), digest(True)}


def _pipenv_changes(path: Path, data: dict[str, Any]) -> list[str]:
    pipfile_path = path.parent / "Pipfile"
    if not pipfile_path.is_file():
        return [f"there is no Pipfile beside {path.name}"]
    pipfile = _load_toml(pipfile_path)
    recorded = _table(_table(data.get("_meta"), "_meta", path).get("hash"), "_meta.hash", path).get("sha256")
    if recorded in pipfile_hashes(pipfile):
        return []
    wanted = {canonicalize_name(n) for n in pipfile.get("packages", {})}
    locked = {canonicalize_name(n) for n in _table(data.get("default"), "default", path)}
    new = sorted(wanted - locked)
    detail = f"; [packages] not in the lock: {', '.join(new)}" if new else ""
    return [f"its hash no longer matches the one {path.name} recorded{detail}"]


def _pipenv_packages(path: Path, data: dict[str, Any], request: _Request) -> tuple[LockedPackage, ...]:
    if request.extras:
        raise ConfigError(
            f"--extra {request.extras[0]}: a Pipfile has no extras; put the packages in a Pipfile category "
            "and name it with --group."
        )
    categories = [k for k in data if k not in ("_meta", "default")]
    _unknown("group", request.groups, categories, path.name)
    sources = _array(_table(data.get("_meta"), "_meta", path).get("sources"), "_meta.sources", path)
    indexes = {str(s.get("name")): str(s.get("url")) for s in sources if isinstance(s, dict)}
    selected: dict[str, LockedPackage] = {}
    for category in [
        "default",
        *(c for c in categories if canonicalize_name(c) in map(canonicalize_name, request.groups)),
    ]:
        for raw_name, entry in _table(data.get(category), category, path).items():
            entry = _table(entry, f"{category} {raw_name}", path)
            if not request.marker_true(entry.get("markers"), f"{category} {raw_name}", path):
                continue
            package = _pipenv_package(path, canonicalize_name(raw_name), entry, category, indexes)
            if package is not None:
                _merge(selected, package, path)
    return tuple(selected[name] for name in sorted(selected))


def _pipenv_package(
    path: Path, name: str, entry: dict[str, Any], category: str, indexes: dict[str, str]
) -> LockedPackage | None:
    files = tuple(LockedFile(None, None, _sha256(h, f"{name} hashes", path)) for h in entry.get("hashes", []))
    version = str(entry.get("version", "")).removeprefix("==") or None
    via = ("project",)
    if "git" in entry:
        return LockedPackage(name, version, files, "vcs", f"git+{entry['git']}@{entry.get('ref', '')}", via)
    if "path" in entry:
        if _is_project_itself(entry["path"], path):
            return None
        kind = "editable" if entry.get("editable") else "directory"
        if (path.parent / entry["path"]).is_file():
            kind = "path"
        return LockedPackage(name, version, files, kind, entry["path"], via)
    if "file" in entry:
        return LockedPackage(name, version, files, "url", entry["file"], via)
    if version is None or not re.fullmatch(r"[^*<>=!~,\s]+", version):
        raise ProjectError(
            f"{path.name} [{category}] does not pin {name} (version {entry.get('version', 'missing')!r}), yet the "
            "target needs it: pipenv leaves a package unpinned when its marker was false on the machine that "
            "locked. Lock on a machine like the target, or pin it in the Pipfile, then run `pipenv lock`."
        )
    return LockedPackage(name, version, files, "registry", indexes.get(str(entry.get("index"))), via)


# --- pylock.toml (PEP 751) --------------------------------------------------------------------------------------


def _pylock_packages(path: Path, data: dict[str, Any], request: _Request) -> tuple[LockedPackage, ...]:
    version = str(data.get("lock-version", ""))
    if version.split(".")[0] != "1":
        raise ProjectError(f"{path.name} has lock-version {version or 'none'}: slim reads PEP 751 lock-version 1.x.")
    declared_extras = _array(data.get("extras"), "extras", path)
    declared_groups = _array(data.get("dependency-groups"), "dependency-groups", path)
    _unknown("extra", request.extras, declared_extras, path.name)
    _unknown("group", request.groups, declared_groups, path.name)
    defaults = [g for g in _array(data.get("default-groups"), "default-groups", path) if g not in DEV_GROUP_NAMES]
    lock_environment = {
        **request.environment,
        "extras": frozenset(canonicalize_name(e) for e in request.extras),
        "dependency_groups": frozenset(canonicalize_name(g) for g in (*request.groups, *defaults)),
    }
    python = request.environment["python_full_version"]
    requires_python = data.get("requires-python")
    if requires_python and Version(python) not in SpecifierSet(requires_python):
        raise ProjectError(f"{path.name} requires Python {requires_python}; the target runs {python}.")
    environments = _array(data.get("environments"), "environments", path)
    if environments and not any(_pylock_marker(m, lock_environment, path) for m in environments):
        raise ProjectError(
            f"{path.name} was locked for {' or '.join(environments)}, which the target does not match: "
            "re-create it for Lambda (sys_platform == 'linux')."
        )
    selected: dict[str, LockedPackage] = {}
    for entry in _array(data.get("packages"), "[[packages]]", path):
        entry = _table(entry, "[[packages]]", path)
        if not isinstance(entry.get("name"), str):
            raise ProjectError(f"{path.name}: a [[packages]] entry has no name.")
        if _pylock_marker(entry.get("marker"), lock_environment, path):
            package = _pylock_package(path, entry)
            if package is not None:
                _merge(selected, package, path)
    return tuple(selected[name] for name in sorted(selected))


def _pylock_marker(marker: Any, environment: dict[str, Any], path: Path) -> bool:
    if not marker:
        return True
    try:
        return Marker(str(marker)).evaluate(environment, context="lock_file")
    except InvalidMarker as exc:
        raise ProjectError(f"{path.name}: invalid marker {marker!r} ({exc}).") from exc


def _pylock_files(path: Path, name: str, items: Iterator[Any]) -> tuple[LockedFile, ...]:
    files = []
    for item in items:
        item = _table(item, f"{name} files", path)
        hashes = _table(item.get("hashes"), f"{name} hashes", path)
        location = item.get("url") or item.get("path")
        filename = item.get("name") or (_filename(location) if location else None)
        digest = hashes.get("sha256")
        files.append(LockedFile(filename, item.get("url"), (digest.lower(),) if isinstance(digest, str) else ()))
    return tuple(files)


def _pylock_package(path: Path, entry: dict[str, Any]) -> LockedPackage | None:
    name = canonicalize_name(entry["name"])
    version = entry.get("version")
    items = iter([*([entry["sdist"]] if "sdist" in entry else []), *_array(entry.get("wheels"), "wheels", path)])
    files = _pylock_files(path, name, items)
    via = ("project",)
    if "directory" in entry:
        directory = _table(entry["directory"], f"{name} directory", path)
        if _is_project_itself(directory.get("path"), path):
            return None
        kind = "editable" if directory.get("editable") else "directory"
        return LockedPackage(name, version, files, kind, directory.get("path"), via)
    if "vcs" in entry:
        vcs = _table(entry["vcs"], f"{name} vcs", path)
        location = f"{vcs.get('type', 'git')}+{vcs.get('url') or vcs.get('path')}@{vcs.get('commit-id', '')}"
        return LockedPackage(name, version, files, "vcs", location, via)
    if "archive" in entry:
        archive = _table(entry["archive"], f"{name} archive", path)
        files = _pylock_files(path, name, iter([archive]))
        if archive.get("url"):
            return LockedPackage(name, version, files, "url", archive["url"], via)
        return LockedPackage(name, version, files, "path", archive.get("path"), via)
    if not files:
        raise ProjectError(f"{path.name}: {name} lists no wheels, sdist, archive, directory or vcs source.")
    return LockedPackage(name, version, files, "registry", entry.get("index"), via)
