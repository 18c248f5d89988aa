"""`slim analyze`: what is in existing deployment zips, from any tool, and what slimming would save."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import click

from lambda_slim._analyze.analysis import AnalyzeReport
from lambda_slim._analyze.render import to_html, to_json, to_markdown, to_text
from lambda_slim._api import AnalyzeOptions, analyze
from lambda_slim._cli.common import step_summary, user_errors, write_report
from lambda_slim._inputs.config import check_settings
from lambda_slim._inputs.sources import COMMAND_LINE

AnalyzeFormat = Literal["text", "json", "markdown", "html"]
RENDERERS: dict[AnalyzeFormat, Callable[[AnalyzeReport], str]] = {
    "text": to_text,
    "json": to_json,
    "markdown": to_markdown,
    "html": to_html,
}


@click.command(name="analyze")
@click.argument("zips", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--runtime", help="The runtime to judge bytecode against (default: from the pycs in the zip).")
@click.option("--format", "fmt", type=click.Choice(get_args(AnalyzeFormat)), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
def analyze_command(zips: tuple[Path, ...], runtime: str | None, fmt: AnalyzeFormat, output: Path | None) -> None:
    """Inspect existing deployment zips (a function zip and its layers, from any tool): what is in them, what
    slimming would save, and what would break or slow Lambda down. Reads the zips' directories only: nothing is
    extracted, and nothing is written but --output."""
    with user_errors():
        check_settings({"runtime": runtime}, COMMAND_LINE)  # named as the flag, not as the API's option
        result = analyze(zips, AnalyzeOptions(runtime=runtime))
        rendered = RENDERERS[fmt](result)
        if output is not None:
            write_report(output, rendered)
        else:
            click.echo(rendered, nl=False)
        step_summary(to_markdown(result))
