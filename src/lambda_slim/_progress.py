"""A small reporter interface, so the library can tell progress without knowing about terminals."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("lambda_slim")


class Reporter(Protocol):
    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage starts; `total` is its number of steps when known."""

    def advance(self, steps: int = 1) -> None:
        """Steps of the current stage are done."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the build."""

    def close(self) -> None:
        """The run is over."""


class NullReporter:
    """Reports nothing; warnings go to the logger so they are never lost."""

    def stage(self, name: str, total: int | None = None) -> None:
        log.debug("stage: %s", name)

    def advance(self, steps: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        log.warning("%s", message)

    def close(self) -> None:
        pass
