"""Applying decisions to a staged tree: delete what the rules removed, strip debug sections where they said so."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lambda_slim import _subprocess
from lambda_slim._artifacts.elf import loadable
from lambda_slim._artifacts.inventory import Inventory
from lambda_slim._errors import StripError, ToolError
from lambda_slim._inputs.target import Target, host_machine
from lambda_slim._slimming.rules import BUILTIN_RULES, Decision


@dataclass(frozen=True)
class StripResult:
    removed_files: int
    stripped: tuple[tuple[str, int], ...]  # (path, bytes saved) for each library whose debug sections went
    warnings: tuple[str, ...]


def strip_tool(target: Target) -> str | None:
    """A strip that understands the target's ELF machine: the host's own for the same machine, else llvm-strip."""
    candidates = ["strip"] if host_machine() == target.machine else []
    candidates += [f"{target.machine}-linux-gnu-strip", "llvm-strip"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def apply_decisions(
    root: Path, decisions: Iterable[Decision], target: Target, workers: int | None = None
) -> StripResult:
    flags_of: dict[str, tuple[str, ...]] = {rule.name: rule.strip_flags for rule in BUILTIN_RULES}
    removed = 0
    to_strip: list[tuple[str, tuple[str, ...]]] = []
    for decision in decisions:
        if decision.action == "remove":
            try:
                (root / decision.path).unlink()
            except OSError as exc:
                raise StripError(f"cannot remove {decision.path} from the staging tree: {exc.strerror}.") from exc
            removed += 1
        elif decision.action == "strip" and decision.rule:
            to_strip.append((decision.path, flags_of[decision.rule]))
    prune_empty_dirs(root)
    warnings: list[str] = []
    stripped: list[tuple[str, int]] = []
    if to_strip:
        tool = strip_tool(target)
        if tool is None:
            warnings.append(
                f"debug symbols were left in {len(to_strip)} shared libraries: no strip for {target.machine} was "
                "found (install binutils or llvm)."
            )
        else:
            with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
                for path, saved, problem in pool.map(lambda job: _strip(tool, root, *job), to_strip):
                    if problem:
                        warnings.append(problem)
                    elif saved > 0:
                        stripped.append((path, saved))
    return StripResult(removed, tuple(sorted(stripped)), tuple(warnings))


def _strip(tool: str, root: Path, rel: str, flags: tuple[str, ...]) -> tuple[str, int, str | None]:
    """Strip into a new file and swap it in only when strip succeeded and the loader would still accept it."""
    path = root / rel
    stripped = path.with_name(path.name + ".slim-stripped")
    try:
        _subprocess.run([tool, *flags, "-o", str(stripped), str(path)], what=f"stripping {rel}", error=ToolError)
        with stripped.open("rb") as handle:
            if not loadable(handle):
                stripped.unlink()
                return rel, 0, f"kept {rel} unstripped: stripping it would misalign its loadable segments"
        before, after = path.stat().st_size, stripped.stat().st_size
        if after >= before:
            stripped.unlink()
            return rel, 0, None
        shutil.copymode(path, stripped)
        os.replace(stripped, path)
        return rel, before - after, None
    except (ToolError, OSError) as exc:
        stripped.unlink(missing_ok=True)
        return rel, 0, f"kept {rel} unstripped: {exc}"


def prune_empty_dirs(root: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(root, topdown=False):
        if dirpath != str(root) and not os.listdir(dirpath):
            os.rmdir(dirpath)


def slimmed_inventory(before: Inventory, decisions: tuple[Decision, ...], stripped: StripResult) -> Inventory:
    """The tree's files once the decisions are applied: the removed ones gone, the stripped ones smaller."""
    saved = dict(stripped.stripped)
    removed = {d.path for d in decisions if d.action == "remove"}
    files = tuple(
        f if f.path not in saved else dataclasses.replace(f, size=f.size - saved[f.path])
        for f in before.files
        if f.path not in removed
    )
    return Inventory(files, before.package_dirs)
