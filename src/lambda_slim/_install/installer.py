"""One interface over the two installers a build can run: pip (the default) and uv (`--installer uv`).

Both resolve requirement inputs to the same lock for the target (pip-tools' format, with every file's hash) and
install exactly a lock's wheels into a directory, without bytecode (compile.py writes it, the same way for both).
Staging calls this interface and never asks which installer it has. pip is needed either way: it builds the wheels
of local packages and of sdist-only requirements, and installs the runtime stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lambda_slim._inputs.config import Installer as InstallerName
from lambda_slim._inputs.indexes import IndexSettings
from lambda_slim._inputs.project import RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.install import install
from lambda_slim._install.pip import Pip
from lambda_slim._install.progress import UNIT, packages
from lambda_slim._install.resolve import HASH_MISMATCH_HINT, Lock, resolve
from lambda_slim._install.uv import Uv, find_uv
from lambda_slim._progress import Reporter


class Installer(Protocol):
    def resolve(
        self, inputs: RequirementInputs, target: Target, *, install_into: Path, reporter: Reporter | None = None
    ) -> Lock:
        """Versions and files for the target, with their hashes, installed into `install_into` as well; `reporter`
        counts the packages resolved, then starts a stage of those installed."""
        ...

    def install(
        self,
        lock: Lock,
        target: Target,
        dest: Path,
        *,
        hash_hint: str = HASH_MISMATCH_HINT,
        reporter: Reporter | None = None,
    ) -> None:
        """Exactly the locked wheels, into `dest`; `hash_hint` says how to fix a hash mismatch; `reporter`'s current
        stage counts the packages installed."""
        ...


@dataclass(frozen=True)
class PipInstaller:
    pip: Pip

    def resolve(
        self, inputs: RequirementInputs, target: Target, *, install_into: Path, reporter: Reporter | None = None
    ) -> Lock:
        # One pip run resolves and installs: a second would repeat its start-up and its index look-ups.
        return resolve(inputs, target, self.pip, install_into=install_into, reporter=reporter)

    def install(
        self,
        lock: Lock,
        target: Target,
        dest: Path,
        *,
        hash_hint: str = HASH_MISMATCH_HINT,
        reporter: Reporter | None = None,
    ) -> None:
        install(lock, target, dest, self.pip, hash_hint=hash_hint, reporter=reporter)


@dataclass(frozen=True)
class UvInstaller:
    """uv prints nothing per package as it works, and with its warnings (a managed Python it could not download)
    its output misleads the reading of its failures: it runs --quiet, and its progress is the lock's packages, counted
    once each run is done."""

    uv: Uv

    def resolve(
        self, inputs: RequirementInputs, target: Target, *, install_into: Path, reporter: Reporter | None = None
    ) -> Lock:
        # uv pip compile installs nothing: the lock it writes is installed as any lock is.
        lock = self.uv.resolve(inputs, target)
        if reporter is not None:
            reporter.advance(len(lock.pins))
            reporter.stage(f"installing {packages(len(lock.pins))}", len(lock.pins), UNIT)
        self.install(lock, target, install_into, reporter=reporter)
        return lock

    def install(
        self,
        lock: Lock,
        target: Target,
        dest: Path,
        *,
        hash_hint: str = HASH_MISMATCH_HINT,
        reporter: Reporter | None = None,
    ) -> None:
        self.uv.install(lock, target, dest, hash_hint=hash_hint)
        if reporter is not None:
            reporter.advance(len(lock.pins))


def installer_for(name: InstallerName, pip: Pip, indexes: IndexSettings) -> Installer:
    """The installer `[tool.slim] installer` / `--installer` names; uv is looked for only when it is named."""
    if name == "uv":
        return UvInstaller(Uv(find_uv(), indexes, pip.python))
    return PipInstaller(pip)
