"""`slim verify`: proves a built package works, in a sandbox laid out as Lambda's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import click

from lambda_slim._api import MEMORY_MB, VerifyOptions, plan_verify, run_verify_plan
from lambda_slim._cli.common import built_package_options, runtime_interpreter_options, user_errors
from lambda_slim._inputs.config import check_settings
from lambda_slim._inputs.sources import COMMAND_LINE
from lambda_slim._report.verify import verify_json, verify_text
from lambda_slim._sandbox.verify import VerifyReport

VerifyFormat = Literal["text", "json"]
RENDERERS: dict[VerifyFormat, Callable[[VerifyReport], str]] = {"text": verify_text, "json": verify_json}


@click.command(name="verify")
@built_package_options
@click.option(
    "--event", type=click.Path(dir_okay=False, path_type=Path), help="JSON event: invoke the handler once with it."
)
@click.option(
    "--expected", type=click.Path(dir_okay=False, path_type=Path), help="JSON the handler must return, exactly."
)
@click.option(
    "--all-modules", is_flag=True, help="Also import every top-level module the package ships and list failures."
)
@runtime_interpreter_options
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(*MEMORY_MB),
    default=VerifyOptions.memory_mb,
    show_default=True,
    help="Memory size to report.",
)
@click.option(
    "--runtime-packages",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Packages the Lambda runtime provides (boto3 ...), put where the runtime's are. Default: a documented "
    'version set per runtime, installed once into the cache (after the versions a runtime-provided = "exclude" '
    "build locked).",
)
@click.option(
    "--env",
    "environment",
    multiple=True,
    help="NAME=VALUE: an environment variable of the function, set in the sandbox. Repeatable; adds to "
    "[tool.slim] environment.",
)
@click.option("--format", "fmt", type=click.Choice(get_args(VerifyFormat)), default="text", show_default=True)
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
    runtime_packages: Path | None,
    environment: tuple[str, ...],
    fmt: VerifyFormat,
) -> None:
    """Prove a built package works: unpack it like Lambda (read-only, layers under /opt), import and invoke it in a
    fresh isolated interpreter. Exit 0 when it passed, 1 when it failed, 3 when this machine cannot run it."""
    with user_errors():
        check_settings({"runtime": runtime}, COMMAND_LINE)  # named as the flag, not as the API's option
        options = VerifyOptions(
            zip=zip_path,
            layers=layers,
            handler=handler,
            event=event,
            expected=expected,
            all_modules=all_modules,
            runtime=runtime,
            python=python,
            memory_mb=memory_mb,
            runtime_packages=runtime_packages,
            environment=environment,
        )
        plan = plan_verify(dist, options)
        for note in plan.notes:
            click.echo(note, err=True)
        result = run_verify_plan(plan, options)
    if result.runtime_packages_missing:
        click.echo(f"note: runtime packages stand-in {result.runtime_packages_missing}", err=True)
    click.echo(RENDERERS[fmt](result), nl=False)
    sys.exit(0 if result.ok else 1)
