"""`slim build`: parses the options, prints the report and the explanations; the build is the library's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import click

from lambda_slim._api import BuildOptions, build_config, build_from_config, explain_build
from lambda_slim._cli.common import (
    TerminalReporter,
    build_input_options,
    check_report_path,
    step_summary,
    user_errors,
    write_report,
)
from lambda_slim._inputs.config import Installer, LayersMode, PruneMode
from lambda_slim._inputs.sources import COMMAND_LINE
from lambda_slim._inputs.target import Arch
from lambda_slim._report.build_report import BuildReport, to_json, to_markdown, to_text

ReportFormat = Literal["text", "json", "markdown"]
RENDERERS: dict[ReportFormat, Callable[[BuildReport], str]] = {
    "text": to_text,
    "json": to_json,
    "markdown": to_markdown,
}


@click.command(name="build")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@build_input_options
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
