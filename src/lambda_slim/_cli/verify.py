"""`slim verify`, `slim analyze` and `slim check`: commands that look at packages rather than build them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lambda_slim._analyze.render import to_html as analyze_html
from lambda_slim._analyze.render import to_json as analyze_json
from lambda_slim._analyze.render import to_markdown as analyze_markdown
from lambda_slim._analyze.render import to_text as analyze_text
from lambda_slim._api import (
    AnalyzeOptions,
    CheckOptions,
    VerifyOptions,
    analyze,
    plan_verify,
    run_check_options,
    run_verify_plan,
)
from lambda_slim._cli.common import TerminalReporter, step_summary, user_errors, write_report
from lambda_slim._report.budget import render as render_check
from lambda_slim._report.budget import render_markdown as render_check_markdown
from lambda_slim._report.verify import verify_json, verify_text


@click.command(name="verify")
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
    runtime_packages: Path | None,
    environment: tuple[str, ...],
    fmt: str,
) -> None:
    """Prove a built package works: unpack it like Lambda (read-only, layers under /opt), import and invoke it in a
    fresh isolated interpreter. Exit 0 when it passed, 1 when it failed, 3 when this machine cannot run it."""
    with user_errors():
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
    click.echo(verify_json(result) if fmt == "json" else verify_text(result), nl=False)
    sys.exit(0 if result.ok else 1)


@click.command(name="analyze")
@click.argument("zips", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--runtime", help="The runtime to judge bytecode against (default: from the pycs in the zip).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
def analyze_command(zips: tuple[Path, ...], runtime: str | None, fmt: str, output: Path | None) -> None:
    """Inspect existing deployment zips (a function zip and its layers, from any tool): what is in them, what
    slimming would save, and what would break or slow Lambda down. Reads the zips' directories only: nothing is
    extracted, and nothing is written but --output."""
    with user_errors():
        result = analyze(zips, AnalyzeOptions(runtime=runtime))
        rendered = {
            "json": analyze_json,
            "markdown": analyze_markdown,
            "html": analyze_html,
            "text": analyze_text,
        }[fmt](result)
        if output is not None:
            write_report(output, rendered)
        else:
            click.echo(rendered, nl=False)
        step_summary(analyze_markdown(result))


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
@click.option("--runtime", help="Lambda runtime, when building.")
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
    runtime: str | None,
    quiet: bool,
) -> None:
    """Fail when the package is over its size or cold-start budget, or over Lambda's own limits (262,144,000 bytes
    unzipped, 5 layers), which always apply: exit 0 within both, 1 over, 2 for usage or configuration errors.
    Builds PROJECT (reusing the last build when nothing changed), or checks --zip files."""
    with user_errors():
        options = CheckOptions(
            zips=zips,
            baseline=baseline,
            max_zipped=max_zipped,
            max_unzipped=max_unzipped,
            max_files=max_files,
            max_growth=max_growth,
            max_cold_start_ms=max_cold_start_ms,
            runtime=runtime,
        )
        run = run_check_options(project, options, TerminalReporter(quiet=True))
        if run.reused and not quiet:
            click.echo("nothing changed since the last build: checking its report", err=True)
        result = run.result
    text = render_check(result)
    if quiet:
        text = "".join(line + "\n" for line in text.splitlines() if "OVER" in line or "contributors" in line)
    click.echo(text, nl=False)
    step_summary(render_check_markdown(result))
    sys.exit(0 if result.ok else 1)
