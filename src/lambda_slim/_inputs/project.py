"""What a project brings: its requirement inputs and its own code files. Reads the project, never writes it."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import shlex
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_slim._errors import ProjectError
from lambda_slim._inputs.appselect import Selection
from lambda_slim._inputs.config import read_pyproject
from lambda_slim._inputs.foreignlocks import LockedPackage, ProjectLock, find_project_lock, read_project_lock
from lambda_slim._inputs.indexes import IndexSettings, Location, find_links_location
from lambda_slim._inputs.localpackages import (
    LocalPackage,
    local_package,
    local_path_of,
    pyproject_local_packages,
    uv_workspace,
)
from lambda_slim._inputs.target import Target

INCLUDE_OPTION = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$")
_INDEX_OPTION = re.compile(r"^(-i|--index-url|--extra-index-url|-f|--find-links|--no-index)(?:(?:\s+|=)(\S+))?$")
_VCS_URL = re.compile(r"(?:^|[\s@=])(?:git|hg|svn|bzr)\+[A-Za-z]+://")
_URL_CREDENTIALS = re.compile(r"://[^/\s@]+@")


@dataclass(frozen=True)
class RequirementInputs:
    """The production requirements of a project, as pip reads them."""

    source: str  # in words, for the report: "pyproject.toml [project] dependencies" or a file name
    requirement_lines: tuple[str, ...]  # requirement specifiers, when they come from pyproject.toml
    requirements_file: Path | None  # a requirements file pip reads itself (with its -r/-c includes)
    digest: str  # sha256 over everything that can change the resolution
    # The names a requirements file pins with `name==version`, when it pins every requirement it has: if they are
    # also complete (nothing else resolves in), the file is a lock already and is used as is.
    pinned: frozenset[str] | None
    # The project's own lock (uv.lock, poetry.lock, pylock.toml, Pipfile.lock): its packages, selected for the
    # target, are installed as locked; requirement_lines then list them, one pin (or local path) each.
    project_lock: ProjectLock | None = None
    # Where the installers look, from the requirements files' option lines and [tool.slim].
    indexes: IndexSettings = field(default_factory=IndexSettings)
    # The requirements that point at a local project directory: each is built into a wheel and required by it.
    local: tuple[LocalRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirement_lines and self.requirements_file is None


@dataclass(frozen=True)
class LocalRequirement:
    line: str  # as written: `-e ../lib`, `shared @ file:../lib`, or the name a uv or Poetry source points away
    file: Path | None  # the requirements file that has the line (resolved), or None for pyproject.toml
    package: LocalPackage
    requirement: Requirement | None  # the line parsed, when it names the package
    # A local package another one depends on: not a line of the inputs, but required by its wheel all the same.
    transitive: bool = False


@dataclass(frozen=True)
class AppFile:
    path: str  # posix, relative to the project (and to the package root)
    source: Path


@dataclass(frozen=True)
class ProjectSettings:
    """What reading the project takes: where it is and builds to, the target its markers are judged for, the
    requirement inputs and indexes chosen, the app's files chosen, and the handler."""

    project_dir: Path
    target: Target
    dist_dir: Path  # the build's output: never app code
    requirements: Path | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    handler: str | None = None
    # Where the handler came from, as a user would look for it (its flag or pyproject key), for the messages; None:
    # [tool.slim] handler.
    handler_origin: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()


PYPI_SIMPLE = "https://pypi.org/simple"


def requirement_inputs(project: ProjectSettings) -> RequirementInputs:
    """The project's requirements, with the indexes its requirements files and [tool.slim] name."""
    inputs = _with_local_packages(_requirements(project), project.project_dir)
    configured = configured_indexes(project)
    if configured.empty:
        return inputs
    # A different index can serve other versions: a lock resolved elsewhere is resolved again (credentials left out,
    # so a new password keeps the lock).
    lock_lines = configured.lock_lines(project.project_dir)
    digest = hashlib.sha256("\0".join([inputs.digest, *lock_lines]).encode()).hexdigest()
    return dataclasses.replace(inputs, digest=digest, indexes=inputs.indexes.merged(configured))


