"""Production requirements -> a pinned, hash-checked lock for the target (pip-tools' requirements format).

Versions are chosen by pip's resolver restricted to the target's wheel tags, not by the build machine: pip-compile
resolves for the host and picks numpy 2.4.6 for a python3.11 Lambda, which has no wheel there
(docs/lambda-facts.md#resolving-for-the-target).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import ResolveError, ToolError
from lambda_slim._inputs.project import RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.pip import (
    Pip,
    explain_missing_wheel,
    no_such_project,
    no_such_project_message,
    only_sdists_published,
    sdist_only_message,
    unavailable_requirement,
    unreachable_index,
)
from lambda_slim._install.progress import pip_lines
from lambda_slim._progress import Reporter
from lambda_slim._version import __version__

LOCK_FORMAT = "1"
_KEY_LINE = re.compile(r"^# slim-lock-key: ([0-9a-f]{64})$", re.M)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
# A direct reference, `name @ url`: a wheel from a URL rather than an index, locked by that URL.
_DIRECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+?)\s*\\?$")
_INDEX_LINE = re.compile(r"^(--index-url|--extra-index-url|--find-links|--no-index)\b")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
# The comment under a pin whose hash is its sdist's: lambda-slim builds that sdist into a pure-Python wheel.
VIA = "# via "  # a comment under a pin: who asks for it, one per line
SDIST_NOTE = "# built by lambda-slim from this sdist into a pure-Python wheel"


class SdistOnly(ResolveError):
    """A requirement with only sdists published: building one may give a pure-Python wheel."""

    def __init__(self, message: str, *, requirement: str, details: str = "") -> None:
        super().__init__(message, details=details)
        self.requirement = requirement


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    # The wheel pip chose; a lock written by uv (or pip-compile) lists every file of the version, one of which
    # the installer picks and checks.
    hashes: tuple[str, ...]
    via: tuple[str, ...] = ()  # who asked for it, for the lock's comments
    # Where the wheel comes from when it was asked for by URL (`name @ url`): an index may serve another file of
    # the same name and version (the upstream release of a fork), so the lock keeps the URL, never credentials.
    url: str | None = None
    # True when `hashes` are of the version's sdist, which lambda-slim builds into a pure-Python wheel.
    sdist: bool = False

    @property
    def local_path(self) -> str | None:
        """The project directory, relative to the project, of a local package (`name @ file:../lib`)."""
        if self.url is None or not self.url.startswith("file:") or wheel_version(self.url) is not None:
            return None
        return urllib.parse.unquote(self.url.removeprefix("file:"))

    @property
    def hash_options(self) -> str:
        return " ".join(f"--hash=sha256:{digest}" for digest in self.hashes)

    @property
    def line(self) -> str:
        return f"{self.name} @ {self.url}" if self.url else f"{self.name}=={self.version}"


def split_marker(line: str) -> tuple[str, str]:
    """A requirement line without its environment marker, and the marker (empty when there is none).

    PEP 508 needs white space before the `;` of a URL requirement, since a URL may hold a `;` of its own."""
    continued = line.endswith("\\")
    body = line.removesuffix("\\").rstrip()
    requirement, _, marker = body.partition(" ;" if "@" in body.split(";", 1)[0] else ";")
    return requirement.rstrip() + (" \\" if continued else ""), marker.strip()


def parse_pin_line(line: str) -> Pin | None:
    """A lock's requirement line, `name==version` or `name @ url` (without its hashes), or None for anything else.

    A direct reference's version is its wheel's file name's, which pip and uv check against the wheel's metadata.
    A local package's (`name @ file:../lib`) is its built wheel's, unknown until it is built: empty here.
    """
    pinned = _PIN.match(line)
    if pinned:
        return Pin(canonicalize_name(pinned.group(1)), pinned.group(2), ())
    direct = _DIRECT.match(line)
    version = wheel_version(direct.group(2)) if direct else None
    if direct and version is None and direct.group(2).startswith("file:") and "//" not in direct.group(2):
        version = ""  # a local package's directory, relative to the project
    if not direct or version is None:
        return None
    name = canonicalize_name(direct.group(1))
    return Pin(name, version, (), url=checked_direct_url(name, direct.group(2)))


def wheel_version(url: str) -> str | None:
    """The version in the wheel file name a URL ends with, or None when it does not name a wheel."""
    filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    try:
        return str(parse_wheel_filename(filename)[1])
    except InvalidWheelFilename:
        return None


def checked_direct_url(name: str, url: str) -> str:
    """`url`, refused when it carries credentials: a lock is committed, so they must never be written into one."""
    if "@" in urllib.parse.urlsplit(url).netloc:
        raise ResolveError(
            f"{name} is locked from a URL with credentials in it ({mask_credentials(url)}), and lambda-slim never "
            "writes credentials into slim.lock: remove them from the URL and give them to pip and uv through "
            "~/.netrc or a keyring."
        )
    return url


@dataclass(frozen=True)
class Lock:
    key: str
    pins: tuple[Pin, ...]

    def names(self) -> set[str]:
        return {pin.name for pin in self.pins}


def needed_only_by(lock: Lock, roots: Collection[str]) -> frozenset[str]:
    """The pins named in `roots` and, transitively, the pins that only they require, by the lock's "via": a pin the
    project asks for itself ("-r requirements.txt") or that something else needs is not taken. A pin without a
    "via" (a lock that does not record who asks) is never taken: the set is then the least it can be."""
    taken = {pin.name for pin in lock.pins if pin.name in roots}
    changed = bool(taken)
    while changed:
        changed = False
        for pin in lock.pins:
            if pin.name in taken or not pin.via:
                continue
            if all(not who.startswith("-") and who in taken for who in pin.via):
                taken.add(pin.name)
                changed = True
    return frozenset(taken)


def lock_key(inputs: RequirementInputs, target: Target) -> str:
    """Everything that can change the resolution: the inputs' content and the target."""
    raw = "\0".join([LOCK_FORMAT, inputs.digest, target.runtime, target.arch])
    return hashlib.sha256(raw.encode()).hexdigest()


