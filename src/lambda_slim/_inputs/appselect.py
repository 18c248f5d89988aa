"""Which of a project's files are its app code, and, for every other file, why it is left out.

The default follows how SAM, CDK and the AWS samples lay a function out: Python modules wherever they are (a SAM
handler src.app.lambda_handler lives in src/, which has no __init__.py), the data files beside them, and the
top-level data files the code may read; never the repository's tooling, metadata, tests or IaC templates.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

# Never app code, even when `include` names it (gitignore syntax), each with why, for --explain.
NEVER: dict[str, str] = {
    ".*": "hidden file or directory",
    "__pycache__/": "bytecode cache",
    "*.py[cod]": "bytecode",
    "tests/": "test directory",
    "test/": "test directory",
    "conftest.py": "test file",
    "setup.py": "project tooling",
    "noxfile.py": "project tooling",
    "venv/": "virtualenv",
    "env/": "virtualenv",
    "dist/": "build output",
    "build/": "build output",
    "cdk.out/": "build output",
    "node_modules/": "Node packages",
    "*.egg-info/": "build metadata",
    "slim.lock": "lambda-slim's lock file",
    # Never data a function reads, at any depth (SAM puts requirements.txt and a Dockerfile beside the handler).
    **dict.fromkeys(
        (
            "requirements*.txt",
            "requirements*.in",
            "constraints*.txt",
            "Pipfile",
            "Pipfile.lock",
            "poetry.lock",
            "uv.lock",
            "pdm.lock",
            "pylock.toml",
            "pylock.*.toml",
        ),
        "requirements or lock file",
    ),
    **dict.fromkeys(("pyproject.toml", "setup.cfg", "MANIFEST.in"), "project metadata"),
    **dict.fromkeys(("Dockerfile", "Dockerfile.*", "Makefile"), "container or build file"),
}

# What the default leaves out at the top of the project and `include` may name (in a package, a file of such a
# name may be data the code reads).
_TOOLING_AT_TOP = {
    "IaC template": (
        "template.yaml",
        "template.yml",
        "template.json",
        "samconfig.toml",
        "samconfig.yaml",
        "samconfig.yml",
        "serverless.yml",
        "serverless.yaml",
        "cdk.json",
        "cdk.context.json",
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yaml",
        "packaged*.yaml",
        "packaged*.yml",
    ),
    "CI or tool configuration": (
        "buildspec.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "appveyor.yml",
        "codecov.yml",
        "renovate.json",
        "tox.ini",
        "pytest.ini",
        "mypy.ini",
        "ruff.toml",
        "uv.toml",
        "poetry.toml",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "mkdocs.yml",
        "environment.yml",
    ),
    # lambda-slim's own convention (slim verify --event event.json --expected expected.json), and SAM's sample events.
    "sample event or expected result": ("event*.json", "*-event.json", "*_event.json", "expected*.json"),
    "documentation": ("README*", "CHANGELOG*", "LICENSE*", "COPYING*", "NOTICE*"),
}
# Top-level directories that are the repository's, not the function's, unless they are packages (__init__.py).
TOOLING_DIRECTORIES = {"docs": "docs", "doc": "docs", "scripts": "scripts", "events": "sample events"}
# Top-level files, other than modules, that ship by default: configuration and templates the code may read.
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".csv", ".xml", ".html", ".sql", ".j2")
# Top-level test modules are not app code (a sample app shipped test_pdf_encrypt.py, which imports pytest).
_TEST_MODULE = re.compile(r"test_.*\.py|.*_test\.py")
_CDK_APP = re.compile(r"([\w./-]+\.py)\b")


@dataclass(frozen=True)
class Selection:
    """The rule for one project: `exclude` adds to the never-list; `include`, when set, replaces the default."""

    root: Path
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] | None = None
    _never: pathspec.GitIgnoreSpec = field(init=False, repr=False, compare=False)
    _include: pathspec.GitIgnoreSpec | None = field(init=False, repr=False, compare=False)
    _cdk_app: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_never", pathspec.GitIgnoreSpec.from_lines([*NEVER, *self.exclude]))
        spec = pathspec.GitIgnoreSpec.from_lines(self.include) if self.include is not None else None
        object.__setattr__(self, "_include", spec)
        object.__setattr__(self, "_cdk_app", _cdk_app(self.root))

    def directory_left_out(self, rel: str) -> str | None:
        """Why the directory `rel` is not walked, or None when its files may be app code."""
        if self._never.match_file(rel + "/"):
            return self._never_reason(rel + "/")
        if self.include is not None or "/" in rel:
            return None  # below a top-level directory of code, everything is the code's (templates, data)
        if rel in TOOLING_DIRECTORIES and not (self.root / rel / "__init__.py").is_file():
            return f"{TOOLING_DIRECTORIES[rel]} directory ({rel}/), not the function's code"
        if not _holds_python(self.root / rel, self._never):
            return f"a directory with no Python ({rel}/): only directories of code ship with their data"
        return None

    def file_left_out(self, rel: str) -> str | None:
        """Why the file `rel`, in a directory that is walked, is not app code, or None when it is."""
        if self._never.match_file(rel):
            return self._never_reason(rel)
        if self._include is not None:
            return None if self._include.match_file(rel) else "matched by no include pattern"
        if rel == self._cdk_app:
            return f"the CDK app cdk.json runs ({rel}), not the function"
        if "/" in rel:
            return None
        for what, patterns in _TOOLING_AT_TOP.items():
            if any(fnmatch.fnmatchcase(rel, pattern) for pattern in patterns):
                return f"{what} ({rel})"
        if rel.endswith(".py"):
            return "top-level test module" if _TEST_MODULE.fullmatch(rel) else None
        if rel.lower().endswith(DATA_SUFFIXES):
            return None
        return f"a top-level file that is neither a module nor a data file ({', '.join(DATA_SUFFIXES)})"

    def why_left_out(self, rel: str) -> str | None:
        """Why the project's file or directory `rel` is not app code, looking at each directory above it first."""
        parts = rel.strip("/").split("/")
        if self._never.match_file("/".join(parts)):  # the pattern that names it, before what follows from that
            return self._never_reason("/".join(parts))
        for depth in range(1, len(parts)):
            reason = self.directory_left_out("/".join(parts[:depth]))
            if reason is not None:
                return reason
        rel = "/".join(parts)
        return self.directory_left_out(rel) if (self.root / rel).is_dir() else self.file_left_out(rel)

    def _never_reason(self, rel: str) -> str:
        for pattern in reversed(self.exclude):
            if pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(rel):
                return f"by exclude pattern {pattern!r}"
        for pattern, what in NEVER.items():
            if pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(rel):
                return f"{what} ({pattern})"
        return "by the exclude patterns"


def _holds_python(directory: Path, never: pathspec.GitIgnoreSpec) -> bool:
    """Whether a module lives anywhere below `directory` (not counting what is never app code). A directory that
    cannot be listed counts as holding Python, so the walk reaches it and names it."""
    unreadable: list[OSError] = []
    root = directory.parent
    for dirpath, dirnames, filenames in os.walk(directory, onerror=unreadable.append):
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        dirnames[:] = [name for name in dirnames if not never.match_file(f"{rel}/{name}/")]
        if any(name.endswith(".py") and not never.match_file(f"{rel}/{name}") for name in filenames):
            return True
    return bool(unreadable)


def _cdk_app(root: Path) -> str | None:
    """The module cdk.json's `app` command runs (`python3 app.py`): the CDK app, which synthesizes the stacks."""
    try:
        command = json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("app")
    except (OSError, ValueError, AttributeError):
        return None
    match = _CDK_APP.search(command) if isinstance(command, str) else None
    return match.group(1).removeprefix("./") if match else None