def configured_indexes(project: ProjectSettings) -> IndexSettings:
    """[tool.slim] index-url, extra-index-urls and find-links."""
    where = "[tool.slim] {} in pyproject.toml".format
    return IndexSettings(
        Location(project.index_url, where("index-url")) if project.index_url else None,
        tuple(Location(url, where("extra-index-urls")) for url in project.extra_index_urls),
        tuple(Location(link, where("find-links")) for link in project.find_links),
    )


def _with_local_packages(inputs: RequirementInputs, project_dir: Path) -> RequirementInputs:
    """The requirements, with the local project directories among them (and those they depend on) found."""
    local = list(inputs.local)
    if inputs.requirements_file is None:  # lines of pyproject.toml, or of a project's own lock file
        local += _local_lines(inputs, project_dir, {item.line for item in local})
    local += _dependencies_of_local(local)
    if not local:
        return inputs
    # A changed local package changes what resolves (its own dependencies) and its wheel: the lock is stale.
    digest = hashlib.sha256(inputs.digest.encode())
    for item in local:
        digest.update(f"\0{item.line}\0{item.package.path}\0{item.package.digest}".encode())
    return dataclasses.replace(inputs, digest=digest.hexdigest(), local=tuple(local))


def _local_lines(inputs: RequirementInputs, project_dir: Path, known: set[str]) -> Iterator[LocalRequirement]:
    """The lines that point at a project directory: `name @ file:../lib`, `name @ {root:uri}/lib` (PDM, Hatch)."""
    for line in inputs.requirement_lines:
        found = local_path_of(line.replace("{root:uri}", project_dir.resolve().as_uri()), project_dir)
        if found is not None and line not in known:
            name = found[1].name if found[1] else None
            yield LocalRequirement(line, None, local_package(found[0], name, f"{inputs.source} {line!r}"), found[1])


def _dependencies_of_local(local: list[LocalRequirement]) -> list[LocalRequirement]:
    """The local packages the local packages depend on (a workspace member on another, a library on its own path
    dependency), to be built and required by their wheels too: left to pip, such a dependency's name would be looked
    up on the index."""
    seen = {item.package.path for item in local}
    queue, found = list(local), []
    while queue:
        package = queue.pop().package
        pyproject = read_pyproject(package.path)
        lines = pyproject.get("project", {}).get("dependencies", [])
        lines = [line for line in lines if isinstance(line, str)]
        named = [_parse(line, f"{package.path}/pyproject.toml") for line in lines]
        pointed = [(line, local_path_of(line, package.path)) for line in lines]
        candidates = [
            (line, local_package(where[0], where[1].name if where[1] else None, f"{package.path} requires {line!r}"))
            for line, where in pointed
            if where is not None
        ]
        plain = [requirement.name for requirement in named if not requirement.url]
        candidates += list(pyproject_local_packages(package.path, pyproject, plain))
        for line, dependency in candidates:
            if dependency.path not in seen:
                seen.add(dependency.path)
                item = LocalRequirement(line, None, dependency, None, transitive=True)
                found.append(item)
                queue.append(item)
    return found


def _requirements(project: ProjectSettings) -> RequirementInputs:
    project_dir = project.project_dir
    if project.requirements is not None:
        return _from_requirements_file(project.requirements, project.target)
    lock_file = find_project_lock(project_dir)
    if lock_file is not None:
        return _from_project_lock(lock_file, project)
    pyproject = read_pyproject(project_dir)
    project_table = pyproject.get("project")
    if isinstance(project_table, dict) and (
        "dependencies" in project_table
        or "dependencies" in project_table.get("dynamic", [])
        or project.extras
        or project.groups
    ):
        return _from_pyproject(pyproject, project)
    if project.extras or project.groups:
        raise ProjectError("--extra and --group need a pyproject.toml with a [project] table: this project has none.")
    for name in ("requirements.txt", "requirements.in"):
        if (project_dir / name).is_file():
            return _from_requirements_file(project_dir / name, project.target)
    beside = _requirements_beside_handler(project)
    if beside is not None:
        inputs = _from_requirements_file(beside, project.target)
        return dataclasses.replace(inputs, source=beside.relative_to(project_dir).as_posix())
    return RequirementInputs("no dependencies", (), None, hashlib.sha256(b"").hexdigest(), frozenset())


