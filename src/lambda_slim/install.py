"""Lock -> installed tree of the target's wheels (pip --target, no dependencies of its own, hashes required),
compiled, and shared with the per-distribution cache."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .compile import CompileResult, compile_tree, record_bytecode
from .distcache import CachedDist, DistCache, compiler_identity, link_or_copy
from .errors import InstallError
from .inventory import scan_tree
from .pip import Pip, mask_credentials, unavailable_requirement, unreachable_index
from .resolve import HASH_MISMATCH_HINT, Lock, Pin, probe_published, write_locked_requirements
from .target import Target


def install(lock: Lock, target: Target, dest: Path, pip: Pip) -> None:
    """Install exactly the locked wheels into `dest`, a new directory, without bytecode (compile does that)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not lock.pins:
        return
    with tempfile.TemporaryDirectory(prefix="slim-install-") as tmp:
        requirements = write_locked_requirements(lock, Path(tmp))
        try:
            pip.run(
                [
                    "install",
                    "--target",
                    str(dest),
                    "--no-deps",
                    "--require-hashes",
                    "--no-compile",
                    "--ignore-installed",
                    "--quiet",
                    *target.pip_args(),
                    "-r",
                    str(requirements),
                ],
                what=f"installing the locked wheels for {target.describe()}",
                hint=HASH_MISMATCH_HINT,
                error=InstallError,
            )
        except InstallError as exc:
            raise _explain_failure(exc, target, pip, Path(tmp)) from exc


def _explain_failure(exc: InstallError, target: Target, pip: Pip, workdir: Path) -> InstallError:
    """An index that cannot be reached said as such: the hash hint (delete slim.lock) would be wrong advice."""
    missing = unavailable_requirement(exc.details)
    unreachable = unreachable_index(exc.details)
    if unreachable is None and missing is not None:
        unreachable = unreachable_index(probe_published(missing, target, pip, workdir))
    if unreachable is None:
        return exc
    return InstallError(unreachable.message(missing), details=mask_credentials(exc.details))


@dataclass(frozen=True)
class StagedDependencies:
    compiled: frozenset[str]  # pycs compile wrote, relative to the root
    failed: tuple[tuple[str, str], ...]  # sources that do not compile for the target, and why
    from_cache: int  # distributions linked from the cache rather than installed


def cached_pins(
    pins: Iterable[Pin], cache: DistCache | None, target: Target, interpreter: str | None
) -> dict[str, tuple[str, CachedDist]]:
    """The pins whose distribution the cache holds: name -> (entry key, listing)."""
    if cache is None:
        return {}
    compiler = compiler_identity(interpreter) if interpreter else None
    found: dict[str, tuple[str, CachedDist]] = {}
    for pin in pins:
        key = cache.key(pin, target, compiler)
        dist = cache.lookup(key)
        if dist is not None:
            found[pin.name] = (key, dist)
    return found


def stage_dependencies(
    pins: Iterable[Pin],
    fresh: Path,
    root: Path,
    *,
    cache: DistCache | None,
    cached: dict[str, tuple[str, CachedDist]],
    target: Target,
    interpreter: str | None,
    display_root: str,
) -> StagedDependencies:
    """Compile what pip just installed in `fresh`, store each of its distributions in the cache, and hard-link every
    locked distribution, fresh or cached, into `root`."""
    fresh_compiled = CompileResult(frozenset(), ())
    if interpreter is not None and fresh.is_dir() and any(fresh.iterdir()):
        fresh_compiled = compile_tree(fresh, interpreter, display_root)
        record_bytecode(fresh, fresh_compiled.compiled)
    compiled = set(fresh_compiled.compiled)
    failed = list(fresh_compiled.failed)
    root.mkdir(parents=True, exist_ok=True)
    by_name = {pin.name: pin for pin in pins}
    compiler = compiler_identity(interpreter) if interpreter else None
    installed = scan_tree(fresh).distributions() if fresh.is_dir() else {}
    for name, files in installed.items():
        paths = {entry.path for entry in files}
        listing = CachedDist(
            tuple((entry.path, entry.size) for entry in files),
            tuple(sorted(compiled & paths)),
            tuple(item for item in fresh_compiled.failed if item[0] in paths),
        )
        if cache is not None and name in by_name:
            cache.store(cache.key(by_name[name], target, compiler), fresh, listing)
        for entry in files:
            if not (root / entry.path).exists():
                link_or_copy(fresh / entry.path, root / entry.path)
    reused = 0
    for name, (key, listing) in cached.items():
        if name in installed:
            continue
        assert cache is not None
        cache.link_into(key, listing, root)
        compiled.update(listing.compiled)
        failed += listing.failed
        reused += 1
    return StagedDependencies(frozenset(compiled), tuple(sorted(failed)), reused)
