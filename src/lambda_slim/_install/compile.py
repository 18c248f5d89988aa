"""Hash-based bytecode (PEP 552, unchecked) for every module, written by an interpreter of the target version.

Timestamp pycs are ignored after a zip round trip (2-second DOS times, fixed dates), and Lambda's read-only tree
throws away what Python compiles at import, so only unchecked-hash pycs save the compile at every cold start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lambda_slim import _subprocess
from lambda_slim._artifacts.inventory import record_paths, source_of_bytecode
from lambda_slim._errors import CompileError
from lambda_slim._progress import Reporter

# Runs under the target interpreter, by path: the file is part of the package, linted and tested like the rest.
_COMPILE_WORKER = Path(__file__).with_name("compile_worker.py")


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
    reporter: Reporter | None = None,
    stage: str = "compiling bytecode",
) -> CompileResult:
    """Compile every .py below `root`, or only `sources` (paths relative to it). `display_root` is the path
    tracebacks show (/var/task, /opt/python). `reporter` gets a stage named `stage`, of the sources to compile,
    and each file as it is compiled."""
    workers = workers or os.cpu_count() or 1
    if sources is not None and not sources:
        return CompileResult(frozenset(), ())
    done = _subprocess.run(
        [interpreter, "-I", "-u", str(_COMPILE_WORKER), str(root), display_root, str(workers)],
        input=json.dumps(None if sources is None else list(sources)),
        what=f"compiling bytecode with {interpreter}",
        hint="Check that the interpreter runs, or build with --no-compile.",
        error=CompileError,
        on_line=_progress_lines(reporter, stage) if reporter is not None else None,
    )
    try:
        result = json.loads(done.stdout.rstrip().rpartition("\n")[2])  # after the progress lines
    except json.JSONDecodeError as exc:
        raise CompileError(
            f"compiling bytecode with {interpreter} printed something unexpected.", details=done.stdout + done.stderr
        ) from exc
    return CompileResult(frozenset(result["compiled"]), tuple((rel, why) for rel, why in result["failed"]))


def _progress_lines(reporter: Reporter, stage: str) -> Callable[[str], None]:
    """The worker's output as progress: its first line is the number of sources, then an empty line per file."""

    def on_line(line: str) -> None:
        if not line:
            reporter.advance()
        elif line.isdigit():
            reporter.stage(stage, int(line), "file")

    return on_line


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
