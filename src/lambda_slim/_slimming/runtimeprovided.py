"""`[tool.slim] runtime-provided = "exclude"`: leave out what Lambda's Python runtimes already ship.

The managed runtimes put boto3, botocore, s3transfer and jmespath (with what they need) on sys.path after the
function and its layers (/var/runtime). Leaving them out saves most of a boto3 app's bytes, at a price: the version
the function runs with is the runtime's, which AWS changes without notice, not the locked one. What goes is those
four and every distribution that only they need: one another dependency (or the project) also needs stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from lambda_slim._artifacts.inventory import Inventory, scan_tree
from lambda_slim._errors import ConfigError, SlimError, VerifyError
from lambda_slim._inputs.project import AppFile
from lambda_slim._inputs.runtimeset import RUNTIME_SET_MODULES, RUNTIME_SET_NAMES, RUNTIME_SETS
from lambda_slim._inputs.target import Target
from lambda_slim._install.compile import compile_tree
from lambda_slim._install.distcache import _recorded_sha256, link_or_copy, publish, sha256_files
from lambda_slim._install.installer import Installer
from lambda_slim._install.pip import Pip, unreachable_index
from lambda_slim._install.resolve import Lock, Pin, needed_only_by
from lambda_slim._report.build_report import Skipped
from lambda_slim._sandbox.runner import top_level_modules

RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


def excluded_distributions(lock: Lock) -> frozenset[str]:
    """The runtime's packages in the lock, and, transitively, the distributions only they require."""
    return needed_only_by(lock, RUNTIME_PROVIDED)


def stand_in(naive_root: Path, inventory: Inventory, distributions: frozenset[str], dest: Path) -> Path:
    """Hard links of the distributions' files from the unslimmed tree, laid out as the runtime's directory."""
    for entry in inventory.files:
        if entry.distribution in distributions:
            link_or_copy(naive_root / entry.path, dest / entry.path)
    dest.mkdir(parents=True, exist_ok=True)
    return dest


def runtime_provided_warning(inventory: Inventory, lock: Lock, distributions: frozenset[str]) -> str:
    versions = {pin.name: pin.version for pin in lock.pins}
    size = sum(entry.size for entry in inventory.files if entry.distribution in distributions)
    names = ", ".join(f"{name} {versions.get(name, '')}".strip() for name in sorted(distributions))
    return (
        f"runtime-provided: {names} ({size:,} bytes) are left out, so the function runs with the runtime's boto3, "
        "whose version AWS chooses and changes, not the locked one; the build verified with the locked versions in "
        'the runtime\'s place. Bundle them (runtime-provided = "bundle") to pin the version.'
    )


def install_stand_in(versions: dict[str, str], target: Target, cache_root: Path, pip: Pip) -> Path:
    """The runtime-provided packages at the versions a build locked, installed once into the cache, for
    `slim verify` to put where the runtime's own packages are."""
    dest = cache_root / "runtime" / _entry_name(target, sorted(versions.items()))
    if not dest.exists():
        requirements = [f"{name}=={version}" for name, version in sorted(versions.items())]
        publish(dest, lambda private: _pip_install(pip, target, private, requirements))
    return dest


def install_runtime_set(target: Target, parent: Path, installer: Installer, compiler: str) -> Path:
    """The runtime's own packages at the documented versions (runtimeset.py), installed once under `parent`
    (the cache's root, or a build's scratch directory without a cache), every wheel checked against its sha256, by
    the build's installer (uv installs them in a fraction of pip's time), and compiled by `compiler` on every core:
    /var/runtime has its bytecode, and a stand-in without it would compile botocore at every measured import."""
    dest = runtime_set_entry(target, parent)
    if dest.exists() and not _only_the_runtime_set(dest):
        _discard(dest)  # damaged, or something else was put there: installed afresh
    if not dest.exists():
        pinned = RUNTIME_SETS[target.runtime]
        lock = Lock(
            "runtime-set", tuple(Pin(name, version, (sha256,)) for name, (version, sha256) in sorted(pinned.items()))
        )

        def fill(private: Path) -> None:
            try:
                installer.install(lock, target, private, hash_hint=_INSTALL_HINT)
            except SlimError as exc:
                raise VerifyError(f"{_INSTALLING} failed. {_INSTALL_HINT}", details=exc.details) from exc
            compile_tree(private, compiler, RUNTIME_ROOT)
            if not _only_the_runtime_set(private):
                raise VerifyError(f"the installer put more or other than the runtime's packages into {private}.")

        publish(dest, fill)
    return dest


def _only_the_runtime_set(tree: Path) -> bool:
    """Whether the entry imports as nothing but the runtime's packages, each file as its wheel's RECORD hashes it:
    a stray or changed module there would make a check pass that Lambda fails."""
    if not set(top_level_modules(tree)) <= RUNTIME_SET_MODULES:
        return False
    recorded = _recorded_sha256(tree, [entry.path for entry in scan_tree(tree).files])
    paths = sorted(recorded)
    return sha256_files([tree / path for path in paths]) == [recorded[path] for path in paths]


