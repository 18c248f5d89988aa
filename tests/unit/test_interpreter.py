from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_slim._errors import TargetError
from lambda_slim._inputs.interpreter import find_interpreter
from lambda_slim._inputs.target import Target

HOST = Target(f"python{sys.version_info[0]}.{sys.version_info[1]}", "x86_64")


def test_host_python_serves_its_own_runtime() -> None:
    assert find_interpreter(HOST) == sys.executable


def test_explicit_interpreter_of_another_version_is_refused() -> None:
    other = Target("python3.9" if sys.version_info[:2] != (3, 9) else "python3.10", "x86_64")
    with pytest.raises(TargetError, match="bytecode is only valid for the version that wrote it"):
        find_interpreter(other, sys.executable)


def test_explicit_interpreter_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="no such interpreter"):
        find_interpreter(HOST, str(tmp_path / "python-nope"))


def test_explicit_file_that_is_not_python(tmp_path: Path) -> None:
    fake = tmp_path / "python3.11"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(TargetError, match="does not run as a Python interpreter"):
        find_interpreter(HOST, str(fake))


def test_other_version_without_interpreter_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    other = Target("python3.9" if sys.version_info[:2] != (3, 9) else "python3.10", "x86_64")
    assert find_interpreter(other) is None
