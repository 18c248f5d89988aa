"""`slim verify`: lay built artifacts out as Lambda does, import and invoke the handler, and say what happened."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.elf import elf_machine, looks_like_shared_library
from lambda_slim._artifacts.zipread import Archive, read_archive
from lambda_slim._errors import ArchiveError, CannotRunTarget, SlimError, VerifyError
from lambda_slim._inputs.interpreter import find_interpreter
from lambda_slim._inputs.target import Target, arch_of_machines, host_machine, host_runtime, runtime_of_pycs
from lambda_slim._install.distcache import usable_cache
from lambda_slim._install.installer import PipInstaller
from lambda_slim._install.pip import Pip
from lambda_slim._sandbox.runner import Layout, probe, read_only, top_level_modules
from lambda_slim._slimming.runtimeprovided import install_stand_in, not_installed, runtime_place


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
    # Why nothing stood in for the runtime's own packages (boto3 ...), when the documented set could not be installed.
    runtime_packages_missing: str | None = None

    @property
    def matches_expected(self) -> bool | None:
        return None if self.expected is None or not self.invoked else self.result == self.expected

    @property
    def checked_nothing(self) -> bool:
        """No handler and no module imported: such a run proves nothing, so it never passes."""
        return self.handler is None and self.modules_checked == 0

    @property
    def ok(self) -> bool:
        return (
            not self.checked_nothing
            and self.error is None
            and not self.module_failures
            and self.matches_expected is not False
        )

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
    runtime_packages: Path | None = None,
    environment: tuple[tuple[str, str], ...] = (),
    runtime_provided: dict[str, str] | None = None,
) -> VerifyReport:
    """`runtime_packages`: a directory of the packages the runtime provides (boto3...), put after the function and
    its layers on sys.path, where Lambda's runtime has its own; without it, the documented set for the runtime,
    after `runtime_provided` (what the build left to the runtime, name -> locked version)."""
    request_id = str(uuid.uuid4())
    with unpacked(function_zip, layers, runtime, python, runtime_packages, environment, runtime_provided) as sandbox:
        target, layout, interpreter = sandbox.target, sandbox.layout, sandbox.interpreter
        base = VerifyReport(
            target.runtime,
            target.arch,
            tuple(map(str, [function_zip, *layers])),
            handler,
            request_id,
            memory_mb,
            runtime_packages_missing=sandbox.runtime_packages_missing,
        )
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


@dataclass(frozen=True)
class Sandbox:
    """Built artifacts unpacked as Lambda lays them out, read-only, with the interpreter that runs them."""

    target: Target
    layout: Layout
    interpreter: str
    # Why nothing stood in for the runtime's own packages (boto3 ...), when the documented set could not be installed.
    runtime_packages_missing: str | None


@contextlib.contextmanager
def unpacked(
    function_zip: Path,
    layers: Sequence[Path] = (),
    runtime: str | None = None,
    python: str | None = None,
    runtime_packages: Path | None = None,
    environment: tuple[tuple[str, str], ...] = (),
    runtime_provided: dict[str, str] | None = None,
) -> Iterator[Sandbox]:
    """The function zip at the task root and its layers under an /opt-like root, read-only while in use; shared by
    `slim verify` and `slim profile`. CannotRunTarget when this machine cannot run the package."""
    zips = [function_zip, *layers]
    for path in zips:
        if not path.is_file():
            raise VerifyError(f"{path} does not exist: build first, or pass the zip's path.")
    # The same checks as `slim analyze`: nothing hostile (outside its root, a link, a bomb) is ever extracted.
    archives = [read_archive(path) for path in zips]
    for archive in archives:
        _refuse_differing_copies(archive)
    pyc_names = (member.name for archive in archives for member in archive.members)
    target = Target(runtime or runtime_of_pycs(pyc_names) or host_runtime(), _arch_of(archives))
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
    with tempfile.TemporaryDirectory(prefix="slim-verify-") as tmp:
        runtime_root, missing = runtime_packages, None
        if runtime_root is None:
            runtime_root, missing = _runtime_stand_in(target, interpreter, runtime_provided or {}, Path(tmp))
        layout = Layout(
            Path(tmp) / "task", Path(tmp) / "opt" if layers else None, target.python_tag, runtime_root, environment
        )
        archives[0].reader.extract_all(layout.task_root)
        for layer in archives[1:]:
            assert layout.opt_root is not None
            layer.reader.extract_all(layout.opt_root)  # later layers override earlier ones, as in Lambda
        with read_only(layout.roots()):
            yield Sandbox(target, layout, interpreter, missing)


def _runtime_stand_in(
    target: Target, interpreter: str, runtime_provided: dict[str, str], tmp: Path
) -> tuple[Path | None, str | None]:
    """The runtime's own packages from the cache (installed there the first time), what the build left to the
    runtime at its locked versions first; or None and why they could not be installed."""
    cache = usable_cache(None)
    parent = cache.root if cache is not None else tmp / "uncached"
    pip = Pip(target, interpreter)
    locked = None
    try:
        locked = install_stand_in(runtime_provided, target, parent, pip) if runtime_provided else None
    except SlimError as exc:
        return None, not_installed(exc)
    root, skipped = runtime_place(None, target, parent, (PipInstaller(pip), interpreter), locked, tmp / "runtime")
    return root, skipped.why if skipped else None


def _refuse_differing_copies(archive: Archive) -> None:
    """Which of two different entries of one name Lambda unpacks is up to its unzipper: nothing to verify."""
    clashing = [repeated for repeated in archive.repeated_names if repeated.differ]
    if clashing:
        shown = "; ".join(f"{r.name!r} is in it {r.copies} times with different content" for r in clashing[:5])
        raise ArchiveError(
            f"{archive.path} names an entry more than once: {shown}. Which copy Lambda unpacks is up to its "
            "unzipper, so the zip is not verified and nothing was extracted. Rebuild it so each name is written once."
        )


def _arch_of(archives: Sequence[Archive]) -> str:
    """The architecture of the shared libraries shipped, from their ELF headers."""
    return arch_of_machines(
        machine
        for archive in archives
        for member in archive.members
        if looks_like_shared_library(member.name)
        and (machine := elf_machine(archive.reader.read(member.name, 20))) is not None
    )


def _shipped_modules(layout: Layout) -> list[str]:
    """The top-level modules of the function and its layers: not the runtime's stand-ins, which are not shipped."""
    names: set[str] = set()
    runtime = str(layout.runtime_root) if layout.runtime_root is not None else None
    for entry in layout.sys_path():
        if entry != runtime and Path(entry).is_dir():
            names.update(top_level_modules(Path(entry)))
    return sorted(names)
