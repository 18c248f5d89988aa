"""Staging a build: when slim.lock is used, when it must be resolved and when --locked refuses, and the unslimmed
tree: the locked distributions and the app's files, compiled by the interpreter given (or not at all)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lambda_slim._errors import ResolveError
from lambda_slim._inputs.project import AppFile, ProjectSettings, RequirementInputs, requirement_inputs
from lambda_slim._inputs.target import Target, host_runtime
from lambda_slim._install.installer import PipInstaller
from lambda_slim._install.pip import Pip
from lambda_slim._install.resolve import Lock, Pin, lock_key, render_lock
from lambda_slim._install.stage import LockSettings, Staged, existing_lock, stage_tree
from lambda_slim._progress import NullReporter

TARGET = Target(host_runtime(), "x86_64")


def project(root: Path, requirements: str | None = None) -> RequirementInputs:
    root.mkdir(parents=True, exist_ok=True)
    (root / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return requirement_inputs(ProjectSettings(root, TARGET, root / "dist"))


def refusal(settings: LockSettings, inputs: RequirementInputs) -> str:
    with pytest.raises(ResolveError) as caught:
        existing_lock(settings, inputs)
    return caught.value.message


def test_a_project_without_dependencies_needs_no_lock(tmp_path: Path) -> None:
    outcome = existing_lock(LockSettings(tmp_path, TARGET, locked=True), project(tmp_path))
    assert outcome is not None and (outcome.status, outcome.lock.pins) == ("no dependencies", ())
    assert not (tmp_path / "slim.lock").exists()


def test_requirements_without_slim_lock_are_resolved_unless_locked_forbids_it(tmp_path: Path) -> None:
    inputs = project(tmp_path, "slimdemo\n")
    assert existing_lock(LockSettings(tmp_path, TARGET), inputs) is None
    assert refusal(LockSettings(tmp_path, TARGET, locked=True), inputs) == (
        f"slim.lock is missing for requirements.txt and {TARGET.describe()}, and --locked forbids resolving: run "
        "`slim build` without --locked and commit slim.lock."
    )


def test_requirements_that_pin_everything_need_no_slim_lock_even_when_locked(tmp_path: Path) -> None:
    assert existing_lock(LockSettings(tmp_path, TARGET, locked=True), project(tmp_path, "slimdemo==1.0\n")) is None


def test_slim_lock_is_used_while_the_inputs_and_the_target_are_those_it_was_written_for(tmp_path: Path) -> None:
    inputs = project(tmp_path, "slimdemo\n")
    settings = LockSettings(tmp_path, TARGET, locked=True)
    lock = Lock(lock_key(inputs, TARGET), (Pin("slimdemo", "1.0", ("0" * 64,)),))
    settings.path.write_text(render_lock(lock, inputs, TARGET, tmp_path))
    outcome = existing_lock(settings, inputs)
    assert outcome is not None and (outcome.status, outcome.lock) == ("slim.lock reused", lock)
    assert existing_lock(LockSettings(tmp_path, Target(host_runtime(), "arm64")), inputs) is None
    changed = project(tmp_path, "slimdemo>=1\n")
    assert existing_lock(LockSettings(tmp_path, TARGET), changed) is None
    assert refusal(settings, changed).startswith("slim.lock is out of date for requirements.txt")


def stage(root: Path, inputs: RequirementInputs, tmp: Path, compiler: str | None, locked: bool = False) -> Staged:
    settings = LockSettings(root, TARGET, locked)
    app = [AppFile("handler.py", root / "handler.py")]
    pip = Pip(TARGET, sys.executable, inputs.indexes)
    tools = (pip, PipInstaller(pip), compiler)
    tmp.mkdir()
    return stage_tree(settings, inputs, app, existing_lock(settings, inputs), tools, None, tmp, NullReporter())


@pytest.mark.usefixtures("one_wheel")
def test_a_missing_lock_is_resolved_installed_and_written_then_used(tmp_path: Path) -> None:
    root = tmp_path / "project"
    inputs = project(root, "slimdemo\n")
    first = stage(root, inputs, tmp_path / "first", sys.executable)
    assert first.resolved and first.locked.status == "slim.lock written"
    assert [(pin.name, pin.version) for pin in first.locked.lock.pins] == [("slimdemo", "1.0")]
    assert "slimdemo==1.0" in (root / "slim.lock").read_text()
    tree = tmp_path / "first" / "function"
    assert (tree / "slimdemo" / "core.py").is_file() and (tree / "handler.py").is_file()
    tag = sys.implementation.cache_tag
    assert {f"__pycache__/handler.{tag}.pyc", f"slimdemo/__pycache__/core.{tag}.pyc"} <= first.compiled.compiled
    second = stage(root, inputs, tmp_path / "second", sys.executable, locked=True)
    assert not second.resolved and second.locked.status == "slim.lock reused"
    assert (tmp_path / "second" / "function" / "slimdemo" / "core.py").is_file()


def test_without_a_compiler_nothing_is_compiled_and_the_apps_modes_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "project"
    inputs = project(root)
    os.chmod(root / "handler.py", 0o755)
    staged = stage(root, inputs, tmp_path / "build", None)
    tree = tmp_path / "build" / "function"
    assert staged.compiled.compiled == frozenset() and not list(tree.rglob("*.pyc"))
    assert os.access(tree / "handler.py", os.X_OK)
    assert staged.locked.status == "no dependencies" and not staged.resolved
