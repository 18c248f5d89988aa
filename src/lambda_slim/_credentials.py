"""Credentials in index URLs: masked wherever a URL is shown, removed wherever one is written, and read from the
environment where a committed file names them (`${VAR}`, as pip expands it in requirements files)."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping

from lambda_slim._errors import ConfigError

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]+)(?P<password>:[^/\s@]*)?@")
# pip's own form in requirements files: only ${NAME}, with upper-case letters, digits and underscores.
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def mask_credentials(text: str) -> str:
    """`text` with the password of every URL in it replaced by ****, as pip shows URLs (a lone token by ****)."""

    def masked(match: re.Match[str]) -> str:
        if match.group("password") is not None:
            return f"{match.group('scheme')}{match.group('user')}:****@"
        return f"{match.group('scheme')}****@"

    return _CREDENTIALS.sub(masked, text)


def without_credentials(url: str) -> str:
    """`url` with no user name or password: what may be written into a committed file (netrc or a keyring then
    supplies them, as pip and uv look them up by host)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def has_literal_password(url: str) -> bool:
    """Whether `url` spells a password out rather than naming a variable that holds it."""
    userinfo = urllib.parse.urlsplit(url).netloc.rpartition("@")[0]
    _, colon, password = userinfo.partition(":")
    return bool(colon) and bool(_VARIABLE.sub("", password))


def expand_variables(value: str, where: str, environ: Mapping[str, str] | None = None) -> str:
    """`value` with each ${NAME} replaced by that environment variable, which must be set."""
    environ = os.environ if environ is None else environ

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(
                f"{where} names the environment variable {name} (as ${{{name}}}), which is not set: set it, or give "
                "the credentials through ~/.netrc or a keyring instead."
            )
        return environ[name]

    return _VARIABLE.sub(variable, value)
