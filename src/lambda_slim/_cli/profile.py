"""`slim profile`: where the handler's init goes, import by import, and which imports could wait."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import click

from lambda_slim._api import ProfileOptions, profile
from lambda_slim._cli.common import (
    built_package_options,
    check_report_path,
    runtime_interpreter_options,
    user_errors,
    write_report,
)
from lambda_slim._inputs.config import check_settings
from lambda_slim._inputs.sources import COMMAND_LINE
from lambda_slim._report.importprofile import to_html, to_json, to_markdown, to_text
from lambda_slim._sandbox.importprofile import ImportProfile

ProfileFormat = Literal["text", "json", "markdown", "html"]
RENDERERS: dict[ProfileFormat, Callable[[ImportProfile], str]] = {
    "text": to_text,
    "json": to_json,
    "markdown": to_markdown,
    "html": to_html,
}


@click.command(name="profile")
@built_package_options
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON event to invoke the handler on, to see which imports it uses (the lazy-import list). Repeatable; "
    "default: [tool.slim] event and events.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=ProfileOptions.runs,
    show_default=True,
    help="Fresh processes the import is timed in (medians are reported).",
)
@runtime_interpreter_options
@click.option(
    "--runtime-packages",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Packages the Lambda runtime provides (boto3 ...), as for slim verify.",
)
@click.option(
    "--env",
    "environment",
    multiple=True,
    help="NAME=VALUE: an environment variable of the function. Repeatable; adds to [tool.slim] environment.",
)
@click.option("--format", "fmt", type=click.Choice(get_args(ProfileFormat)), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def profile_command(
    dist: Path | None,
    zip_path: Path | None,
    layers: tuple[Path, ...],
    handler: str | None,
    events: tuple[Path, ...],
    runs: int,
    runtime: str | None,
    python: str | None,
    runtime_packages: Path | None,
    environment: tuple[str, ...],
    fmt: ProfileFormat,
    output: Path | None,
) -> None:
    """Time the handler's import module by module (-X importtime, in fresh sandbox processes laid out as slim verify
    lays them), by distribution and as a share of init; with events, list the imports at init that no invocation
    used, with the import chain that pulled each in. DIST: the dist directory (default ./dist)."""
    with user_errors():
        check_settings({"runtime": runtime}, COMMAND_LINE)  # named as the flag, not as the API's option
        if output is not None:
            check_report_path(output)  # before the profile's runs, as build checks it
        options = ProfileOptions(
            zip=zip_path,
            layers=layers,
            handler=handler,
            events=events,
            runs=runs,
            runtime=runtime,
            python=python,
            runtime_packages=runtime_packages,
            environment=environment,
        )
        result = profile(dist, options)
        text = RENDERERS[fmt](result)
        if output is not None:
            write_report(output, text)
        else:
            click.echo(text, nl=False)
