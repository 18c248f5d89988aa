"""Where the handler's init goes: its import, timed by the interpreter's own `-X importtime` in several fresh
sandbox processes, as a tree of modules, each owned by a distribution; and which of those imports no invocation
on the events uses, with the import chain that pulled each in (the "lazy import" list).

-X importtime is a command-line switch (it cannot be turned on from inside a running interpreter) and writes to
stderr at C level, so the probe runs under it and marks the handler's import on stderr; the lines between the
marks are parsed here. The probe's own imports (json, os ...) come before and are not the handler's, as Lambda's
runtime has imported its own before the handler too.

Used, for the lazy-import list: a module one of whose functions (Python or C) ran during an invocation on the
events, as a profile hook records it (the probe's `calls`). A module imported at init is deferrable when neither
it nor any module its import brought in is used; the list holds the outermost such modules. A module only read
for its data (a constant, a class never instantiated) counts as unused: the list is what to try, and the build's
verification with the import moved proves it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from lambda_slim._artifacts.inventory import APP, dist_info_name, record_paths, source_of_bytecode
from lambda_slim._errors import VerifyError
from lambda_slim._sandbox.runner import Layout, ProbeResult, probe, side_by_side

STDLIB = "(stdlib)"  # the owner of modules from the interpreter's own library, built-in ones included
DEFAULT_RUNS = 5
CHAINED = 20  # the slowest modules whose import chain the profile names

_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|( *)(\S.*?)\s*$")


@dataclass(frozen=True)
class ImportNode:
    """One module the handler's import brought in, with the modules its own import brought in first."""

    module: str
    distribution: str
    self_ms: float  # median of the runs: the module's own code
    cumulative_ms: float  # median of the runs: with what it imported
    min_cumulative_ms: float  # the least disturbed run
    children: tuple[ImportNode, ...] = ()

    def walk(self) -> Iterator[ImportNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Deferrable:
    """An import at init that no invocation on the events used: what moving it into the code that needs it saves."""

    module: str
    distribution: str
    cumulative_ms: float
    # How the handler's import reached it: the app's import statement first ("handler.py:3 import pandas"), then
    # the modules down to this one.
    chain: tuple[str, ...]
    direct: bool = False  # the app imports it itself: the app's own import statement is what to move


@dataclass(frozen=True)
class DistributionTime:
    name: str
    self_ms: float  # the summed own time of its modules: what the distribution's code costs at init
    modules: int


@dataclass(frozen=True)
class ImportProfile:
    handler: str
    runs: int
    init_ms: float  # median over the runs of the handler's whole import, as -X importtime times it
    min_init_ms: float
    roots: tuple[ImportNode, ...]  # what the handler's import statement imported, in order
    events: tuple[str, ...]  # the events the invocations ran on, for the lazy-import list
    deferrable: tuple[Deferrable, ...] | None  # None: no events, so nothing can be said
    # How the handler's import reached each of the slowest modules (CHAINED of them), app line first as Deferrable's.
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def modules(self) -> list[ImportNode]:
        """Every module, slowest (cumulative) first."""
        found = sorted(
            (node for root in self.roots for node in root.walk()), key=lambda node: (-node.cumulative_ms, node.module)
        )
        slowest: dict[str, ImportNode] = {}
        for node in found:
            slowest.setdefault(node.module, node)  # a module imported twice: its slowest appearance
        return list(slowest.values())

    def node(self, module: str) -> ImportNode | None:
        return next((node for node in self.modules() if node.module == module), None)

    def distributions(self) -> list[DistributionTime]:
        totals: dict[str, tuple[float, int]] = {}
        for node in self.modules():
            spent, count = totals.get(node.distribution, (0.0, 0))
            totals[node.distribution] = (spent + node.self_ms, count + 1)
        rows = [DistributionTime(name, spent, count) for name, (spent, count) in totals.items()]
        return sorted(rows, key=lambda row: (-row.self_ms, row.name))

    def share(self, ms: float) -> float:
        """`ms` as a percentage of the handler's init."""
        return 100.0 * ms / self.init_ms if self.init_ms else 0.0


@dataclass(frozen=True)
class _Timed:
    module: str
    self_us: int
    cumulative_us: int
    children: tuple[_Timed, ...]


def parse_importtime(lines: Iterable[str]) -> tuple[_Timed, ...]:
    """The import tree from `import time: self | cumulative | name` lines. Python writes a module's line after its
    children's, indented two spaces a level deeper; the header line and anything else are skipped."""
    pending: dict[int, list[_Timed]] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        level = len(match.group(3)) // 2
        children = tuple(pending.pop(level + 1, []))
        # Children deeper than one level would mean lines were lost: keep their modules under this one too.
        for deeper in sorted(key for key in pending if key > level + 1):
            children += tuple(pending.pop(deeper))
        node = _Timed(match.group(4), int(match.group(1)), int(match.group(2)), children)
        pending.setdefault(level, []).append(node)
    roots: list[_Timed] = []
    for level in sorted(pending):
        roots += pending[level]  # a cut-off run: what never got its parent's line stands as a root
    return tuple(roots)


def _timed_paths(nodes: Iterable[_Timed], above: tuple[_Timed, ...]) -> Iterator[tuple[_Timed, ...]]:
    for node in nodes:
        yield (*above, node)
        yield from _timed_paths(node.children, (*above, node))


class Owners:
    """Which distribution owns a module, from the dist-info RECORDs of the sandbox's sys.path entries, else (a
    slimmed zip keeps no RECORD) top_level.txt, else the distribution's name: the function's own files (claimed by
    no dist-info, at the task root) are the app's, files outside every entry the interpreter's."""

    def __init__(self, layout: Layout) -> None:
        self.roots = [Path(entry) for entry in layout.sys_path() if Path(entry).is_dir()]
        self.task_root = layout.task_root
        self.owners: dict[str, str] = {}
        self.top_owners: dict[str, str] = {}
        # python-dateutil owns dateutil, opentelemetry-api opentelemetry, when nothing else says
        self.suffixes: list[tuple[Path, str, str]] = []
        for root in self.roots:
            for record in root.glob("*.dist-info/RECORD"):
                dist = dist_info_name(record.parent.name)
                for path in record_paths(record.read_text(encoding="utf-8", errors="replace")):
                    absolute = os.path.normpath(root / path)
                    self.owners[absolute] = dist
                    if "/" in path and not path.startswith(("..", "bin/")):
                        self.top_owners.setdefault(str(root / path.split("/", 1)[0]), dist)
            # A slimmed zip keeps no RECORD: its dist-infos' top_level.txt, else the import name spelled as the
            # distribution's (pydantic_core is pydantic-core's).
            for info in root.glob("*.dist-info"):
                dist = dist_info_name(info.name)
                top_level = info / "top_level.txt"
                names = top_level.read_text(errors="replace").split() if top_level.is_file() else []
                for name in [*names, dist.replace("-", "_")]:
                    self.top_owners.setdefault(str(root / name), dist)
                self.suffixes.append((root, "-" + dist, dist))

    def of(self, file: str | None) -> str:
        if file is None:
            return STDLIB
        path = os.path.normpath(file)
        source = source_of_bytecode(path)
        for candidate in (path, source):
            if candidate is not None and candidate in self.owners:
                return self.owners[candidate]
        for root in self.roots:
            if path.startswith(str(root) + os.sep):
                first = os.path.relpath(path, root).split(os.sep, 1)[0]
                top = str(root / canonicalize_name(first.split(".", 1)[0]).replace("-", "_"))
                top = str(root / first) if str(root / first) in self.top_owners else top
                if top in self.top_owners:
                    return self.top_owners[top]
                name = canonicalize_name(first.split(".", 1)[0])
                for suffix_root, dashed, dist in self.suffixes:
                    if suffix_root == root and (dashed.endswith("-" + name) or dashed.startswith(f"-{name}-")):
                        return dist
                # Every dependency arrives with its dist-info: a top-level name none claims is the function's own.
                return APP if root == self.task_root else "(unknown)"
        return STDLIB


def profile_imports(
    layout: Layout,
    interpreter: str,
    handler: str,
    *,
    runs: int = DEFAULT_RUNS,
    events: Sequence[tuple[str, Any]] | None = None,
) -> ImportProfile:
    """Import the handler's module `runs` times under -X importtime, each in a fresh sandbox process (side by side,
    one per core), and invoke it once on each event to see what it uses, in those processes once the import is
    timed. `events`: (name, event); None or empty: no lazy-import list. The layout's trees must stay in place
    (read-only) while this runs."""
    if runs < 1:
        raise VerifyError(f"the import profile needs at least one run, not {runs}.")
    events = list(events or ())
    # Each event rides on one of the timed runs: the probe invokes the handler only once its import is timed and
    # the profile hook set after it, so the invocation costs the import nothing, and no process is started for it.
    # Events beyond the runs get a process of their own.
    plans: list[tuple[bool, tuple[str, Any] | None]] = [
        (True, events[index] if index < len(events) else None) for index in range(runs)
    ] + [(False, event) for event in events[runs:]]

    def run_one(timed_run: bool, event: tuple[str, Any] | None) -> Callable[[], ProbeResult]:
        return lambda: probe(
            layout,
            interpreter,
            handler=handler,
            event=None if event is None else event[1],
            importtime=timed_run,
            calls=event is not None,
        )

    # Side by side, one process per core, as the cold-start measurement runs its variants: on a 2-core machine the
    # profile takes half the time, and its runs share the machine as the measurement's do.
    cores = os.cpu_count() or 1
    runs_done: list[ProbeResult] = []
    for start in range(0, len(plans), cores):
        runs_done += side_by_side([run_one(*plan) for plan in plans[start : start + cores]])
    timed: list[tuple[_Timed, ...]] = []
    files: dict[str, str | None] = {}
    used: set[str] = set()
    for (timed_run, event), run in zip(plans, runs_done, strict=True):
        _raise_on_failure(run, handler)
        if event is not None:
            if run.error:
                raise VerifyError(f"the handler fails on {event[0]}: fix it first.", details=run.error)
            used.update(run.called)
        if timed_run:
            timed.append(parse_importtime(run.import_lines))
            files.update(run.module_files)
    owners = Owners(layout)
    # By the modules from the root down: a module can appear twice in one run (an extension module whose init
    # imports its own package, which imports it again), and each appearance is timed on its own.
    samples: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for tree in timed:
        for path in _timed_paths(tree, ()):
            samples.setdefault(tuple(n.module for n in path), []).append((path[-1].self_us, path[-1].cumulative_us))

    def build(node: _Timed, above: tuple[str, ...]) -> ImportNode:
        key = (*above, node.module)
        got = samples[key]
        return ImportNode(
            node.module,
            owners.of(files.get(node.module)),
            statistics.median(s for s, _ in got) / 1000,
            statistics.median(c for _, c in got) / 1000,
            min(c for _, c in got) / 1000,
            tuple(build(child, key) for child in node.children),
        )

    roots = tuple(build(node, ()) for node in timed[0])  # the first run's order: imports run in one order each time
    inits = [sum(node.cumulative_us for node in tree) / 1000 for tree in timed]
    deferrable = tuple(_deferrable(roots, used, files, layout)) if events else None
    result = ImportProfile(
        handler, runs, statistics.median(inits), min(inits), roots, tuple(name for name, _ in events), deferrable
    )
    paths = {path[-1].module: path for root in roots for path in _paths(root, ())}
    chains = {node.module: _chain(paths[node.module], files, layout) for node in result.modules()[:CHAINED]}
    return dataclasses.replace(result, chains=chains)


def _paths(node: ImportNode, above: tuple[ImportNode, ...]) -> Iterator[tuple[ImportNode, ...]]:
    """Each module with the modules from the handler's import down to it."""
    path = (*above, node)
    yield path
    for child in node.children:
        yield from _paths(child, path)


def _raise_on_failure(run: ProbeResult, handler: str) -> None:
    """The handler's import failed, or its function is not there; a failure of the invocation after it is not this.
    The probe times the import only when it returns (init_ms)."""
    if run.error and (run.init_ms is None or run.missing is not None):
        raise VerifyError(
            f"the handler {handler} does not import: fix it first (slim verify says more).", details=run.error
        )


def _deferrable(
    roots: Sequence[ImportNode], used: set[str], files: dict[str, str | None], layout: Layout
) -> list[Deferrable]:
    """The outermost imports below the handler's own modules whose whole subtree no invocation used, slowest
    first."""
    found: list[Deferrable] = []
    # A package is used when a module in it is: `from shop import cart` imports shop.cart beside shop, not below it.
    used = {".".join(name.split(".")[:end]) for name in used for end in range(1, name.count(".") + 2)}

    def unused(node: ImportNode) -> bool:
        return all(inner.module not in used for inner in node.walk())

    def candidate(node: ImportNode) -> bool:
        """The app's modules, and the top-level packages of the rest, whole: which module of pydantic imports which
        is pydantic's business, and none of it can wait while any of it runs."""
        return node.distribution == APP or ("." not in node.module and node.module not in used)

    def visit(node: ImportNode, path: tuple[ImportNode, ...]) -> None:
        path = (*path, node)
        if len(path) > 1 and candidate(node) and unused(node):
            chain = _chain(path, files, layout)
            direct = path[-2].distribution == APP
            found.append(Deferrable(node.module, node.distribution, node.cumulative_ms, chain, direct))
            return
        for child in node.children:
            visit(child, path)

    for root in roots:
        visit(root, ())
    return sorted(found, key=lambda d: (not d.direct, -d.cumulative_ms, d.module))


def _chain(path: Sequence[ImportNode], files: dict[str, str | None], layout: Layout) -> tuple[str, ...]:
    """How the handler's import reached the last module of `path`: each app module's import statement of the next
    (`handler.py:3 import pandas`, by its syntax tree), then the modules from there down (`pandas`, `pyarrow`)."""
    lines: list[str] = []
    at = 0
    while at < len(path) - 1 and path[at].distribution == APP:
        importer = path[at].module
        lines.append(_import_line(importer, files.get(importer), path[at + 1].module, layout))
        at += 1
    return (*lines, *(node.module for node in path[at:]))


def _import_line(importer: str, file: str | None, imported: str, layout: Layout) -> str:
    """`handler.py:3 import pandas`: where in the importer's source the import of `imported` is, by its syntax
    tree; `importer (imports pandas)` when its source is not there."""
    fallback = f"{importer} (imports {imported})"
    if file is None or not file.endswith(".py") or not os.path.isfile(file):
        return fallback
    source = Path(file).read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return fallback
    shown = _relative(file, layout)
    package = importer if file.endswith("__init__.py") else importer.rpartition(".")[0]
    statements = list(_top_level(tree.body))
    # The statement that names the module itself first (`import pyarrow.parquet`, not the `import pyarrow` above it).
    for exact in (True, False):
        for statement in statements:
            for name in _imported_names(statement, package):
                if name == imported or (not exact and _reaches(name, imported)):
                    text = " ".join((ast.get_source_segment(source, statement) or "").split())
                    return f"{shown}:{statement.lineno} {text}"
    return fallback


def _top_level(body: Sequence[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements run at import time: at module level, or in a top-level if/try/with block."""
    for statement in body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement
        elif isinstance(statement, ast.If | ast.Try | ast.With):
            for block in ("body", "orelse", "handlers", "finalbody"):
                inner = getattr(statement, block, [])
                for item in inner:
                    if isinstance(item, ast.ExceptHandler):
                        yield from _top_level(item.body)
                yield from _top_level([item for item in inner if isinstance(item, ast.stmt)])


def _imported_names(statement: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    base = statement.module or ""
    if statement.level:
        parts = package.split(".") if package else []
        parts = parts[: len(parts) - (statement.level - 1)] if statement.level > 1 else parts
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in statement.names)]


def _reaches(name: str, imported: str) -> bool:
    """Whether importing `name` imports `imported` first: the same module, a package of it, or a module in it."""
    return name == imported or name.startswith(imported + ".") or imported.startswith(name + ".")


def _relative(file: str, layout: Layout) -> str:
    for entry in layout.sys_path():
        if file.startswith(entry + os.sep):
            return os.path.relpath(file, entry)
    return os.path.basename(file)
