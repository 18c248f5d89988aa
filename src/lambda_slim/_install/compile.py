"""Hash-based bytecode (PEP 552, unchecked) for every module, written by an interpreter of the target version.

Timestamp pycs are ignored after a zip round trip (2-second DOS times, fixed dates), and Lambda's read-only tree
throws away what Python compiles at import, so only unchecked-hash pycs save the compile at every cold start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lambda_slim import _subprocess
from lambda_slim._artifacts.inventory import record_paths, source_of_bytecode
from lambda_slim._errors import CompileError

# Runs under the target interpreter, so the pyc names and the magic number are the target's.
_COMPILE_SCRIPT = r"""
import importlib.util, json, os, py_compile, sys
import multiprocessing

root, display_root, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])

def compile_one(rel):
    source = os.path.join(root, rel)
    try:
        target = importlib.util.cache_from_source(source)
        py_compile.compile(source, cfile=target, dfile=display_root + "/" + rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        return rel, os.path.relpath(target, root).replace(os.sep, "/"), None
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
        return rel, None, str(getattr(exc, "msg", exc)).strip().splitlines()[-1][:300]

if __name__ == "__main__":
    sources = json.load(sys.stdin)
    if sources is None:
        sources = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    sources.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    sources.sort()
    if workers > 1 and len(sources) > 200:
        # fork explicitly: a -c script cannot be re-imported by spawn/forkserver (3.14's default).
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = list(pool.imap_unordered(compile_one, sources, chunksize=64))
    else:
        results = [compile_one(rel) for rel in sources]
    compiled = sorted(pyc for _, pyc, error in results if pyc)
    failed = sorted((rel, error) for rel, _, error in results if error)
    json.dump({"compiled": compiled, "failed": failed}, sys.stdout)
"""


@dataclass(frozen=True)
class CompileResult:
    compiled: frozenset[str]  # pyc paths relative to the root
    failed: tuple[tuple[str, str], ...]  # (source, why): left without bytecode, still importable as source

    @cached_property
    def sources(self) -> frozenset[str]:
        """The sources that have a pyc."""
        return frozenset(filter(None, (source_of_bytecode(path) for path in self.compiled)))


def compile_tree(
    root: Path,
    interpreter: str,
    display_root: str,
    workers: int | None = None,
    sources: Sequence[str] | None = None,
) -> CompileResult:
    """Compile every .py below `root`, or only `sources` (paths relative to it). `display_root` is the path
    tracebacks show (/var/task, /opt/python)."""
    workers = workers or os.cpu_count() or 1
    if sources is not None and not sources:
        return CompileResult(frozenset(), ())
    done = _subprocess.run(
        [interpreter, "-I", "-c", _COMPILE_SCRIPT, str(root), display_root, str(workers)],
        input=json.dumps(None if sources is None else list(sources)),
        what=f"compiling bytecode with {interpreter}",
        hint="Check that the interpreter runs, or build with --no-compile.",
        error=CompileError,
    )
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise CompileError(
            f"compiling bytecode with {interpreter} printed something unexpected.", details=done.stdout + done.stderr
        ) from exc
    return CompileResult(frozenset(result["compiled"]), tuple((rel, why) for rel, why in result["failed"]))


def record_bytecode(root: Path, compiled: frozenset[str]) -> None:
    """List each pyc in the RECORD of its source's distribution (`path,,`), as pip does when it compiles, so the
    unslimmed tree is exactly what `pip install -t` leaves and tools that read RECORD see every file."""
    records: dict[str, Path] = {}
    for record in root.glob("*.dist-info/RECORD"):
        for path in record_paths(record.read_text(encoding="utf-8", errors="replace")):
            records[path] = record
    additions: dict[Path, list[str]] = {}
    for pyc in sorted(compiled):
        source = source_of_bytecode(pyc)
        if source in records:
            additions.setdefault(records[source], []).append(f"{pyc},,\n")
    for record, lines in additions.items():
        with record.open("a", encoding="utf-8") as handle:
            handle.writelines(lines)
