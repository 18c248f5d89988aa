"""Where a cold `slim build` spends its time: wall seconds per stage and per kind of program it runs.

    python bench/stages.py ../shared/bench/apps/api [build options, e.g. --installer uv --handler handler.handler]

The app is copied to a fresh directory (no slim.lock) and built with an empty cache, in this process, with the
pipeline's stages and every program they start wrapped in a timer. With SLIM_STAGES_TIMELINE=1 it also prints
when each started and ended, and in which thread. Stages nest (stage_tree holds
resolve_and_install), and work in the background (runtime_set) overlaps the stages it runs beside: the lines do not
add up to the total. A development tool: it reaches into private modules, whose names may change.
"""

from __future__ import annotations

import collections
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import lambda_slim._install.install as install
import lambda_slim._install.stage as stage
import lambda_slim._pipeline as pipeline
import lambda_slim._sandbox.runner as runner
import lambda_slim._subprocess as subprocesses
from lambda_slim._cli.main import main as slim

TIMED: list[tuple[ModuleType, tuple[str, ...]]] = [
    (pipeline, ("read_project", "stage_tree", "runtime_set", "slim", "decide", "apply_decisions", "verify",
                "check_and_repair", "measure", "import_profile", "write", "write_outputs", "report_of")),
    (stage, ("resolve_and_install", "stage_dependencies")),
    (install, ("compile_tree",)),
]  # fmt: skip
seconds: dict[str, float] = collections.defaultdict(float)
calls: collections.Counter[str] = collections.Counter()
spans: list[tuple[float, float, str, str]] = []  # start, end, thread, label: what overlapped what


def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            seconds[label] += ended - started
            calls[label] += 1
            spans.append((started, ended, threading.current_thread().name, label))

    return wrapper


def program(args: list[str]) -> str:
    """What a command is, in a few words: the probe (and whether under -X importtime), pip's subcommand, or the
    program and its first argument."""
    if any(arg.endswith("probe.py") for arg in args):
        return "probe" + (" -X importtime" if "importtime" in args else "")
    if any(arg.endswith("pip_markers.py") for arg in args):
        return f"pip {args[4]}"
    return " ".join(Path(arg).name for arg in args[:3])


def main() -> None:
    for module, names in TIMED:
        for name in names:
            if hasattr(module, name):  # older or newer pipelines name their stages otherwise
                setattr(module, name, timed(f"{module.__name__.rsplit('.', 1)[-1]}.{name}", getattr(module, name)))
    capture = subprocesses.capture

    def timed_capture(args: list[str], **options: Any) -> Any:
        return timed(f"program: {program([str(arg) for arg in args])}", capture)(args, **options)

    subprocesses.capture = timed_capture  # type: ignore[assignment]
    runner.capture = timed_capture  # type: ignore[assignment]
    scratch = Path(tempfile.mkdtemp(prefix="slim-stages-"))
    try:
        app = Path(shutil.copytree(sys.argv[1], scratch / "app"))
        os.environ["SLIM_CACHE_DIR"] = str(scratch / "cache")
        os.chdir(app)
        started = time.perf_counter()
        slim(["build", ".", "--quiet", "--format", "json", *sys.argv[2:]], standalone_mode=False)
        total = time.perf_counter() - started
    finally:
        os.chdir("/")
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(f"{seconds[label]:7.2f} s  x{calls[label]:<3} {label}" for label in seconds), file=sys.stderr)
    print(f"{total:7.2f} s  in all (the interpreter's start-up not included)", file=sys.stderr)
    if os.environ.get("SLIM_STAGES_TIMELINE"):
        print("\nstart    end  thread      label (seconds from the build's start)", file=sys.stderr)
        for begun, ended, thread, label in sorted(spans):
            print(f"{begun - started:5.2f} {ended - started:6.2f}  {thread[:10]:<10}  {label}", file=sys.stderr)


if __name__ == "__main__":
    main()
