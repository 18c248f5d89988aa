"""The project's local packages: the directories a requirement, a uv source or workspace, or a Poetry path dependency
points at. Each is built into a wheel (localwheels.py) and required by that wheel's file, so the name is never looked
up on an index: many short names (`shared`, `common`, `utils`) exist on PyPI, and fetching one of them instead of
the local package is a broken build and a dependency-confusion hole.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import ProjectError

# What a build writes into a source tree, and what no build reads: left out of its content hash.
_NOT_SOURCE_DIRS = re.compile(r"^(\..*|__pycache__|build|dist|node_modules|.*\.egg-info)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s+|=)(.+)$")


@dataclass(frozen=True)
class LocalPackage:
    path: Path  # the project directory, resolved
    name: str | None  # canonical, when the requirement names it
    origin: str  # where it was asked for, for messages: "requirements.txt line 2"
    digest: str  # sha256 over the source tree: a changed library makes slim.lock stale


def tree_digest(directory: Path) -> str:
    """sha256 over the relative paths and contents of the files a build of `directory` can read."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _NOT_SOURCE_DIRS.match(d))
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(folder, name)
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
            try:
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            except OSError as exc:
                raise ProjectError(f"cannot read {path} of the local package {directory}: {exc.strerror}.") from exc
    return digest.hexdigest()


def local_package(path: Path, name: str | None, origin: str) -> LocalPackage:
    if not (path / "pyproject.toml").is_file() and not (path / "setup.py").is_file():
        problem = "does not exist" if not path.exists() else "has neither pyproject.toml nor setup.py"
        raise ProjectError(
            f"{origin}: the local package {path} {problem}, so it cannot be built into a wheel. Fix the path."
        )
    resolved = path.resolve()
    return LocalPackage(resolved, canonicalize_name(name) if name else None, origin, tree_digest(resolved))


def local_path_of(line: str, base: Path) -> tuple[Path, Requirement | None] | None:
    """The directory a requirement line points at (`./lib`, `-e ../lib`, `file:../lib`, `name @ file:///abs/lib`),
    with the requirement when it names one; None for anything else (a name, a wheel's URL, a VCS reference).

    A relative path is relative to `base`, the directory of the file that says it."""
    editable = _EDITABLE.match(line)
    text = editable.group(1).strip() if editable else line.strip()
    requirement = None
    if "@" in text.split(";", 1)[0] and not text.startswith((".", "/")):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            return None
        text = requirement.url or ""
    if text.startswith("file:"):
        text = _file_url_path(text)
    elif not text.startswith((".", "/")) or "://" in text:
        return None
    path = base / text.split(";", 1)[0].strip()
    missing = requirement is not None and not path.exists() and not path.name.endswith((".whl", ".tar.gz", ".zip"))
    return (path, requirement) if path.is_dir() or editable or missing else None


def _file_url_path(url: str) -> str:
    """The path of a `file:` URL, absolute (`file:///abs`) or relative as pip takes it (`file:../lib`)."""
    if url.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
    return urllib.parse.unquote(url.removeprefix("file:"))


