"""What the sandbox-side stages share: the two trees a build runs side by side, and how it runs them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from lambda_slim._inputs.target import Target, host_machine
from lambda_slim._sandbox.runner import Layout


@dataclass(frozen=True)
class TreesUnderTest:
    """The unslimmed install and the slimmed package, with what runs them as Lambda would: the target's interpreter
    and Python version, the handler (None: the top-level modules stand in for it), the directory that stands in for
    the runtime's own packages (/var/runtime), and the function's environment variables."""

    unslimmed: Path
    slimmed: Path
    interpreter: str
    python_tag: str
    handler: str | None = None
    runtime_root: Path | None = None
    environment: tuple[tuple[str, str], ...] = ()

    def layout(self, root: Path) -> Layout:
        # Both trees see the runtime's packages where Lambda has them: the unslimmed install is judged as Lambda
        # runs it.
        return Layout(root, python_tag=self.python_tag, runtime_root=self.runtime_root, environment=self.environment)

    @property
    def unslimmed_layout(self) -> Layout:
        return self.layout(self.unslimmed)

    @property
    def slimmed_layout(self) -> Layout:
        return self.layout(self.slimmed)


def can_run(target: Target, interpreter: str | None) -> bool:
    """Whether this machine can import the target's code: Linux, the same machine, a Python of its version."""
    return interpreter is not None and sys.platform == "linux" and host_machine() == target.machine
