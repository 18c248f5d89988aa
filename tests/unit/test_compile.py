from __future__ import annotations

import importlib.util
import marshal
import sys
from pathlib import Path

from lambda_slim._install.compile import compile_tree


def test_compiles_unchecked_hash_pycs_and_reports_failures(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (tmp_path / "broken.py").write_text("print 'python 2'\n")
    result = compile_tree(tmp_path, sys.executable, "/var/task", workers=1)
    tag = sys.implementation.cache_tag
    assert result.compiled == {f"pkg/__pycache__/__init__.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"}
    assert [path for path, _ in result.failed] == ["broken.py"]
    data = (tmp_path / "pkg" / "__pycache__" / f"mod.{tag}.pyc").read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked
    # Tracebacks name the path inside Lambda, not the build's temporary directory.
    assert marshal.loads(data[16:]).co_filename == "/var/task/pkg/mod.py"


def test_parallel_compile_gives_identical_bytes(tmp_path: Path) -> None:
    for root in (tmp_path / "a", tmp_path / "b"):
        for index in range(250):
            (root / "pkg").mkdir(parents=True, exist_ok=True)
            (root / "pkg" / f"m{index}.py").write_text(f"X = {index}\ndef f(y):\n    return y * {index}\n")
    compile_tree(tmp_path / "a", sys.executable, "/var/task", workers=1)
    compile_tree(tmp_path / "b", sys.executable, "/var/task", workers=2)
    for pyc in (tmp_path / "a" / "pkg" / "__pycache__").iterdir():
        assert pyc.read_bytes() == (tmp_path / "b" / "pkg" / "__pycache__" / pyc.name).read_bytes()
