"""Running pip for a Lambda target: the command line every pip call shares, and reading pip's failures."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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

from lambda_slim import _subprocess
from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import SlimError, ToolError
from lambda_slim._inputs.indexes import IndexSettings
from lambda_slim._inputs.target import Target

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_SKIPPED_LINK = re.compile(r"Skipping link: .*?(https?://\S+|file://\S+)")
# How pip (at -v and above) and uv say an index page could not be read; pip's 404 is "no such project", not this.
_PIP_UNREADABLE_PAGE = re.compile(
    r"Could not fetch URL (\S+): (connection error: .*|timed out|There was a problem confirming the ssl .*"
    r"|(?:40[13]|5\d\d) (?:Client|Server) Error: .*?)(?: - skipping)?$",
    re.M,
)
_POOL_FAILURE = re.compile(
    r"(HTTPS?)ConnectionPool\(host='([^']+)', port=(\d+)\): Max retries exceeded with url: (\S+)"
)
_UV_UNREADABLE_PAGE = re.compile(r"Failed to (?:fetch|download):? `?([a-z+]+://[^`\s]+)`?")
# uv reads a 401 or 403 as "no such package" and says why in a hint only.
_UV_REFUSED_CREDENTIALS = re.compile(
    r"An index URL \((\S+)\) could not be queried due to a lack of valid authentication credentials \((40[13][^)]*)\)"
)
_UV_NETWORK_CAUSE = re.compile(
    r"error sending request|Connection refused|tcp connect error|dns error|timed out|operation timed out"
    r"|HTTP status (?:server error|client error \(40[13])",
    re.I,
)
_NETWORK_REASON = re.compile(
    r"Failed to establish a new connection: ([^'\")]+)|(Connection refused|timed out|Name or service not known"
    r"|Temporary failure in name resolution|certificate verify failed"
    r"|\d{3} (?:Client|Server) Error: [^\n]*?(?= for url|$))"
    r"|HTTP status (?:client|server) error \((\d{3}[^)]*)\)",
    re.I | re.M,
)


# Starts pip with environment markers judged for the target, not for the machine that runs pip.
_MARKERS_BOOTSTRAP = Path(__file__).with_name("pip_markers.py")
# How its message starts when this pip's markers cannot be set for the target (it imports nothing of lambda-slim).
_MARKERS_REFUSED = "lambda-slim could not make this pip"


@dataclass(frozen=True)
class Pip:
    """How to start pip for a target: with the target's interpreter when there is one, and always with environment
    markers (`; platform_machine == "aarch64"`) judged for the target, which pip's --platform does not do."""

    target: Target
    python: str = sys.executable
    indexes: IndexSettings = field(
        default_factory=IndexSettings
    )  # the project's, on top of the machine's pip configuration

    def command(self, *args: str) -> list[str]:
        # pip is pure Python: lambda-slim's own pip runs under the target's interpreter too.
        import pip

        environment = json.dumps(self.target.marker_environment())
        return [self.python, str(_MARKERS_BOOTSTRAP), environment, str(Path(pip.__file__).parent.parent), *args]

    def run(
        self,
        args: Sequence[str],
        *,
        what: str,
        hint: str,
        error: type[SlimError],
        cwd: Path | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> str:
        """pip's output; `on_line` gets each line as pip prints it (progress.pip_lines reads them)."""
        env = {
            **self.indexes.pip_environment(os.environ),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_REQUIRE_VIRTUALENV": "0",
        }
        try:
            done = _subprocess.run(
                self.command(*args), what=what, hint=hint, error=error, env=env, cwd=cwd, on_line=on_line
            )
        except SlimError as exc:
            refusal = next((line for line in exc.details.splitlines() if line.startswith(_MARKERS_REFUSED)), None)
            if refusal is not None:
                # Not a resolution failure: pip never ran, so that no marker is judged for the build machine.
                raise ToolError(refusal, details=exc.details) from exc
            raise
        return done.stdout + done.stderr


@dataclass(frozen=True)
class UnreachableIndex:
    url: str  # the page that could not be read, credentials masked
    reason: str  # in a few words: "[Errno 111] Connection refused", "timed out"

    def message(self, requirement: str | None) -> str:
        blamed = (
            f"no release of {requirement} was found because the index could not be read, not because the package "
            "lacks one"
            if requirement
            else "the failure is the index's, not the packages'"
        )
        if self.reason.startswith(("401", "403")):
            return (
                f"the package index at {self.url} refused the credentials ({self.reason}): {blamed}. Check the user "
                "name and password it was given: in the index URL (PIP_INDEX_URL or UV_INDEX_URL, [tool.slim] "
                "index-url, whose ${VAR} is read from the environment, --index-url in the requirements), or in "
                "~/.netrc or a keyring for that host."
            )
        return (
            f"cannot reach the package index at {self.url} ({self.reason}): {blamed}. Check the index URL "
            "(PIP_INDEX_URL or UV_INDEX_URL, pip.conf or uv.toml, --index-url in the requirements), the network and "
            "any proxy. A build needs no index when slim.lock is committed and every locked distribution is in the "
            "cache (~/.cache/lambda-slim or --cache-dir): keep the cache warm to build offline."
        )


def unreachable_index(output: str) -> UnreachableIndex | None:
    """The index page pip or uv could not read for want of a network, a server or a certificate, from their
    output (pip names the page at -v and above, or when a download fails), or None when the index answered."""
    page = _PIP_UNREADABLE_PAGE.search(output)
    if page is not None:
        return UnreachableIndex(mask_credentials(page.group(1)), _network_reason(page.group(2)))
    pool = _POOL_FAILURE.search(output)
    if pool is not None:
        scheme, host, port, path = pool.groups()
        return UnreachableIndex(f"{scheme.lower()}://{host}:{port}{path}", _network_reason(output[pool.end() :]))
    refused = _UV_REFUSED_CREDENTIALS.search(output)
    if refused is not None:
        return UnreachableIndex(mask_credentials(refused.group(1)), refused.group(2))
    uv_page = _UV_UNREADABLE_PAGE.search(output)
    if uv_page is not None and _UV_NETWORK_CAUSE.search(output, uv_page.end()):
        return UnreachableIndex(mask_credentials(uv_page.group(1)), _network_reason(output[uv_page.end() :]))
    return None


def _network_reason(text: str) -> str:
    found = _NETWORK_REASON.search(text)
    if found is None:
        return "connection error"
    return next(group for group in found.groups() if group).strip()


def unavailable_requirement(pip_output: str) -> str | None:
    """The requirement pip could not find any usable file for, from its error output."""
    match = _NO_MATCH.search(pip_output)
    return match.group(1) if match else None


def only_sdists_published(requirement: str, verbose_output: str) -> bool:
    """Whether pip skipped sdists of `requirement` and no wheel of it at all (pip -vvv): a build of the sdist may
    give a pure-Python wheel, which fits every target."""
    try:
        sdists, wheels = _published(Requirement(requirement), verbose_output)
    except InvalidRequirement:
        return False
    return bool(sdists) and not wheels


def sdist_only_message(requirement: str, built: str | None = None) -> str:
    """Why an sdist-only requirement cannot ship: it was not built, or `built` (the wheel's file name) is not pure."""
    why = (
        f"lambda-slim built it into {built}, a wheel for this machine, not for Lambda (only a pure-Python wheel, "
        "py3-none-any, is built from an sdist)"
        if built
        else "lambda-slim installs wheels only, so nothing is compiled for the build machine by mistake"
    )
    return (
        f"{requirement}: only a source distribution (sdist) is published, and {why}. Pin a version that has wheels, "
        "or build a manylinux wheel yourself and pass it with --find-links."
    )


def _published(req: Requirement, verbose_output: str) -> tuple[list[object], list[frozenset[Tag]]]:
    """The sdists' versions and the wheels' tags of `req` among the links pip skipped."""
    name = canonicalize_name(req.name)
    sdists: list[object] = []
    wheels: list[frozenset[Tag]] = []
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
    return sdists, wheels


# Every file pip considered, at -vvv: the ones it took ("Found link") and the ones it skipped, with why.
_ANY_LINK = re.compile(r"(?:Found link|Skipping link: .*?) ((?:https?|file)://[^\s,]+)")
# Where pip looked: the indexes and find-links it names when they are not the default (pip's own words, at -v and
# above), and the project pages it asked for (the default index's too).
_LOOKING_IN = re.compile(r"^\s*Looking in (indexes|links): (.+)$", re.M)
_PROJECT_PAGE = re.compile(r"Fetching project page and analyzing links: (\S+)$", re.M)


def no_such_project(requirement: str, verbose_output: str) -> bool:
    """Whether no index or find-links directory pip read has any file of `requirement`'s name, of any version or
    platform (pip -vvv): a misspelt name, rather than a project without a file for the target. A project with only
    files for other platforms or Pythons still shows them, as skipped links."""
    try:
        name = canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return False
    if "(from versions: none)" not in verbose_output:
        return False
    for url in _ANY_LINK.findall(verbose_output):
        filename = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            found = (
                parse_wheel_filename(filename)[0] if filename.endswith(".whl") else parse_sdist_filename(filename)[0]
            )
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        if found == name:
            return False
    return True


def no_such_project_message(requirement: str, verbose_output: str, source: str) -> str:
    """Names the indexes and find-links pip looked in (credentials masked) and says to check the name's spelling."""
    name = canonicalize_name(Requirement(requirement).name)
    looked: dict[str, list[str]] = {"indexes": [], "links": []}
    for kind, places in _LOOKING_IN.findall(verbose_output):
        looked[kind] += [mask_credentials(place.strip()) for place in places.split(",")]
    if not looked["indexes"]:  # the default index, which pip does not name: the page it asked for does
        looked["indexes"] = [
            mask_credentials(page.rstrip("/").rpartition("/")[0]) for page in _PROJECT_PAGE.findall(verbose_output)
        ]
    indexes, links = (list(dict.fromkeys(looked[kind])) for kind in ("indexes", "links"))
    places = [f"on the index {' nor '.join(indexes)}"] if indexes else []
    places += [f"in the find-links {', '.join(links)}"] if links else []
    return (
        f"{requirement}: no release of {name!r} exists {' nor '.join(places) or 'on the indexes pip reads'}, for "
        f"any version or platform: check the name's spelling in {source}."
    )


def explain_missing_wheel(requirement: str, verbose_output: str, target: Target) -> str:
    """Why no file of `requirement` fits the target, from the links pip skipped (pip -vvv)."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return f"{requirement}: no file fits {target.describe()}."
    sdists, wheels = _published(req, verbose_output)
    if not wheels and not sdists:
        return f"{requirement}: no release matches (check the name and the version)."
    if not wheels:
        return sdist_only_message(requirement)
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
