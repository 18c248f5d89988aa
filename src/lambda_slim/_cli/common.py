"""What every command shares: progress on stderr, errors as messages, reports to files and step summaries."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar, get_args

import click
from tqdm import tqdm

from lambda_slim._api import BuildOptions
from lambda_slim._atomic import unwritable, write_text_atomically
from lambda_slim._errors import ConfigError, SlimError
from lambda_slim._inputs.config import DEFAULT_ARCH, Installer, LayersMode, PruneMode
from lambda_slim._inputs.config import default as default_of
from lambda_slim._inputs.target import RUNTIMES, Arch
from lambda_slim._subprocess import end_children, tail

Command = TypeVar("Command", bound=Callable[..., Any])


def _stacked(*decorators: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """The decorators as if written one above the other, the first on top: click lists their options in that order."""

    def apply(command: Command) -> Command:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


# DIST, --zip, --layer, --handler: the built package that verify and profile lay out as Lambda does.
built_package_options = _stacked(
    click.argument("dist", type=click.Path(path_type=Path), required=False),
    click.option(
        "--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path), help="The function zip (instead of DIST)."
    ),
    click.option(
        "--layer",
        "layers",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A layer zip, laid under /opt. Repeatable, in attach order.",
    ),
    click.option("--handler", help="module.function (default: [tool.slim] handler of the project DIST belongs to)."),
)
# --runtime, --python: the interpreter that runs the package.
runtime_interpreter_options = _stacked(
    click.option("--runtime", help="Lambda runtime (default: from the pycs in the zip, else this Python)."),
    click.option("--python", help="Interpreter of the runtime's Python version."),
)


class TerminalReporter:
    """Progress on stderr through tqdm, only when stderr is a terminal; warnings always, unless --quiet.

    A stage is a bar in its own unit (bytes scaled as kB and MB), a counter when its total is not known, or only
    its name when it counts nothing. A ticker thread redraws it twice a second, so the elapsed time moves on while
    a step has nothing to count (uv resolving, pip downloading a large wheel): a build at work never looks hung."""

    TICK_SECONDS = 0.5

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: tqdm[Any] | None = None
        self._lock = threading.Lock()  # the ticker redraws the bar the build's thread updates
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def stage(self, name: str, total: int | None = None, unit: str = "step") -> None:
        with self._lock:
            self._close_bar()
            if not self.enabled:
                return
            scaled = unit == "B"
            if total is not None:
                shape = "{l_bar}{bar}| {n_fmt}/{total_fmt}{unit} [{elapsed}<{remaining}]"
            else:
                shape = "{desc} [{elapsed}]" if unit == "step" else "{desc}: {n_fmt}{unit} [{elapsed}]"
            self._bar = tqdm(
                total=total,
                desc=name,
                file=sys.stderr,
                leave=False,
                unit=unit if scaled else f" {unit}s",
                unit_scale=scaled,
                dynamic_ncols=True,
                bar_format=shape,
            )
        if self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="slim-progress", daemon=True)
            self._ticker.start()

    def advance(self, steps: int = 1) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(steps)

    def warn(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                (self._bar.write if self._bar is not None else _echo_err)(f"warning: {message}")

    def close(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
        with self._lock:
            self._close_bar()

    def _tick(self) -> None:
        while not self._stop.wait(self.TICK_SECONDS):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def on_off(default: bool) -> str:
    """A flag's default as its help says it."""
    return "on" if default else "off"


def step_summary(markdown: str) -> None:
    """GitHub Actions shows what is appended to $GITHUB_STEP_SUMMARY on the run's page."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as summary:
                summary.write(markdown + "\n")
        except OSError as exc:
            click.echo(f"warning: cannot append to GITHUB_STEP_SUMMARY ({exc.strerror})", err=True)


def check_report_path(path: Path) -> None:
    """Before the work that produces it: the report can be written where -o/--output says (its directory is made
    when missing, as dist/ is)."""
    why = unwritable(path.parent)
    if why is not None:
        raise ConfigError(
            f"cannot write the report to {path} (-o/--output): {why}. Nothing was done: pass -o a file in a "
            "directory you can write to."
        )


def write_report(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)
    except OSError as exc:
        raise SlimError(f"cannot write the report to {path}: {exc.strerror}.") from exc


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turns a SlimError into a message on stderr and its exit status: no traceback for a user's mistake."""
    try:
        yield
    except SlimError as error:
        click.echo(f"error: {error.message}", err=True)
        if error.details:
            click.echo("\n".join("  " + line for line in tail(error.details, 3000).splitlines()), err=True)
        sys.exit(error.exit_status)


# 128 + SIGTERM: what a shell reports for a process SIGTERM ended, here after the clean-up.
TERMINATED_STATUS = 128 + signal.SIGTERM


