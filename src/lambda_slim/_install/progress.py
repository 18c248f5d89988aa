"""Progress read from pip's own output, line by line as it prints it: packages resolved (or fetched) and installed.

pip prints one line per requirement it prepares ("Collecting click", or "Processing /wheels/x.whl" for a local
file), then "Installing collected packages: a, b, c" before it unpacks them all and "Successfully installed ..."
once done. Any other line is ignored, so a newer pip that words them otherwise only shows less progress, never
fails a build. (uv prints nothing per package as it works: installer.UvInstaller counts the lock's packages.)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lambda_slim._progress import Reporter

_PIP_PREPARING = re.compile(r"^(?:Collecting|Processing) \S")  # at the start: indented lines are details
_PIP_INSTALLING = re.compile(r"^Installing collected packages: (.+)$")
_PIP_INSTALLED = re.compile(r"^Successfully installed ")

UNIT = "package"


def packages(count: int) -> str:
    return f"{count} package" if count == 1 else f"{count} packages"


def pip_lines(reporter: Reporter) -> Callable[[str], None]:
    """What to pass pip's output to: a package prepared advances the current stage (resolving, or fetching a
    lock's wheels); "Installing collected packages" starts a stage of that many, done when pip says so."""
    installing = 0

    def on_line(line: str) -> None:
        nonlocal installing
        if _PIP_PREPARING.match(line):
            reporter.advance()
        elif found := _PIP_INSTALLING.match(line):
            installing = len(found.group(1).split(", "))
            reporter.stage(f"installing {packages(installing)}", installing, UNIT)
        elif installing and _PIP_INSTALLED.match(line):
            reporter.advance(installing)
            installing = 0

    return on_line
