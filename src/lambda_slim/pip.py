"""Running pip for a Lambda target: the command line every pip call shares, and reading pip's failures."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from . import _subprocess
from .errors import SlimError, ToolError
from .target import Target

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_SKIPPED_LINK = re.compile(r"Skipping link: .*?(https?://\S+|file://\S+)")


# Starts pip with environment markers judged for the target, not for the machine that runs pip.
_MARKERS_BOOTSTRAP = Path(__file__).with_name("_pip_markers.py")
# How its message starts when this pip's markers cannot be set for the target (it imports nothing of lambda-slim).
_MARKERS_REFUSED = "lambda-slim could not make this pip"


@dataclass(frozen=True)
class Pip:
    """How to start pip for a target: with the target's interpreter when there is one, and always with environment
    markers (`; platform_machine == "aarch64"`) judged for the target, which pip's --platform does not do."""

    target: Target
    python: str = sys.executable

    def command(self, *args: str) -> list[str]:
        # pip is pure Python: lambda-slim's own pip runs under the target's interpreter too.
        import pip

        environment = json.dumps(self.target.marker_environment())
        return [self.python, str(_MARKERS_BOOTSTRAP), environment, str(Path(pip.__file__).parent.parent), *args]

    def run(self, args: Sequence[str], *, what: str, hint: str, error: type[SlimError], cwd: Path | None = None) -> str:
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PIP_REQUIRE_VIRTUALENV": "0"}
        try:
            done = _subprocess.run(self.command(*args), what=what, hint=hint, error=error, env=env, cwd=cwd)
        except SlimError as exc:
            refusal = next((line for line in exc.details.splitlines() if line.startswith(_MARKERS_REFUSED)), None)
            if refusal is not None:
                # Not a resolution failure: pip never ran, so that no marker is judged for the build machine.
                raise ToolError(refusal, details=exc.details) from exc
            raise
        return done.stdout + done.stderr


def unavailable_requirement(pip_output: str) -> str | None:
    """The requirement pip could not find any usable file for, from its error output."""
    match = _NO_MATCH.search(pip_output)
    return match.group(1) if match else None


def explain_missing_wheel(requirement: str, verbose_output: str, target: Target) -> str:
    """Why no file of `requirement` fits the target, from the links pip skipped (pip -vvv)."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return f"{requirement}: no file fits {target.describe()}."
    name = canonicalize_name(req.name)
    sdists, wheels = [], []
    for url in _SKIPPED_LINK.findall(verbose_output):
        filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
        try:
            if filename.endswith(".whl"):
                wheel_name, version, _, tags = parse_wheel_filename(filename)
                if wheel_name == name and req.specifier.contains(version, prereleases=True):
                    wheels.append(tags)
            else:
                sdist_name, version = parse_sdist_filename(filename)
                if sdist_name == name and req.specifier.contains(version, prereleases=True):
                    sdists.append(version)
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    if not wheels and not sdists:
        return f"{requirement}: no release matches (check the name and the version)."
    if not wheels:
        return (
            f"{requirement}: only a source distribution (sdist) is published, and lambda-slim installs wheels "
            "only, so nothing is compiled for the build machine by mistake. Pin a version that has wheels, "
            "or build a manylinux wheel yourself and pass it with --find-links."
        )
    python_ok = [tags for tags in wheels if any(_python_fits(tag, target) for tag in tags)]
    if not python_ok:
        published = sorted({tag.interpreter for tags in wheels for tag in tags})
        return (
            f"{requirement}: no wheel for CPython {target.python_tag} (wheels are published for "
            f"{', '.join(published[-6:])}). Pin a version with wheels for {target.runtime}, or choose another runtime."
        )
    platforms = sorted({tag.platform for tags in python_ok for tag in tags if target.machine in tag.platform})
    if not platforms:
        return (
            f"{requirement}: no wheel for Linux {target.machine} ({target.arch}); wheels exist only for other "
            "platforms or architectures. Pin a version that publishes one, or choose the other --arch."
        )
    return (
        f"{requirement}: its {target.machine} wheels need a newer glibc than {target.runtime} has "
        f"({target.glibc[0]}.{target.glibc[1]}); published: {', '.join(platforms[-4:])}. Pin an older version, or "
        "choose a runtime on Amazon Linux 2023 (python3.12 or later)."
    )


def _python_fits(tag: Tag, target: Target) -> bool:
    major, minor = target.python_version
    interpreters = {f"cp{major}{minor}", f"py{major}", f"py{major}{minor}", "py2.py3"}
    abi_ok = tag.abi in (f"cp{major}{minor}", "abi3", "none")
    if tag.interpreter.startswith("cp") and tag.abi == "abi3":
        # An abi3 wheel for cp3X works on every later CPython.
        return abi_ok and int(tag.interpreter[3:] or 0) <= minor
    return abi_ok and tag.interpreter in interpreters