def pyproject_local_packages(
    project_dir: Path, pyproject: Mapping[str, Any], names: list[str]
) -> Iterator[tuple[str, LocalPackage]]:
    """The dependencies among `names` that uv sources, a uv workspace or Poetry point at a directory, by requirement
    name: `[tool.uv.sources] name = { path = "../lib" }` or `{ workspace = true }`, a member of the uv workspace
    the project is in, and `[tool.poetry.dependencies] name = { path = "../lib" }`."""
    tool = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    workspace_root, members = uv_workspace(project_dir)
    sources: dict[str, Any] = {}
    if workspace_root is not None and workspace_root != project_dir.resolve():
        root_tool = _read_toml(workspace_root / "pyproject.toml").get("tool", {})
        sources.update(_uv_sources(root_tool, workspace_root))
    sources.update(_uv_sources(tool, project_dir))
    poetry = tool.get("poetry", {}).get("dependencies", {}) if isinstance(tool.get("poetry"), dict) else {}
    for key, spec in poetry.items():
        if isinstance(spec, dict):
            sources.update(_source(key, spec, project_dir, "[tool.poetry.dependencies]"))
    for raw in names:
        name = canonicalize_name(raw)
        source = sources.get(name)
        if source is not None and source[0] == "refused":
            origin = mask_credentials(source[1])
            raise ProjectError(
                f"pyproject.toml {source[2]} {raw} comes from {origin}, which lambda-slim does not read: it would "
                f"look {raw} up on the index instead, which may serve another project of that name. Point the source "
                'at the project\'s directory (`{ path = "../lib" }`), or require the wheel in [project] dependencies '
                "as `name @ file:...` or `name @ https://...`."
            )
        if source is not None and source[0] == "path":
            yield raw, local_package(source[1], name, f"pyproject.toml {source[2]} {raw}")
        elif source is not None or name in members:
            if name not in members:
                raise ProjectError(
                    f"pyproject.toml [tool.uv.sources] {raw} = {{ workspace = true }}, but no member of the uv "
                    f"workspace{f' at {workspace_root}' if workspace_root else ''} is named {raw}: add it to "
                    "[tool.uv.workspace] members, or fix the name."
                )
            yield raw, local_package(members[name], name, f"uv workspace member {raw}")


def _uv_sources(tool: Mapping[str, Any], base: Path) -> dict[str, tuple[str, Any, str]]:
    found: dict[str, tuple[str, Any, str]] = {}
    uv = tool.get("uv", {}) if isinstance(tool.get("uv"), dict) else {}
    for key, spec in (uv.get("sources") or {}).items():
        for each in spec if isinstance(spec, list) else [spec]:
            if isinstance(each, dict):
                found.update(_source(key, each, base, "[tool.uv.sources]"))
    return found


def _source(key: str, spec: Mapping[str, Any], base: Path, where: str) -> dict[str, tuple[str, Any, str]]:
    """Where uv or Poetry gets `key` from: a directory ("path"), a workspace member ("workspace"), or a git
    repository, a URL or a file ("refused": lambda-slim builds directories only). An index source is left to the
    index settings."""
    name = canonicalize_name(key)
    if "path" in spec and not str(spec["path"]).endswith((".whl", ".tar.gz", ".zip")):
        return {name: ("path", base / spec["path"], where)}
    if spec.get("workspace"):
        return {name: ("workspace", base, where)}
    for kind in ("git", "url", "path"):
        if kind in spec:
            return {name: ("refused", f"{kind} {spec[kind]}", where)}
    return {}


def uv_workspace(project_dir: Path) -> tuple[Path | None, dict[str, Path]]:
    """The uv workspace the project belongs to (the nearest pyproject.toml at or above it with
    `[tool.uv.workspace]`), and its members' directories by canonical name."""
    for directory in (project_dir.resolve(), *project_dir.resolve().parents):
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        workspace = _read_toml(pyproject).get("tool", {}).get("uv", {}).get("workspace")
        if not isinstance(workspace, dict):
            continue
        excluded = {
            Path(match).resolve()
            for pattern in workspace.get("exclude", [])
            for match in glob.glob(str(directory / pattern))
        }
        members: dict[str, Path] = {}
        for pattern in workspace.get("members", []):
            for match in sorted(glob.glob(str(directory / pattern))):
                member = Path(match).resolve()
                name = _read_toml(member / "pyproject.toml").get("project", {}).get("name")
                if member not in excluded and isinstance(name, str):
                    members[canonicalize_name(name)] = member
        root_name = _read_toml(pyproject).get("project", {}).get("name")
        if isinstance(root_name, str):
            members.setdefault(canonicalize_name(root_name), directory)
        return directory, members
    return None, {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}. Fix the file.") from exc
