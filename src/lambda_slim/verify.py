"""`slim verify`: lay built artifacts out as Lambda does, import and invoke the handler, and say what happened."""

from __future__ import annotations

import collections
import dataclasses
import math
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .binaries import ELF_MAGIC, MACHINES
from .errors import CannotRunTarget, VerifyError
from .interpreter import find_interpreter
from .sandbox import Layout, probe, read_only, top_level_modules
from .target import RUNTIMES, Target, host_machine, host_runtime

_PYC_TAG_RUNTIME = {f"cpython-{major}{minor}": name for name, ((major, minor), _) in RUNTIMES.items()}


@dataclass(frozen=True)
class VerifyReport:
    runtime: str
    arch: str
    artifacts: tuple[str, ...]
    handler: str | None
    request_id: str
    memory_mb: int
    init_ms: float | None = None
    duration_ms: float | None = None
    max_memory_mb: float = 0.0
    result: Any = None
    expected: Any = None
    invoked: bool = False
    error: str | None = None
    module_failures: dict[str, str] = field(default_factory=dict)
    modules_checked: int = 0

    @property
    def matches_expected(self) -> bool | None:
        return None if self.expected is None or not self.invoked else self.result == self.expected

    @property
    def ok(self) -> bool:
        return self.error is None and not self.module_failures and self.matches_expected is not False

    def report_line(self) -> str:
        """The line Lambda logs after an invocation (tab-separated), from what the sandbox measured."""
        duration = self.duration_ms or 0.0
        init = self.init_ms or 0.0
        # Since August 2025 the INIT phase of a zip function is billed too.
        billed = math.ceil(duration + init)
        return (
            f"REPORT RequestId: {self.request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {self.memory_mb} MB\tMax Memory Used: {math.ceil(self.max_memory_mb)} MB\t"
            f"Init Duration: {init:.2f} ms"
        )


def verify(
    function_zip: Path,
    layers: Sequence[Path] = (),
    *,
    handler: str | None,
    event: Any = None,
    expected: Any = None,
    all_modules: bool = False,
    runtime: str | None = None,
    python: str | None = None,
    memory_mb: int = 128,
) -> VerifyReport:
    zips = [function_zip, *layers]
    for path in zips:
        if not path.is_file():
            raise VerifyError(f"{path} does not exist: build first, or pass the zip's path.")
    target = Target(runtime or _runtime_of(zips), _arch_of(zips))
    if target.machine != host_machine():
        raise CannotRunTarget(
            f"cannot verify here: the package is for {target.arch} ({target.machine}) and this machine is "
            f"{host_machine()}. Nothing was checked: run `slim verify` on a {target.machine} machine."
        )
    interpreter = find_interpreter(target, python)
    if interpreter is None:
        raise CannotRunTarget(
            f"cannot verify here: no Python {target.python_tag} for {target.runtime} on this machine. Nothing was "
            f"checked: install python{target.python_tag}, or pass --python PATH."
        )
    request_id = str(uuid.uuid4())
    base = VerifyReport(target.runtime, target.arch, tuple(map(str, zips)), handler, request_id, memory_mb)
    with tempfile.TemporaryDirectory(prefix="slim-verify-") as tmp:
        layout = Layout(Path(tmp) / "task", Path(tmp) / "opt" if layers else None, target.python_tag)
        unpack(function_zip, layout.task_root)
        for layer in layers:
            assert layout.opt_root is not None
            unpack(layer, layout.opt_root)  # later layers override earlier ones, as in Lambda
        with read_only(layout.roots()):
            failures: dict[str, str] = {}
            modules: list[str] = []
            if all_modules:
                modules = _shipped_modules(layout)
                failures = probe(layout, interpreter, modules=modules, memory_mb=memory_mb).failed_modules
            if handler is None:
                return dataclasses.replace(base, module_failures=failures, modules_checked=len(modules))
            run = probe(layout, interpreter, handler=handler, event=event, memory_mb=memory_mb, request_id=request_id)
    return dataclasses.replace(
        base,
        init_ms=run.init_ms,
        duration_ms=run.duration_ms,
        max_memory_mb=run.max_memory_mb,
        result=run.result,
        expected=expected,
        invoked=event is not None and run.error is None,
        error=run.error,
        module_failures=failures,
        modules_checked=len(modules),
    )


def unpack(archive_path: Path, dest: Path) -> None:
    """Extract a zip the way Lambda would, refusing names that would land outside `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for info in archive.infolist():
                name = PurePosixPath(info.filename)
                if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                    raise VerifyError(
                        f"{archive_path} holds an entry that would land outside its root: {info.filename!r}."
                    )
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise VerifyError(
                        f"{archive_path} holds a symbolic link ({info.filename}); Lambda zips should not."
                    )
            archive.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise VerifyError(f"{archive_path} is not a readable zip ({exc}).") from exc


def _runtime_of(zips: Sequence[Path]) -> str:
    """The runtime the pycs were compiled for (the most common tag), else this Python's."""
    tags: collections.Counter[str] = collections.Counter()
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".pyc") and "/__pycache__/" in f"/{name}":
                    parts = name.rsplit("/", 1)[-1].split(".")
                    if len(parts) >= 3:
                        tags[parts[-2]] += 1
    for tag, _count in tags.most_common():
        if tag in _PYC_TAG_RUNTIME:
            return _PYC_TAG_RUNTIME[tag]
    return host_runtime()


def _arch_of(zips: Sequence[Path]) -> str:
    """The architecture of the shared libraries shipped, else x86_64 (Lambda's default)."""
    machines: collections.Counter[str] = collections.Counter()
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".so") or ".so." in info.filename:
                    with archive.open(info) as member:
                        head = member.read(20)
                    if head[:4] == ELF_MAGIC and len(head) >= 20:
                        machine = MACHINES.get(int.from_bytes(head[18:20], "little" if head[5] == 1 else "big"))
                        if machine:
                            machines[machine] += 1
    if not machines:
        return "x86_64"
    return "arm64" if machines.most_common(1)[0][0] == "aarch64" else "x86_64"


def _shipped_modules(layout: Layout) -> list[str]:
    names: set[str] = set()
    for entry in layout.sys_path():
        if Path(entry).is_dir():
            names.update(top_level_modules(Path(entry)))
    return sorted(names)
