from __future__ import annotations

import ast
import builtins
import importlib.util
import marshal
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_slim._install import compile_worker
from lambda_slim._install.compile import compile_tree
from tests.helpers import older_python


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


def test_a_source_compiles_to_its_pyc_or_says_why(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "ok.py").write_text("X = 1\n")
    (tmp_path / "pkg" / "bad.py").write_text("def f(:\n")
    tag = sys.implementation.cache_tag
    assert compile_worker.compile_one(str(tmp_path), "/opt/python", "pkg/ok.py") == (
        "pkg/ok.py",
        f"pkg/__pycache__/ok.{tag}.pyc",
        None,
    )
    data = (tmp_path / "pkg" / "__pycache__" / f"ok.{tag}.pyc").read_bytes()
    assert marshal.loads(data[16:]).co_filename == "/opt/python/pkg/ok.py"
    rel, pyc, why = compile_worker.compile_one(str(tmp_path), "/opt/python", "pkg/bad.py")
    assert (rel, pyc) == ("pkg/bad.py", None) and why is not None and "invalid syntax" in why
    assert compile_worker.compile_one(str(tmp_path), "/opt/python", "gone.py")[2] is not None


# Every identifier the string script that compile_worker.py replaced named. On Python 3.9 and 3.10 marshal marks
# for reuse a string that anything else in the compiling process references, so a name the worker adds can change
# the bytes of a pyc whose module uses that name once: the zips of those runtimes would change.
_SCRIPT_NAMES = frozenset(
    "Pool PyCompileError PycInvalidationMode UNCHECKED_HASH _ __main__ "  # noqa: SIM905 (5 lines, not 60)
    "__pycache__ append argv cache_from_source cfile chunksize compile_one compiled d dfile dirnames dirpath "
    "display_root doraise dump endswith error exc failed filenames fork get_context imap_unordered importlib "
    "invalidation_mode join json load msg multiprocessing name os path pool py_compile pyc rel relpath replace "
    "results root sep sort source sources splitlines stdin stdout strip sys target util walk workers".split()
)
# Alive in that process anyway (the modules it imports hold them), measured on 3.9 to 3.13.
_ALIVE_ANYWAY = frozenset({"functools", "partial", "main", *dir(builtins)})


def test_the_worker_names_nothing_new() -> None:
    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(compile_worker.__file__).read_text())):
        for attribute in ("id", "name", "attr", "arg", "asname", "module"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                names.update(value.split("."))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"\w+", node.value):
            names.add(node.value)  # the compiler interns constants made of name characters
    assert names - _SCRIPT_NAMES - _ALIVE_ANYWAY == set()


@pytest.mark.parametrize("minor", [9, 10])
def test_compiles_with_the_oldest_lambda_pythons(tmp_path: Path, minor: int) -> None:
    """The worker is written for Python 3.9: it runs there, and the pycs are that version's."""
    python = older_python(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine")
    (tmp_path / "mod.py").write_text("X = 1\n")
    (tmp_path / "bad.py").write_text("def f(:\n")
    result = compile_tree(tmp_path, python, "/var/task", workers=1)
    assert result.compiled == {f"__pycache__/mod.cpython-3{minor}.pyc"}
    assert [path for path, _ in result.failed] == ["bad.py"]
    magic = subprocess.run(
        [python, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (tmp_path / "__pycache__" / f"mod.cpython-3{minor}.pyc").read_bytes()[:4].hex() == magic