def stop_cleanly_on_signals(ctx: click.Context) -> None:
    """SIGTERM (what CI runners and container stops send) unwinds as Ctrl-C does: the children are interrupted
    (pip cleans up after itself), `with` blocks and finally clauses remove the temporary directories, and slim
    exits with TERMINATED_STATUS. Ctrl-C too interrupts the children of worker threads (the sandbox's probes),
    which a KeyboardInterrupt alone does not reach. The previous handlers are back when the command ends."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, handler, default in (
        (signal.SIGTERM, _terminated, signal.SIG_DFL),
        (signal.SIGINT, _interrupted, signal.default_int_handler),
    ):
        previous = signal.getsignal(signum)
        if previous is default:  # an ignored signal (nohup, a background job) stays ignored
            signal.signal(signum, handler)
            ctx.call_on_close(functools.partial(signal.signal, signum, previous))


def _terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    # os.write: the interrupted code may be in the middle of writing to sys.stderr.
    os.write(2, b"error: terminated by SIGTERM: stopping what runs and removing temporary files.\n")
    end_children()
    raise SystemExit(TERMINATED_STATUS)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    end_children()
    raise KeyboardInterrupt


# The options that say how to build a project: `slim build` takes them, and `slim check` too, so that it can be given
# what the build was given and check that build instead of building again.
build_input_options = _stacked(
    click.option(
        "--runtime",
        # RUNTIMES lists the oldest first.
        help=f"Lambda runtime, {next(iter(RUNTIMES))} to {next(reversed(RUNTIMES))} (default: "
        "[tool.slim] runtime, else this Python).",
    ),
    click.option("--arch", type=click.Choice(get_args(Arch)), help=f"Lambda architecture (default {DEFAULT_ARCH})."),
    click.option(
        "--requirements",
        "-r",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Requirements file to use instead of pyproject.toml / requirements.txt.",
    ),
    click.option(
        "--extra", "extras", multiple=True, help="Also package this [project.optional-dependencies] extra. Repeatable."
    ),
    click.option("--group", "groups", multiple=True, help="Also package this [dependency-groups] group. Repeatable."),
    click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Output directory (default: PROJECT/dist).",
    ),
    click.option(
        "--compile/--no-compile",
        "compile_",
        default=None,
        help=f"Compile hash-based pycs (default {on_off(default_of('compile'))}).",
    ),
    click.option("--python", help="Interpreter of the target's Python version, for bytecode."),
    click.option("--keep", multiple=True, help="Never remove files matching this gitignore-style pattern. Repeatable."),
    click.option("--exclude", multiple=True, help="Also remove files matching this pattern. Repeatable."),
    click.option(
        "--include",
        multiple=True,
        help="Package the app files matching this pattern instead of the default choice (adds to [tool.slim] include). "
        "Repeatable.",
    ),
    click.option(
        "--disable-rule", "disable_rules", multiple=True, help="Switch off a built-in rule by name. Repeatable."
    ),
    click.option(
        "--locked",
        is_flag=True,
        default=None,
        help="Fail instead of resolving when slim.lock is missing or stale (CI).",
    ),
    click.option(
        "--verify/--no-verify",
        "verify",
        default=None,
        help="Check that every module still imports after slimming, and the handler "
        f"(default {on_off(default_of('verify'))}).",
    ),
    click.option("--handler", help="The handler, such as handler.handler: verified and measured at every build."),
    click.option(
        "--event",
        type=click.Path(dir_okay=False, path_type=Path),
        help="JSON event to invoke the handler with while verifying.",
    ),
    click.option(
        "--layers",
        type=click.Choice(get_args(LayersMode)),
        help="Move heavy dependencies into Lambda layers (auto), or not (none). Groups: [tool.slim.layers].",
    ),
    click.option(
        "--measure-runs",
        type=int,
        help=f"Fresh processes per cold-start measurement (default {default_of('measure_runs')}; 0: do not measure).",
    ),
    click.option(
        "--measure-without-bytecode/--no-measure-without-bytecode",
        "measure_without_bytecode",
        default=None,
        help="Also measure the package with its bytecode hidden: what shipping no pycs would cost "
        f"(default {on_off(default_of('measure_without_bytecode'))}).",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where installed, compiled distributions are cached (default: $SLIM_CACHE_DIR or ~/.cache/lambda-slim).",
    ),
    click.option(
        "--prune",
        type=click.Choice(get_args(PruneMode)),
        help="traced: run the handler on the events ([tool.slim] events, --event) and drop the dependencies' files no "
        "run touched; every event must then return exactly what it did before. Part of verification: refused with "
        "--no-verify or where this machine cannot run the target.",
    ),
    click.option(
        "--installer",
        type=click.Choice(get_args(Installer)),
        help=f"Resolve and install with {default_of('installer')} (default) or uv (faster; must be on PATH). Same "
        "artifacts either way.",
    ),
    click.option(
        "--env",
        "environment",
        multiple=True,
        help="NAME=VALUE: an environment variable of the function, set where it is verified and measured (never "
        "shipped). Repeatable; adds to [tool.slim] environment.",
    ),
    click.option(
        "--runtime-packages",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Packages the Lambda runtime provides (boto3 ...), put where the runtime's are while verifying and "
        "measuring; never shipped. Default: a documented version set per runtime, installed once into the cache.",
    ),
    click.option(
        "--cache/--no-cache",
        "cache",
        default=None,
        help=f"Use the per-distribution cache (default {on_off(default_of('cache'))}).",
    ),
    click.option(
        "--image/--no-image",
        "image",
        default=None,
        help="Also write dist/Dockerfile and dist/image/ (the slimmed tree) for a Lambda container image; a package "
        "over the zips' limits then builds, and the report says the zips are not deployable as zips "
        f"(default {on_off(default_of('image'))}).",
    ),
)


def build_options_from(args: dict[str, Any], force: bool = False) -> BuildOptions:
    """The BuildOptions of the values `build_input_options` parsed (by their parameter names)."""
    fields = dict(args)
    fields["compile"] = fields.pop("compile_")
    return BuildOptions(**fields, force=force)
