"""Hostile and bad input, in one table: each row is a case of issue 13 ("no false green"), set up, run through
the CLI, and judged by its exit status and message. None may pass, and none may show a traceback.

A row's `make` builds the scenario under a temporary directory and returns the arguments of `slim`; `check`, when
given, looks at what the run left behind (what must not have shipped, what must not be littered).
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim.cli import main
from tests.key_samples import pem

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
def project_shipping_keys(root: Path) -> list[str]:
    project = app_project(
        root,
        {
            "app/__init__.py": "",
            "app/server.key": pem("RSA PRIVATE KEY"),
            "app/deploy/id_ed25519": pem("OPENSSH PRIVATE KEY"),
            "app/client.p12": "made-up PKCS#12 bytes",
            "app/cacert.pem": pem("CERTIFICATE"),  # a certificate alone is no secret
        },
    )
    return ["build", str(project), "-q", "--no-verify"]


def project_with_a_key_in_its_code(root: Path) -> list[str]:
    project = app_project(root, {"settings.py": f"SIGNING_KEY = {pem('PRIVATE KEY')!r}\n"})
    return ["build", str(project), "-q", "--no-verify"]


def nothing_built(root: Path) -> None:
    assert not (root / "project" / "dist").exists()


SECRET_CASES: list[Case] = [
    Case(
        "private_keys_in_the_app_fail_the_build",
        project_shipping_keys,
        1,
        'keep = ["app/client.p12", "app/deploy/id_ed25519", "app/server.key"]',
        nothing_built,
    ),
    Case(
        "private_key_pasted_into_app_code_fails_the_build",
        project_with_a_key_in_its_code,
        1,
        "settings.py: holds a PEM private key",
        nothing_built,
    ),
]

# Case 11: tracebacks instead of messages (unwritable outputs, odd files in the project).
ODD_FILE_CASES: list[Case] = []

# Case 12: an unreachable index; case 14: -e git+ requirements.
INDEX_CASES: list[Case] = []

# Case 13: a wrong handler.
HANDLER_CASES: list[Case] = []


# Case 15: duplicate entry names in a zip given to verify.
def zip_naming_the_handler_twice(root: Path) -> list[str]:
    package = root / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns, and writes the second entry anyway
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return 'the first'\n")
            archive.writestr("handler.py", "def handler(event, context):\n    return 'the second'\n")
    return ["verify", "--zip", str(package), "--handler", "handler.handler"]


def nothing_extracted_beside(root: Path) -> None:
    assert sorted(path.name for path in root.iterdir()) == ["twice.zip"]


ZIP_CASES: list[Case] = [
    Case(
        "duplicate_entry_names_are_refused_by_verify",
        zip_naming_the_handler_twice,
        1,
        "'handler.py' is in it 2 times with different content",
        nothing_extracted_beside,
    ),
]

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