def _discard(entry: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(entry):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
    shutil.rmtree(entry, ignore_errors=True)


def runtime_set_entry(target: Target, parent: Path) -> Path:
    """Where the documented set for the target lives under `parent`: named by the runtime, the architecture and a
    digest of the pinned versions and hashes, so a changed set is a new entry."""
    return parent / "runtime" / _entry_name(target, sorted(RUNTIME_SETS[target.runtime].items()))


def _entry_name(target: Target, pins: list[tuple[str, object]]) -> str:
    digest = hashlib.sha256(json.dumps(pins).encode()).hexdigest()[:16]
    return f"{target.runtime}-{target.arch}-{digest}"


_INSTALLING = "installing stand-ins for the packages Lambda's runtime provides (boto3 ...)"
_INSTALL_HINT = "Pass --runtime-packages DIR with them installed instead (pip install -t DIR boto3==...)."
# Where Lambda has the runtime's packages: what their pycs name as their source, as a traceback from there shows.
RUNTIME_ROOT = "/var/runtime"


def _pip_install(pip: Pip, target: Target, private: Path, requirements: list[str]) -> None:
    pip.run(
        ["install", "--quiet", "--no-deps", "--target", str(private), *target.pip_args(), *requirements],
        what=_INSTALLING,
        hint=_INSTALL_HINT,
        error=VerifyError,
    )


def not_installed(error: SlimError) -> str:
    """Why the stand-in is missing, in a line: pip's own verdict when it gave one."""
    found = unreachable_index(error.details)
    if found is not None:
        cause = f"cannot reach the package index at {found.url} ({found.reason})"
    else:
        lines = [line.removeprefix("ERROR: ") for line in error.details.splitlines() if line.startswith("ERROR:")]
        cause = lines[-1] if lines else error.message.split(". ")[0]
    names = ", ".join(sorted(RUNTIME_SET_NAMES))
    return (
        f"not installed: {cause}. The checks ran without {names} where Lambda's runtime has them, so a function "
        "that imports one it does not declare fails them; pass --runtime-packages DIR with them installed "
        "(pip install -t DIR boto3) to check it as Lambda runs it."
    )


def merged_runtime_root(locked: Path | None, runtime_set: Path | None, dest: Path) -> Path | None:
    """One directory for the runtime's place: what the build left to the runtime at its locked versions, then the
    rest of the runtime's packages from `runtime_set` (a file the locked ones already have is theirs)."""
    if locked is None or runtime_set is None:
        return locked or runtime_set
    locked_files = scan_tree(locked).files
    owned = {entry.distribution for entry in locked_files}
    rest = [entry for entry in scan_tree(runtime_set).files if entry.distribution not in owned]
    for root, entries in ((locked, locked_files), (runtime_set, rest)):
        for entry in entries:
            if not (dest / entry.path).exists():
                link_or_copy(root / entry.path, dest / entry.path)
    return dest


RUNTIME_STAND_IN = "runtime packages stand-in"


def runtime_place(
    given: Path | None, target: Target, parent: Path, tools: tuple[Installer, str], locked: Path | None, dest: Path
) -> tuple[Path | None, Skipped | None]:
    """What stands in for /var/runtime in a check: `given` (--runtime-packages) or the documented set installed
    under `parent` (`tools`: the installer and the interpreter that compiles), after what the build left to the
    runtime (`locked`), merged into `dest` when both are there. When the set cannot be installed, the check runs
    without it, and the Skipped says so."""
    return placed_runtime(runtime_set(given, target, parent, tools), locked, dest)


def runtime_set(
    given: Path | None, target: Target, parent: Path, tools: tuple[Installer, str]
) -> tuple[Path | None, Skipped | None]:
    """`given` (--runtime-packages), or the documented set installed under `parent`, or why there is none. It
    depends on nothing the build installs: a build runs it while it resolves."""
    if given is not None:
        return given, None
    try:
        return install_runtime_set(target, parent, *tools), None
    except SlimError as exc:
        return None, Skipped(RUNTIME_STAND_IN, not_installed(exc))


def placed_runtime(
    found: tuple[Path | None, Skipped | None], locked: Path | None, dest: Path
) -> tuple[Path | None, Skipped | None]:
    """runtime_place's second half: `found` (runtime_set's answer) after `locked`, merged into `dest`."""
    runtime_set, skipped = found
    if skipped is not None:
        return locked, skipped
    return merged_runtime_root(locked, runtime_set, dest), None


def left_to_runtime(runtime_provided: str, lock: Lock) -> frozenset[str]:
    """The distributions left out for the runtime to provide: with runtime-provided = "exclude", else none."""
    return excluded_distributions(lock) if runtime_provided == "exclude" else frozenset()


def refuse_missing_runtime_packages(given: Path | None, origin: str | None) -> None:
    """--runtime-packages must name a directory; `origin`: where it was set, for the message."""
    if given is not None and not given.is_dir():
        raise ConfigError(
            f"{origin} names {given}, which is not a directory: install the runtime's "
            "packages there (pip install -t DIR boto3), or leave it out to use the documented set."
        )


def without_runtime_packages(app: list[AppFile], runtime_packages: Path | None) -> list[AppFile]:
    """A --runtime-packages directory inside the project stands in for Lambda's runtime: never shipped as app code."""
    if runtime_packages is None:
        return app
    return [f for f in app if not f.source.resolve().is_relative_to(runtime_packages.resolve())]