def read_lock(path: Path, target: Target | None = None) -> Lock | None:
    """The lock at `path`, or None when there is none or it is not one of ours.

    A pin with an environment marker (`; platform_machine == "aarch64"`, as pip-compile writes them) is kept when the
    marker holds on `target` and left out when it does not; without a target to judge it by, the lock is not used.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    key = _KEY_LINE.search(text)
    if key is None:
        return None
    pins: list[Pin] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#") or _INDEX_LINE.match(line):
            continue  # the indexes come from the inputs, which the key covers, with their credentials
        requirement, marker = split_marker(line.strip())
        try:
            pin = parse_pin_line(requirement)
        except ResolveError:
            return None  # credentials in an edited lock: resolving again says so
        if pin is None:
            if line.strip() and not line[:1].isspace():
                return None  # a requirement we cannot read (a URL to no wheel): resolve again
            continue
        hashes = []
        for following in lines[index + 1 :]:
            found = HASH.search(following)
            if not found:
                break
            hashes.append(found.group(1))
        comments = [following.strip() for following in lines[index + 1 + len(hashes) :]]
        via = []
        for comment in comments:
            if not comment.startswith("#"):
                break
            if comment == SDIST_NOTE:
                pin = replace(pin, sdist=True)
            elif comment.startswith(VIA):
                via.append(comment.removeprefix(VIA))  # who asks for it: what runtime-provided leaves out needs it
        if not hashes:
            return None  # an edited lock without hashes is not trusted: resolve again
        if marker:
            if target is None:
                return None
            try:
                if not Marker(marker).evaluate(target.marker_environment()):
                    continue
            except InvalidMarker:
                return None  # not a lock pip would install from either: resolve again
        pins.append(replace(pin, hashes=tuple(hashes), via=tuple(via)))
    return Lock(key.group(1), tuple(pins))


def render_lock(lock: Lock, inputs: RequirementInputs, target: Target, base: Path | None = None) -> str:
    """slim.lock's text; `base`, the lock's directory, is what local find-links paths are written relative to."""
    lines = [
        "#",
        f"# This file is autogenerated by lambda-slim {__version__} for {target.describe()}",
        f"# from {inputs.source}. `slim build` rewrites it when the inputs or the target change;",
        "# `pip install --require-hashes -r slim.lock` (or pip-sync) installs the same versions.",
        "#",
        f"# slim-lock-key: {lock.key}",
        "#",
        *inputs.indexes.lock_lines(base),
    ]
    if any(pin.local_path is not None for pin in lock.pins):
        # pip refuses a hash on a directory: only slim build installs a local package by its wheel's hash.
        lines[4:4] = [
            "# A local package (`name @ file:../lib`) is locked by its built wheel's hash: slim build checks it."
        ]
    for pin in sorted(lock.pins, key=lambda p: p.name):
        hashes = [f"    --hash=sha256:{digest}" for digest in pin.hashes]
        lines += [f"{pin.line} \\", *(f"{line} \\" for line in hashes[:-1]), hashes[-1]]
        lines += [f"    {SDIST_NOTE}"] if pin.sdist else []
        lines += [f"    {VIA}{who}" for who in pin.via]
    return "\n".join(lines) + "\n"


# What pip and uv are told when a locked hash does not match.
HASH_MISMATCH_HINT = (
    "If a hash does not match, the index now serves a different file than when slim.lock was written: check why, "
    "then delete slim.lock to resolve again."
)


def write_locked_requirements(lock: Lock, workdir: Path) -> Path:
    """The lock's pins with their hashes, one line each, as an installer's `-r` file in `workdir`."""
    path = workdir / "locked.txt"
    path.write_text("".join(f"{pin.line} {pin.hash_options}\n" for pin in lock.pins), encoding="utf-8")
    return path


def requirements_file_args(inputs: RequirementInputs, workdir: Path) -> list[str]:
    """pip arguments that name the inputs: the user's file itself (so its -r/-c/--hash work), or a temp file."""
    if inputs.requirements_file is not None:
        return ["-r", str(inputs.requirements_file)]
    path = workdir / "requirements.in"
    path.write_text("\n".join(inputs.requirement_lines) + "\n", encoding="utf-8")
    return ["-r", str(path)]


