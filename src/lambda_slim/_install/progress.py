"""Progress read from the installers' own output, line by line as they print it: packages resolved (or fetched)
and installed.

pip prints one line per requirement it prepares ("Collecting click", or "Processing /wheels/x.whl" for a local
file), then "Installing collected packages: a, b, c" before it unpacks them all and "Successfully installed ..."
once done. uv prints nothing per package while it works: "Resolved 12 packages in 40ms" once resolved, "Installed
12 packages in 9ms" once installed. A line neither of them prints is ignored, so a newer installer that words them
otherwise only shows less progress, never fails a build.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lambda_slim._progress import Reporter

_PIP_PREPARING = re.compile(r"^(?:Collecting|Processing) \S")  # at the start: indented lines are details
_PIP_INSTALLING = re.compile(r"^Installing collected packages: (.+)$")
_PIP_INSTALLED = re.compile(r"^Successfully installed ")
_UV_DONE = re.compile(r"^(Resolved|Installed) (\d+) packages? in ")

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


def uv_lines(reporter: Reporter, counted: str) -> Callable[[str], None]:
    """What to pass uv's output to: `counted` is "Resolved" or "Installed", the summary that advances the stage."""

    def on_line(line: str) -> None:
        found = _UV_DONE.match(line)
        if found and found.group(1) == counted:
            reporter.advance(int(found.group(2)))

    return on_line
