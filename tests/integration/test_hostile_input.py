"""Hostile and bad input, in one table: each row is a case of issue 13 ("no false green"), set up, run through
the CLI, and judged by its exit status and message. None may pass, and none may show a traceback.

A row's `make` builds the scenario under a temporary directory and returns the arguments of `slim`; `check`, when
given, looks at what the run left behind (what must not have shipped, what must not be littered).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim.cli import main

pytestmark = pytest.mark.usefixtures("offline_pip")


@dataclass(frozen=True)
class Case:
    name: str  # the case it covers, spelled as the test id
    make: Callable[[Path], list[str]]  # the scenario under tmp_path, and slim's arguments
    exit_status: int
    message: str  # must appear on stderr
    check: Callable[[Path], None] | None = None  # what the run must (not) have left behind


def app_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """A one-module project with no dependencies: what most hostile cases start from."""
    project = root / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "hostile"\nversion = "0.1.0"\ndependencies = []\n')
    (project / "handler.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    for name, text in (files or {}).items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


OUTSIDE_SECRET = "root:x:0:0:outside the project:/root:/bin/bash\n"


def outside_file(root: Path) -> Path:
    """A stand-in for /etc/passwd: a file next to the project, whose content must never ship."""
    outside = root / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "passwd").write_text(OUTSIDE_SECRET)
    (outside / "__init__.py").write_text("")
    return outside / "passwd"


def package_with(root: Path, name: str, place: Callable[[Path], None]) -> list[str]:
    """The one-module project plus a package `pkg` holding one odd entry `name`, made by `place`."""
    project = app_project(root, {"pkg/__init__.py": ""})
    place(project / "pkg" / name)
    return ["build", str(project), "-q", "--measure-runs", "0"]


def link_to(target: Callable[[Path], Path | str], *, directory: bool = False) -> Callable[[Path], None]:
    def place(link: Path) -> None:
        link.symlink_to(target(link.parents[2]), target_is_directory=directory)

    return place


def nothing_written(root: Path) -> None:
    assert not (root / "project" / "dist" / "function.zip").exists()


def outside_content_never_shipped(root: Path) -> None:
    nothing_written(root)
    for path in root.rglob("*.zip"):
        with zipfile.ZipFile(path) as archive:
            assert not [name for name in archive.namelist() if archive.read(name) == OUTSIDE_SECRET.encode()], path


def linked_package(root: Path) -> list[str]:
    """A top-level package that is a link to a directory outside (a monorepo's shared code, say)."""
    project = app_project(root)
    (project / "linked").symlink_to(outside_file(root).parent, target_is_directory=True)
    return ["build", str(project), "-q", "--measure-runs", "0"]


def self_link(link: Path) -> None:
    link.symlink_to(link.name)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def latin1_named(path: Path) -> None:
    with open(os.fsencode(path.parent) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"menu\n")


# Case 8: symlinks that would ship files from outside the project.
SYMLINK_CASES: list[Case] = [
    Case(
        "8-symlink-to-a-file-outside-the-project",
        lambda root: package_with(root, "data.txt", link_to(outside_file)),
        1,
        "pkg/data.txt is a symbolic link to",
        outside_content_never_shipped,
    ),
    Case(
        "8-symlink-to-a-directory-outside-the-project",
        lambda root: package_with(root, "vendored", link_to(lambda r: outside_file(r).parent, directory=True)),
        1,
        "--exclude pkg/vendored",
        outside_content_never_shipped,
    ),
    Case(
        "8-top-level-package-linked-from-outside-the-project",
        linked_package,
        1,
        "linked is a symbolic link to",
        outside_content_never_shipped,
    ),
    Case(
        "8-directory-linked-to-its-own-ancestor",
        lambda root: package_with(root, "again", link_to(lambda r: "..", directory=True)),
        1,
        "pkg/again is a symbolic link loop",
        nothing_written,
    ),
    Case(
        "11-dangling-symlink",
        lambda root: package_with(root, "data.txt", link_to(lambda r: "missing.txt")),
        1,
        "pkg/data.txt is a symbolic link to missing.txt, which does not exist",
        nothing_written,
    ),
    Case(
        "11-symlink-loop",
        lambda root: package_with(root, "data.txt", self_link),
        1,
        "pkg/data.txt is a symbolic link loop",
        nothing_written,
    ),
]

# Case 9: private keys among the app's files.
SECRET_CASES: list[Case] = []

# Case 11: tracebacks instead of messages (unwritable outputs, odd files in the project).
ODD_FILE_CASES: list[Case] = [
    Case(
        "11-fifo-in-the-app",
        lambda root: package_with(root, "pipe", fifo),
        1,
        "pkg/pipe is a FIFO",
        nothing_written,
    ),
    Case(
        "11-file-name-not-utf8",
        lambda root: package_with(root, "cafe.txt", latin1_named),
        1,
        "pkg/caf\\xe9.txt",
        nothing_written,
    ),
]

# Case 12: an unreachable index; case 14: -e git+ requirements.
INDEX_CASES: list[Case] = []

# Case 13: a wrong handler.
HANDLER_CASES: list[Case] = []

# Case 15: duplicate entry names in a zip given to verify.
ZIP_CASES: list[Case] = []

CASES = [*SYMLINK_CASES, *SECRET_CASES, *ODD_FILE_CASES, *INDEX_CASES, *HANDLER_CASES, *ZIP_CASES]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_fails_clearly(case: Case, tmp_path: Path) -> None:
    args = case.make(tmp_path)
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == case.exit_status, result.output
    assert case.message in result.stderr, result.stderr
    if case.check is not None:
        case.check(tmp_path)
