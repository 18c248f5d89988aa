"""`slim verify`, `slim analyze` and `slim check`: commands that look at packages rather than build them."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from .analyze import analyze as run_analyze
from .analyze_report import to_data as analyze_to_data
from .analyze_report import to_html as analyze_html
from .analyze_report import to_json as analyze_json
from .analyze_report import to_markdown as analyze_markdown
from .analyze_report import to_text as analyze_text
from .archive import sha256_file
from .budget import Budget, budget_from, measures_from_analyze, measures_from_build
from .budget import check as run_check
from .budget import render as render_check
from .budget import render_markdown as render_check_markdown
from .cache import fingerprint, recall
from .cli_common import TerminalReporter, step_summary, user_errors, write_report
from .config import check_handler, load_config, parse_environment, read_json, read_pyproject, tool_table
from .errors import ConfigError, SlimError
from .outputs import FUNCTION_ZIP, MANIFEST, read_manifest
from .pipeline import build as run_build
from .pipeline import load_event
from .report import to_json
from .target import Target
from .verify import verify as run_verify
from .verify_report import verify_json, verify_text


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
        if handler is not None:
            check_handler(handler)  # a malformed --handler is a usage error, before any zip is read
        function_zip, layers, project_dir = _locate_artifacts(dist, zip_path, layers)
        if expected is not None and event is None:
            raise ConfigError("--expected needs --event: the handler is only invoked with an event.")
        if handler is None:
            handler, looked_in = _known_handler(function_zip, project_dir)
            if handler is not None:
                click.echo(f"handler {handler}, from {looked_in[-1]}", err=True)
            elif event is not None:
                raise ConfigError(
                    f"--event needs a handler, and none is known: {'; '.join(looked_in)}. "
                    "Pass --handler module.function, or set [tool.slim] handler in pyproject.toml."
                )
            elif not all_modules:
                all_modules = True
                click.echo(
                    f"no handler known ({'; '.join(looked_in)}): importing every top-level module the package "
                    "ships instead. Pass --handler module.function to import and invoke the handler.",
                    err=True,
                )
        event_data = load_event(event) if event else None
        expected_data = read_json(expected, "expected result") if expected else None
        runtime_provided = _runtime_provided(dist) if dist is not None and zip_path is None else {}
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
            runtime_packages=runtime_packages,
            environment=_function_environment(project_dir, environment),
            runtime_provided=runtime_provided,
        )
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
        if runtime is not None:
            Target(runtime, "x86_64")  # a bad name is a usage error before any zip is read
        result = run_analyze(list(zips), runtime)
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
        config = load_config(project, {"runtime": runtime})
        overrides = {
            key: value
            for key, value in {
                "max-zipped": max_zipped, "max-unzipped": max_unzipped, "max-files": max_files,
                "max-growth": max_growth, "max-cold-start-ms": max_cold_start_ms,
            }.items()
            if value is not None
        }  # fmt: skip
        budget = dataclasses.replace(config.budget, **_budget_fields(budget_from(overrides, "the options")))
        baseline_data = _read_baseline(baseline) if baseline else None
        if zips:
            measures = measures_from_analyze(analyze_to_data(run_analyze(list(zips), runtime)))
        else:
            key = fingerprint(config)
            report = recall(config, key)
            if report is None:
                report = json.loads(to_json(run_build(config, TerminalReporter(quiet=True))))
            elif not quiet:
                click.echo("nothing changed since the last build: checking its report", err=True)
            measures = measures_from_build(report)
        result = run_check(measures, budget, baseline_data)
    text = render_check(result)
    if quiet:
        text = "".join(line + "\n" for line in text.splitlines() if "OVER" in line or "contributors" in line)
    click.echo(text, nl=False)
    step_summary(render_check_markdown(result))
    sys.exit(0 if result.ok else 1)


def _budget_fields(budget: Budget) -> dict[str, Any]:
    """Only the budgets given, so they replace the configured ones and leave the rest."""
    return {
        field.name: getattr(budget, field.name)
        for field in dataclasses.fields(budget)
        if getattr(budget, field.name) is not None
    }


def _read_baseline(path: Path) -> dict[str, Any]:
    data = read_json(path, "baseline")
    if not isinstance(data, dict):
        raise ConfigError(f"the baseline {path} is not a lambda-slim report.")
    return data


def _locate_artifacts(
    dist: Path | None, zip_path: Path | None, layers: tuple[Path, ...]
) -> tuple[Path, tuple[Path, ...], Path | None]:
    """The function zip, its layers, and the project directory: DIST's parent, or for a zip the first of its
    directory and that directory's parent that holds a pyproject.toml (`dist/function.zip` in a project)."""
    if zip_path is not None and dist is not None:
        raise ConfigError("pass either DIST or --zip, not both.")
    zip_path = zip_path or (dist if dist is not None and dist.is_file() else None)
    if zip_path is not None:
        around = zip_path.resolve().parent
        projects = [d for d in (around, around.parent) if (d / "pyproject.toml").is_file()]
        return zip_path, layers, projects[0] if projects else None
    dist = dist or Path("dist")
    manifest = read_manifest(dist)
    if manifest is None or layers:
        return dist / FUNCTION_ZIP, layers, dist.resolve().parent
    files: dict[str, list[Path]] = {}
    for artifact in manifest["artifacts"]:
        files.setdefault(artifact["kind"], []).append(dist / artifact["file"])
    function = files.get("function", [dist / FUNCTION_ZIP])[0]
    return function, tuple(files.get("layer", [])), dist.resolve().parent


