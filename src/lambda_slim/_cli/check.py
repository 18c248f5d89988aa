"""`slim check`: the package against its size and cold-start budget and Lambda's own limits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lambda_slim._api import CheckOptions, run_check_options
from lambda_slim._cli.common import (
    TerminalReporter,
    build_input_options,
    build_options_from,
    step_summary,
    user_errors,
)
from lambda_slim._inputs.sources import COMMAND_LINE
from lambda_slim._report.budget import render, render_markdown, render_violations


@click.command(name="check")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--zip",
    "zips",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check these existing zips (function, then layers) instead of building. Repeatable.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A previous JSON report (slim build --format json -o FILE): show growth, apply max-growth.",
)
@click.option("--max-zipped", help='Largest zip allowed, such as "50MB" (overrides [tool.slim.budget]).')
@click.option("--max-unzipped", help='Function plus layers unzipped, such as "200 MiB".')
@click.option("--max-files", type=int, help="Files in all zips together.")
@click.option("--max-growth", help="Percent of unzipped growth over --baseline allowed.")
@click.option("--max-cold-start-ms", type=float, help="Measured init (or, when not measurable here, the estimate).")
@click.option(
    "--max-import-ms",
    "max_import_ms",
    multiple=True,
    help="MODULE=MS: the longest the handler's init may spend importing MODULE (cumulative, the least of the "
    "profile's runs), such as handler=300. Repeatable; replaces [tool.slim.budget] max-import-ms.",
)
@build_input_options
@click.option("--quiet", "-q", is_flag=True, help="Print only violations.")
def check_command(
    project: Path,
    zips: tuple[Path, ...],
    baseline: Path | None,
    max_zipped: str | None,
    max_unzipped: str | None,
    max_files: int | None,
    max_growth: str | None,
    max_cold_start_ms: float | None,
    max_import_ms: tuple[str, ...],
    quiet: bool,
    **build_args: Any,
) -> None:
    """Fail when the package is over its size or cold-start budget, or over Lambda's own limits (262,144,000 bytes
    unzipped, 5 layers), which always apply: exit 0 within both, 1 over, 2 for usage or configuration errors.
    Builds PROJECT with the build options given (reusing the last build when it had the same options and nothing it
    read changed since), or checks --zip files (--runtime then judges their bytecode)."""
    if max_growth is not None and baseline is None:
        raise click.UsageError(
            "--max-growth needs --baseline: growth is measured against a previous JSON report "
            "(slim build --format json -o FILE)."
        )
    with user_errors():
        options = CheckOptions(
            zips=zips,
            baseline=baseline,
            max_zipped=max_zipped,
            max_unzipped=max_unzipped,
            max_files=max_files,
            max_growth=max_growth,
            max_cold_start_ms=max_cold_start_ms,
            max_import_ms=max_import_ms,
            runtime=build_args["runtime"],
            build=build_options_from(build_args),
        )
        run = run_check_options(project, options, TerminalReporter(quiet=True), where=COMMAND_LINE)
        if run.reused and not quiet:
            click.echo("nothing changed since the last build: checking its report", err=True)
        if run.other_settings and not quiet:
            click.echo(
                f"built again: the last build had other settings ({'; '.join(run.other_settings)}). To check that "
                "build without building, give slim check the options slim build was given.",
                err=True,
            )
        result = run.result
    click.echo(render_violations(result) if quiet else render(result), nl=False)
    step_summary(render_markdown(result))
    sys.exit(0 if result.ok else 1)