def unread_requirements(project: ProjectSettings, inputs: RequirementInputs) -> str | None:
    """A warning when the project has no dependency input at its top but a requirements.txt below it (a SAM
    repository built from its root without a handler): the build would ship the code without its dependencies."""
    if inputs.source != "no dependencies":
        return None
    found = sorted(
        path.relative_to(project.project_dir).as_posix()
        for path in project.project_dir.glob("*/requirements.txt")
        if not path.parent.name.startswith(".") and path.parent.name not in ("node_modules", "cdk.out", "tests")
    )
    if not found:
        return None
    first = found[0]
    return (
        f"no dependencies were read: the project has none at its top, and {', '.join(found)} is not read unless the "
        f"handler's module sits beside it. Pass --handler (e.g. {first.rpartition('/')[0]}.app.lambda_handler), "
        f"--requirements {first}, or build {first.rpartition('/')[0]}/ itself."
    )


def unread_workspace_lock(project: ProjectSettings, inputs: RequirementInputs) -> str | None:
    """A warning when the project is a member of a uv workspace whose uv.lock sits above it: that lock's versions
    are not what this build installs (it resolves the member's own requirements for the target)."""
    if inputs.project_lock is not None or project.requirements is not None:
        return None
    root, _members = uv_workspace(project.project_dir)
    lock = root / "uv.lock" if root is not None else None
    if root is None or lock is None or root == project.project_dir.resolve() or not lock.is_file():
        return None
    return (
        f"{os.path.relpath(lock, project.project_dir)} is the lock of the uv workspace this project belongs to, and a "
        "member's build does not read it: the versions installed are resolved afresh for the target and may differ "
        "from it. To build the locked versions, export them (`uv export --package <member> --no-dev "
        f"--no-emit-workspace -o requirements.txt` in {root.name}/) and pass --requirements requirements.txt."
    )


def _requirements_beside_handler(project: ProjectSettings) -> Path | None:
    """SAM keeps a function's requirements.txt in its CodeUri, beside the handler's module (src/requirements.txt): a
    repository built from its root, which has none of its own, takes the nearest one above the handler's module."""
    directories = (project.handler or "").rpartition(".")[0].replace("/", ".").split(".")[:-1]
    while directories:
        candidate = project.project_dir.joinpath(*directories, "requirements.txt")
        if candidate.is_file():
            return candidate
        directories.pop()
    return None


