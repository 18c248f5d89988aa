"""The compatibility check of one distribution: build it with `slim build`, then import every module the unslimmed
install can import, and read every distribution's version with importlib.metadata, in both trees, in the verify
sandbox. Any difference is a failure naming the files and the rules that removed them.

Used by compat/run.py (the corpus, docs/compat.md) and by the CI subset (tests/integration/test_compat.py).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import lambda_slim
from lambda_slim import BuildOptions, SlimError
from lambda_slim._inputs.config import DEFAULT_ARCH
from lambda_slim._inputs.interpreter import find_interpreter
from lambda_slim._inputs.target import Target
from lambda_slim._install.install import install
from lambda_slim._install.pip import Pip
from lambda_slim._install.resolve import read_lock
from lambda_slim._sandbox.runner import Layout, probe, read_only
from lambda_slim._slimming.rules import Decision

RUNTIME = "python3.11"
# Imports run in chunks, so that one module that crashes the interpreter costs one chunk, which is then retried
# a module at a time.
CHUNK = 150
_CHECKER = "_slim_compat_metadata"
_CHECKER_SOURCE = """
import importlib.metadata

def handler(event, context):
    found = {}
    for name in event:
        try:
            found[name] = importlib.metadata.version(name)
        except Exception as exc:
            found[name] = f"error: {type(exc).__name__}: {exc}"
    return found
