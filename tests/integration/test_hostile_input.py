"""Hostile and bad input, in one table: each row is a case of issue 13 ("no false green"), set up, run through
the CLI, and judged by its exit status and message. None may pass, and none may show a traceback.

A row's `make` builds the scenario under a temporary directory and returns the arguments of `slim`; `check`, when
given, looks at what the run left behind (what must not have shipped, what must not be littered).
"""

from __future__ import annotations

import os
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


# Case 8: symlinks that would ship files from outside the project.
SYMLINK_CASES: list[Case] = []

# Case 9: private keys among the app's files.
SECRET_CASES: list[Case] = []


def unwritable_directory(parent: Path) -> Path:
    """A directory no one may create files in, root included: chmod does not stop root (the CI runs as root),
    but sysfs refuses new files to everyone, so as root the directory is a link to /sys/kernel."""
    directory = parent / "unwritable"
    if os.geteuid() == 0:
        if not os.path.isdir("/sys/kernel"):
            pytest.skip("running as root, and no /sys/kernel to stand for a directory root cannot write")
        directory.symlink_to("/sys/kernel")
    else:
        directory.mkdir(mode=0o555)
    return directory


def read_only_dist(root: Path) -> list[str]:
    project = app_project(root)
    unwritable_directory(root).rename(project / "dist")
    return ["build", str(project)]


def out_under_a_file(root: Path) -> list[str]:
    project = app_project(root)
    (root / "afile").write_text("not a directory\n")
    return ["build", str(project), "--out", str(root / "afile" / "dist")]


def report_under_a_file(root: Path) -> list[str]:
    project = app_project(root)
    (root / "afile").write_text("not a directory\n")
    return ["build", str(project), "-o", str(root / "afile" / "report.json")]


def report_in_unwritable_directory(root: Path) -> list[str]:
    project = app_project(root)
    return ["build", str(project), "-o", str(unwritable_directory(root) / "report.json")]


def nothing_built(root: Path) -> None:
    """The output was checked before building: no build ran, so no zip was written."""
    assert not (root / "project" / "dist" / "function.zip").exists()


# Case 11: tracebacks instead of messages (unwritable outputs, odd files in the project).
ODD_FILE_CASES: list[Case] = [
    Case("read_only_dist", read_only_dist, 2, "dist (the default PROJECT/dist): Permission denied", nothing_built),
    Case("out_under_a_file", out_under_a_file, 2, "(--out): a part of the path is not a directory: ", nothing_built),
    Case(
        "report_under_a_file",
        report_under_a_file,
        2,
        "(-o/--output): a part of the path is not a directory: ",
        nothing_built,
    ),
    Case(
        "report_in_unwritable_directory",
        report_in_unwritable_directory,
        2,
        "(-o/--output): Permission denied",
        nothing_built,
    ),
]

# Case 12: an unreachable index; case 14: -e git+ requirements.
INDEX_CASES: list[Case] = []


def wrong_handler_from_the_cli(root: Path) -> list[str]:
    return ["build", str(app_project(root)), "--handler", "handler.handle", "--measure-runs", "0"]


def wrong_handler_from_pyproject(root: Path) -> list[str]:
    project = app_project(root)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[tool.slim]\nhandler = "handler.handle"\nmeasure-runs = 0\n')
    return ["build", str(project)]


def handler_not_module_function(root: Path) -> list[str]:
    return ["build", str(app_project(root)), "--handler", "handler.handler()"]


def verify_handler_not_module_function(root: Path) -> list[str]:
    # Checked before the zip is even looked for: a usage error, whatever the package.
    return ["verify", "--zip", str(root / "missing.zip"), "--handler", "handler:handler"]


# Case 13: a wrong handler.
HANDLER_CASES: list[Case] = [
    Case(
        "wrong_handler_from_the_cli",
        wrong_handler_from_the_cli,
        1,
        "(--handler) is not in the package: module 'handler' has no attribute 'handle'; did you mean 'handler'?",
        nothing_built,
    ),
    Case(
        "wrong_handler_from_pyproject",
        wrong_handler_from_pyproject,
        1,
        "([tool.slim] handler in pyproject.toml) is not in the package: module 'handler' has no attribute 'handle'",
        nothing_built,
    ),
    Case(
        "handler_not_module_function",
        handler_not_module_function,
        2,
        "--handler must name a module and a function",
        nothing_built,
    ),
    Case(
        "verify_handler_not_module_function",
        verify_handler_not_module_function,
        2,
        "--handler must name a module and a function",
    ),
]

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
