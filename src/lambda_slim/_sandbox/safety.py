"""The build's safety net: every top-level module that imports from the unslimmed install must still import from
the slimmed one, and so must the configured handler. When slimming broke one, what a rule removed from the
module's distribution is put back, one (distribution, rule) group at a time, and the build says so.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.inventory import APP, Inventory
from lambda_slim._errors import VerifyError
from lambda_slim._inputs.project import exclude_hint
from lambda_slim._progress import NullReporter, Reporter
from lambda_slim._sandbox.runner import ProbeResult, probe, read_only, side_by_side, top_level_modules
from lambda_slim._sandbox.trees import TreesUnderTest
from lambda_slim._slimming.rules import Decision
from lambda_slim._slimming.strip import StripResult

# What the user asked to leave out is never put back: a module that needs it fails the build instead.
NEVER_RESTORED = frozenset({"user-exclude", "runtime-provided"})
# The key the configured handler's failure is filed under: not an identifier, so no module can take it.
HANDLER = "<handler>"


# os.environ[NAME] failing at import: os's own __getitem__ frame, then `KeyError: 'NAME'`.
_ENVIRON_FRAME = re.compile(r'(?:<frozen os>|/os\.py)", line \d+, in __getitem__')
_KEY_ERROR = re.compile(r"^KeyError: '([A-Za-z_][A-Za-z0-9_]*)'$", re.M)


@dataclass(frozen=True)
class Restoration:
    broken: str  # the module (or HANDLER) that failed after slimming
    distribution: str
    rule: str
    files: tuple[str, ...]
    error: str  # how it failed before the files came back

    def message(self) -> str:
        shown = ", ".join(self.files[:3]) + (f" and {len(self.files) - 3} more" if len(self.files) > 3 else "")
        pattern = _keep_pattern(self.files)
        what = "the handler" if self.broken == HANDLER else self.broken
        return (
            f"{what} failed to import after slimming ({self.error.strip().splitlines()[-1]}); restored "
            f"{len(self.files)} file(s) of {self.distribution} that rule {self.rule} removed ({shown}). "
            f'To make this explicit, add keep = ["{pattern}"] to [tool.slim].'
        )


@dataclass(frozen=True)
class SafetyResult:
    checked_modules: tuple[str, ...]
    skipped_modules: tuple[str, ...]  # fail before slimming too: not slimming's doing
    handler_checked: bool
    restorations: tuple[Restoration, ...]
    # The first check's fresh processes, unslimmed and slimmed, when they did what the cold-start measurement does
    # (import the handler and invoke it on the event, or import every top-level module when none failed), so it can
    # count them as its first round.
    first_round: tuple[ProbeResult, ProbeResult] | None = None


def clone_tree(source: Path, dest: Path) -> None:
    """A copy of the tree made of hard links: instant, and safe because slimming never writes into a file
    (strip writes a new file and renames it over the old one)."""
    for dirpath, _dirnames, filenames in os.walk(source):
        target_dir = dest / os.path.relpath(dirpath, source)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            try:
                os.link(os.path.join(dirpath, name), target_dir / name)
            except OSError:
                shutil.copy2(os.path.join(dirpath, name), target_dir / name)


def check_and_repair(
    trees: TreesUnderTest,
    before: Inventory,
    decisions: tuple[Decision, ...],
    event: Any = None,
    handler_origin: str | None = None,
    reporter: Reporter | None = None,
) -> SafetyResult:
    """`event`: what the handler is invoked with; `handler_origin`: the flag or key that named the handler, for the
    messages; `reporter` counts the modules (and the handler) checked in both trees."""
    naive_root, slim_root, interpreter, handler = trees.unslimmed, trees.slimmed, trees.interpreter, trees.handler
    naive, slim = trees.unslimmed_layout, trees.slimmed_layout
    modules = top_level_modules(naive_root)
    reporter = reporter or NullReporter()
    # One process per tree imports every module: the count moves when both have (the handler counts as one more).
    reporter.stage(f"verifying {len(modules)} modules", len(modules) + bool(handler), "module")
    # The unslimmed and the slimmed tree are probed side by side, one process per core: the slimmed result only
    # counts for the modules that import unslimmed. The processes that import what the cold-start measurement
    # imports (the handler, else every module) are also its first round, so they time the reference workload as
    # its own do.
    with read_only([naive_root, *slim.roots()]):
        baseline, first_slim = side_by_side(
            [
                lambda: probe(naive, interpreter, modules=modules, reference=not handler),
                lambda: probe(slim, interpreter, modules=modules, reference=not handler),
            ]
        )
        reporter.advance(len(modules))
        naive_handler: ProbeResult | None = None
        first_slim_handler: ProbeResult | None = None
        if handler:
            naive_handler, first_slim_handler = side_by_side(
                [
                    lambda: probe(naive, interpreter, handler=handler, event=event, reference=True),
                    lambda: probe(slim, interpreter, handler=handler, event=event, reference=True),
                ]
            )
            reporter.advance()
    if naive_handler is not None and naive_handler.error:
        raise _unusable_handler(str(handler), naive_handler, handler_origin)
    # A module the user's own `exclude` removed whole is meant to be gone (the runtime may provide it).
    excluded = _excluded_modules(modules, decisions)
    imported = dict(baseline.modules)
    app_modules = [name for name in _app_modules(before, modules) if name not in excluded]
    unprobed = [name for name in app_modules if name not in imported]
    if unprobed:
        # The probe died before reaching them (a dependency that crashes the interpreter): the app's modules are
        # judged one by one, so the build blames the right one.
        with read_only(naive.roots()):
            for name in unprobed:
                alone = probe(naive, interpreter, modules=[name])
                imported[name] = alone.modules.get(name, alone.error or "not imported")
    importable = [name for name in modules if imported.get(name, "missing") is None and name not in excluded]
    broken_app = {name: error for name in app_modules if (error := imported[name]) is not None}
    if broken_app:
        raise _broken_app_error(broken_app, before)
    skipped = tuple(name for name in modules if name not in importable)

    def first_failures() -> dict[str, str]:
        found = {name: error for name, error in first_slim.failed_modules.items() if name in importable}
        missing = [name for name in importable if name not in first_slim.modules]  # the probe died early
        found.update(failures(missing, False) if missing else {})
        if first_slim_handler is not None:
            error = _handler_difference(first_slim_handler, naive_handler)
            if error:
                found[HANDLER] = error
        return found

    def failures(names: list[str], with_handler: bool) -> dict[str, str]:
        with read_only([slim_root]):
            found = probe(slim, interpreter, modules=names).failed_modules if names else {}
            if with_handler:
                error = _handler_difference(probe(slim, interpreter, handler=handler, event=event), naive_handler)
                if error:
                    found[HANDLER] = error
        return found

    def still_broken(name: str) -> bool:
        return bool(failures([] if name == HANDLER else [name], name == HANDLER))

    restorations: list[Restoration] = []
    removed = [d for d in decisions if d.action != "keep" and d.rule and d.rule not in NEVER_RESTORED]
    broken = first_failures()
    while broken:
        name, error = next(iter(broken.items()))
        restored = _repair(name, error, naive_root, slim_root, before, removed, still_broken)
        if restored is None:
            # Sources first: a pyc names the same module less plainly.
            excluded_files = sorted(
                (d.path for d in decisions if d.rule == "user-exclude"), key=lambda path: path.endswith(".pyc")
            )
            hint = (
                f" Your exclude patterns removed {len(excluded_files)} file(s) (such as {excluded_files[0]}), which "
                "are never put back: narrow the pattern."
                if excluded_files
                else " Build with --disable-rule for the rule at fault, or report this."
            )
            raise VerifyError(
                f"{'the handler' if name == HANDLER else name} imports from the unslimmed install but not from the "
                f"slimmed one, and putting back what the rules removed did not fix it.{hint}",
                details=error,
            )
        restorations.append(restored)
        restored_paths = set(restored.files)
        removed = [d for d in removed if d.path not in restored_paths]
        # One restoration can mend several modules: look again at the ones still listed.
        broken = failures([n for n in broken if n not in (name, HANDLER)], HANDLER in broken and name != HANDLER)
    return SafetyResult(
        tuple(importable),
        skipped,
        handler is not None,
        tuple(restorations),
        None if restorations else _first_round(baseline, first_slim, naive_handler, first_slim_handler, skipped),
    )


def _unusable_handler(handler: str, naive: ProbeResult, origin: str | None) -> VerifyError:
    """The handler fails before any slimming: not there at all, or the app's own failure (its frames only)."""
    if origin is not None and origin.startswith("--"):
        where, wrong, drop = f" ({origin})", f"pass the app's module.function to {origin}", f"build without {origin}"
    else:
        where = f" ({origin or '[tool.slim] handler'})"
        wrong, drop = "correct `handler` in [tool.slim]", "remove `handler` from [tool.slim]"
    if naive.missing is not None:
        stop = "" if naive.missing.endswith("?") else "."
        return VerifyError(f"the handler {handler}{where} is not in the package: {naive.missing}{stop} Fix: {wrong}.")
    return VerifyError(
        f"the handler {handler}{where} fails even without slimming, so the build cannot check it: fix the app, or "
        f"{drop}.",
        details=naive.error or "",
    )


