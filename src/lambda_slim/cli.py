"""The `slim` command: parses options, loads config, wires progress, maps errors. All the work is in the library."""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import __version__
from ._atomic import write_text_atomically
from ._subprocess import tail
from .config import load_config, read_pyproject, tool_table
from .errors import ConfigError, SlimError
from .outputs import FUNCTION_ZIP, read_manifest
from .pipeline import build as run_build
from .pipeline import load_event
from .report import to_json, to_markdown, to_text
from .verify import verify as run_verify
from .verify_report import verify_json, verify_text


class TerminalReporter:
    """Progress on stderr through tqdm, only when stderr is a terminal; warnings always, unless --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: tqdm[Any] | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._close_bar()
        if self.enabled:
            self._bar = tqdm(total=total, desc=name, file=sys.stderr, leave=False, unit="step")

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def warn(self, message: str) -> None:
        if not self.quiet:
            (self._bar.write if self._bar is not None else _echo_err)(f"warning: {message}")

    def close(self) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-slim")
@click.option("-v", "--verbose", is_flag=True, help="Log every command lambda-slim runs (on stderr).")
def main(verbose: bool) -> None:
    """Build the smallest AWS Lambda deployment package for a Python project that still works."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)


@main.command()
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--runtime", help="Lambda runtime, python3.9 to python3.14 (default: [tool.slim] runtime, else this Python)."
)
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), help="Lambda architecture (default x86_64).")
@click.option(
    "--requirements",
    "-r",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Requirements file to use instead of pyproject.toml / requirements.txt.",
)
@click.option(
    "--extra", "extras", multiple=True, help="Also package this [project.optional-dependencies] extra. Repeatable."
)
@click.option("--group", "groups", multiple=True, help="Also package this [dependency-groups] group. Repeatable.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: PROJECT/dist).",
)
@click.option("--compile/--no-compile", "compile_", default=None, help="Compile hash-based pycs (default on).")
@click.option("--python", help="Interpreter of the target's Python version, for bytecode.")
@click.option("--keep", multiple=True, help="Never remove files matching this gitignore-style pattern. Repeatable.")
@click.option("--exclude", multiple=True, help="Also remove files matching this pattern. Repeatable.")
@click.option("--disable-rule", "disable_rules", multiple=True, help="Switch off a built-in rule by name. Repeatable.")
@click.option(
    "--locked", is_flag=True, default=None, help="Fail instead of resolving when slim.lock is missing or stale (CI)."
)
@click.option(
    "--verify/--no-verify",
    "verify",
    default=None,
    help="Check that every module still imports after slimming, and the handler (default on).",
)
@click.option("--handler", help="The handler, such as handler.handler: verified and measured at every build.")
@click.option(
    "--event",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON event to invoke the handler with while verifying.",
)
@click.option(
    "--layers",
    type=click.Choice(["none", "auto"]),
    help="Move heavy dependencies into Lambda layers (auto), or not (none). Groups: [tool.slim.layers].",
)
@click.option(
    "--measure-runs", type=int, help="Fresh processes per cold-start measurement (default 3; 0: do not measure)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of stdout.",
)
@click.option(
    "--explain",
    "explain",
    multiple=True,
    help="Say what happened to files matching this glob, and which rule decided. Repeatable.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no warnings on stderr.")
def build(
    project: Path,
    runtime: str | None,
    arch: str | None,
    requirements: Path | None,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    out_dir: Path | None,
    compile_: bool | None,
    python: str | None,
    keep: tuple[str, ...],
    exclude: tuple[str, ...],
    disable_rules: tuple[str, ...],
    locked: bool | None,
    verify: bool | None,
    handler: str | None,
    event: Path | None,
    layers: str | None,
    measure_runs: int | None,
    fmt: str,
    output: Path | None,
    explain: tuple[str, ...],
    quiet: bool,
) -> None:
    """Build PROJECT (default: the current directory) into PROJECT/dist/function.zip and report what it saved."""
    reporter = TerminalReporter(quiet)
    with _user_errors():
        config = load_config(
            project,
            {
                "runtime": runtime,
                "arch": arch,
                "requirements": str(requirements) if requirements else None,
                "extras": list(extras),
                "groups": list(groups),
                "out-dir": str(out_dir) if out_dir else None,
                "compile": compile_,
                "python": python,
                # Patterns given on the command line add to those in [tool.slim].
                "keep": list(keep),
                "exclude": list(exclude),
                "disable-rules": list(disable_rules),
                "locked": locked,
                "verify": verify,
                "handler": handler,
                "event": str(event) if event else None,
                "measure-runs": measure_runs,
                "layers": layers,
            },
            additive=("keep", "exclude", "disable-rules"),
        )
        result = run_build(config, reporter)
    for warning in result.warnings:
        reporter.warn(warning)
    rendered = {"json": to_json, "markdown": to_markdown, "text": to_text}[fmt](result)
    if output is not None:
        with _user_errors():
            _write_report(output, rendered)
    else:
        click.echo(rendered, nl=False)
    for pattern in explain:
        matched = [d for d in result.decisions if fnmatch.fnmatch(d.path, pattern)]
        if not matched:
            click.echo(f"explain {pattern}: no file of the build matches", err=True)
        for decision in matched:
            how = {"keep": "kept", "remove": "removed", "strip": "stripped"}[decision.action]
            why = f"by rule {decision.rule}" if decision.rule else "(no rule applies)"
            click.echo(f"{how:9} {decision.path}  {why}", err=True)