def _runtime_provided(dist: Path) -> dict[str, str]:
    """What the build left to the runtime, at its locked versions, as its manifest says."""
    manifest = read_manifest(dist) if dist.is_dir() else None
    versions = manifest.get("runtime_provided") if manifest else None
    return {str(name): str(version) for name, version in versions.items()} if isinstance(versions, dict) else {}


def _function_environment(project_dir: Path | None, given: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The project's [tool.slim] environment, with --env NAME=VALUE added (and winning for a name both set)."""
    table = tool_table(read_pyproject(project_dir)) if project_dir is not None else {}
    from_file = parse_environment("environment", table.get("environment", {}), "[tool.slim]")
    from_cli = parse_environment("--env", list(given), "the command-line option")
    return tuple(sorted({**dict(from_file), **dict(from_cli)}.items()))


def _known_handler(function_zip: Path, project_dir: Path | None) -> tuple[str | None, list[str]]:
    """The handler the build recorded in the slim-manifest.json beside the zip (when it describes this very zip),
    else the project's [tool.slim] handler; and where it was looked for, the place it was found last."""
    looked_in = ["no --handler"]
    manifest_path = function_zip.parent / MANIFEST
    manifest = read_manifest(function_zip.parent)
    if manifest is None:
        looked_in.append(f"no {manifest_path} beside the zip")
    elif not _manifest_describes(manifest, function_zip):
        looked_in.append(f"{manifest_path} describes another build than {function_zip}")
    elif isinstance(manifest.get("handler"), str):
        return str(manifest["handler"]), [*looked_in, str(manifest_path)]
    else:
        looked_in.append(f"{manifest_path} names no handler")
    pyproject = project_dir / "pyproject.toml" if project_dir is not None else None
    if pyproject is None or not pyproject.is_file():
        looked_in.append("no project (pyproject.toml) found around the zip")
        return None, looked_in
    try:
        handler = tool_table(read_pyproject(pyproject.parent)).get("handler")
    except SlimError:
        handler = None
    if isinstance(handler, str):
        return handler, [*looked_in, f"{pyproject} [tool.slim] handler"]
    return None, [*looked_in, f"{pyproject} has no [tool.slim] handler"]


def _manifest_describes(manifest: dict[str, Any], function_zip: Path) -> bool:
    """Whether the manifest lists this zip, byte for byte, as its function: a zip replaced since, or copied
    beside another build's manifest, must not borrow that build's handler."""
    for artifact in manifest.get("artifacts", []):
        if (
            isinstance(artifact, dict)
            and artifact.get("kind") == "function"
            and artifact.get("file") == function_zip.name
        ):
            return function_zip.is_file() and artifact.get("sha256") == sha256_file(function_zip)
    return False