def _first_round(
    baseline: ProbeResult,
    slimmed: ProbeResult,
    naive_handler: ProbeResult | None,
    slim_handler: ProbeResult | None,
    skipped: tuple[str, ...],
) -> tuple[ProbeResult, ProbeResult] | None:
    if naive_handler is not None and slim_handler is not None:
        pair = (naive_handler, slim_handler)
    elif skipped:
        return None  # the measurement imports only the modules that import: not what these processes did
    else:
        pair = (baseline, slimmed)
    return pair if pair[0].init_ms is not None and pair[1].init_ms is not None else None


def _app_modules(before: Inventory, modules: list[str]) -> list[str]:
    """The top-level modules of the project's own code, not of its dependencies."""
    tops = {_top_module(f.path) for f in before.files if f.distribution == APP}
    return [name for name in modules if name in tops]


def _top_module(path: str) -> str:
    return path.split("/", 1)[0].split(".", 1)[0]


def _broken_app_error(broken: dict[str, str], before: Inventory) -> VerifyError:
    """A module of the app that fails even unslimmed is a broken app, not a module to skip (a dependency's optional
    extra is): the build fails, saying how to fix it or leave it out."""
    where = {_top_module(f.path): f.path.split("/", 1)[0] for f in before.files if f.distribution == APP}
    lines = [
        f"{name}: {_last_lines(error)}; "
        + (environment_hint(error) or f"to leave it out, {exclude_hint(where.get(name, name + '.py'))}")
        for name, error in broken.items()
    ]
    return VerifyError(
        f"{len(broken)} of the app's own module(s) fail to import even without slimming, so the package would fail "
        "too: fix the module, or exclude it if it is not part of the function.\n  " + "\n  ".join(lines),
        details="\n\n".join(broken.values()),
    )


