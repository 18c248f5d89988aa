"""Traced pruning (`--prune traced`): run the handler on the user's events, keep only what the runs touched.

Each event runs in the verify sandbox with the interpreter's audit hooks on: every file opened (sources, pycs,
data), every directory listed, every module's file, and every shared library mapped (the loader's own
dependencies included) is recorded. The dependencies' files that no run touched go, except metadata (dist-info),
whole directories a run listed (plugin discovery looks there), the modules beside one imported by a computed
name (importlib.import_module: another event may compute another), the sources and pycs of every imported module,
and the user's `keep` patterns. Then every event runs again on the pruned package, and its result must be exactly
the result before pruning; any difference fails the build.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lambda_slim._artifacts.inventory import APP, Inventory, bytecode_of, source_of_bytecode
from lambda_slim._errors import ConfigError, VerifyError
from lambda_slim._inputs.config import read_json
from lambda_slim._inputs.target import Target
from lambda_slim._sandbox.runner import Layout, probe, read_only
from lambda_slim._sandbox.trees import TreesUnderTest
from lambda_slim._slimming.rules import Decision, RuleSet
from lambda_slim._slimming.strip import apply_decisions

RULE: Final = "traced"


@dataclass(frozen=True)
class Trace:
    results: tuple[Any, ...]  # the handler's result for each event, before pruning
    touched: frozenset[str]  # paths relative to the task root
    listed: frozenset[str]  # directories relative to the task root
    dynamic: frozenset[str] = frozenset()  # modules imported by computed name


def event_files(project_dir: Path, patterns: Sequence[str], single: Path | None) -> list[Path]:
    """The events to trace: [tool.slim] events (globs relative to the project) and the `event` file."""
    found = [single] if single is not None else []
    for pattern in patterns:
        matches = sorted(Path(path) for path in glob.glob(str(project_dir / pattern), recursive=True))
        if not matches:
            raise ConfigError(f"[tool.slim] events pattern {pattern!r} matches no file in {project_dir}.")
        found += matches
    return list(dict.fromkeys(found))


def trace(layout: Layout, interpreter: str, handler: str, events: Sequence[tuple[Path, Any]]) -> Trace:
    root = str(layout.task_root) + "/"
    results: list[Any] = []
    touched: set[str] = set()
    listed: set[str] = set()
    dynamic: set[str] = set()
    with read_only(layout.roots()):
        for path, event in events:
            run = probe(layout, interpreter, handler=handler, event=event, trace=True)
            if run.error:
                raise VerifyError(f"the handler fails on {path.name} before pruning: fix it first.", details=run.error)
            results.append(run.result)
            touched.update(p[len(root) :] for p in run.touched if p.startswith(root))
            listed.update(p[len(root) :] for p in run.listed if p.startswith(root))
            dynamic.update(run.dynamic)
    return Trace(tuple(results), frozenset(touched), frozenset(listed), frozenset(dynamic))


def _siblings_kept(traced: Trace) -> frozenset[str]:
    """Directories whose own files stay: the package of each module imported by a computed name (another event
    may compute another name there)."""
    return frozenset(name.rpartition(".")[0].replace(".", "/") for name in traced.dynamic if "." in name)


def prune_decisions(inventory: Inventory, traced: Trace, rules: RuleSet, pyc_tag: str) -> tuple[Decision, ...]:
    """A removal, by rule `traced`, for each dependency file no run touched and nothing else protects."""
    needed = set(traced.touched)
    for path in traced.touched:
        if path.endswith(".py"):
            needed.add(bytecode_of(path, pyc_tag))
        source = source_of_bytecode(path)
        if source is not None:
            needed.add(source)
    siblings = _siblings_kept(traced)
    decisions = []
    for entry in inventory.files:
        parts = entry.parts
        if (
            entry.distribution == APP
            or entry.path in needed
            or parts[0].endswith(".dist-info")
            or any("/".join(parts[:i]) in traced.listed for i in range(1, len(parts)))
            or entry.parent.removesuffix("/__pycache__") in siblings
            or rules.user_keep.match_file(entry.path)
        ):
            continue
        decisions.append(Decision(entry.path, "remove", RULE))
    return tuple(decisions)


def check_results(
    layout: Layout, interpreter: str, handler: str, events: Sequence[tuple[Path, Any]], traced: Trace
) -> None:
    """Every event again, on the pruned package: the same result, exactly, or the build fails."""
    with read_only(layout.roots()):
        for (path, event), before in zip(events, traced.results, strict=True):
            run = probe(layout, interpreter, handler=handler, event=event)
            if run.error or run.result != before:
                got = run.error or json.dumps(run.result)[:500]
                raise VerifyError(
                    f"after traced pruning the handler no longer gives the same result for {path.name}: add what it "
                    "needs to keep, or build without --prune traced.",
                    details=f"before: {json.dumps(before)[:500]}\nafter: {got}",
                )


def prune_traced(
    trees: TreesUnderTest, current: Inventory, event_paths: Sequence[Path], rules: RuleSet, target: Target
) -> tuple[Decision, ...]:
    """Trace the handler on the events, remove from the slimmed tree what no run touched, and check every result is
    unchanged. `current`: the slimmed tree's files; `event_paths`: the event files (see event_files). The removals,
    by rule `traced`."""
    handler = trees.handler
    if handler is None or not event_paths:
        raise ConfigError(
            "--prune traced needs the handler ([tool.slim] handler or --handler) and at least one event "
            '([tool.slim] events = ["events/*.json"] or --event).'
        )
    events = [(path, read_json(path, "event file")) for path in event_paths]
    layout = trees.slimmed_layout
    traced = trace(layout, trees.interpreter, handler, events)
    pruned = prune_decisions(current, traced, rules, target.pyc_tag)
    apply_decisions(trees.slimmed, pruned, target)
    check_results(layout, trees.interpreter, handler, events, traced)
    return pruned
