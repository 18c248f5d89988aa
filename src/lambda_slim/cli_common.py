"""What every command shares: progress on stderr, errors as messages, reports to files and step summaries."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from ._atomic import unwritable, write_text_atomically
from ._subprocess import tail
from .errors import ConfigError, SlimError


class TerminalReporter:
    """Progress on stderr through tqdm, only when stderr is a terminal; warnings always, unless --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: tqdm[Any] | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._close_bar()
        if self.enabled:
            self._bar = tqdm(total=total, desc=name, file=sys.stderr, leave=False, unit="step")

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def warn(self, message: str) -> None:
        if not self.quiet:
            (self._bar.write if self._bar is not None else _echo_err)(f"warning: {message}")

    def close(self) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def step_summary(markdown: str) -> None:
    """GitHub Actions shows what is appended to $GITHUB_STEP_SUMMARY on the run's page."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as summary:
                summary.write(markdown + "\n")
        except OSError as exc:
            click.echo(f"warning: cannot append to GITHUB_STEP_SUMMARY ({exc.strerror})", err=True)


def check_report_path(path: Path) -> None:
    """Before the work that produces it: the report can be written where -o/--output says."""
    why = unwritable(path.parent, create=False)
    if why is not None:
        raise ConfigError(
            f"cannot write the report to {path} (-o/--output): {why}. Nothing was done: pass -o a file in a "
            "directory you can write to."
        )


def write_report(path: Path, text: str) -> None:
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise SlimError(f"cannot write the report to {path}: {exc.strerror}.") from exc


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turns a SlimError into a message on stderr and its exit status: no traceback for a user's mistake."""
    try:
        yield
    except SlimError as error:
        click.echo(f"error: {error.message}", err=True)
        if error.details:
            click.echo("\n".join("  " + line for line in tail(error.details, 3000).splitlines()), err=True)
        sys.exit(error.exit_status)