def _from_pyproject(pyproject: dict[str, Any], settings: ProjectSettings) -> RequirementInputs:
    project = pyproject["project"]
    if "dependencies" in project.get("dynamic", []):
        raise ProjectError(
            "pyproject.toml declares its dependencies as dynamic, so they cannot be read without building the "
            "project: list them under [project] dependencies, or pass --requirements FILE."
        )
    lines = list(_string_list(project.get("dependencies", []), "[project] dependencies"))
    optional = project.get("optional-dependencies", {})
    for extra in settings.extras:
        if extra not in optional:
            raise ProjectError(
                f"--extra {extra}: pyproject.toml has no [project.optional-dependencies] {extra!r} "
                f"(it has: {', '.join(optional) or 'none'})."
            )
        lines += _string_list(optional[extra], f"[project.optional-dependencies] {extra}")
    groups = pyproject.get("dependency-groups", {})
    for group in settings.groups:
        lines += _group(groups, group, ())
    local: list[LocalRequirement] = []
    for line in lines:
        _refuse_unlockable(line, "pyproject.toml [project] dependencies")
        _parse(line, "pyproject.toml")
    by_line = {r.name: line for line in lines if not (r := _parse(line, "pyproject.toml")).url}
    for name, package in pyproject_local_packages(settings.project_dir, pyproject, list(by_line)):
        local.append(LocalRequirement(by_line[name], None, package, _parse(by_line[name], "pyproject.toml")))
    poetry_only = [r for r in _poetry_path_names(pyproject) if canonicalize_name(r) not in _names(lines)]
    for name, package in pyproject_local_packages(settings.project_dir, pyproject, poetry_only):
        lines.append(name)  # Poetry 1 declares a path dependency only under [tool.poetry.dependencies]
        local.append(LocalRequirement(name, None, package, _parse(name, "pyproject.toml")))
    source = "pyproject.toml [project] dependencies"
    if settings.extras or settings.groups:
        source += " + " + ", ".join([f"extra {e}" for e in settings.extras] + [f"group {g}" for g in settings.groups])
    digest = hashlib.sha256("\n".join(["pyproject", *lines, *_url_locking(lines)]).encode()).hexdigest()
    return RequirementInputs(source, tuple(lines), None, digest, None, local=tuple(local))


def _names(lines: list[str]) -> set[str]:
    return {canonicalize_name(_parse(line, "pyproject.toml").name) for line in lines}


def _poetry_path_names(pyproject: dict[str, Any]) -> list[str]:
    poetry = pyproject.get("tool", {}).get("poetry", {})
    dependencies = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
    return [name for name, spec in dependencies.items() if isinstance(spec, dict) and "path" in spec]


def _from_project_lock(path: Path, project: ProjectSettings) -> RequirementInputs:
    """The lock's production packages for the target, as locked: nothing is resolved again."""
    pyproject = read_pyproject(project.project_dir)
    lock = read_project_lock(path, pyproject, project.extras, project.groups, project.target.marker_environment())
    lines = tuple(locked_requirement(package, lock) for package in lock.packages)
    digest = hashlib.sha256(b"project lock\0" + path.name.encode() + b"\0" + path.read_bytes())
    # What the lock's freshness is judged against: a change there turns the report's stale warning on or off.
    for name in ("pyproject.toml", "Pipfile"):
        if (path.parent / name).is_file():
            digest.update(name.encode() + b"\0" + (path.parent / name).read_bytes())
    source = lock.source
    if project.extras or project.groups:
        source += " + " + ", ".join([f"extra {e}" for e in project.extras] + [f"group {g}" for g in project.groups])
    pinned = frozenset(package.name for package in lock.packages)
    # The indexes the lock's files come from: extra places to look, the lock's hashes deciding what is installed.
    indexes = IndexSettings(
        extra_index_urls=tuple(Location(url, path.name) for url in lock.indexes if url.rstrip("/") != PYPI_SIMPLE)
    )
    return RequirementInputs(source, lines, None, digest.hexdigest(), pinned, lock, indexes)


def locked_requirement(package: LockedPackage, lock: ProjectLock) -> str:
    """One locked package as a requirement: `name==version`, `name @ url`, or `name @ file:///abs/path` for a local
    package (a workspace member, a path dependency), which is built rather than looked up on an index by its name.
    A version-control source is refused, as in requirements."""
    where = f"{lock.source} ({package.name})"
    if package.kind == "vcs":
        raise ProjectError(_unlockable_message(where, f"{package.name} @ {package.location}", _VCS_KIND))
    if package.is_local:
        if package.location is None:
            raise ProjectError(f"{where}: a {package.kind} package without a path. Run `{lock.refresh_command}`.")
        local = Path(package.location)
        return f"{package.name} @ {(local if local.is_absolute() else lock.path.parent / local).resolve().as_uri()}"
    if package.kind == "url":
        line = f"{package.name} @ {package.location}"
        _refuse_unlockable(line, where)
        return line
    return f"{package.name}=={package.version}"


