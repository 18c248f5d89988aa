"""A Lambda-like place to import and invoke a package: shared by `slim verify`, the build's safety net and the
cold-start measurement.

The function sits at the task root and layers under an /opt-like root, with the runtime's sys.path entries; the
tree is read-only and the interpreter is fresh and isolated (-I -S: no user or host site-packages), cannot write
bytecode (-B), and sees LAMBDA_TASK_ROOT and AWS_REGION. Without a valid pyc it compiles, as Lambda does.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_slim._errors import SlimError
from lambda_slim._subprocess import capture

# Runs inside the sandbox interpreter, by path: the file is part of the package, linted and tested like the rest.
_PROBE_SCRIPT = Path(__file__).with_name("probe.py")


@dataclass(frozen=True)
class Layout:
    """Where the function and its layers are, as Lambda would place them."""

    task_root: Path
    opt_root: Path | None = None
    python_tag: str = "3.11"
    runtime_root: Path | None = None  # stands in for /var/runtime: the packages the runtime provides
    environment: tuple[tuple[str, str], ...] = ()  # the function's own variables ([tool.slim] environment)

    def sys_path(self) -> list[str]:
        # Lambda's order: the task root, then the layers' site-packages directory, then /opt/python, then the
        # runtime's own directory.
        path = [str(self.task_root)]
        if self.opt_root is not None:
            python = self.opt_root / "python"
            path += [str(python / "lib" / f"python{self.python_tag}" / "site-packages"), str(python)]
        if self.runtime_root is not None:
            path.append(str(self.runtime_root))
        return path

    def roots(self) -> list[Path]:
        return [root for root in (self.task_root, self.opt_root, self.runtime_root) if root is not None]


@dataclass(frozen=True)
class ProbeResult:
    init_ms: float | None
    duration_ms: float | None
    max_memory_mb: float
    modules: dict[str, str | None] = field(default_factory=dict)  # module -> None (imported) or the error
    error: str | None = None  # the handler's import or invocation failed
    result: Any = None
    output: str = ""  # what the sandbox printed, for diagnosis
    touched: tuple[str, ...] = ()  # with trace: absolute paths of the files the run opened, imported or mapped
    listed: tuple[str, ...] = ()  # with trace: directories it listed
    dynamic: tuple[str, ...] = ()  # with trace: modules imported by computed name (importlib.import_module)
    missing: str | None = None  # the handler's module or function is not there (also in `error`)
    # With importtime: the `import time:` lines -X importtime wrote for the handler's import, and the file of each
    # module that import brought in (None: built in).
    import_lines: tuple[str, ...] = ()
    module_files: dict[str, str | None] = field(default_factory=dict)
    called: tuple[str, ...] = ()  # with calls: the modules whose functions the invocation called
    reference_ms: float | None = None  # with reference: the reference workload's time, just before the import

    @property
    def failed_modules(self) -> dict[str, str]:
        return {name: error for name, error in self.modules.items() if error is not None}


def probe(
    layout: Layout,
    interpreter: str,
    *,
    handler: str | None = None,
    event: Any = None,
    modules: Sequence[str] = (),
    bytecode: bool = True,
    trace: bool = False,
    importtime: bool = False,
    calls: bool = False,
    reference: bool = False,
    memory_mb: int = 128,
    request_id: str = "00000000-0000-0000-0000-000000000000",
    timeout: float = 600,
) -> ProbeResult:
    """Import `modules`, then the handler's module, and invoke it with `event` when one is given."""
    with tempfile.TemporaryDirectory(prefix="slim-probe-") as tmp:
        out = Path(tmp) / "result.json"
        args = {
            "path": layout.sys_path(),
            "modules": list(modules),
            "handler": handler,
            "event": event,
            "out": str(out),
            "memory": memory_mb,
            "request_id": request_id,
            "trace": trace,
            "importtime": importtime,
            "calls": calls,
            "reference": reference,
        }
        command = [interpreter, "-I", "-S", "-B"]
        if not bytecode:
            # Python then looks for pycs under an empty directory: every module compiles, as without pycs.
            command += ["-X", f"pycache_prefix={tmp}/no-bytecode"]
        if importtime:
            command += ["-X", "importtime"]
        env = {
            # Lambda reserves the variables below: a function's own cannot override them.
            **dict(layout.environment),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(layout.task_root),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "slim-verify",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "HOME": tmp,
        }
        try:
            done = capture(
                [*command, str(_PROBE_SCRIPT), json.dumps(args)], cwd=layout.task_root, env=env, timeout=timeout
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SlimError(f"the sandbox interpreter {interpreter} could not run the probe: {exc}.") from exc
        output = (done.stdout + done.stderr)[-4000:]
        if not out.exists():
            # The interpreter died before writing (a crash in a C extension, an abort): that is a failure too.
            return ProbeResult(
                None, None, 0.0, {}, f"the interpreter exited with status {done.returncode}\n{output}", None, output
            )
        data = json.loads(out.read_text())
    return ProbeResult(
        data["init_ms"],
        data["duration_ms"],
        data["max_memory_mb"],
        data["modules"],
        data["error"],
        data["result"],
        output,
        tuple(data.get("touched", ())),
        tuple(data.get("listed", ())),
        tuple(data.get("dynamic", ())),
        data.get("missing"),
        handler_import_lines(done.stderr) if importtime else (),
        data.get("module_files", {}),
        tuple(data.get("called", ())),
        data.get("reference_ms"),
    )


def handler_import_lines(stderr: str) -> tuple[str, ...]:
    """The `import time:` lines between the probe's marks: the handler's import, not the probe's own imports
    before it nor the invocation's after."""
    inside, lines = False, []
    for line in stderr.splitlines():
        if line == "slim-probe: handler import begins":
            inside = True
        elif line == "slim-probe: handler import ends":
            break
        elif inside and line.startswith("import time:"):
            lines.append(line)
    return tuple(lines)


def side_by_side(probes: Sequence[Callable[[], ProbeResult]]) -> list[ProbeResult]:
    """Run the probes at once, one process per core, when there is a core for each (they share the machine alike,
    and the threads only wait on their processes); else in turn."""
    if (os.cpu_count() or 1) < len(probes):
        return [run() for run in probes]
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        return list(pool.map(lambda run: run(), probes))


@contextlib.contextmanager
def read_only(roots: Sequence[Path]) -> Iterator[None]:
    """Take write permission away from the trees while the sandbox runs, as Lambda's read-only mount does."""
    changed: list[tuple[Path, int]] = []
    try:
        for root in roots:
            for dirpath, dirnames, filenames in os.walk(root):
                for name in [*dirnames, *filenames, ""]:
                    path = Path(dirpath) / name if name else Path(dirpath)
                    mode = path.lstat().st_mode
                    if not stat.S_ISLNK(mode) and mode & 0o222:
                        path.chmod(mode & ~0o222)
                        changed.append((path, mode))
        yield
    finally:
        for path, mode in reversed(changed):
            with contextlib.suppress(OSError):
                path.chmod(stat.S_IMODE(mode))


def top_level_modules(root: Path) -> list[str]:
    """The importable top-level names a tree ships: packages, namespace packages, modules, extension modules."""
    names: set[str] = set()
    for entry in os.scandir(root):
        name = entry.name
        if entry.is_dir():
            if name.endswith((".dist-info", ".data", ".libs", ".egg-info")) or name in ("__pycache__", "bin"):
                continue
            if name.isidentifier() and _holds_python(Path(entry.path)):
                names.add(name)
        elif name.endswith(".py"):
            names.add(name[:-3])
        elif name.endswith(".so") or name.endswith(".pyd"):
            names.add(name.split(".", 1)[0])
    return sorted(n for n in names if n.isidentifier() and not n.startswith("__"))


def _holds_python(directory: Path) -> bool:
    for _dirpath, _dirnames, filenames in os.walk(directory):
        if any(f.endswith((".py", ".so")) for f in filenames):
            return True
    return False
