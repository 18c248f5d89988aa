"""Lock -> installed tree of the target's wheels (pip --target, no dependencies of its own, hashes required)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .errors import InstallError
from .pip import Pip
from .resolve import Lock
from .target import Target


def install(lock: Lock, target: Target, dest: Path, pip: Pip) -> None:
    """Install exactly the locked wheels into `dest`, a new directory, without bytecode (compile does that)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not lock.pins:
        return
    with tempfile.TemporaryDirectory(prefix="slim-install-") as tmp:
        requirements = Path(tmp) / "locked.txt"
        requirements.write_text(
            "".join(f"{pin.line} --hash=sha256:{pin.sha256}\n" for pin in lock.pins), encoding="utf-8"
        )
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
            hint=(
                "If a hash does not match, the index now serves a different file than when slim.lock was "
                "written: check why, then delete slim.lock to resolve again."
            ),
            error=InstallError,
        )
