"""Building from the project's own lock file: its versions installed as locked, never resolved again.

The lock's graph, judged for the target by foreignlocks, is the whole truth: the packages are installed with
--no-deps, since pip would judge their dependencies' markers for itself. Each locked version must have a wheel for
the target; one that has none stops the build, with the fix in the lock tool's terms, rather than another version
being chosen behind the user's back.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_slim._errors import InstallError, ProjectError, ResolveError
from lambda_slim._inputs.config import read_pyproject
from lambda_slim._inputs.foreignlocks import ProjectLock, no_wheel_hint, no_wheel_reason, stale_reason, wheel_tags
from lambda_slim._inputs.project import RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.pip import unavailable_requirement
from lambda_slim._install.resolve import Lock, Pin, lock_key


def locked_pins(inputs: RequirementInputs, project_dir: Path) -> tuple[Pin, ...]:
    """The lock's packages as pins with every sha256 the lock lists for the version; local ones by path."""
    lock = inputs.project_lock
    assert lock is not None
    pins = []
    for package, line in zip(lock.packages, inputs.requirement_lines, strict=True):
        if not package.is_local and not package.hashes:
            raise ProjectError(
                f"{lock.source} lists no sha256 hash for {package.name} {package.version}: it cannot be installed "
                f"with its hash checked. Run `{lock.refresh_command}` so the lock records the files' hashes."
            )
        url = line.split(" @ ", 1)[1] if " @ " in line else None
        if package.is_local and url is not None and url.startswith("file://"):
            # As slim.lock records a local package: by its directory relative to the project, which the
            # path-requirement build matches to the wheel it built.
            url = "file:" + os.path.relpath(urllib.parse.unquote(urllib.parse.urlsplit(url).path), project_dir)
        pins.append(Pin(package.name, package.version or "", package.hashes, package.via, url))
    return tuple(pins)


def refuse_unbuilt_local_packages(lock: ProjectLock, pins: tuple[Pin, ...]) -> None:
    """A local package's pin is its directory, which the installer cannot hash-check: the path-requirement build
    replaces it by its wheel's file and sha256. One left unbuilt is said, rather than let pip fail with a hash
    message that blames the lock."""
    unbuilt = [f"{pin.name} ({pin.url})" for pin in pins if not pin.hashes]
    if unbuilt:
        raise ProjectError(
            f"{lock.source} locks local packages that lambda-slim did not build into wheels: {', '.join(unbuilt)}. "
            "Check that each directory holds a project with a pyproject.toml (or setup.py) that `pip wheel` builds."
        )


def refuse_missing_wheels(lock: ProjectLock, target: Target) -> None:
    """Every locked version without a wheel for the target, named at once, from the file names the lock lists."""
    tags = wheel_tags(target.python_version, target.platform_tags())
    problems = []
    for package in lock.packages:
        reason = no_wheel_reason(package, tags)
        if reason is not None:
            hint = no_wheel_hint(lock.tool, package.name, package.version or "", reason, machine=target.machine)
            problems.append(hint)
    if problems:
        raise ResolveError(f"no wheel for {target.describe()}: " + "\n".join(problems))


def project_lock_outcome(
    inputs: RequirementInputs, project_dir: Path, target: Target, *, locked: bool
) -> tuple[Lock, str, tuple[str, ...]]:
    """The lock to install, its status for the report and its warnings: stale, or its freshness unchecked.

    With --locked (`locked`), a stale lock fails: the versions it holds are not what pyproject.toml now asks for.
    """
    lock = inputs.project_lock
    assert lock is not None
    pins = locked_pins(inputs, project_dir)
    refuse_missing_wheels(lock, target)
    stale = stale_reason(lock.path, read_pyproject(project_dir))
    if stale is not None and locked:
        raise ResolveError(f"{stale} --locked forbids building from a stale lock.")
    status = f"{lock.source}: versions as locked"
    if lock.tool == "pylock":
        status += f" (freshness {lock.freshness})"
    warnings = (stale,) if stale is not None else ()
    if stale is not None:
        status += f"; stale: run `{lock.refresh_command}`"
    return Lock(lock_key(inputs, target), pins), status, warnings


def hash_mismatch_hint(lock: ProjectLock) -> str:
    return (
        f"If a hash does not match, the file the index serves is not the one {lock.source} recorded: check why (a "
        f"re-published release, another index), then run `{lock.refresh_command}`."
    )


def explain_install_failure(exc: InstallError, lock: ProjectLock, target: Target) -> InstallError | ResolveError:
    """A locked version pip found no file of (Pipfile.lock names none, so only pip can tell) said as a locked
    version without a wheel, with the lock tool's fix; any other failure as it was."""
    missing = unavailable_requirement(exc.details)
    try:
        requirement = Requirement(missing) if missing else None
    except InvalidRequirement:
        requirement = None
    if requirement is None:
        return exc
    version = next((spec.version for spec in requirement.specifier if spec.operator == "=="), "")
    name = canonicalize_name(requirement.name)
    package = next((p for p in lock.packages if p.name == name), None)
    if package is not None and any(f.filename for f in package.files):
        # The lock names a file that fits (refuse_missing_wheels passed): the index pip reads does not serve it.
        where = f"the index{'es' if len(lock.indexes) > 1 else ''} {lock.source} names ({', '.join(lock.indexes)})"
        where = where if lock.indexes else "the index the lock was made from"
        return InstallError(
            f"{name} {version} is locked in {lock.source} with a wheel for {target.describe()}, but the package index "
            f"pip reads does not serve it. Point pip at {where} "
            "(PIP_INDEX_URL or PIP_EXTRA_INDEX_URL, or pip.conf), or check that the release was not withdrawn.",
            details=exc.details,
        )
    reason = f"pip found no file of it for {target.describe()}"
    hint = no_wheel_hint(lock.tool, requirement.name, version, reason, machine=target.machine)
    return ResolveError(f"no wheel for {target.describe()}: {hint}", details=exc.details)