def resolve(
    inputs: RequirementInputs,
    target: Target,
    pip: Pip,
    *,
    install_into: Path | None = None,
    reporter: Reporter | None = None,
) -> Lock:
    """Pick versions and wheels for the target with pip's resolver; hashes come from the files pip chose.

    With `install_into`, the same pip run also installs what it chose there (without bytecode), which saves a
    second pip run, its start-up and its index look-ups, whenever the lock has to be written anyway. `reporter`
    counts the packages pip collects, then those it installs.
    """
    key = lock_key(inputs, target)
    if inputs.empty:
        return Lock(key, ())
    with tempfile.TemporaryDirectory(prefix="slim-resolve-") as tmp:
        workdir = Path(tmp)
        report_path = workdir / "report.json"
        args = [
            "install",
            *(["--no-compile"] if install_into else ["--dry-run"]),
            "--ignore-installed",
            # Not --quiet: its "Collecting ..." lines are the progress shown. No bar: its output is not a terminal.
            "--progress-bar",
            "off",
            "--report",
            str(report_path),
            "--target",
            str(install_into or workdir / "target"),
            *target.pip_args(),
        ]
        args += requirements_file_args(inputs, workdir)
        try:
            pip.run(
                args,
                what=f"resolving dependencies for {target.describe()}",
                hint="",
                error=ResolveError,
                on_line=pip_lines(reporter) if reporter is not None else None,
            )
        except ResolveError as exc:
            raise _explain_failure(exc, inputs, target, pip, workdir) from exc
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return Lock(key, _pins_from_report(report, inputs))


def _pins_from_report(report: dict[str, Any], inputs: RequirementInputs) -> tuple[Pin, ...]:
    items = report.get("install", [])
    requirers: dict[str, list[str]] = {}
    for item in items:
        who = canonicalize_name(item["metadata"]["name"])
        for raw in item["metadata"].get("requires_dist", []) or []:
            requirers.setdefault(canonicalize_name(Requirement(raw).name), []).append(who)
    pins = []
    for item in items:
        name = canonicalize_name(item["metadata"]["name"])
        info = item.get("download_info", {})
        archive = info.get("archive_info", {})
        sha256 = archive.get("hashes", {}).get("sha256") or archive.get("hash", "=").split("=", 1)[1]
        if not sha256:
            raise ResolveError(
                f"pip chose {name} from {info.get('url', 'a local directory')}, which has no hash: lambda-slim "
                "locks wheels only. Replace the directory or editable requirement with a built wheel."
            )
        via = sorted({w for w in requirers.get(name, []) if w != name})
        if item.get("requested"):
            via.insert(0, f"-r {inputs.source}")
        url = checked_direct_url(name, info["url"]) if item.get("is_direct") else None
        if url is not None and wheel_version(url) is None:
            raise ResolveError(
                f"{name} is required by a URL that names no wheel ({url}): lambda-slim locks wheels only, so nothing "
                "is compiled for the build machine by mistake. Build a wheel of it and require it as "
                "`name @ https://.../name-1.0-py3-none-any.whl`."
            )
        pins.append(Pin(name, item["metadata"]["version"], (sha256,), tuple(via), url))
    return tuple(sorted(pins, key=lambda p: p.name))


def _explain_failure(
    exc: ResolveError, inputs: RequirementInputs, target: Target, pip: Pip, workdir: Path
) -> ResolveError:
    missing = unavailable_requirement(exc.details)
    unreachable = unreachable_index(exc.details)
    if missing is None and unreachable is None:
        return ResolveError(
            f"cannot resolve the dependencies from {inputs.source} for {target.describe()}: pip's resolver found no "
            "set of versions that fits (see its output below). Relax the conflicting pins.",
            details=exc.details,
        )
    verbose = ""
    if unreachable is None and missing is not None:
        verbose = probe_published(missing, target, pip, workdir)
        unreachable = unreachable_index(verbose)
    if unreachable is not None:
        return ResolveError(unreachable.message(missing), details=mask_credentials(exc.details))
    assert missing is not None
    if no_such_project(missing, verbose):
        # A misspelt name: no target, Python or platform would help, so the message names none.
        return ResolveError(
            no_such_project_message(missing, verbose, inputs.source), details=mask_credentials(exc.details)
        )
    if only_sdists_published(missing, verbose):
        return SdistOnly(
            f"no wheel for {target.describe()}: {sdist_only_message(missing)}", requirement=missing, details=exc.details
        )
    return ResolveError(
        f"no wheel for {target.describe()}: {explain_missing_wheel(missing, verbose, target)}",
        details=exc.details,
    )


def probe_published(requirement: str, target: Target, pip: Pip, workdir: Path) -> str:
    """pip's verbose account of the files published for `requirement`: the links it skipped and why, and the index
    pages it could not fetch (which pip names only when verbose)."""
    try:
        return pip.run(
            ["download", "--no-deps", "-vvv", "-d", str(workdir / "probe"), *target.pip_args(), requirement],
            what="looking up published files",
            hint="",
            error=ToolError,
        )
    except ToolError as probe:
        return probe.details
