"""Where packages come from, as the project names them: --index-url, --extra-index-url, --find-links and --no-index
lines in its requirements files, or [tool.slim] index-url, extra-index-urls and find-links.

Both installers are given the project's settings through their own environment variables (PIP_INDEX_URL,
UV_INDEX_URL...) rather than flags: a password in a command line is readable by every user of the machine, one in a
process's environment is not. The project's index replaces the machine's; extra indexes and find-links add to the
machine's. What the machine itself sets for one installer (PIP_INDEX_URL, UV_INDEX_URL, pip.conf, uv.toml) is left
to that installer, and never written into slim.lock: a CI mirror is the machine's business, not the project's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_slim._credentials import expand_variables, without_credentials
from lambda_slim._errors import ConfigError


@dataclass(frozen=True)
class Location:
    """An index URL or find-links location as written (`${VAR}` not yet expanded; a local path made absolute)."""

    value: str
    where: str  # for messages: "requirements.txt line 1", "[tool.slim] index-url"

    def expanded(self) -> str:
        return expand_variables(self.value, self.where)

    def shown(self, base: Path | None) -> str:
        """As slim.lock records it: without credentials, a path inside the project relative to it."""
        if "://" in self.value:
            return without_credentials(self.value)
        path = Path(self.value)
        return path.relative_to(base).as_posix() if base and path.is_relative_to(base) else path.as_posix()


@dataclass(frozen=True)
class IndexSettings:
    index_url: Location | None = None
    extra_index_urls: tuple[Location, ...] = ()
    find_links: tuple[Location, ...] = ()
    no_index: bool = False

    @property
    def empty(self) -> bool:
        return self == IndexSettings()

    def merged(self, other: IndexSettings) -> IndexSettings:
        """Both settings; two different index URLs are refused, since only one can replace the default."""
        index_url = self.index_url or other.index_url
        if self.index_url and other.index_url and self.index_url.value != other.index_url.value:
            raise ConfigError(
                f"two index URLs are given, {without_credentials(self.index_url.value)} ({self.index_url.where}) and "
                f"{without_credentials(other.index_url.value)} ({other.index_url.where}), and only one can replace "
                "the default index: keep one, and make the other an extra index (--extra-index-url, or [tool.slim] "
                "extra-index-urls)."
            )
        return IndexSettings(
            index_url,
            _unique(self.extra_index_urls + other.extra_index_urls),
            _unique(self.find_links + other.find_links),
            self.no_index or other.no_index,
        )

    def lock_lines(self, base: Path | None) -> list[str]:
        """pip-tools' option lines for slim.lock, so `pip install -r slim.lock` looks where the build looked; never
        with credentials (netrc or a keyring supplies them by host)."""
        lines = [f"--index-url {self.index_url.shown(base)}"] if self.index_url else []
        lines += [f"--extra-index-url {location.shown(base)}" for location in self.extra_index_urls]
        lines += [f"--find-links {location.shown(base)}" for location in self.find_links]
        return lines + (["--no-index"] if self.no_index else [])

    def pip_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """`environ` with the variables that give pip these settings, on top of the machine's own."""
        return {**environ, **self._variables(environ, "PIP_", find_links_separator=" ")}

    def uv_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The same for uv, whose UV_FIND_LINKS is comma-separated, and whose UV_DEFAULT_INDEX, the newer name of
        UV_INDEX_URL, would otherwise be the one uv uses."""
        variables = {**environ, **self._variables(environ, "UV_", find_links_separator=",")}
        if self.index_url:
            variables.pop("UV_DEFAULT_INDEX", None)
        return variables

    def _variables(self, environ: Mapping[str, str], prefix: str, *, find_links_separator: str) -> dict[str, str]:
        variables = {}
        if self.index_url:
            variables[f"{prefix}INDEX_URL"] = self.index_url.expanded()
        if self.extra_index_urls:
            extra = [location.expanded() for location in self.extra_index_urls]
            variables[f"{prefix}EXTRA_INDEX_URL"] = " ".join(_with_machine(extra, environ, f"{prefix}EXTRA_INDEX_URL"))
        if self.find_links:
            links = [location.expanded() for location in self.find_links]
            name = f"{prefix}FIND_LINKS"
            variables[name] = find_links_separator.join(_with_machine(links, environ, name, find_links_separator))
        if self.no_index:
            variables[f"{prefix}NO_INDEX"] = "1"
        return variables


def _with_machine(values: list[str], environ: Mapping[str, str], name: str, separator: str | None = None) -> list[str]:
    machine = [item for item in (environ.get(name) or "").split(separator) if item]
    return values + [item for item in machine if item not in values]


def _unique(locations: tuple[Location, ...]) -> tuple[Location, ...]:
    seen: dict[str, Location] = {}
    for location in locations:
        seen.setdefault(location.value, location)
    return tuple(seen.values())


def find_links_location(value: str, where: str, relative_to: Path) -> Location:
    """A find-links entry: a URL as is, a local path made absolute (relative to the file that names it)."""
    if "://" in value or "${" in value:
        return Location(value, where)
    return Location(os.path.normpath(relative_to / Path(value).expanduser()), where)
