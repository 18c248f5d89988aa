"""--prune traced: keep what the handler touched on the events, check every result is unchanged."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import lambda_slim
from lambda_slim._artifacts.inventory import bytecode_of
from lambda_slim._cli.main import main
from lambda_slim._inputs.target import host_machine
from tests.helpers import copy_fixture

pytestmark = pytest.mark.usefixtures("offline_pip")
TAG = sys.implementation.cache_tag


def build(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["build", str(project), "--format", "json", "-q", *args])
    return result.exit_code, result.stdout, result.stderr


def test_untouched_files_go_and_touched_ones_stay(tmp_path: Path) -> None:
    project = copy_fixture("prune-traced", tmp_path)
    report = lambda_slim.build(project)
    members = set(zipfile.ZipFile(project / "dist" / "function.zip").namelist())
    for kept in ("tracedpkg/used.py", bytecode_of("tracedpkg/used.py", TAG), "tracedpkg/data.json",
                 "tracedpkg/__init__.py", "tracedpkg/plugins/__init__.py", "tracedpkg/plugins/alpha.py",
                 "tracedpkg/plugins/beta.py", "tracedpkg-1.0.dist-info/METADATA", "handler.py",
                 # Imported by a computed name: its whole package stays, xml too, which no event loaded.
                 "tracedpkg/formats/csv.py", "tracedpkg/formats/xml.py", "tracedpkg/static/helper.py"):  # fmt: skip
        assert kept in members, kept
    for gone in ("tracedpkg/unused.py", bytecode_of("tracedpkg/unused.py", TAG), "tracedpkg/optional.txt",
                 # A static import keeps only itself: the other module of its package goes.
                 "tracedpkg/static/other.py"):  # fmt: skip
        assert gone not in members, gone
    [rule] = [rule for rule in report.rules if rule.rule == "traced"]
    assert rule.files == 5
    assert any("--prune traced removed 5 files" in warning for warning in report.warnings)


def test_a_result_that_changes_after_pruning_fails_the_build(tmp_path: Path) -> None:
    project = copy_fixture("prune-traced", tmp_path)
    # os.path.exists opens nothing, so the trace cannot see that the handler depends on this file.
    (project / "handler.py").write_text(
        "import os\nimport tracedpkg\n\n\ndef handler(event, context):\n"
        "    return os.path.exists(os.path.join(os.path.dirname(tracedpkg.__file__), 'optional.txt'))\n"
    )
    (project / "dist").mkdir()
    (project / "dist" / "function.zip").write_bytes(b"the previous build")
    code, _, err = build(project)
    assert code == 1
    assert "no longer gives the same result for first.json" in err and "before: true" in err
    assert (project / "dist" / "function.zip").read_bytes() == b"the previous build"


def test_keep_patterns_win_over_the_trace(tmp_path: Path) -> None:
    project = copy_fixture("prune-traced", tmp_path)
    code, _, err = build(project, "--keep", "tracedpkg/unused.py")
    assert code == 0, err
    assert "tracedpkg/unused.py" in zipfile.ZipFile(project / "dist" / "function.zip").namelist()


def test_pruning_needs_a_handler_and_events(tmp_path: Path) -> None:
    project = copy_fixture("prune-traced", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('events = ["events/*.json"]\n', ""))
    code, _, err = build(project)
    assert code == 2
    assert "--prune traced needs the handler" in err and "at least one event" in err


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--no-verify",), "verification is off (--no-verify or [tool.slim] verify = false)"),
        (("--arch", "arm64" if host_machine() == "x86_64" else "x86_64"), "this machine cannot run python3."),
    ],
)
def test_prune_traced_without_verification_is_an_error(tmp_path: Path, args: tuple[str, ...], why: str) -> None:
    project = copy_fixture("prune-traced", tmp_path)
    code, out, err = build(project, *args)
    assert code == 2, out
    assert "--prune traced ([tool.slim] prune)" in err and why in err
    assert "Traceback" not in err
    # Refused before anything was resolved, installed or written.
    assert not (project / "slim.lock").exists() and not (project / "dist").exists()
