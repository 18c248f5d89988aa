"""Which files in `test`/`tests` directories run-time code imports: those are code that happens to be named test.

django ships `django/test/` (django.test.signals, the test client) and imports it from `django.core.management`
and `django.contrib.staticfiles`; numpy imports `numpy._core.tests._natype`. The `tests` rule keeps what this
finds. It follows import statements (absolute and relative, read with `ast`) from every file outside test
directories, then from each test module found, until nothing new turns up; imports named in strings
(importlib.import_module) are left to the build's safety net.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from lambda_slim._artifacts.inventory import Inventory, bytecode_of

TEST_DIRS = frozenset({"tests", "test"})
# Only files that mention a test directory by name are parsed.
_MENTIONS_TESTS = re.compile(rb"\btests?\b")


def in_test_dir(path: str) -> bool:
    return any(part in TEST_DIRS for part in path.split("/")[:-1])


def imported_test_files(inventory: Inventory, read: Callable[[str], bytes], pyc_tag: str) -> frozenset[str]:
    """The files under test directories that run-time code imports, with the package __init__ files above them
    and their pycs."""
    candidates = _test_modules(inventory)
    if not candidates:
        return frozenset()
    kept: set[str] = set()
    pending = [
        entry.path
        for entry in inventory.files
        if entry.path.endswith(".py") and not in_test_dir(entry.path) and entry.name != "conftest.py"
    ]
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path, read):
            found = candidates.get(module)
            if found is not None and found not in kept:
                kept.update(_with_parents(found, candidates))
                pending += [p for p in _with_parents(found, candidates) if p not in seen]
    return frozenset(kept | {bytecode_of(path, pyc_tag) for path in kept})


def _test_modules(inventory: Inventory) -> dict[str, str]:
    """Dotted module name -> file, for every module under a test directory."""
    modules = {}
    for entry in inventory.files:
        if entry.path.endswith(".py") and in_test_dir(entry.path):
            modules[_module_name(entry.path)] = entry.path
    return modules


def _module_name(path: str) -> str:
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _with_parents(path: str, candidates: dict[str, str]) -> list[str]:
    """The module's file and the __init__.py of each package above it that is itself a test module."""
    files = [path]
    name = _module_name(path)
    while "." in name:
        name = name.rsplit(".", 1)[0]
        if name in candidates:
            files.append(candidates[name])
    return files


def _imported_modules(path: str, read: Callable[[str], bytes]) -> Iterable[str]:
    source = read(path)
    if not in_test_dir(path) and not _MENTIONS_TESTS.search(source):
        return ()
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        return ()
    package = _module_name(path) if path.endswith("__init__.py") else _module_name(path).rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += _prefixes(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, base] if base else anchor)
            found += _prefixes(base)
            found += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return found


def _prefixes(name: str) -> list[str]:
    """`a.b.c` -> a, a.b, a.b.c: importing a module runs every package above it."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
