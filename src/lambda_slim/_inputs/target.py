"""What a Lambda runtime and architecture mean for wheels: Python version, glibc cap, pip platform tags."""

from __future__ import annotations

import platform
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lambda_slim._errors import TargetError

# glibc of each runtime's OS: Amazon Linux 2 has 2.26, Amazon Linux 2023 has 2.34
# (docs/lambda-facts.md#python-runtimes).
_AL2_GLIBC = (2, 26)
_AL2023_GLIBC = (2, 34)
RUNTIMES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "python3.9": ((3, 9), _AL2_GLIBC),
    "python3.10": ((3, 10), _AL2_GLIBC),
    "python3.11": ((3, 11), _AL2_GLIBC),
    "python3.12": ((3, 12), _AL2023_GLIBC),
    "python3.13": ((3, 13), _AL2023_GLIBC),
    "python3.14": ((3, 14), _AL2023_GLIBC),
}

# The patch release a marker such as `python_full_version >= "3.11.4"` is judged against: the CPython release of
# each minor version current in the second half of 2025. AWS updates the managed runtimes in place, so this is
# representative, not exact; markers that compare patch releases are rare.
_PATCH_RELEASES = {
    "python3.9": 23,
    "python3.10": 18,
    "python3.11": 13,
    "python3.12": 11,
    "python3.13": 7,
    "python3.14": 0,
}
# `platform_release` and `platform_version` (`uname -r`, `uname -v`): Lambda documents neither today; AWS once
# documented kernels named like 4.14.62-84.118.amzn2.x86_64. This is a representative name of that form, not a
# measured one (uv, which cannot be told one, judges both as empty strings).
_KERNEL_RELEASE = "5.10.0-amzn2"
_KERNEL_VERSION = "#1 SMP"

Arch = Literal["x86_64", "arm64"]  # Lambda's names for its architectures
# Lambda's architecture names -> the machine name in wheel tags and ELF headers.
ARCHITECTURES: dict[str, str] = {"x86_64": "x86_64", "arm64": "aarch64"}

# manylinux2014 wheels (glibc 2.17) are the oldest aarch64 wheels; x86_64 goes back to manylinux1 (2.5).
_OLDEST_GLIBC_MINOR = {"x86_64": 5, "aarch64": 17}
_LEGACY_ALIASES = {
    "x86_64": (("manylinux2014", 17), ("manylinux2010", 12), ("manylinux1", 5)),
    "aarch64": (("manylinux2014", 17),),
}


@dataclass(frozen=True)
class Target:
    runtime: str
    arch: str

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise TargetError(f"unknown runtime {self.runtime!r}: choose one of {', '.join(RUNTIMES)}.")
        if self.arch not in ARCHITECTURES:
            raise TargetError(f"unknown architecture {self.arch!r}: choose x86_64 or arm64.")

    @property
    def python_version(self) -> tuple[int, int]:
        return RUNTIMES[self.runtime][0]

    @property
    def python_tag(self) -> str:
        major, minor = self.python_version
        return f"{major}.{minor}"

    @property
    def python_full_version(self) -> str:
        """`3.11.13`: the patch release markers and uv's resolver take the runtime's Python to be."""
        return f"{self.python_tag}.{_PATCH_RELEASES[self.runtime]}"

    @property
    def glibc(self) -> tuple[int, int]:
        return RUNTIMES[self.runtime][1]

    @property
    def machine(self) -> str:
        return ARCHITECTURES[self.arch]

    @property
    def pyc_tag(self) -> str:
        """The cache tag in pyc file names: `cpython-311`."""
        major, minor = self.python_version
        return f"cpython-{major}{minor}"

    def platform_tags(self) -> list[str]:
        """Every platform tag the target accepts, best first.

        pip's --platform matches a tag exactly, so each manylinux_2_N up to the runtime's glibc must be named,
        plus the legacy aliases that older wheels still carry.
        """
        cap = self.glibc[1]
        tags = [
            f"manylinux_2_{minor}_{self.machine}" for minor in range(cap, _OLDEST_GLIBC_MINOR[self.machine] - 1, -1)
        ]
        tags += [f"{alias}_{self.machine}" for alias, minor in _LEGACY_ALIASES[self.machine] if minor <= cap]
        return tags

    def pip_args(self) -> list[str]:
        args: list[str] = []
        for tag in self.platform_tags():
            args += ["--platform", tag]
        args += [
            "--python-version",
            self.python_tag,
            "--implementation",
            "cp",
            "--only-binary=:all:",
        ]
        return args

    def marker_environment(self) -> dict[str, str]:
        """The values PEP 508 environment markers are judged against on this target, as
        `packaging.markers.default_environment()` reports them inside the managed runtime."""
        full_version = self.python_full_version
        return {
            "implementation_name": "cpython",
            "implementation_version": full_version,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": f"{_KERNEL_RELEASE}.{self.machine}",
            "platform_system": "Linux",
            "platform_version": _KERNEL_VERSION,
            "python_full_version": full_version,
            "python_version": self.python_tag,
            "sys_platform": "linux",
        }

    def describe(self) -> str:
        return f"{self.runtime} {self.arch} (glibc {self.glibc[0]}.{self.glibc[1]})"


def host_machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def host_runtime() -> str:
    """The runtime named after the host's Python, the default when nothing else is configured."""
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if runtime not in RUNTIMES:
        raise TargetError(
            f"this Python ({runtime}) is not a Lambda runtime: set `runtime` in [tool.slim] or pass --runtime "
            f"(one of {', '.join(RUNTIMES)})."
        )
    return runtime


def runtime_of_pycs(paths: Iterable[str]) -> str | None:
    """The runtime whose Python wrote most of these pycs (`pkg/__pycache__/mod.cpython-311.pyc`), if any."""
    runtimes = {f"cpython-{major}{minor}": name for name, ((major, minor), _) in RUNTIMES.items()}
    tags = Counter(
        path.rsplit("/", 1)[-1].split(".")[-2]
        for path in paths
        if path.endswith(".pyc") and "/__pycache__/" in f"/{path}" and path.rsplit("/", 1)[-1].count(".") >= 2
    )
    return next((runtimes[tag] for tag, _ in tags.most_common() if tag in runtimes), None)


def arch_of_machines(machines: Iterable[str]) -> str:
    """The Lambda architecture most shared libraries are built for; x86_64 (Lambda's default) when none are."""
    counts = Counter(machines)
    return "arm64" if counts and counts.most_common(1)[0][0] == "aarch64" else "x86_64"
