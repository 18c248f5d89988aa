"""uv as resolver and installer (`--installer uv`): the same lock format and the same installed files as pip.

uv names Linux targets by triples that stop at the manylinux versions it knows (2_17, 2_28, 2_31...), so a target
whose glibc falls between two of them (python3.11's 2.26) is resolved for the one below: uv then never picks a
wheel that needs glibc 2.18 to 2.26, which pip would. uv reads its own configuration (UV_INDEX_URL, uv.toml), not
pip's.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from lambda_slim import _subprocess
from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import ConfigError, InstallError, ResolveError
from lambda_slim._inputs.indexes import IndexSettings
from lambda_slim._inputs.project import RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.pip import unreachable_index
from lambda_slim._install.resolve import (
    HASH,
    HASH_MISMATCH_HINT,
    Lock,
    Pin,
    lock_key,
    parse_pin_line,
    requirements_file_args,
    write_locked_requirements,
)

_NOT_IN_REGISTRY = re.compile(r"\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry")
_NO_USABLE_WHEELS = re.compile(r"Because (\S+?) has no usable wheels")
_UV_MANYLINUX_MINORS = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)


def find_uv() -> str:
    """uv on PATH, or beside the running Python (installed into slim's own virtual environment)."""
    found = shutil.which("uv") or shutil.which("uv", path=os.path.dirname(sys.executable))
    if found is None:
        raise ConfigError(
            "--installer uv needs uv on PATH, and it is not there: install it (`pip install uv`), or use the default "
            "installer, pip."
        )
    return found


def uv_platform(target: Target) -> str:
    """The newest manylinux triple uv knows that the target's glibc can run."""
    minor = max(m for m in _UV_MANYLINUX_MINORS if m <= target.glibc[1])
    return f"{target.machine}-manylinux_2_{minor}"


@dataclass(frozen=True)
class Uv:
    executable: str
    indexes: IndexSettings = field(
        default_factory=IndexSettings
    )  # the project's, on top of the machine's uv configuration
    # The interpreter uv resolves with. Without one, uv looks for a Python of the target's exact version (3.11.13)
    # and, finding none, downloads it: ~10 s offline or behind a firewall before it gives up, for an interpreter an
    # only-binary resolution never runs (it builds no sdist). The lock is the same with it or without.
    python: str | None = None

    def _environment(self) -> dict[str, str]:
        return {**self.indexes.uv_environment(os.environ), "UV_NO_PROGRESS": "1"}

    def target_args(self, target: Target) -> list[str]:
        # uv judges markers for the target: platform ones from the triple, python_version and python_full_version from
        # --python-version, whose patch release (3.12 alone is 3.12.0) is then the one pip's markers see too.
        return [
            "--python-platform",
            uv_platform(target),
            "--python-version",
            target.python_full_version,
            "--only-binary",
            ":all:",
        ]

    def resolve(self, inputs: RequirementInputs, target: Target) -> Lock:
        """Versions for the target, with the hashes of every file of each version (as pip-compile writes them)."""
        key = lock_key(inputs, target)
        if inputs.empty:
            return Lock(key, ())
        with (
            tempfile.TemporaryDirectory(prefix="slim-uv-") as tmp,
            _index_errors_explained(),
            _resolve_failures_explained(target, inputs.source),
        ):
            output = Path(tmp) / "locked.txt"
            _subprocess.run(
                [
                    self.executable,
                    "pip",
                    "compile",
                    "--quiet",
                    "--generate-hashes",
                    "--no-header",
                    *(["--python", self.python] if self.python else []),
                    *self.target_args(target),
                    requirements_file_args(inputs, Path(tmp))[-1],  # uv takes the file itself, not -r FILE
                    "-o",
                    str(output),
                ],
                what=f"resolving dependencies with uv for {target.describe()}",
                hint="Relax the conflicting pins, or build with --installer pip, which also names a package with no "
                "wheel for the target.",
                error=ResolveError,
                env=self._environment(),
            )
            return Lock(key, parse_compiled(output.read_text(encoding="utf-8"), inputs.source))

    def install(self, lock: Lock, target: Target, dest: Path, *, hash_hint: str = HASH_MISMATCH_HINT) -> None:
        """Install exactly the locked wheels into `dest`, without bytecode (compile does that)."""
        dest.mkdir(parents=True, exist_ok=True)
        if not lock.pins:
            return
        with tempfile.TemporaryDirectory(prefix="slim-uv-") as tmp, _index_errors_explained():
            requirements = write_locked_requirements(lock, Path(tmp))
            _subprocess.run(
                [
                    self.executable,
                    "pip",
                    "install",
                    "--quiet",
                    "--target",
                    str(dest),
                    "--no-deps",
                    "--require-hashes",
                    *self.target_args(target),
                    "-r",
                    str(requirements),
                ],
                what=f"installing the locked wheels with uv for {target.describe()}",
                hint=hash_hint,
                error=InstallError,
                env=self._environment(),
            )
        _remove_uv_bookkeeping(dest)


@contextlib.contextmanager
def _index_errors_explained() -> Iterator[None]:
    """uv's failure to reach the index said as such, rather than blamed on the pins or on a hash."""
    try:
        yield
    except (ResolveError, InstallError) as exc:
        unreachable = unreachable_index(exc.details)
        if unreachable is None:
            raise
        raise type(exc)(unreachable.message(None), details=mask_credentials(exc.details)) from exc


@contextlib.contextmanager
def _resolve_failures_explained(target: Target, source: str) -> Iterator[None]:
    """uv's failures to resolve that have a cause to name, said with what to do about it.

    "has no usable wheels": a package published only as an sdist. Only pip builds such an sdist: it would be
    fetched from pip's index, which may not be the one uv reads, and a package of the same name from another index
    is the dependency confusion lambda-slim refuses.

    "was not found in the package registry": no release of that name at all, so no target or version would help,
    and the message names none (a 401 or 403 reads the same to uv: `_index_errors_explained` says that)."""
    try:
        yield
    except ResolveError as exc:
        if sdist_only := _NO_USABLE_WHEELS.search(exc.details):
            message = (
                f"no wheel for {target.describe()}: {sdist_only.group(1)}: only a source distribution (sdist) is "
                "published. With --installer pip, lambda-slim builds it and ships it when the wheel is pure Python; "
                "with --installer uv it does not, since it would fetch the sdist from pip's index rather than uv's. "
                "Build with --installer pip, or pin a version that has wheels."
            )
        elif missing := _NOT_IN_REGISTRY.search(exc.details):
            message = (
                f"{missing.group(1)}: no release of {missing.group(1)!r} exists on the indexes uv reads, for any "
                f"version or platform: check the name's spelling in {source}."
            )
        else:
            raise
        raise ResolveError(message, details=exc.details) from exc


def _remove_uv_bookkeeping(dest: Path) -> None:
    """uv leaves a lock file in the target and a uv_cache.json (with timestamps) in each dist-info: its own
    records, not the distributions' files, and what would make its trees differ from pip's and from each other."""
    (dest / ".lock").unlink(missing_ok=True)
    for record in dest.glob("*.dist-info/uv_cache.json"):
        record.unlink()


def parse_compiled(text: str, source: str) -> tuple[Pin, ...]:
    """Pins from `uv pip compile --generate-hashes` output; `source` names the inputs in `# via -r` comments."""
    pins: list[Pin] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            who = stripped.lstrip("#").strip().removeprefix("via").strip()
            if pins and line[:1].isspace() and who:
                last = pins[-1]
                who = f"-r {source}" if who.startswith("-r ") else who
                pins[-1] = replace(last, via=(*last.via, who))
            continue
        pin = parse_pin_line(stripped)
        if pin is not None:
            pins.append(pin)
        elif pins and HASH.search(line):
            last = pins[-1]
            pins[-1] = replace(last, hashes=(*last.hashes, *HASH.findall(line)))
    return tuple(sorted(pins, key=lambda pin: pin.name))
