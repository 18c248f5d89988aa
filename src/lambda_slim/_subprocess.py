"""The one way lambda-slim runs other programs: logged, captured, and turned into a SlimError on failure."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import SlimError, ToolError

log = logging.getLogger("lambda_slim")

_MAX_DETAIL_CHARS = 6000


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    hint: str = "",
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    error: type[SlimError] = ToolError,
    timeout: float | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd`, returning its captured output; raise `error` with the output attached when it fails.

    `what` says in words what the command was for ("resolving dependencies"), so the error reads as a
    sentence; `hint` says how to fix the usual causes.
    """
    args = [os.fspath(part) for part in cmd]
    log.debug("running: %s", shlex.join(args))
    try:
        done = subprocess.run(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            input=input,
            check=False,
        )
    except FileNotFoundError as exc:
        raise error(f"{what} failed: {args[0]} was not found. {hint}".strip()) from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what} failed: {args[0]} did not finish within {timeout:.0f} s. {hint}".strip()) from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise error(
            f"{what} failed ({Path(args[0]).name} exited with status {done.returncode}). {hint}".strip(),
            details=output,
        )
    return done


def tail(text: str, limit: int = _MAX_DETAIL_CHARS) -> str:
    """The end of a long output, where tools put the actual error: what a user is shown of it."""
    return text if len(text) <= limit else "...\n" + text[-limit:]
