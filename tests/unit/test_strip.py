from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from lambda_slim._inputs.target import Target
from lambda_slim._slimming import strip
from lambda_slim._slimming.rules import Decision

TARGET = Target("python3.11", "x86_64")


def fake_strip(tmp_path: Path, script: str) -> str:
    tool = tmp_path / "fake-strip"
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return str(tool)


def test_removes_files_and_prunes_empty_directories(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "pkg" / "tests").mkdir(parents=True)
    (root / "pkg" / "tests" / "test_a.py").write_text("x")
    (root / "pkg" / "a.py").write_text("x")
    result = strip.apply_decisions(
        root, [Decision("pkg/tests/test_a.py", "remove", "tests"), Decision("pkg/a.py", "keep")], TARGET
    )
    assert result.removed_files == 1
    assert not (root / "pkg" / "tests").exists()
    assert (root / "pkg" / "a.py").exists()


def test_a_failing_strip_leaves_the_library_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    lib = root / "lib.so"
    shutil.copyfile("/bin/ls", lib)
    original = lib.read_bytes()
    monkeypatch.setattr(strip, "strip_tool", lambda target: fake_strip(tmp_path, "echo boom >&2; exit 3\n"))
    result = strip.apply_decisions(root, [Decision("lib.so", "strip", "symbol-tables")], TARGET)
    assert lib.read_bytes() == original
    assert result.stripped == ()
    assert "kept lib.so unstripped" in result.warnings[0]
    assert os.listdir(root) == ["lib.so"]


def test_a_stripped_library_the_loader_would_reject_is_not_shipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    lib = root / "lib.so"
    shutil.copyfile("/bin/ls", lib)
    original = lib.read_bytes()
    # The "stripped" output is a truncated ELF: smaller, but its segments no longer load.
    monkeypatch.setattr(strip, "strip_tool", lambda target: fake_strip(tmp_path, 'head -c 100 "$4" > "$3"\n'))
    result = strip.apply_decisions(root, [Decision("lib.so", "strip", "symbol-tables")], TARGET)
    assert lib.read_bytes() == original
    assert "misalign" in result.warnings[0]


def test_no_strip_tool_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile("/bin/ls", root / "lib.so")
    monkeypatch.setattr(strip, "strip_tool", lambda target: None)
    result = strip.apply_decisions(root, [Decision("lib.so", "strip", "debug-symbols")], TARGET)
    assert "no strip for x86_64" in result.warnings[0]


def test_real_strip_shrinks_and_keeps_mode(tmp_path: Path) -> None:
    if strip.strip_tool(TARGET) is None:
        pytest.skip("no strip on this machine")
    root = tmp_path / "root"
    root.mkdir()
    lib = root / "lib.so"
    shutil.copyfile("/bin/ls", lib)
    lib.chmod(0o755)
    before = lib.stat().st_size
    result = strip.apply_decisions(root, [Decision("lib.so", "strip", "symbol-tables")], TARGET)
    assert result.warnings == ()
    if result.stripped:
        assert lib.stat().st_size == before - result.stripped[0][1]
    assert lib.stat().st_mode & 0o777 == 0o755
