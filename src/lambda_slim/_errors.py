"""One exception family: every failure the library raises is a SlimError.

Each subclass names the stage that failed; the CLI maps the family to an exit status and prints the message
(never a traceback). Messages say what went wrong and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class SlimError(Exception):
    """Base of every error lambda-slim raises on purpose."""

    exit_status = 1

    def __init__(self, message: str, *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        # Output of a failed tool (pip, strip, an interpreter): shown under the message, trimmed by the CLI.
        self.details = details

    def __str__(self) -> str:
        return self.message


class ConfigError(SlimError):
    """Bad configuration or usage: a broken pyproject, an unknown key, a bad value."""

    exit_status = 2


def unknown_key(key: str, known: Sequence[str], where: str) -> ConfigError:
    """The error for a configuration key nobody knows, suggesting the closest known one."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(known)}."
    return ConfigError(f"unknown key {key!r} in {where}.{hint}")


class TargetError(SlimError):
    """An unknown runtime or architecture, or no interpreter for the target."""

    exit_status = 2


class ProjectError(SlimError):
    """The project directory or its requirement inputs cannot be read."""


class ResolveError(SlimError):
    """Dependencies cannot be resolved for the target."""


class InstallError(SlimError):
    """Wheels for the target cannot be installed."""


class CompileError(SlimError):
    """Bytecode cannot be compiled."""


class StripError(SlimError):
    """Applying the slimming rules failed."""


class ArchiveError(SlimError):
    """A zip cannot be read or written: one to analyse or verify is missing, corrupt, truncated, empty or hostile
    (read from its central directory, never extracted), or the deployment zip cannot be written."""


class VerifyError(SlimError):
    """The package does not work: a module or the handler fails to import, to run, or returns something else."""


class CannotRunTarget(SlimError):
    """This machine cannot run the target (another Python minor version or architecture): nothing was checked."""

    exit_status = 3


class ToolError(SlimError):
    """An external command failed; `details` holds its output."""