@main.command(name="verify")
@click.argument("dist", type=click.Path(path_type=Path), required=False)
@click.option(
    "--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path), help="The function zip (instead of DIST)."
)
@click.option(
    "--layer",
    "layers",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A layer zip, laid under /opt. Repeatable, in attach order.",
)
@click.option("--handler", help="module.function (default: [tool.slim] handler of the project DIST belongs to).")
@click.option(
    "--event", type=click.Path(dir_okay=False, path_type=Path), help="JSON event: invoke the handler once with it."
)
@click.option(
    "--expected", type=click.Path(dir_okay=False, path_type=Path), help="JSON the handler must return, exactly."
)
@click.option(
    "--all-modules", is_flag=True, help="Also import every top-level module the package ships and list failures."
)
@click.option("--runtime", help="Lambda runtime (default: from the pycs in the zip, else this Python).")
@click.option("--python", help="Interpreter of the runtime's Python version.")
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(128, 10240),
    default=128,
    show_default=True,
    help="Memory size to report.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_command(
    dist: Path | None,
    zip_path: Path | None,
    layers: tuple[Path, ...],
    handler: str | None,
    event: Path | None,
    expected: Path | None,
    all_modules: bool,
    runtime: str | None,
    python: str | None,
    memory_mb: int,
    fmt: str,
) -> None:
    """Prove a built package works: unpack it like Lambda (read-only, layers under /opt), import and invoke it in a
    fresh isolated interpreter. Exit 0 when it passed, 1 when it failed, 3 when this machine cannot run it."""
    with _user_errors():
        function_zip, layers, project_dir = _locate_artifacts(dist, zip_path, layers)
        defaults = _project_defaults(project_dir)
        handler = handler or defaults.get("handler")
        event_data = load_event(event) if event else None
        expected_data = load_event(expected) if expected else None
        if expected_data is not None and event_data is None:
            raise ConfigError("--expected needs --event: the handler is only invoked with an event.")
        result = run_verify(
            function_zip,
            layers,
            handler=handler,
            event=event_data,
            expected=expected_data,
            all_modules=all_modules,
            runtime=runtime,
            python=python,
            memory_mb=memory_mb,
        )
    click.echo(verify_json(result) if fmt == "json" else verify_text(result), nl=False)
    sys.exit(0 if result.ok else 1)


def _locate_artifacts(
    dist: Path | None, zip_path: Path | None, layers: tuple[Path, ...]
) -> tuple[Path, tuple[Path, ...], Path | None]:
    """The function zip, its layers, and the project directory when DIST is a build's output directory."""
    if zip_path is not None and dist is not None:
        raise ConfigError("pass either DIST or --zip, not both.")
    if zip_path is not None:
        return zip_path, layers, None
    dist = dist or Path("dist")
    if dist.is_file():
        return dist, layers, None
    manifest = read_manifest(dist)
    if manifest is None or layers:
        return dist / FUNCTION_ZIP, layers, dist.resolve().parent
    files: dict[str, list[Path]] = {}
    for artifact in manifest["artifacts"]:
        files.setdefault(artifact["kind"], []).append(dist / artifact["file"])
    function = files.get("function", [dist / FUNCTION_ZIP])[0]
    return function, tuple(files.get("layer", [])), dist.resolve().parent


def _project_defaults(project_dir: Path | None) -> dict[str, Any]:
    if project_dir is None or not (project_dir / "pyproject.toml").is_file():
        return {}
    try:
        return tool_table(read_pyproject(project_dir))
    except SlimError:
        return {}


def _write_report(path: Path, text: str) -> None:
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise SlimError(f"cannot write the report to {path}: {exc.strerror}.") from exc


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turns a SlimError into a message on stderr and its exit status: no traceback for a user's mistake."""
    try:
        yield
    except SlimError as error:
        click.echo(f"error: {error.message}", err=True)
        if error.details:
            click.echo("\n".join("  " + line for line in tail(error.details, 3000).splitlines()), err=True)
        sys.exit(error.exit_status)
