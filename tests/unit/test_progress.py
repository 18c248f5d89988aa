"""Progress that moves: each stage of a build reports counts that advance while it works (packages from the
installer's own output, files compiled, bytes zipped, modules verified), and the terminal shows them only when
stderr is a terminal, with the elapsed time moving on when there is nothing to count."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

from lambda_slim import _subprocess
from lambda_slim._artifacts.archive import write_zip
from lambda_slim._cli import common
from lambda_slim._cli.common import TerminalReporter
from lambda_slim._inputs.project import AppFile, ProjectSettings, requirement_inputs
from lambda_slim._inputs.target import Target, host_runtime
from lambda_slim._install.compile import compile_tree
from lambda_slim._install.installer import PipInstaller, UvInstaller
from lambda_slim._install.pip import Pip
from lambda_slim._install.progress import pip_lines
from lambda_slim._install.stage import LockSettings, existing_lock, stage_tree
from lambda_slim._install.uv import Uv, find_uv
from lambda_slim._sandbox.safety import check_and_repair, clone_tree
from lambda_slim._sandbox.trees import TreesUnderTest
from tests.helpers import RecordingReporter
from tests.integration.test_uv_installer import needs_uv

TARGET = Target(host_runtime(), "x86_64")


def test_pip_lines_count_the_packages_collected_then_those_installed() -> None:
    reporter = RecordingReporter()
    reporter.stage("resolving", None, "package")
    on_line = pip_lines(reporter)
    for line in (
        "Looking in links: /wheels",
        "Collecting slimdemo",
        "  Downloading slimdemo-1.0-py3-none-any.whl (2 kB)",
        "Processing /wheels/slimdep-1.0-py3-none-any.whl",
        "Collecting other@ https://example.com/other-1.0-py3-none-any.whl",
        "WARNING: Location 'file:///nowhere' is ignored",
        "Installing collected packages: slimdep, slimdemo, other",
        "Successfully installed other-1.0 slimdemo-1.0 slimdep-1.0",
    ):
        on_line(line)
    assert reporter.summary() == [("resolving", None, "package", 3), ("installing 3 packages", 3, "package", 3)]


def test_a_long_pip_step_reports_each_package_while_pip_still_runs(tmp_path: Path) -> None:
    """A fake pip that prints its second package only once the first has been reported: were the output read only
    when pip ends, it would wait in vain and fail."""
    seen = tmp_path / "seen"
    reporter = RecordingReporter(on_advance=lambda: seen.touch())
    reporter.stage("resolving", None, "package")
    script = (
        "echo 'Collecting first'; "
        f"i=0; while [ ! -e {seen} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
        f"[ -e {seen} ] || exit 9; "
        "echo 'Collecting second'; echo 'Installing collected packages: first, second'; "
        "echo 'Successfully installed first-1 second-1'"
    )
    _subprocess.run(["sh", "-c", script], what="installing", on_line=pip_lines(reporter))
    assert reporter.summary() == [("resolving", None, "package", 2), ("installing 2 packages", 2, "package", 2)]


def stage_project(root: Path, tmp: Path, reporter: RecordingReporter, installer: str = "pip") -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "handler.py").write_text("import slimdemo\n\ndef handler(event, context):\n    return 1\n")
    (root / "requirements.txt").write_text("slimdemo\n")
    inputs = requirement_inputs(ProjectSettings(root, TARGET, root / "dist"))
    settings = LockSettings(root, TARGET)
    pip = Pip(TARGET, sys.executable, inputs.indexes)
    chosen = UvInstaller(Uv(find_uv(), inputs.indexes)) if installer == "uv" else PipInstaller(pip)
    tmp.mkdir()
    app = [AppFile("handler.py", root / "handler.py")]
    tools = (pip, chosen, sys.executable)
    stage_tree(settings, inputs, app, existing_lock(settings, inputs), tools, None, tmp, reporter)


@pytest.mark.usefixtures("offline_pip")
@pytest.mark.parametrize("installer", ["pip", pytest.param("uv", marks=needs_uv)])
def test_staging_reports_packages_resolved_and_installed_and_files_compiled(tmp_path: Path, installer: str) -> None:
    """The offline wheelhouse: slimdemo needs slimdep, so two packages are resolved and installed; then the same
    project, locked, installs both again (no cache here)."""
    root = tmp_path / "project"
    first = RecordingReporter()
    stage_project(root, tmp_path / "first", first, installer)
    resolving, installing, compiling, app = first.stages
    assert (resolving.name, resolving.total, resolving.unit, resolving.done) == ("resolving", None, "package", 2)
    if installer == "pip":
        assert resolving.steps == [1, 1], "pip's packages are counted one by one, as it collects them"
    assert (installing.name, installing.total, installing.unit, installing.done) == (
        "installing 2 packages",
        2,
        "package",
        2,
    )
    # slimdemo has 4 modules (its tests included), slimdep 1.
    assert (compiling.name, compiling.total, compiling.unit, compiling.steps) == (
        "compiling bytecode",
        5,
        "file",
        [1] * 5,
    )
    assert (app.name, app.total, app.unit, app.done) == ("compiling the app", 1, "file", 1)
    again = RecordingReporter()
    stage_project(root, tmp_path / "again", again, installer)
    fetching = again.stages[0]
    assert (fetching.name, fetching.total, fetching.unit) == (
        "installing 2 of 2 packages (the rest cached)",
        2,
        "package",
    )
    installed = sum(stage.done for stage in again.stages if stage.unit == "package")
    assert installed == (4 if installer == "pip" else 2)  # pip: fetched, then unpacked; uv: once, when done


def test_compiling_counts_every_file_in_both_of_the_workers_ways(tmp_path: Path) -> None:
    """One by one, and by a pool of processes (over 200 files): each file is counted once, as it is compiled."""
    for index in range(250):
        (tmp_path / f"m{index}.py").write_text(f"X = {index}\n")
    (tmp_path / "bad.py").write_text("def f(:\n")
    for workers, sources in ((1, ["m1.py", "m2.py", "bad.py"]), (2, None)):
        reporter = RecordingReporter()
        result = compile_tree(
            tmp_path, sys.executable, "/var/task", workers=workers, sources=sources, reporter=reporter
        )
        [stage] = reporter.stages
        count = 3 if sources else 251
        assert (stage.name, stage.total, stage.unit, stage.steps) == ("compiling bytecode", count, "file", [1] * count)
        assert len(result.compiled) == count - 1 and [path for path, _ in result.failed] == ["bad.py"]


def test_zipping_counts_the_bytes_of_each_file_as_it_goes_into_the_zip(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    sizes = {"a.py": 10, "pkg/b.bin": 300_000, "pkg/c.txt": 0, "z.so": 4096}
    for name, size in sizes.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * size)
    zipped: list[int] = []
    artifact = write_zip(root, tmp_path / "f.zip", kind="function", epoch=315532800, zipped=zipped.append)
    assert sorted(zipped) == sorted(sizes.values())  # one call per file, as its deflating is done
    assert sum(zipped) == artifact.unzipped_bytes


def test_verifying_counts_the_modules_and_the_handler(tmp_path: Path) -> None:
    naive = tmp_path / "naive"
    for path, text in {
        "handler.py": "import dep\n\ndef handler(event, context):\n    return 1\n",
        "dep/__init__.py": "",
        "other.py": "",
    }.items():
        (naive / path).parent.mkdir(parents=True, exist_ok=True)
        (naive / path).write_text(text)
    clone_tree(naive, tmp_path / "slim")
    tag = f"{sys.version_info[0]}.{sys.version_info[1]}"
    trees = TreesUnderTest(naive, tmp_path / "slim", sys.executable, tag, "handler.handler", None, ())
    from lambda_slim._artifacts.inventory import scan_tree

    reporter = RecordingReporter()
    check_and_repair(trees, scan_tree(naive, frozenset({"handler.py"})), (), None, reporter=reporter)
    [stage] = reporter.stages
    assert (stage.name, stage.total, stage.unit, stage.steps) == ("verifying 3 modules", 4, "module", [3, 1])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_is_drawn_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    reporter = TerminalReporter()
    reporter.stage("resolving", None, "package")
    reporter.advance(3)
    reporter.stage("writing zips", 1000, "B")
    reporter.advance(1000)
    reporter.close()
    assert stderr.getvalue() == ""
    reporter.warn("something")
    assert stderr.getvalue() == "warning: something\n"  # warnings are not progress: they are always shown


def test_on_a_terminal_each_stage_shows_its_unit_and_the_time_moves_while_nothing_is_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(TerminalReporter, "TICK_SECONDS", 0.05)
    reporter = TerminalReporter()
    reporter.stage("resolving", None, "package")
    reporter.advance(2)
    drawn = terminal.getvalue()
    time.sleep(1.2)  # no advance: only the ticker draws, with the elapsed time
    waiting = terminal.getvalue()[len(drawn) :]
    assert "resolving: 2 packages" in waiting and "00:01" in waiting
    reporter.stage("writing zips", 2_000_000, "B")
    reporter.advance(1_000_000)
    time.sleep(0.3)  # an update draws at most every 0.1 s: the ticker draws this one
    reporter.close()
    output = terminal.getvalue()
    assert "writing zips" in output and "1.00M/2.00M" in output
    assert common.TerminalReporter(quiet=True).enabled is False
