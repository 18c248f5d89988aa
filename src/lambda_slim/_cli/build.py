"""`slim build`: parses the options, prints the report and the explanations; the build is the library's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import click

from lambda_slim._api import BuildOptions, build_config, build_from_config, explain_build
from lambda_slim._cli.common import (
    TerminalReporter,
    check_report_path,
    on_off,
    step_summary,
    user_errors,
    write_report,
)
from lambda_slim._inputs.config import DEFAULT_ARCH, Installer, LayersMode, PruneMode, default
from lambda_slim._inputs.sources import COMMAND_LINE
from lambda_slim._inputs.target import RUNTIMES, Arch
from lambda_slim._report.build_report import BuildReport, to_json, to_markdown, to_text

ReportFormat = Literal["text", "json", "markdown"]
RENDERERS: dict[ReportFormat, Callable[[BuildReport], str]] = {
    "text": to_text,
    "json": to_json,
    "markdown": to_markdown,
}


@click.command(name="build")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--runtime",
    # RUNTIMES lists the oldest first.
    help=f"Lambda runtime, {next(iter(RUNTIMES))} to {next(reversed(RUNTIMES))} (default: "
    "[tool.slim] runtime, else this Python).",
)
@click.option("--arch", type=click.Choice(get_args(Arch)), help=f"Lambda architecture (default {DEFAULT_ARCH}).")
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
@click.option(
    "--compile/--no-compile",
    "compile_",
    default=None,
    help=f"Compile hash-based pycs (default {on_off(default('compile'))}).",
)
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
    help="Check that every module still imports after slimming, and the handler "
    f"(default {on_off(default('verify'))}).",
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
    "--measure-runs",
    type=int,
    help=f"Fresh processes per cold-start measurement (default {default('measure_runs')}; 0: do not measure).",
)
@click.option(
    "--measure-without-bytecode/--no-measure-without-bytecode",
    "measure_without_bytecode",
    default=None,
    help="Also measure the package with its bytecode hidden: what shipping no pycs would cost "
    f"(default {on_off(default('measure_without_bytecode'))}).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(ReportFormat)),
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
    help=f"Resolve and install with {default('installer')} (default) or uv (faster; must be on PATH). Same artifacts "
    "either way.",
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
@click.option(
    "--cache/--no-cache",
    "cache",
    default=None,
    help=f"Use the per-distribution cache (default {on_off(default('cache'))}).",
)
@click.option(
    "--image/--no-image",
    "image",
    default=None,
    help="Also write dist/Dockerfile and dist/image/ (the slimmed tree) for a Lambda container image; a package over "
    "the zips' limits then builds, and the report says the zips are not deployable as zips "
    f"(default {on_off(default('image'))}).",
)
@click.option("--force", is_flag=True, help="Build even when nothing changed since the last build.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no warnings on stderr.")
def build_command(
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
    fmt: ReportFormat,
    output: Path | None,
    explain: tuple[str, ...],
    cache_dir: Path | None,
    prune: PruneMode | None,
    installer: Installer | None,
    runtime_packages: Path | None,
    cache: bool | None,
    environment: tuple[str, ...],
    image: bool | None,
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
            image=image,
            force=force,
        )
        # Patterns given on the command line add to those in [tool.slim], as the API's options do.
        config = build_config(project, options, where=COMMAND_LINE)
        if output is not None:
            check_report_path(output)
        result = build_from_config(config, options, reporter, explain=explain)
    for warning in result.warnings:
        reporter.warn(warning)
    for item in result.skipped:
        reporter.warn(f"{item.what} not done: {item.why}")
    rendered = RENDERERS[fmt](result)
    step_summary(to_markdown(result))
    if output is not None:
        with user_errors():
            write_report(output, rendered)
    else:
        click.echo(rendered, nl=False)
    for explanation in explain_build(result, explain, config):
        if not explanation.files:
            click.echo(f"explain {explanation.pattern}: no file of the build or of the project matches", err=True)
        for file in explanation.files:
            click.echo(f"{file.outcome:9} {file.path}  {file.why}", err=True)