def environment_hint(error: str) -> str | None:
    """An import that failed on a missing environment variable needs the variable, not to be left out."""
    missing = _KEY_ERROR.search(error)
    if missing is None or not _ENVIRON_FRAME.search(error):
        return None
    name = missing.group(1)
    return (
        f"it reads the environment variable {name}, which Lambda's configuration sets: set it for the check with "
        f'[tool.slim] environment = {{ {name} = "..." }} (or --env {name}=...)'
    )


def _last_lines(error: str, count: int = 2) -> str:
    """The end of a traceback, without the lines of carets (`^^^^`) that only underline the line above."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip(" ^~")]
    return " / ".join(lines[-count:])


def _excluded_modules(modules: list[str], decisions: tuple[Decision, ...]) -> set[str]:
    by_module: dict[str, set[str | None]] = {}
    for decision in decisions:
        top = decision.path.split("/", 1)[0].split(".", 1)[0]
        if top in modules:
            by_module.setdefault(top, set()).add(decision.rule if decision.action == "remove" else None)
    return {name for name, rules in by_module.items() if rules == {"user-exclude"}}


def _handler_difference(slimmed: ProbeResult, naive: ProbeResult | None) -> str | None:
    if slimmed.error:
        return slimmed.error
    if naive is not None and slimmed.result != naive.result:
        return f"the handler returned {slimmed.result!r} instead of {naive.result!r}"
    return None


def _repair(
    broken: str,
    error: str,
    naive_root: Path,
    slim_root: Path,
    before: Inventory,
    removed: list[Decision],
    still_broken: Callable[[str], bool],
) -> Restoration | None:
    """Put back one (distribution, rule) group at a time, the module's own distribution first."""
    owners = {f.distribution for f in before.files if f.path.split("/", 1)[0].split(".", 1)[0] == broken}
    groups: dict[tuple[str, str], list[str]] = {}
    for decision in removed:
        distribution = before.by_path[decision.path].distribution
        groups.setdefault((distribution, decision.rule or ""), []).append(decision.path)
    ordered = sorted(groups, key=lambda key: (key[0] not in owners, key[0], key[1]))
    with tempfile.TemporaryDirectory(prefix="slim-restore-") as tmp:
        for distribution, rule in ordered:
            files = groups[(distribution, rule)]
            backup = Path(tmp) / f"{len(os.listdir(tmp))}"
            _swap_in(naive_root, slim_root, files, backup)
            if not still_broken(broken):
                return Restoration(broken, distribution, rule, tuple(sorted(files)), error)
            _swap_back(slim_root, files, backup)
    return None


def _swap_in(naive_root: Path, slim_root: Path, files: Iterable[str], backup: Path) -> None:
    """Put the unslimmed files in place, keeping the slimmed ones (a stripped library) aside in `backup`."""
    for path in files:
        target = slim_root / path
        if target.exists():
            (backup / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, backup / path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(naive_root / path, target)


def _swap_back(slim_root: Path, files: Iterable[str], backup: Path) -> None:
    """Undo a restoration that did not help, so the package stays as slim as it can be."""
    for path in files:
        (slim_root / path).unlink(missing_ok=True)
        if (backup / path).exists():
            os.replace(backup / path, slim_root / path)


def _keep_pattern(files: tuple[str, ...]) -> str:
    common = os.path.commonpath(files) if len(files) > 1 else files[0]
    return common + "/" if len(files) > 1 else common


def with_restorations(
    decisions: tuple[Decision, ...], stripped: StripResult, safety: SafetyResult
) -> tuple[tuple[Decision, ...], StripResult]:
    """Files the safety net put back are kept after all, by the rule `restored`."""
    restored = {path for restoration in safety.restorations for path in restoration.files}
    if not restored:
        return decisions, stripped
    decisions = tuple(Decision(d.path, "keep", "restored") if d.path in restored else d for d in decisions)
    kept_stripped = tuple(item for item in stripped.stripped if item[0] not in restored)
    return decisions, StripResult(stripped.removed_files, kept_stripped, stripped.warnings)