def _group(groups: dict[str, Any], name: str, seen: tuple[str, ...]) -> list[str]:
    """A PEP 735 dependency group, with its `{include-group = ...}` entries expanded."""
    if name not in groups:
        raise ProjectError(
            f"--group {name}: pyproject.toml has no [dependency-groups] {name!r} "
            f"(it has: {', '.join(groups) or 'none'})."
        )
    if name in seen:
        raise ProjectError(f"[dependency-groups] {name!r} includes itself: {' -> '.join((*seen, name))}.")
    lines: list[str] = []
    for item in groups[name]:
        if isinstance(item, dict) and "include-group" in item:
            lines += _group(groups, item["include-group"], (*seen, name))
        elif isinstance(item, str):
            lines.append(item)
        else:
            raise ProjectError(
                f"[dependency-groups] {name!r} has an entry that is neither a string nor an include: {item!r}."
            )
    return lines


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProjectError(f"{where} in pyproject.toml must be a list of requirement strings.")
    return list(value)


def _parse(line: str, where: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement as exc:
        raise ProjectError(f"{where}: {line!r} is not a valid requirement ({exc}).") from exc


def _pinned_names(lines: list[str], target: Target) -> frozenset[str] | None:
    """The names the lines pin, leaving out the lines whose marker (pip-compile's `; sys_platform == "win32"`) is
    false on the target, which pip and uv leave out too; None when a line that applies is not a pin."""
    environment = target.marker_environment()
    names = set()
    for line in lines:
        if line.startswith(("-", ".", "/", "file:")) or "://" in line:
            return None
        requirement = _parse(line, "requirements")
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator not in ("==", "===") or "*" in specifiers[0].version:
            return None
        names.add(canonicalize_name(requirement.name))
    return frozenset(names)


def _from_requirements_file(path: Path, target: Target) -> RequirementInputs:
    if not path.is_file():
        raise ProjectError(f"requirements file {path} does not exist: pass an existing file to --requirements.")
    digest = hashlib.sha256()
    requirement_lines: list[str] = []
    indexes = IndexSettings()
    local: list[LocalRequirement] = []
    for file, text in _requirement_files(path, ()):
        digest.update(file.name.encode() + b"\0" + text.encode() + b"\0")
        requirement_lines += _requirement_lines(text, file, local)
        indexes = indexes.merged(_index_options(text, file))
    for marker in _url_locking(requirement_lines):
        digest.update(marker.encode() + b"\0")
    pinned = _pinned_names(requirement_lines, target)
    return RequirementInputs(path.name, (), path, digest.hexdigest(), pinned, indexes=indexes, local=tuple(local))


def _index_options(text: str, file: Path) -> IndexSettings:
    """The --index-url, --extra-index-url, --find-links and --no-index lines of one requirements file, which pip
    reads when it resolves, and the install from slim.lock must be given again."""
    index_url, extra, links, no_index = None, [], [], False
    for number, line in logical_lines(text):
        option = _INDEX_OPTION.match(line)
        if option is None:
            continue
        name, value, where = option.group(1), option.group(2), f"{file.name} line {number}"
        if value is None and name != "--no-index":
            continue  # pip itself says what is wrong with the line
        if name in ("-i", "--index-url"):
            index_url = Location(value, where)
        elif name == "--extra-index-url":
            extra.append(Location(value, where))
        elif name in ("-f", "--find-links"):
            links.append(find_links_location(value, where, file.parent))
        else:
            no_index = True
    return IndexSettings(index_url, tuple(extra), tuple(links), no_index)


def _url_locking(lines: list[str]) -> list[str]:
    """Part of the digest of inputs with a URL requirement: earlier locks pinned such a requirement by version, so an
    index's file of that version replaced it on a rebuild; a new digest retires those locks."""
    return ["URL requirements are locked by their URL"] if any("://" in line for line in lines) else []


def _requirement_files(path: Path, seen: tuple[Path, ...]) -> Iterator[tuple[Path, str]]:
    """The file and every file it includes with -r/-c, each once, so the lock key sees all of them."""
    resolved = path.resolve()
    if resolved in seen:
        return
    try:
        text = resolved.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read requirements file {path}: {exc}.") from exc
    yield resolved, text
    for _, line in logical_lines(text):
        match = INCLUDE_OPTION.match(line)
        if match:
            yield from _requirement_files(resolved.parent / match.group(2), (*seen, resolved))


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines as pip reads them, with the number of the line each starts on: comments dropped, backslash
    continuations joined."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        start = start if pending else number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def _refuse_unlockable(line: str, where: str) -> None:
    """Stop, before pip or uv fetches anything, at a requirement slim.lock cannot pin to one wheel's hash.

    An editable or a version-control URL would have pip clone the source (editables into lambda-slim's own
    environment) and build it on this machine; credentials in a URL would have to be written into the lock.
    """
    if _VCS_URL.search(line) or (line.startswith(("-e", "--editable")) and "://" in line):
        kind = "an editable requirement" if line.startswith(("-e", "--editable")) else _VCS_KIND
        raise ProjectError(_unlockable_message(where, line, kind))
    if _URL_CREDENTIALS.search(line):
        raise ProjectError(
            f"{where}: a requirement has credentials in its URL, and lambda-slim never writes credentials into "
            "slim.lock: remove them from the URL and give them to pip and uv through ~/.netrc or a keyring."
        )


_VCS_KIND = "a version-control reference"


def _unlockable_message(where: str, line: str, kind: str) -> str:
    return (
        f"{where}: {line!r} is {kind}, which lambda-slim refuses rather than clone and build its source: "
        "slim.lock pins built wheels by hash. Build a wheel of it (`pip wheel --no-deps <source>`) and require "
        "it as `name @ https://.../name-1.0-py3-none-any.whl` (or a file:// URL), or put the wheel in a "
        "directory passed with --find-links."
    )


def _requirement_lines(text: str, file: Path, local: list[LocalRequirement]) -> list[str]:
    """The requirement specifiers of one file; options (--hash, --index-url, includes) are left out.

    A requirement pip can take but that is not a name (a URL, a path) is returned as written: it cannot be a pin,
    so the file then counts as unpinned and pip reports what it makes of it. A local project directory (`./lib`,
    `-e ./lib`, `name @ file:../lib`) is added to `local`, to be built into a wheel. Other editables are refused.
    """
    lines = []
    for number, line in logical_lines(text):
        where = f"{file.name} line {number}"
        if not line.startswith("-") or line.startswith(("-e", "--editable")):
            _refuse_unlockable(line, where)
            found = local_path_of(line.split(" --", 1)[0], file.parent)
            if found is not None:
                path, requirement = found
                package = local_package(path, requirement.name if requirement else None, where)
                local.append(LocalRequirement(line, file, package, requirement))
                lines.append(line)
                continue
            if line.startswith(("-e", "--editable")):
                raise ProjectError(
                    f"{where}: {line!r} is an editable requirement of something that is not a local project "
                    "directory: point it at the project's directory, or require a built wheel."
                )
        if line.startswith("-"):
            continue  # an option: --hash, --index-url, -r/-c includes (read by _requirement_files)
        elif "://" in line or line.startswith((".", "/")):
            lines.append(line)
        else:
            specifier = line.split(" --", 1)[0].strip()
            _parse(specifier, file.name)
            lines.append(specifier)
    return lines


def app_code(project: ProjectSettings) -> list[AppFile]:
    """The app's files, refused when there are none, or when the handler's module is the project's and is not among
    them: an empty zip, or one without the handler, that builds green deploys nothing that runs.

    A handler in an installed dependency needs no code of the project's own: the safety net checks it.
    """
    found = app_files(project)
    if project.handler:
        _check_handler_module(project, found)
    if found or project.handler:
        return found
    if project.include is not None:
        counts = f"[tool.slim] include ({', '.join(project.include)}) matches nothing"
    else:
        counts = (
            "app code is its Python modules: top-level modules (not test_*.py or *_test.py) and the modules in its "
            "directories, with or without __init__.py (not tests/, docs/, scripts/ or events/), and it has none"
        )
    raise ProjectError(
        f"no app code found in {project.project_dir}: {counts}. Build the directory that holds the handler's module "
        '(slim build PATH), name the app\'s files with [tool.slim] include = ["..."] (or --include), or, when the '
        "handler is in an installed dependency, name it with [tool.slim] handler or --handler."
    )


def _check_handler_module(project: ProjectSettings, found: list[AppFile]) -> None:
    """Stop before anything is installed when the handler names a module of the project that will not ship.

    A module whose top-level name the project does not have may come from a dependency: the safety net checks it.
    """
    assert project.handler is not None
    module = project.handler.rpartition(".")[0].replace("/", ".")
    base = module.replace(".", "/")
    shipped = {file.path for file in found}
    if {f"{base}.py", f"{base}/__init__.py"} & shipped:
        return
    top = base.split("/", 1)[0]
    root = project.project_dir
    if not ((root / f"{top}.py").exists() or (root / top).is_dir()):
        return
    expected = f"{base}/__init__.py" if (root / base / "__init__.py").is_file() else f"{base}.py"
    origin = project.handler_origin or "[tool.slim] handler"
    where = f"the handler {project.handler} ({origin}) is in module {module}, expected at {expected}"
    if not (root / expected).is_file():
        raise ProjectError(
            f"{where}, and the project has no such file. Correct the handler: module.function (src.app.handler) or "
            "path/module.function (src/app.handler), relative to the directory you build."
        )
    why = selection_of(project).why_left_out(expected) or "not selected"
    if why.startswith("by exclude pattern"):
        fix = "narrow that exclude pattern ([tool.slim] exclude or --exclude)"
    else:
        fix = (
            f"add it to the app's files with --include {shlex.quote(expected)} or [tool.slim] include = "
            f'["{expected}"] (include replaces the default choice of app files: name the rest of the app too)'
        )
    raise ProjectError(f"{where}, which is not in the package: left out {why}. Fix: {fix}.")


def selection_of(project: ProjectSettings) -> Selection:
    return Selection(project.project_dir, project.exclude, project.include)


def left_out_app_paths(project: ProjectSettings, pattern: str) -> list[tuple[str, str]]:
    """The project's paths that `pattern` names (a path or a glob) and that are not app code, each with why, for
    --explain."""
    root = project.project_dir
    selection = selection_of(project)
    rel = os.path.normpath(pattern) if pattern else "."
    if os.path.isabs(pattern) or rel == "." or rel.startswith(".."):
        return []  # names no file inside the project
    named = [rel] if (root / rel).exists() else sorted({path.relative_to(root).as_posix() for path in root.glob(rel)})
    out_dir = os.path.realpath(project.dist_dir)
    found = []
    for path in named:
        real = os.path.realpath(root / path)
        if os.path.commonpath([real, out_dir]) == out_dir:
            found.append((path, "the build's output directory"))
        elif (why := selection.why_left_out(path)) is not None:
            found.append((path, why))
    return found


def app_files(project: ProjectSettings) -> list[AppFile]:
    """The project's own code, by the default rule (appselect) or what `include` names.

    A symbolic link is followed once, to where it finally resolves, and only within the project. A link that
    leads outside it, dangles or loops, a special file, or a name that is not UTF-8 is refused, unless `exclude`
    drops it: nothing is ever opened before it is known to be a regular file of the project.
    """
    walk = _AppWalk(selection_of(project), os.path.realpath(project.dist_dir))
    return walk.files(project.project_dir, "", (os.path.realpath(project.project_dir),))


@dataclass(frozen=True)
class _AppWalk:
    selection: Selection
    out_dir: str  # resolved

    def files(self, directory: Path, prefix: str, ancestors: tuple[str, ...]) -> list[AppFile]:
        """The chosen files below `directory` (`prefix` in the package), its files before its subdirectories.

        `ancestors`: the resolved directories walked down to here, root first, so a link back up is a loop.
        """
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            where = prefix.rstrip("/")
            fix = f"Fix its permissions, or {exclude_hint(where)}" if where else "Fix its permissions"
            raise ProjectError(f"cannot list {where or directory} in the project: {exc.strerror}. {fix}.") from exc
        found: list[AppFile] = []
        subdirectories: list[tuple[str, Path, str]] = []
        for entry in entries:
            rel = prefix + entry.name
            if _is_directory(entry):  # a link that dangles or loops is no directory, and is judged as a file
                if self.selection.directory_left_out(rel) is not None:
                    continue
                real = os.path.realpath(entry.path)
                if real == self.out_dir:
                    continue
                if entry.is_symlink():
                    _check_link(rel, real, ancestors[0])
                if real in ancestors:
                    raise ProjectError(
                        f"the project's {_shown(rel)} is a symbolic link loop: it leads back to {real}, a directory "
                        f"it is in. Remove the link, or {exclude_hint(rel)}."
                    )
                subdirectories.append((rel, Path(entry.path), real))
            elif self.selection.file_left_out(rel) is None:
                _check_file(rel, entry, ancestors[0])
                found.append(AppFile(rel, Path(entry.path)))
        for rel, path, real in subdirectories:
            found += self.files(path, rel + "/", (*ancestors, real))
        return found


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows links
    except OSError:  # a loop of links
        return False


def _check_link(rel: str, real: str, root: str) -> None:
    """A link must resolve inside the project: one that leads out would ship whatever it points at."""
    if os.path.commonpath([real, root]) != root:
        raise ProjectError(
            f"the project's {_shown(rel)} is a symbolic link to {real}, outside the project, so building would ship "
            f"that. Copy what the app needs into the project, or {exclude_hint(rel)}."
        )


def _check_file(rel: str, entry: os.DirEntry[str], root: str) -> None:
    """Only a regular file of the project, whose name a zip can hold, may be packaged."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise ProjectError(
            f"the project's {_shown(rel)} has a name that is not valid UTF-8, and a zip entry's name must be (Lambda "
            f"unpacks names as UTF-8). Rename the file, or {exclude_hint(rel)}."
        ) from None
    try:
        info = os.stat(entry.path)
    except OSError as exc:
        target = os.readlink(entry.path) if entry.is_symlink() else None
        if target is not None and exc.errno == errno.ELOOP:
            problem = "is a symbolic link loop"
        elif target is not None:
            problem = f"is a symbolic link to {_shown(target)}, which does not exist"
        else:
            problem = f"cannot be read ({exc.strerror})"
        raise ProjectError(f"the project's {_shown(rel)} {problem}. Fix or remove it, or {exclude_hint(rel)}.") from exc
    if entry.is_symlink():
        _check_link(rel, os.path.realpath(entry.path), root)
    if not stat.S_ISREG(info.st_mode):
        raise ProjectError(
            f"the project's {_shown(rel)} is a {_special_kind(info.st_mode)}, not a regular file, and cannot be "
            f"packaged. Move it out of the project, or {exclude_hint(rel)}."
        )


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _shown(rel: str) -> str:
    """A path as a message can print it: bytes that are not UTF-8 escaped (\\xe9)."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def exclude_hint(rel: str) -> str:
    """How to leave `rel` out: a pattern anchored to the project (exclude also removes dependency files), with
    each byte that is not UTF-8 matched by `?`, since neither pyproject.toml nor a command line can spell it."""
    pattern = re.sub(r"([][*?\\])", r"\\\1", rel)
    pattern = re.sub("[\udc80-\udcff]", "?", pattern)
    pattern = pattern if "/" in pattern else "/" + pattern
    quoted = json.dumps(pattern, ensure_ascii=False)
    return f"exclude it with [tool.slim] exclude = [{quoted}] (or --exclude {shlex.quote(pattern)})"
