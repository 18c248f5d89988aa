"""Which files in `test`/`tests` directories run-time code imports: those are code that happens to be named test.

django ships `django/test/` (django.test.signals, the test client) and imports it from `django.core.management`
and `django.contrib.staticfiles`; numpy imports `numpy._core.tests._natype`. The `tests` rule keeps what this
finds. It follows import statements (absolute and relative, read with `ast`) from every file outside test
directories, then from each test module found, until nothing new turns up; imports named in strings
(importlib.import_module) are left to the build's safety net.

Parsing is what costs: `ast` over every source file of pandas, numpy and pyarrow took 1.4 s of a 2 s `slim
analyze`. Importing a test module takes an import statement that names the test directory (`from pkg.tests.x
import y`, `from . import tests`, `import pkg.tests`), so only a file where a byte search finds one is parsed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from lambda_slim._artifacts.inventory import Inventory, bytecode_of

TEST_DIRS = frozenset({"tests", "test"})


class _ImportNaming:
    """Whether a file's bytes hold an import statement that names one of `names` (test directories) as a whole
    word. It errs towards yes (a statement in a docstring or a comment counts; the parse settles those), never
    towards no, so a file it says no to imports none of them and need not be parsed."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(name.encode() for name in sorted(names))
        word = rb"\b(?:" + b"|".join(re.escape(name) for name in self.names) + rb")\b"
        continued = rb"\\\r?\n"  # a backslash continuation
        # `from` and a module path up to the name, on one logical line; or `import` and what follows up to the
        # name, to the end of the logical line or to the closing parenthesis (comments and all).
        self.statement = re.compile(
            rb"\bfrom(?:[\w. \t\f]|" + continued + rb")*?" + word
            + rb"|\bimport\b(?:[ \t\f]|" + continued + rb")*"
            + rb"(?:\((?:[^)#]|#[^\n]*+)*?" + word + rb"|(?:[^\n\\]|\\.)*?" + word + rb")",
            re.DOTALL,
        )  # fmt: skip

    def __call__(self, source: bytes) -> bool:
        if not any(name in source for name in self.names):
            return False
        # Tried at each keyword rather than searched for: bytes.find skips to the keywords at C speed, where a
        # regex search tries every position (5x slower over pandas).
        for keyword in (b"from", b"import"):
            at = source.find(keyword)
            while at != -1:
                if self.statement.match(source, at):
                    return True
                at = source.find(keyword, at + 1)
        return False


def in_test_dir(path: str) -> bool:
    return any(part in TEST_DIRS for part in path.split("/")[:-1])


def imported_test_files(inventory: Inventory, read: Callable[[str], bytes], pyc_tag: str) -> frozenset[str]:
    """The files under test directories that run-time code imports, with the package __init__ files above them
    and their pycs."""
    candidates = _test_modules(inventory)
    if not candidates:
        return frozenset()
    dir_names = {part for path in candidates.values() for part in path.split("/")[:-1]} & TEST_DIRS
    names_a_test_dir = _ImportNaming(dir_names)
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
        for module in _imported_modules(path, read, names_a_test_dir):
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


def _imported_modules(path: str, read: Callable[[str], bytes], names_a_test_dir: _ImportNaming) -> Iterable[str]:
    """What the file's import statements import: every statement of a file in a test directory, only those of a
    file elsewhere when one names a test directory."""
    source = read(path)
    if not in_test_dir(path) and not names_a_test_dir(source):
        return ()
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        return ()
    package = _module_name(path) if path.endswith("__init__.py") else _module_name(path).rpartition(".")[0]
    found: list[str] = []
    for node in _statements(tree.body):
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


def _statements(body: list[ast.stmt]) -> Iterable[ast.AST]:
    """Every statement, nested ones included, without walking the expressions (most of a tree's nodes): an import
    is a statement, and statements sit only in statement lists (bodies, else branches, except handlers, cases)."""
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            nested = getattr(node, field, None)
            if isinstance(nested, list):
                pending += nested
