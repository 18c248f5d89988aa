"""`[tool.slim] runtime-provided = "exclude"`: leave out what Lambda's Python runtimes already ship.

The managed runtimes put boto3, botocore, s3transfer and jmespath (with what they need) on sys.path after the
function and its layers (/var/runtime). Leaving them out saves most of a boto3 app's bytes, at a price: the version
the function runs with is the runtime's, which AWS changes without notice, not the locked one. What goes is those
four and every distribution that only they need: one another dependency (or the project) also needs stays.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .distcache import link_or_copy, publish
from .errors import VerifyError
from .inventory import Inventory
from .pip import Pip
from .resolve import Lock
from .target import Target

RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


def excluded_distributions(lock: Lock) -> frozenset[str]:
    """The runtime's packages in the lock, and, transitively, the distributions only they require."""
    excluded = {pin.name for pin in lock.pins if pin.name in RUNTIME_PROVIDED}
    changed = bool(excluded)
    while changed:
        changed = False
        for pin in lock.pins:
            if pin.name in excluded or not pin.via:
                continue
            # "-r requirements.txt" and the like: the project asks for it itself.
            if all(not who.startswith("-") and who in excluded for who in pin.via):
                excluded.add(pin.name)
                changed = True
    return frozenset(excluded)


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
    digest = hashlib.sha256(json.dumps([sorted(versions.items()), target.runtime, target.arch]).encode()).hexdigest()
    dest = cache_root / "runtime" / digest
    if dest.exists():
        return dest

    def fill(private: Path) -> None:
        pip.run(
            ["install", "--quiet", "--no-deps", "--target", str(private), *target.pip_args(),
             *(f"{name}=={version}" for name, version in sorted(versions.items()))],
            what="installing the runtime-provided packages the build left out, to stand in for the runtime's",
            hint="Pass --runtime-packages DIR with them installed instead (pip install -t DIR boto3==...).",
            error=VerifyError,
        )  # fmt: skip

    publish(dest, fill)
    return dest
