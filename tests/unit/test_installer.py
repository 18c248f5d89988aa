"""The installer interface: pip and uv resolve the same inputs to the same lock and install the same files, so
staging never needs to know which one runs; and `install` installs exactly a lock, checked against its hashes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_slim._errors import InstallError
from lambda_slim._inputs.indexes import IndexSettings, Location
from lambda_slim._inputs.project import ProjectSettings, RequirementInputs, requirement_inputs
from lambda_slim._inputs.target import Target, host_runtime
from lambda_slim._install.installer import Installer, PipInstaller, UvInstaller, installer_for
from lambda_slim._install.pip import Pip
from lambda_slim._install.resolve import Lock, Pin

TARGET = Target(host_runtime(), "x86_64")
PIP = Pip(TARGET, sys.executable, IndexSettings())


def inputs(root: Path, requirements: str) -> RequirementInputs:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(requirements)
    return requirement_inputs(ProjectSettings(root, TARGET, root / "dist"))


def files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def installer(name: str, wheelhouse: Path) -> Installer:
    """pip or uv, told by the project's index settings (as a build tells them) to read only the wheelhouse."""
    indexes = IndexSettings(find_links=(Location(str(wheelhouse), "the test"),), no_index=True)
    return installer_for("uv" if name == "uv" else "pip", Pip(TARGET, sys.executable, indexes), indexes)


def test_the_installer_named_is_the_one_built() -> None:
    assert installer_for("pip", PIP, IndexSettings()) == PipInstaller(PIP)
    assert isinstance(installer_for("uv", PIP, IndexSettings()), UvInstaller)


@pytest.mark.parametrize("name", ["pip", "uv"])
def test_resolving_installs_what_it_locks_and_the_lock_installs_the_same_files(
    name: str, one_wheel: Path, tmp_path: Path
) -> None:
    chosen = installer(name, one_wheel)
    resolved_into, installed_into = tmp_path / "resolved", tmp_path / "installed"
    lock = chosen.resolve(inputs(tmp_path / "project", "slimdemo\n"), TARGET, install_into=resolved_into)
    assert [(pin.name, pin.version, len(pin.hashes)) for pin in lock.pins] == [("slimdemo", "1.0", 1)]
    chosen.install(lock, TARGET, installed_into)
    assert {"slimdemo/__init__.py", "slimdemo/core.py"} <= files(installed_into)
    assert files(installed_into) == files(resolved_into)
    assert not [path for path in files(installed_into) if path.endswith(".pyc")]  # compile.py writes bytecode


def test_pip_and_uv_lock_the_same_file(one_wheel: Path, tmp_path: Path) -> None:
    requirements = inputs(tmp_path / "project", "slimdemo\n")
    by_pip = installer("pip", one_wheel).resolve(requirements, TARGET, install_into=tmp_path / "pip")
    by_uv = installer("uv", one_wheel).resolve(requirements, TARGET, install_into=tmp_path / "uv")
    assert by_pip == by_uv


@pytest.mark.parametrize("name", ["pip", "uv"])
def test_a_lock_whose_hash_the_file_does_not_match_installs_nothing(name: str, one_wheel: Path, tmp_path: Path) -> None:
    lock = Lock("key", (Pin("slimdemo", "1.0", ("0" * 64,)),))
    with pytest.raises(InstallError) as caught:
        installer(name, one_wheel).install(lock, TARGET, tmp_path / "dest", hash_hint="delete slim.lock")
    assert "delete slim.lock" in caught.value.message
    assert not any((tmp_path / "dest").rglob("*.py"))


def test_an_empty_lock_installs_nothing_and_runs_no_installer(tmp_path: Path) -> None:
    broken = Pip(TARGET, str(tmp_path / "no-python"), IndexSettings())
    PipInstaller(broken).install(Lock("key", ()), TARGET, tmp_path / "dest")
    assert (tmp_path / "dest").is_dir() and not any((tmp_path / "dest").iterdir())


def test_uv_resolves_with_the_builds_interpreter(
    one_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: told only the target's version (3.11.13), uv looks for a Python of exactly that version and, having
    none, downloads one: ~10 s on a machine that cannot, for an interpreter only-binary resolution never runs. It
    is given the one the build found (pip's), and locks the same."""
    import lambda_slim._install.uv as uv_module

    commands: list[list[str]] = []
    real_run = uv_module._subprocess.run

    def recorded(cmd: list[str], **options: object) -> object:
        commands.append([str(part) for part in cmd])
        return real_run(cmd, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(uv_module._subprocess, "run", recorded)
    installer("uv", one_wheel).resolve(inputs(tmp_path / "project", "slimdemo\n"), TARGET, install_into=tmp_path / "uv")
    (compile_command,) = [command for command in commands if command[1:3] == ["pip", "compile"]]
    assert compile_command[compile_command.index("--python") + 1] == sys.executable
