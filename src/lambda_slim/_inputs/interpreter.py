"""Finding a Python of the target's minor version: bytecode is only valid for the version that wrote it."""

from __future__ import annotations

import os
import shutil
import sys

from lambda_slim import _subprocess
from lambda_slim._errors import TargetError, ToolError
from lambda_slim._inputs.target import Target


def find_interpreter(target: Target, explicit: str | None = None) -> str | None:
    """The explicit interpreter (checked), else this Python when it matches, else `python3.X` on PATH."""
    if explicit is not None:
        path = shutil.which(explicit) if os.sep not in explicit else explicit
        if path is None or not os.path.exists(path):
            raise TargetError(
                f"--python {explicit}: no such interpreter. Pass the path of a Python {target.python_tag}."
            )
        version = interpreter_version(path)
        if version != target.python_version:
            raise TargetError(
                f"--python {explicit} is Python {version[0]}.{version[1]}, but {target.runtime} needs "
                f"{target.python_tag}: bytecode is only valid for the version that wrote it."
            )
        return path
    if sys.version_info[:2] == target.python_version:
        return sys.executable
    candidate = shutil.which(f"python{target.python_tag}")
    if candidate is not None:
        try:
            if interpreter_version(candidate) == target.python_version:
                return candidate
        except TargetError:
            pass  # a shim that exists but cannot run (pyenv without that version selected)
    return None


def interpreter_version(path: str) -> tuple[int, int]:
    try:
        done = _subprocess.run(
            [path, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            what=f"asking {path} for its version",
            error=ToolError,
            timeout=60,
        )
        major, minor = done.stdout.split()
        return int(major), int(minor)
    except (ToolError, ValueError) as exc:
        raise TargetError(f"{path} does not run as a Python interpreter.") from exc


def missing_interpreter_message(target: Target) -> str:
    return (
        f"no Python {target.python_tag} found to compile bytecode for {target.runtime}: install it (so that "
        f"python{target.python_tag} is on PATH), pass --python PATH, choose --runtime python"
        f"{sys.version_info[0]}.{sys.version_info[1]} (this Python), or build with --no-compile (every cold "
        "start then compiles each imported module, several times slower)."
    )
