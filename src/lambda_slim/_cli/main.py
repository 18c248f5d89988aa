"""The `slim` command: parses options, loads config, wires progress, maps errors. All the work is in the library."""

from __future__ import annotations

import fnmatch
import logging
import sys
from pathlib import Path
from typing import get_args

import click

from lambda_slim._api import BuildOptions, build_config
from lambda_slim._cli.common import (
    TerminalReporter,
    check_report_path,
    step_summary,
    stop_cleanly_on_signals,
    user_errors,
    write_report,
)
from lambda_slim._cli.inspect import analyze_command, check_command, verify_command
from lambda_slim._inputs.config import COMMAND_LINE, Installer, LayersMode, PruneMode
from lambda_slim._inputs.project import left_out_app_paths
from lambda_slim._inputs.target import Arch
from lambda_slim._pipeline import build as run_build
from lambda_slim._pipeline import project_settings
from lambda_slim._report.build_report import to_json, to_markdown, to_text
from lambda_slim._slimming.rules import explain as explain_keep
from lambda_slim._slimming.rules import ruleset
from lambda_slim._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-slim")
@click.option("-v", "--verbose", is_flag=True, help="Log every command lambda-slim runs (on stderr).")
def main(verbose: bool) -> None:
    """Build the smallest AWS Lambda deployment package for a Python project that still works."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)
    stop_cleanly_on_signals(click.get_current_context())


@main.command()
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--runtime", help="Lambda runtime, python3.9 to python3.14 (default: [tool.slim] runtime, else this Python)."
)
@click.option("--arch", type=click.Choice(get_args(Arch)), help="Lambda architecture (default x86_64).")
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
@click.option(
    "--include",
    multiple=True,
    help="Package the app files matching this pattern instead of the default choice (adds to [tool.slim] include). "
    "Repeatable.",
)
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
    type=click.Choice(get_args(LayersMode)),
    help="Move heavy dependencies into Lambda layers (auto), or not (none). Groups: [tool.slim.layers].",
)
@click.option(
    "--measure-runs", type=int, help="Fresh processes per cold-start measurement (default 3; 0: do not measure)."
)
@click.option(
    "--measure-without-bytecode/--no-measure-without-bytecode",
    "measure_without_bytecode",
    default=None,
    help="Also measure the package with its bytecode hidden: what shipping no pycs would cost (default off).",
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
    help="Say what happened to files matching this glob, and which rule decided; for a project file that is not "
    "app code, which default or pattern left it out. Repeatable.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where installed, compiled distributions are cached (default: $SLIM_CACHE_DIR or ~/.cache/lambda-slim).",
)
@click.option(
    "--prune",
    type=click.Choice(get_args(PruneMode)),
    help="traced: run the handler on the events ([tool.slim] events, --event) and drop the dependencies' files no "
    "run touched; every event must then return exactly what it did before. Part of verification: refused with "
    "--no-verify or where this machine cannot run the target.",
)
@click.option(
    "--installer",
    type=click.Choice(get_args(Installer)),
    help="Resolve and install with pip (default) or uv (faster; must be on PATH). Same artifacts either way.",
)
@click.option(
    "--env",
    "environment",
    multiple=True,
    help="NAME=VALUE: an environment variable of the function, set where it is verified and measured (never "
    "shipped). Repeatable; adds to [tool.slim] environment.",
)
@click.option(
    "--runtime-packages",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Packages the Lambda runtime provides (boto3 ...), put where the runtime's are while verifying and "
    "measuring; never shipped. Default: a documented version set per runtime, installed once into the cache.",
)
@click.option("--cache/--no-cache", "cache", default=None, help="Use the per-distribution cache (default on).")
@click.option("--force", is_flag=True, help="Build even when nothing changed since the last build.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no warnings on stderr.")
def build(
    project: Path,
    runtime: str | None,
    arch: Arch | None,
    requirements: Path | None,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    out_dir: Path | None,
    compile_: bool | None,
    python: str | None,
    keep: tuple[str, ...],
    exclude: tuple[str, ...],
    include: tuple[str, ...],
    disable_rules: tuple[str, ...],
    locked: bool | None,
    verify: bool | None,
    handler: str | None,
    event: Path | None,
    layers: LayersMode | None,
    measure_runs: int | None,
    measure_without_bytecode: bool | None,
    fmt: str,
    output: Path | None,
    explain: tuple[str, ...],
    cache_dir: Path | None,
    prune: PruneMode | None,
    installer: Installer | None,
    runtime_packages: Path | None,
    cache: bool | None,
    environment: tuple[str, ...],
    force: bool,
    quiet: bool,
) -> None:
    """Build PROJECT (default: the current directory) into PROJECT/dist/function.zip and report what it saved."""
    reporter = TerminalReporter(quiet)
    with user_errors():
        options = BuildOptions(
            runtime=runtime,
            arch=arch,
            requirements=requirements,
            extras=extras,
            groups=groups,
            out_dir=out_dir,
            compile=compile_,
            python=python,
            keep=keep,
            exclude=exclude,
            include=include,
            disable_rules=disable_rules,
            locked=locked,
            verify=verify,
            handler=handler,
            event=event,
            measure_runs=measure_runs,
            measure_without_bytecode=measure_without_bytecode,
            layers=layers,
            cache_dir=cache_dir,
            cache=cache,
            installer=installer,
            prune=prune,
            environment=environment,
            runtime_packages=runtime_packages,
            force=force,
        )
        # Patterns given on the command line add to those in [tool.slim], as the API's options do.
        config = build_config(project, options, where=COMMAND_LINE)
        if output is not None:
            check_report_path(output)
        # --explain needs every file's decision, which only a real build has.
        result = run_build(config, reporter, reuse=not (options.force or explain))
    for warning in result.warnings:
        reporter.warn(warning)
    for item in result.skipped:
        reporter.warn(f"{item.what} not done: {item.why}")
    rendered = {"json": to_json, "markdown": to_markdown, "text": to_text}[fmt](result)
    step_summary(to_markdown(result))
    if output is not None:
        with user_errors():
            write_report(output, rendered)
    else:
        click.echo(rendered, nl=False)
    for pattern in explain:
        matched = [d for d in result.decisions if fnmatch.fnmatch(d.path, pattern)]
        left_out = left_out_app_paths(project_settings(config), pattern)
        if not matched and not left_out:
            click.echo(f"explain {pattern}: no file of the build or of the project matches", err=True)
        for decision in matched:
            how = {"keep": "kept", "remove": "removed", "strip": "stripped"}[decision.action]
            why = f"by rule {decision.rule}" if decision.rule else "(no rule applies)"
            if decision.rule == "builtin-keep":
                why += f": {explain_keep(decision.path, ruleset())}"
            click.echo(f"{how:9} {decision.path}  {why}", err=True)
        for path, why in left_out:
            click.echo(f"{'left out':9} {path}  {why}", err=True)


main.add_command(verify_command)
main.add_command(analyze_command)
main.add_command(check_command)
