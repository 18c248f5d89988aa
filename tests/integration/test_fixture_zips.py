"""The zips of the fixture projects, byte for byte, as recorded before issue 15 moves the code into subpackages:
that move (and any other refactoring) must not change one byte of what a build writes.

Recorded with CPython 3.11.7 on x86_64 (a pyc holds the interpreter's marshal output). Left out: the fixtures whose
wheels are random on purpose (`bigdist`'s blob) or compiled with paths in their debug info (`fastext`), and those
that do not build by design. If a change is meant to alter a zip, record the new value and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main
from tests.helpers import REPO, copy_fixture

RECORDED = json.loads((REPO / "tests" / "golden" / "fixture-zips.json").read_text())
HANDLERS = {"sam-layout": "src.app.lambda_handler"}

pytestmark = [
    pytest.mark.usefixtures("offline_pip"),
    pytest.mark.skipif(
        sys.version_info[:3] != (3, 11, 7) or platform.machine() != "x86_64",
        reason="the zips were recorded with CPython 3.11.7 on x86_64",
    ),
]


@pytest.mark.parametrize("fixture", sorted(RECORDED))
def test_a_fixture_builds_the_zip_recorded_before_the_move(fixture: str, tmp_path: Path) -> None:
    project = copy_fixture(fixture, tmp_path)
    args = ["build", str(project), "-q", "--measure-runs", "0"]
    if fixture in HANDLERS:
        args += ["--handler", HANDLERS[fixture]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    written = {z.name: hashlib.sha256(z.read_bytes()).hexdigest() for z in sorted((project / "dist").glob("*.zip"))}
    assert written == RECORDED[fixture]
