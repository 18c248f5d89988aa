"""Private keys among the files a package would ship: known by name (SSH identities, PKCS#12 stores, PuTTY keys)
or by a PEM private-key block in the content. One detector for the build (the app's own files, refused unless a
keep pattern allows them) and for `slim analyze` (any zip, reading only small candidates)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pathspec

from lambda_slim._errors import ProjectError
from lambda_slim._inputs.project import AppFile

SSH_IDENTITIES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"})
# A PEM file may hold only certificates (certifi's cacert.pem), so it is judged by its content.
PEM_SUFFIXES = (".pem", ".key")
CHUNK = 1024 * 1024

# RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... PRIVATE KEY (BLOCK): the header, then base64 key material within a
# few lines (after optional "Proc-Type:"-style headers), so code that merely names the header is not a key.
_PEM_HEADER = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_MATERIAL = re.compile(rb"[A-Za-z0-9+/]{40,}")
_MATERIAL_WITHIN = 300
_OVERLAP = 512  # carried from one read to the next: a header and the bytes it is judged by


def key_by_name(path: str) -> str | None:
    """What the file is when its name alone says it holds a private key, else None."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if name in SSH_IDENTITIES:
        return "an SSH private key (by its name)"
    if lower.endswith((".p12", ".pfx")):
        return "a PKCS#12 key store (by its name)"
    if lower.endswith(".ppk"):
        return "a PuTTY private key (by its name)"
    return None


def holds_private_key(data: bytes) -> bool:
    """A PEM private-key block, also inside a string whose newlines are escaped (a service-account JSON)."""
    return any(
        _KEY_MATERIAL.search(data, header.end(), header.end() + _MATERIAL_WITHIN)
        for header in _PEM_HEADER.finditer(data)
    )


def file_holds_private_key(path: Path) -> bool:
    with path.open("rb") as handle:
        carried = b""
        while chunk := handle.read(CHUNK):
            window = carried + chunk
            if holds_private_key(window):
                return True
            carried = window[-_OVERLAP:]
    return False


def private_key_in(path: str, content_holds_key: Callable[[], bool] | None) -> str | None:
    """Why the file counts as a private key, if it does: by its name, else by its content when that is looked at."""
    by_name = key_by_name(path)
    if by_name is not None:
        return by_name
    return "holds a PEM private key" if content_holds_key is not None and content_holds_key() else None


def refuse_private_keys(app: Sequence[AppFile], keep: Sequence[str]) -> None:
    """Fail the build on any app file holding a private key that no keep pattern allows: a deployment zip is
    readable by whoever may read the function's code, and keys belong in Secrets Manager or Parameter Store."""
    allowed = pathspec.GitIgnoreSpec.from_lines(list(keep))
    found = []
    for file in sorted(app, key=lambda file: file.path):
        if allowed.match_file(file.path):
            continue
        try:
            why = private_key_in(file.path, partial(file_holds_private_key, file.source))
        except OSError as exc:
            raise ProjectError(f"cannot read the app file {file.source}: {exc.strerror or exc}.") from exc
        if why is not None:
            found.append((file.path, why))
    if not found:
        return
    listed = "\n".join(f"  {path}: {why}" for path, why in found)
    patterns = ", ".join(f'"{path}"' for path, _ in found)
    raise ProjectError(
        f"{len(found)} of the app's files {'holds' if len(found) == 1 else 'hold'} a private key, and the zip would "
        f"ship it to anyone who can read the "
        f"function's code:\n{listed}\nLoad keys at run time instead (Secrets Manager, SSM Parameter Store), or leave "
        f"the files out with [tool.slim] exclude. To ship them anyway, allow each with a keep pattern: [tool.slim] "
        f"keep = [{patterns}] (or --keep PATTERN)."
    )
