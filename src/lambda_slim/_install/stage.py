"""Staging a build: slim.lock checked or written, the locked distributions installed or linked from the cache, and
the app's files added, all compiled: the unslimmed tree the rules then slim."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lambda_slim._atomic import write_text_atomically
from lambda_slim._errors import InstallError, ProjectError, ResolveError
from lambda_slim._inputs.lockedproject import (
    explain_install_failure,
    hash_mismatch_hint,
    project_lock_outcome,
    refuse_unbuilt_local_packages,
)
from lambda_slim._inputs.project import AppFile, RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.compile import CompileResult, compile_tree
from lambda_slim._install.distcache import DistCache
from lambda_slim._install.install import cached_pins, stage_dependencies
from lambda_slim._install.installer import Installer
from lambda_slim._install.localwheels import (
    BuiltWheel,
    WheelBuilder,
    installable,
    local_wheels,
    locked_wheels,
    relabelled,
    resolvable,
    sdist_wheels,
    stale_local_pins,
    with_versions,
)
from lambda_slim._install.pip import Pip
from lambda_slim._install.progress import UNIT, packages
from lambda_slim._install.resolve import HASH_MISMATCH_HINT, Lock, SdistOnly, lock_key, read_lock, render_lock
from lambda_slim._progress import Reporter

# What tracebacks show as the file's location: where Lambda unpacks the function.
TASK_ROOT = "/var/task"


@dataclass(frozen=True)
class LockSettings:
    """What checking, resolving and writing slim.lock takes: the project it sits in, the target it locks for, and
    whether --locked forbids resolving."""

    project_dir: Path
    target: Target
    locked: bool = False

    @property
    def path(self) -> Path:
        return self.project_dir / "slim.lock"


@dataclass(frozen=True)
class LockOutcome:
    lock: Lock
    status: str
    warnings: tuple[str, ...] = ()  # for the report: the project's own lock is stale


@dataclass(frozen=True)
class Staged:
    locked: LockOutcome
    compiled: CompileResult
    resolved: bool  # resolved now: slim.lock may be new, so the build's fingerprint is taken again
    warnings: tuple[str, ...]  # cache entries found damaged, dropped and installed afresh


@contextlib.contextmanager
def scratch_dir(cache: DistCache | None) -> Iterator[Path]:
    if cache is not None:
        with cache.scratch() as path:
            yield path
    else:
        with tempfile.TemporaryDirectory(prefix="slim-build-") as name:
            yield Path(name)


def stage_tree(
    settings: LockSettings,
    inputs: RequirementInputs,
    app: list[AppFile],
    locked: LockOutcome | None,
    tools: tuple[Pip, Installer, str | None],
    cache: DistCache | None,
    tmp: Path,
    reporter: Reporter,
) -> Staged:
    """The unslimmed tree at tmp/function: the locked distributions (installed, or linked from the cache) and the
    app's files, compiled. `tools`: pip (which builds wheels), the installer, and the interpreter that compiles
    (None: no bytecode)."""
    pip, installer, compiler = tools
    target = settings.target
    root, fresh = tmp / "function", tmp / "installed"
    builder = WheelBuilder(pip, target, tmp / "built", cache.root if cache is not None else None)
    if inputs.local:
        reporter.stage("building local packages", len(inputs.local), UNIT)
    wheels = local_wheels(inputs, builder, reporter.advance)
    locked_local: dict[str, BuiltWheel] = {}
    if locked is not None and wheels:
        locked_local = locked_wheels(locked.lock, wheels, settings.project_dir)
        if inputs.project_lock is not None:
            # A project lock records a local package by its directory, not by a wheel: the one built now is it,
            # required by its file and hash before the cache is asked (a pin without a hash has no cache key).
            lock = installable(with_versions(locked.lock, locked_local), locked_local)
            locked = dataclasses.replace(locked, lock=lock)
        else:
            locked = _with_local_wheels(settings.locked, locked, locked_local)
    resolved = locked is None  # no valid lock, or one whose local wheels the sources no longer build
    if locked is None:
        locked = resolve_and_install(settings, inputs, installer, fresh, (builder, wheels), reporter)
        hits = cached_pins(locked.lock.pins, cache, target, compiler)
    else:
        # Checked before anything is linked: a damaged entry is installed afresh, so neither the unslimmed tree the
        # safety net compares against nor the zip ever holds its files.
        hits = cached_pins(locked.lock.pins, cache, target, compiler)
        missing = dataclasses.replace(locked.lock, pins=tuple(p for p in locked.lock.pins if p.name not in hits.found))
        reporter.stage(
            f"installing {len(missing.pins)} of {packages(len(locked.lock.pins))} (the rest cached)",
            len(missing.pins),
            UNIT,
        )
        missing = installable(missing, {**locked_local, **sdist_wheels(missing.pins, builder)})
        project_lock = inputs.project_lock
        if project_lock is not None:
            refuse_unbuilt_local_packages(project_lock, missing.pins)
        hash_hint = hash_mismatch_hint(project_lock) if project_lock is not None else HASH_MISMATCH_HINT
        try:
            installer.install(missing, target, fresh, hash_hint=hash_hint, reporter=reporter)
        except InstallError as exc:
            if project_lock is None:
                raise
            raise explain_install_failure(exc, project_lock, target) from exc
    staged = stage_dependencies(
        locked.lock.pins,
        fresh,
        root,
        cache=cache,
        cached=hits.found,
        target=target,
        interpreter=compiler,
        display_root=TASK_ROOT,
        reporter=reporter,
    )
    if staged.from_cache:
        status = f"{locked.status}; {staged.from_cache} of {len(locked.lock.pins)} distributions from the cache"
        locked = dataclasses.replace(locked, status=status)
    _copy_app(app, root)
    compiled = CompileResult(staged.compiled, staged.failed)
    if compiler is not None:
        sources = [f.path for f in app if f.path.endswith(".py")]
        own = compile_tree(root, compiler, TASK_ROOT, sources=sources, reporter=reporter, stage="compiling the app")
        compiled = CompileResult(compiled.compiled | own.compiled, tuple(sorted((*compiled.failed, *own.failed))))
    return Staged(locked, compiled, resolved, tuple(hits.warnings(locked.lock.pins)))


def existing_lock(settings: LockSettings, inputs: RequirementInputs) -> LockOutcome | None:
    """slim.lock when it is still valid for the inputs and the target, or None when they must be resolved.

    A requirements file that pins every package it needs (pip-compile's output) is a lock already: it is checked
    against the target by resolving it, and used as is. The project's own lock (uv.lock, poetry.lock...) is the
    lock: its versions are installed as locked, and slim.lock is neither read nor written.
    """
    target = settings.target
    if inputs.project_lock is not None:
        return LockOutcome(*project_lock_outcome(inputs, settings.project_dir, target, locked=settings.locked))
    if inputs.empty:
        return LockOutcome(Lock(lock_key(inputs, target), ()), "no dependencies")
    existing = read_lock(settings.path, target)
    if existing is not None and existing.key == lock_key(inputs, target):
        return LockOutcome(existing, "slim.lock reused")
    if settings.locked and inputs.pinned is None:
        raise _stale_lock(target, inputs, existing is None)
    return None


def _with_local_wheels(
    forbid_resolving: bool, locked: LockOutcome, wheels: dict[str, BuiltWheel]
) -> LockOutcome | None:
    """The lock with its local packages' versions, or None when a local package's wheel is not the one it locks."""
    stale = stale_local_pins(locked.lock, wheels)
    if not stale:
        return dataclasses.replace(locked, lock=with_versions(locked.lock, wheels))
    if forbid_resolving:
        raise ResolveError(
            f"slim.lock records another wheel of the local package {', '.join(stale)} than its source builds now "
            "(its build backend does not build the same bytes twice), and --locked forbids resolving: run `slim "
            "build` without --locked and commit slim.lock."
        )
    return None


def resolve_and_install(
    settings: LockSettings,
    inputs: RequirementInputs,
    installer: Installer,
    root: Path,
    local: tuple[WheelBuilder, dict[Path, BuiltWheel]],
    reporter: Reporter,
) -> LockOutcome:
    """Resolve for the target and install into `root`, and write slim.lock.

    A requirement published only as an sdist is built into a wheel, accepted when pure Python, and resolution
    tried again with that wheel; its own dependencies then resolve with the rest."""
    builder, wheels = local
    sdists: dict[str, tuple[BuiltWheel, str]] = {}
    while True:
        workdir = builder.scratch / f"requirements-{len(sdists)}"
        resolvable_inputs = resolvable(inputs, wheels, [wheel for wheel, _ in sdists.values()], workdir)
        reporter.stage("resolving", None, UNIT)  # the installer counts the packages as it goes, afresh each try
        try:
            lock = installer.resolve(resolvable_inputs, settings.target, install_into=root, reporter=reporter)
            break
        except SdistOnly as exc:
            name = canonicalize_name(Requirement(exc.requirement).name)
            if name in sdists:
                raise
            reporter.stage(f"building a wheel from the sdist of {name}")
            sdists[name] = builder.sdist(exc.requirement)
    lock = relabelled(lock, wheels, sdists, settings.project_dir)
    if inputs.pinned is not None and lock.names() == inputs.pinned:
        return LockOutcome(lock, f"{inputs.source} pins every package: used as is")
    if settings.locked:
        raise _stale_lock(settings.target, inputs, read_lock(settings.path) is None)
    write_text_atomically(settings.path, render_lock(lock, inputs, settings.target, settings.project_dir))
    return LockOutcome(lock, "slim.lock written")


def _stale_lock(target: Target, inputs: RequirementInputs, missing: bool) -> ResolveError:
    return ResolveError(
        f"slim.lock is {'missing' if missing else 'out of date'} for {inputs.source} and "
        f"{target.describe()}, and --locked forbids resolving: run `slim build` without --locked and commit "
        "slim.lock."
    )


def _copy_app(app: list[AppFile], root: Path) -> None:
    for file in app:
        dest = root / file.path
        if dest.exists():
            raise ProjectError(
                f"the project's {file.path} has the same path as a file of an installed dependency: rename the "
                "module, or exclude it with [tool.slim] exclude."
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file.source, dest)
        if os.access(file.source, os.X_OK):
            os.chmod(dest, 0o755)