"""


@dataclass
class Outcome:
    requirement: str
    naive_bytes: int = 0
    slim_bytes: int = 0
    modules_checked: int = 0
    modules_removed: int = 0  # modules whose own files a rule removed (tests, docs...): not imported, by design
    modules_skipped: int = 0  # modules that do not import from the unslimmed install either
    distributions: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def check(requirement: str, workdir: Path) -> Outcome:
    outcome = Outcome(requirement)
    project = workdir / "project"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "compat-check"\nversion = "0"\ndependencies = [{json.dumps(requirement)}]\n\n'
        f'[tool.slim]\nruntime = "{RUNTIME}"\nmeasure-runs = 0\n',
        encoding="utf-8",
    )
    # slim refuses a project with no code of its own: a stub handler, which the corpus modules never see.
    (project / "handler.py").write_text("def handler(event, context):\n    return None\n", encoding="utf-8")
    try:
        # force: every check builds afresh, never trusting an earlier build in the same directory.
        report = lambda_slim.build(project, BuildOptions(force=True))
    except SlimError as exc:
        outcome.failures.append(f"slim build failed: {exc}")
        return outcome
    outcome.naive_bytes, outcome.slim_bytes = report.before.unzipped_bytes, report.after.unzipped_bytes
    restored = report.verification.restored if report.verification else ()
    outcome.failures += [f"the build's safety net had to put files back: {message}" for message in restored]
    target = Target(RUNTIME, DEFAULT_ARCH)  # what the project's [tool.slim] says
    interpreter = find_interpreter(target, None)
    assert interpreter is not None
    lock = read_lock(project / "slim.lock")
    assert lock is not None
    naive, slim = workdir / "naive", workdir / "slim"
    install(lock, target, naive, Pip(target, interpreter))
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        archive.extractall(slim)

    modules = sorted(module_names(naive))
    kept = [name for name in modules if module_file(slim, name) is not None]
    outcome.modules_removed = len(modules) - len(kept)
    naive_results = import_all(naive, interpreter, kept)
    importable = [name for name in kept if naive_results.get(name) is None]
    outcome.modules_skipped = len(kept) - len(importable)
    # The same modules in the same chunks as unslimmed: a failed import can leave half-initialised modules behind
    # that make a later one succeed, so both trees must see the same sequence.
    slim_results = import_all(slim, interpreter, kept)
    outcome.modules_checked = len(importable)
    for name in importable:
        error = slim_results.get(name, "not attempted: the interpreter crashed")
        if error is not None:
            outcome.failures.append(f"{name} imports unslimmed but not slimmed: {last_line(error)}"
                                    f"{culprits(error, name, report.decisions)}")  # fmt: skip

    names = [pin.name for pin in lock.pins]
    outcome.distributions = len(names)
    versions = {tree: metadata_versions(tree, interpreter, names) for tree in (naive, slim)}
    for name in names:
        if versions[slim].get(name) != versions[naive].get(name):
            outcome.failures.append(
                f"importlib.metadata.version({name!r}) is {versions[slim].get(name)!r} slimmed, "
                f"{versions[naive].get(name)!r} unslimmed"
            )
    return outcome


def module_names(root: Path) -> set[str]:
    """Every module a tree holds, from its files: packages, modules and extension modules, without importing."""
    names: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        parts = rel.parts
        dirnames[:] = sorted(d for d in dirnames if d.isidentifier())
        # A namespace package's modules count, but only at the top level (the common case: google/, zope/).
        if len(parts) > 1 and not (Path(dirpath) / "__init__.py").exists():
            dirnames[:] = []
            continue
        for filename in filenames:
            stem = filename.split(".", 1)[0]
            if not stem.isidentifier():
                continue
            if filename.endswith(".py") or (filename.endswith(".so") and "." in filename):
                name = ".".join([*parts, stem]) if stem != "__init__" else ".".join(parts)
                if name:
                    names.add(name)
    return names


def module_file(root: Path, name: str) -> Path | None:
    """The file that is the module in `root`, or None when slimming removed it."""
    base = root.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.exists():
            return candidate
    if base.is_dir():
        return base  # a namespace package
    matches = list(base.parent.glob(f"{base.name}.*.so")) if base.parent.is_dir() else []
    return matches[0] if matches else None


def import_all(root: Path, interpreter: str, modules: list[str]) -> dict[str, str | None]:
    """module -> None (imported) or its error, each chunk in a fresh sandbox interpreter."""
    layout = Layout(root)
    results: dict[str, str | None] = {}
    with read_only([root]):
        for start in range(0, len(modules), CHUNK):
            chunk = modules[start : start + CHUNK]
            found = _probe_modules(layout, interpreter, chunk)
            if found is None:  # the interpreter died: one module at a time finds which
                for name in chunk:
                    alone = _probe_modules(layout, interpreter, [name])
                    results[name] = "the interpreter crashed" if alone is None else alone[name]
            else:
                results.update(found)
    return results


def _probe_modules(layout: Layout, interpreter: str, modules: list[str]) -> dict[str, str | None] | None:
    try:
        result = probe(layout, interpreter, modules=modules, timeout=300)
    except SlimError:
        return None
    return result.modules if result.modules or not modules else None


def metadata_versions(root: Path, interpreter: str, names: list[str]) -> dict[str, str]:
    # The checker is the handler of one probe: it goes beside the tree's files (a scratch copy) for that probe.
    checker = root / f"{_CHECKER}.py"
    checker.write_text(_CHECKER_SOURCE, encoding="utf-8")
    try:
        result = probe(Layout(root), interpreter, handler=f"{_CHECKER}.handler", event=names)
    finally:
        checker.unlink()
    if result.error:
        return dict.fromkeys(names, f"error: {last_line(result.error)}")
    return dict(result.result)


def last_line(error: str) -> str:
    return error.strip().splitlines()[-1] if error.strip() else error


def culprits(error: str, module: str, decisions: tuple[Decision, ...]) -> str:
    """The removed or stripped files the error names, or else those of the module's package, with their rules."""
    changed = [d for d in decisions if d.action != "keep"]
    named = [d for d in changed if d.path in error or d.path.rsplit("/", 1)[-1] in error]
    if not named:
        package = module.split(".")[0] + "/"
        named = [d for d in changed if d.path.startswith(package)]
    if not named:
        return ""
    listed = ", ".join(f"{d.path} ({d.rule})" for d in named[:5])
    return f" [changed files: {listed}{' ...' if len(named) > 5 else ''}]"
