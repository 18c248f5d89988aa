"""Lock -> installed tree of the target's wheels (pip --target, no dependencies of its own, hashes required),
compiled, and shared with the per-distribution cache."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lambda_slim._artifacts.inventory import scan_tree
from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import InstallError
from lambda_slim._inputs.target import Target
from lambda_slim._install.compile import CompileResult, compile_tree, record_bytecode
from lambda_slim._install.distcache import CachedDist, Damaged, DistCache, compiler_identity, link_or_copy
from lambda_slim._install.pip import Pip, unavailable_requirement, unreachable_index
from lambda_slim._install.progress import UNIT, pip_lines
from lambda_slim._install.resolve import HASH_MISMATCH_HINT, Lock, Pin, probe_published, write_locked_requirements
from lambda_slim._progress import Reporter


def install(
    lock: Lock,
    target: Target,
    dest: Path,
    pip: Pip,
    *,
    hash_hint: str = HASH_MISMATCH_HINT,
    reporter: Reporter | None = None,
) -> None:
    """Install exactly the locked wheels into `dest`, a new directory, without bytecode (compile does that);
    `reporter` counts the wheels pip fetches, then those it installs."""
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
                    "--progress-bar",  # not --quiet: its "Collecting ..." lines are the progress shown
                    "off",
                    *target.pip_args(),
                    "-r",
                    str(requirements),
                ],
                what=f"installing the locked wheels for {target.describe()}",
                hint=hash_hint,
                error=InstallError,
                on_line=pip_lines(reporter) if reporter is not None else None,
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


@dataclass(frozen=True)
class CacheHits:
    found: dict[str, tuple[str, CachedDist]]  # name -> (entry key, listing): intact, to be linked
    damaged: dict[str, Damaged]  # name -> what was wrong with its entry, which is gone: it must be installed
    cache_root: Path | None = None

    def warnings(self, pins: Iterable[Pin]) -> list[str]:
        """One per distribution whose files changed in the cache, naming them; one for entries without hashes."""
        versions = {pin.name: f"{pin.name} {pin.version}" for pin in pins}
        messages = []
        for name, damage in sorted(self.damaged.items()):
            if damage.files:
                shown = ", ".join(damage.files[:5]) + (
                    f" and {len(damage.files) - 5} more" if len(damage.files) > 5 else ""
                )
                messages.append(
                    f"the cached copy of {versions.get(name, name)} was damaged: {shown} did not match the sha256 "
                    f"recorded when it was cached, so the entry was dropped and {name} installed afresh. Something "
                    f"wrote into the cache at {self.cache_root}: check that disk, or delete the cache."
                )
        unhashed = sorted(versions.get(name, name) for name, damage in self.damaged.items() if not damage.files)
        if unhashed:
            messages.append(
                f"the cached copies of {', '.join(unhashed)} had no readable record of their files' sha256 (an older "
                "lambda-slim wrote them, or their meta.json is damaged), so they were dropped and installed afresh."
            )
        return messages


def cached_pins(pins: Iterable[Pin], cache: DistCache | None, target: Target, interpreter: str | None) -> CacheHits:
    """The pins whose distribution the cache holds intact, and those whose entry was damaged and is now gone."""
    if cache is None:
        return CacheHits({}, {})
    compiler = compiler_identity(interpreter) if interpreter else None
    keys = {pin.name: cache.key(pin, target, compiler) for pin in pins}
    looked_up = cache.lookup_all(keys.values())
    found: dict[str, tuple[str, CachedDist]] = {}
    damaged: dict[str, Damaged] = {}
    for name, key in keys.items():
        result = looked_up.get(key)
        if isinstance(result, CachedDist):
            found[name] = (key, result)
        elif isinstance(result, Damaged):
            damaged[name] = result
    return CacheHits(found, damaged, cache.root)


def forget_requested(tree: Path) -> None:
    """Remove pip's and uv's REQUESTED markers, and their RECORD rows.

    An installer marks the distributions it was asked for: resolving marks the project's own requirements, an
    install from slim.lock every pin (each is a requirement there), and a cache entry keeps whichever install
    stored it, for every project that shares it. The unslimmed tree, and so the report's "before" figures, then
    depended on how each distribution got there (two builds of one app: 1,325 files, then 1,331). Nothing at run
    time reads the marker, and the zips never held it (installer metadata goes)."""
    for marker in tree.glob("*.dist-info/REQUESTED"):
        marker.unlink()
        record = marker.with_name("RECORD")
        if not record.is_file():
            continue
        listed = f"{marker.parent.name}/REQUESTED"
        # As bytes: pip ends RECORD's rows with CRLF (csv's default), which text mode would rewrite.
        lines = record.read_bytes().decode("utf-8").splitlines(keepends=True)
        kept = [line for line in lines if next(csv.reader([line]), [""])[0].replace(os.sep, "/") != listed]
        if len(kept) != len(lines):
            record.write_bytes("".join(kept).encode("utf-8"))


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
    reporter: Reporter | None = None,
) -> StagedDependencies:
    """Compile what pip just installed in `fresh`, store each of its distributions in the cache, and hard-link every
    locked distribution, fresh or cached, into `root`. `reporter` counts the files compiled."""
    fresh_compiled = CompileResult(frozenset(), ())
    if fresh.is_dir():
        forget_requested(fresh)
    if interpreter is not None and fresh.is_dir() and any(fresh.iterdir()):
        fresh_compiled = compile_tree(fresh, interpreter, display_root, reporter=reporter)
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
    linked = {name: entry for name, entry in cached.items() if name not in installed}
    if linked and reporter is not None:
        reporter.stage("linking cached packages", len(linked), UNIT)
    for key, listing in linked.values():
        assert cache is not None
        cache.link_into(key, listing, root)
        compiled.update(listing.compiled)
        failed += listing.failed
        reused += 1
        if reporter is not None:
            reporter.advance()
    return StagedDependencies(frozenset(compiled), tuple(sorted(failed)), reused)
