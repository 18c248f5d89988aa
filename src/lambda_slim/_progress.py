"""A small reporter interface, so the library can tell progress without knowing about terminals.

Each stage counts in its own unit: packages resolved and installed (read from the installer's output as it runs),
files compiled, bytes zipped, modules verified. A stage whose work has no count it can give (uv resolving, a pip
step that prints nothing for a while) is still a stage: a reporter on a terminal shows its elapsed time."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("lambda_slim")


class Reporter(Protocol):
    def stage(self, name: str, total: int | None = None, unit: str = "step") -> None:
        """A new stage starts; `total` is its number of `unit`s when known ("package", "file", "module"; "B" for
        bytes)."""

    def advance(self, steps: int = 1) -> None:
        """Units of the current stage are done."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the build."""

    def close(self) -> None:
        """The run is over."""


class NullReporter:
    """Reports nothing; warnings go to the logger so they are never lost."""

    def stage(self, name: str, total: int | None = None, unit: str = "step") -> None:
        log.debug("stage: %s", name)

    def advance(self, steps: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        log.warning("%s", message)

    def close(self) -> None:
        pass
