"""The typed Python API: build, verify, analyze, check and profile, each with a frozen options object.

The `slim` commands are thin over these functions: the options go through the same loader ([tool.slim] first,
then the options given, `None` meaning "not given"), the same artifact lookup and the same handler choice. Nothing
here prints or exits; every failure is a SlimError.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from lambda_slim._analyze.analysis import AnalyzeReport
from lambda_slim._analyze.analysis import analyze as run_analyze
from lambda_slim._analyze.render import to_data as analyze_to_data
from lambda_slim._artifacts.archive import sha256_file
from lambda_slim._artifacts.outputs import FUNCTION_ZIP, MANIFEST, read_manifest
from lambda_slim._artifacts.reuse import build_settings, changed_settings
from lambda_slim._errors import ConfigError, SlimError
from lambda_slim._inputs.budget import Budget, budget_from
from lambda_slim._inputs.config import (
    Config,
    InitCpu,
    Installer,
    LayersMode,
    PruneMode,
    check_handler,
    check_settings,
    load_config,
    parse_environment,
    read_json,
    read_pyproject,
    tool_table,
)
from lambda_slim._inputs.sources import COMMAND_LINE, PYPROJECT, setting_name
from lambda_slim._inputs.target import Arch
from lambda_slim._pipeline import build as run_build
from lambda_slim._pipeline import last_build_report, load_event, project_settings
from lambda_slim._progress import Reporter
from lambda_slim._report.budget import CheckResult, Measures, measures_from_analyze, measures_from_build
from lambda_slim._report.budget import check as run_check
from lambda_slim._report.build_report import BuildReport, to_json
from lambda_slim._report.explain import Explanation
from lambda_slim._report.explain import explain as explain_files
from lambda_slim._report.load import BASELINE_SCHEMAS, read_report
from lambda_slim._sandbox.importprofile import DEFAULT_RUNS, ImportProfile, profile_imports
from lambda_slim._sandbox.verify import VerifyReport, unpacked
from lambda_slim._sandbox.verify import verify as run_verify
from lambda_slim._slimming.prune import event_files

StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class BuildOptions:
    """What `slim build` takes, by field. `None` (and an empty tuple) means not given: [tool.slim]'s value, else the
    default. keep, exclude, include, disable_rules and environment add to [tool.slim]'s, as their flags do.
    Relative paths are relative to the working directory, as on the command line."""

    runtime: str | None = None
    arch: Arch | None = None
    requirements: StrPath | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    out_dir: StrPath | None = None
    compile: bool | None = None
    python: str | None = None
    keep: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    disable_rules: tuple[str, ...] = ()
    locked: bool | None = None
    verify: bool | None = None
    handler: str | None = None
    event: StrPath | None = None
    layers: LayersMode | None = None
    measure_runs: int | None = None
    measure_without_bytecode: bool | None = None
    init_cpu: InitCpu | None = None  # how the memory table scales init: docs/coldstart.md#by-memory-size
    cache_dir: StrPath | None = None
    cache: bool | None = None
    installer: Installer | None = None
    prune: PruneMode | None = None
    # NAME -> VALUE, or NAME=VALUE items as --env takes them.
    environment: Mapping[str, str] | tuple[str, ...] = field(default_factory=dict, hash=False)
    runtime_packages: StrPath | None = None
    # Also write dist/Dockerfile and dist/image/ for a container image; the zips may then exceed their limits.
    image: bool | None = None
    # Build even when nothing changed since the last build (--force); else that build's artifacts are reused.
    force: bool = False


# The [tool.slim] keys whose given values add to the file's, as the command line's patterns do.
ADDITIVE = ("keep", "exclude", "include", "disable-rules", "environment")


def build_config(project_dir: StrPath, options: BuildOptions, where: str = "BuildOptions") -> Config:
    """The build's Config: [tool.slim] of the project, overridden field by field by the options given."""
    return load_config(
        Path(project_dir),
        {
            "runtime": options.runtime,
            "arch": options.arch,
            "requirements": _path(options.requirements),
            "extras": _items(options.extras),
            "groups": _items(options.groups),
            "out-dir": _path(options.out_dir),
            "compile": options.compile,
            "python": options.python,
            "keep": _items(options.keep),
            "exclude": _items(options.exclude),
            "include": _items(options.include),
            "disable-rules": _items(options.disable_rules),
            "locked": options.locked,
            "verify": options.verify,
            "handler": options.handler,
            "event": _path(options.event),
            "measure-runs": options.measure_runs,
            "measure-without-bytecode": options.measure_without_bytecode,
            "init-cpu": options.init_cpu,
            "layers": options.layers,
            "cache-dir": _path(options.cache_dir),
            "cache": options.cache,
            "installer": options.installer,
            "prune": options.prune,
            "environment": _environment(options.environment),
            "runtime-packages": _path(options.runtime_packages),
            "image": options.image,
        },
        additive=ADDITIVE,
        where=where,
    )


def build(
    project_dir: StrPath = ".", options: BuildOptions | None = None, reporter: Reporter | None = None
) -> BuildReport:
    """Build the project into its dist directory (function.zip, layers, slim-manifest.json) and report on it.
    `reporter` receives the stages and the warnings (default: warnings go to the `lambda_slim` logger)."""
    options = options or BuildOptions()
    return build_from_config(build_config(project_dir, options), options, reporter)


def build_from_config(
    config: Config, options: BuildOptions, reporter: Reporter | None = None, explain: Sequence[str] = ()
) -> BuildReport:
    """Build what `build_config` made of the options. The last build is reused when nothing changed since, unless
    `options.force`, or files are to be explained: an explanation needs every file's decision, which only a real
    build has."""
    return run_build(config, reporter, reuse=not (options.force or explain))


def explain_build(report: BuildReport, patterns: Sequence[str], config: Config) -> tuple[Explanation, ...]:
    """What happened to the files each pattern names, for `slim build --explain`: `report` from
    `build_from_config` with the same patterns."""
    return explain_files(report, patterns, project_settings(config))


# The memory sizes Lambda offers a function, in MB: what a verification may report its peak against.
MEMORY_MB = (128, 10240)


@dataclass(frozen=True)
class VerifyOptions:
    """What `slim verify` takes. `zip` names the function zip instead of a dist directory; event and expected are
    JSON files."""

    zip: StrPath | None = None
    layers: tuple[StrPath, ...] = ()
    handler: str | None = None
    event: StrPath | None = None
    expected: StrPath | None = None
    all_modules: bool = False
    runtime: str | None = None
    python: str | None = None
    memory_mb: int = MEMORY_MB[0]  # Lambda's default size, its smallest too
    runtime_packages: StrPath | None = None
    # NAME -> VALUE, or NAME=VALUE items as --env takes them.
    environment: Mapping[str, str] | tuple[str, ...] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class VerifyPlan:
    """What a verification runs on, once the artifacts, the handler and the environment are found."""

    function_zip: Path
    layers: tuple[Path, ...]
    handler: str | None
    all_modules: bool
    environment: tuple[tuple[str, str], ...]
    runtime_provided: dict[str, str]
    # What was chosen for the caller (the handler and where it was found, or why every module is imported instead).
    notes: tuple[str, ...] = ()


def plan_verify(dist: StrPath | None, options: VerifyOptions) -> VerifyPlan:
    """Find the function zip and its layers (from DIST's slim-manifest.json), the handler (the option, else the
    manifest beside the zip when it describes that zip, else the project's [tool.slim] handler) and the
    function's environment ([tool.slim] environment plus the options')."""
    handler, all_modules, notes = options.handler, options.all_modules, []
    check_settings({"runtime": options.runtime}, "VerifyOptions")
    if handler is not None:
        check_handler(handler)  # a malformed handler is a usage error, before any zip is read
    if not MEMORY_MB[0] <= options.memory_mb <= MEMORY_MB[1]:
        raise ConfigError(f"memory must be from {MEMORY_MB[0]} to {MEMORY_MB[1]} MB, not {options.memory_mb}.")
    dist_path = Path(dist) if dist is not None else None
    zip_path = Path(options.zip) if options.zip is not None else None
    function_zip, layers, project_dir = locate_artifacts(dist_path, zip_path, tuple(map(Path, options.layers)))
    if options.expected is not None and options.event is None:
        raise ConfigError("--expected needs --event: the handler is only invoked with an event.")
    if handler is None:
        handler, looked_in = known_handler(function_zip, project_dir)
        if handler is not None:
            notes.append(f"handler {handler}, from {looked_in[-1]}")
        elif options.event is not None:
            raise ConfigError(
                f"--event needs a handler, and none is known: {'; '.join(looked_in)}. "
                "Pass --handler module.function, or set [tool.slim] handler in pyproject.toml."
            )
        elif not all_modules:
            all_modules = True
            notes.append(
                f"no handler known ({'; '.join(looked_in)}): importing every top-level module the package "
                "ships instead. Pass --handler module.function to import and invoke the handler."
            )
    return VerifyPlan(
        function_zip,
        layers,
        handler,
        all_modules,
        function_environment(project_dir, _environment(options.environment)),
        runtime_provided(dist_path) if dist_path is not None and zip_path is None else {},
        tuple(notes),
    )


def run_verify_plan(plan: VerifyPlan, options: VerifyOptions) -> VerifyReport:
    event = load_event(Path(options.event)) if options.event is not None else None
    expected = read_json(Path(options.expected), "expected result") if options.expected is not None else None
    return run_verify(
        plan.function_zip,
        plan.layers,
        handler=plan.handler,
        event=event,
        expected=expected,
        all_modules=plan.all_modules,
        runtime=options.runtime,
        python=options.python,
        memory_mb=options.memory_mb,
        runtime_packages=Path(options.runtime_packages) if options.runtime_packages is not None else None,
        environment=plan.environment,
        runtime_provided=plan.runtime_provided,
    )


def verify(dist: StrPath | None = None, options: VerifyOptions | None = None) -> VerifyReport:
    """Unpack a built package as Lambda does (read-only, layers under /opt), import and invoke it in a fresh
    isolated interpreter. `dist`: the dist directory or a function zip (default: ./dist). A failed check is the
    result's `ok` False; CannotRunTarget when this machine cannot run the package."""
    options = options or VerifyOptions()
    return run_verify_plan(plan_verify(dist, options), options)


@dataclass(frozen=True)
class AnalyzeOptions:
    runtime: str | None = None  # the runtime to judge bytecode against (default: from the pycs in the zip)


def analyze(zips: Sequence[StrPath], options: AnalyzeOptions | None = None) -> AnalyzeReport:
    """Inspect existing deployment zips (a function zip and its layers, from any tool) by their directories only:
    what is in them, what slimming would save, what would break or slow Lambda down."""
    options = options or AnalyzeOptions()
    check_settings({"runtime": options.runtime}, "AnalyzeOptions")  # a usage error before any zip is read
    return run_analyze([Path(z) for z in zips], options.runtime)


@dataclass(frozen=True)
class CheckOptions:
    """What `slim check` takes. Budgets given replace [tool.slim.budget]'s, one by one."""

    zips: tuple[StrPath, ...] = ()  # check these zips (function, then layers) instead of building
    baseline: StrPath | None = None  # a previous JSON build report: growth, and max_growth
    max_zipped: str | int | None = None  # such as "50MB"
    max_unzipped: str | int | None = None
    max_files: int | None = None
    max_growth: str | float | None = None  # percent
    max_cold_start_ms: float | None = None
    runtime: str | None = None  # the runtime to build for, or to judge the zips' bytecode against
    # module -> ms, or MODULE=MS items as --max-import-ms takes them: judged on the least of the profile's runs
    max_import_ms: Mapping[str, float] | tuple[str, ...] | None = field(default=None, hash=False)
    # How to build the project when there are no zips: give the options the last build was given, and that build
    # is checked instead of building again (when nothing it read changed since). `locked` fails rather than
    # resolving slim.lock; `force` builds even when nothing changed.
    build: BuildOptions = field(default_factory=BuildOptions)


@dataclass(frozen=True)
class CheckRun:
    result: CheckResult
    reused: bool  # the last build's report was checked: nothing had changed since
    # When the project was built although a last build was there, because that build had other settings: each
    # "NAME was X, now Y" (what to pass slim check to check that build instead).
    other_settings: tuple[str, ...] = ()


def run_check_options(
    project_dir: StrPath, options: CheckOptions, reporter: Reporter | None = None, where: str = "CheckOptions"
) -> CheckRun:
    """`where` names the options in messages: the command line's, or the Python API's options object."""
    if options.runtime is not None and options.build.runtime not in (None, options.runtime):
        raise ConfigError(
            f"{where}: runtime {options.runtime!r} and build.runtime {options.build.runtime!r} differ: give one."
        )
    build_options = dataclasses.replace(options.build, runtime=options.build.runtime or options.runtime)
    config = build_config(project_dir, build_options, where)
    overrides = {
        key: value
        for key, value in {
            "max-zipped": options.max_zipped, "max-unzipped": options.max_unzipped, "max-files": options.max_files,
            "max-growth": options.max_growth, "max-cold-start-ms": options.max_cold_start_ms,
            "max-import-ms": options.max_import_ms or None,
        }.items()
        if value is not None
    }  # fmt: skip
    if options.baseline is None and (options.max_growth is not None or config.budget.max_growth is not None):
        # Growth is against a previous report: without one the budget would pass silently, whatever the package.
        # Named where it was asked for: the options, else pyproject.toml (whose CI job may not have a baseline).
        from_file = options.max_growth is None
        asked = (
            f"[tool.slim.budget] max-growth in {config.project_dir / 'pyproject.toml'}"
            if from_file
            else setting_name(where, "max-growth")
        )
        raise ConfigError(
            f"{asked} needs {setting_name(where, 'baseline')}: growth is measured against a previous JSON report "
            "(slim build --format json -o FILE)."
            + (" Pass one, or move max-growth to the CI job that has it." if from_file else "")
        )
    budget = dataclasses.replace(config.budget, **_budget_fields(budget_from(overrides, where)))
    baseline = _read_baseline(Path(options.baseline)) if options.baseline is not None else None
    reused = False
    analysis: AnalyzeReport | None = None
    other_settings: tuple[str, ...] = ()
    if options.zips:
        zips = [Path(z) for z in options.zips]
        analysis = run_analyze(zips, build_options.runtime)
        measures = measures_from_analyze(analyze_to_data(analysis))
    else:
        report = None if build_options.force else last_build_report(config)
        if report is None:
            other_settings = tuple(changed_settings(config.dist_dir, build_settings(config)))
            report = read_report(to_json(run_build(config, reporter, reuse=not build_options.force)))
        else:
            reused = True
        measures = measures_from_build(report)
        zips = [config.project_dir / artifact["path"] for artifact in report["artifacts"]]
    if budget.max_zipped is not None and measures.largest_zip > budget.max_zipped:
        # Over max-zipped, what fills the largest zip is what to cut: read from the zips, only then.
        analysis = analysis or run_analyze(zips, build_options.runtime or config.target.runtime)
        zipped = _zipped_in_largest(analysis, measures.distributions)
        measures = dataclasses.replace(measures, zipped_distributions=zipped)
    if budget.max_import_ms:
        measures = _with_import_times(measures, budget.max_import_ms, config, options)
    return CheckRun(run_check(measures, budget, baseline), reused, other_settings)


def _zipped_in_largest(analysis: AnalyzeReport, names: Iterable[str]) -> dict[str, int]:
    """Zipped bytes by distribution in the largest of the zips, under the `names` the report gives distributions: a
    zip without RECORDs names one by its import name (pydantic_core for pydantic-core)."""
    largest = max(analysis.archives, key=lambda archive: archive.zipped_bytes)
    paths = {member.path for member in largest.members}
    known = {canonicalize_name(name): name for name in names}
    zipped: dict[str, int] = {}
    for kind, distribution, path, _, compressed in analysis.entries:
        if kind == largest.kind and path in paths:
            name = known.get(canonicalize_name(distribution), distribution)
            zipped[name] = zipped.get(name, 0) + compressed
    return zipped


def _with_import_times(
    measures: Measures, budgets: tuple[tuple[str, float], ...], config: Config, options: CheckOptions
) -> Measures:
    """The budgeted modules' import times, profiled on the built package (or the zips given): the least of the
    runs, the one the machine disturbed least, as max-cold-start-ms judges the init."""
    runs = config.measure_runs or DEFAULT_RUNS
    profile_options = ProfileOptions(
        zip=options.zips[0] if options.zips else None,
        layers=options.zips[1:],
        handler=config.handler,
        runs=runs,
        runtime=options.runtime,
    )
    found = _profile(None if options.zips else config.dist_dir, profile_options, lazy=False)
    times = {module: node.min_cumulative_ms for module, _ in budgets if (node := found.node(module)) is not None}
    return dataclasses.replace(measures, import_ms=times, import_runs=runs)


def check(
    project_dir: StrPath = ".", options: CheckOptions | None = None, reporter: Reporter | None = None
) -> CheckResult:
    """The package against its size and cold-start budget and Lambda's own limits: builds the project (reusing the
    last build when nothing changed), or reads `options.zips`. Over budget is the result's `ok` False."""
    return run_check_options(project_dir, options or CheckOptions(), reporter).result


def _budget_fields(budget: Budget) -> dict[str, Any]:
    """Only the budgets given, so they replace the configured ones and leave the rest."""
    return {
        field.name: getattr(budget, field.name)
        for field in dataclasses.fields(budget)
        if getattr(budget, field.name) is not None
    }


def _read_baseline(path: Path) -> dict[str, Any]:
    return read_report(path, "baseline", BASELINE_SCHEMAS)


@dataclass(frozen=True)
class ProfileOptions:
    """What `slim profile` takes. `events`: JSON event files, to see which imports an invocation uses (default: the
    project's [tool.slim] event and events); `runs`: fresh processes the import is timed in."""

    zip: StrPath | None = None
    layers: tuple[StrPath, ...] = ()
    handler: str | None = None
    events: tuple[StrPath, ...] = ()
    runs: int = DEFAULT_RUNS
    runtime: str | None = None
    python: str | None = None
    runtime_packages: StrPath | None = None
    environment: Mapping[str, str] | tuple[str, ...] = field(default_factory=dict, hash=False)


def profile(dist: StrPath | None = None, options: ProfileOptions | None = None) -> ImportProfile:
    """Time the handler's import module by module (-X importtime, medians of `runs` fresh sandbox processes, laid
    out as `verify` lays them), owned by distribution; with events, list the imports at init no invocation used."""
    return _profile(dist, options or ProfileOptions(), lazy=True)


def _profile(dist: StrPath | None, options: ProfileOptions, *, lazy: bool) -> ImportProfile:
    """`lazy`: invoke the handler on the events for the lazy-import list (a budget only needs the times)."""
    if options.runs < 1:
        raise ConfigError(f"runs must be at least 1, not {options.runs}.")
    verify_options = VerifyOptions(
        zip=options.zip,
        layers=options.layers,
        handler=options.handler,
        runtime=options.runtime,
        python=options.python,
        runtime_packages=options.runtime_packages,
        environment=options.environment,
    )
    plan = plan_verify(dist, verify_options)
    if plan.handler is None:
        raise ConfigError(
            "slim profile needs a handler, and none is known: pass --handler module.function, or set [tool.slim] "
            "handler in pyproject.toml."
        )
    events = [(Path(path).name, load_event(Path(path))) for path in _profile_events(dist, options)] if lazy else []
    runtime_packages = Path(options.runtime_packages) if options.runtime_packages is not None else None
    with unpacked(
        plan.function_zip,
        plan.layers,
        options.runtime,
        options.python,
        runtime_packages,
        plan.environment,
        plan.runtime_provided,
    ) as sandbox:
        return profile_imports(sandbox.layout, sandbox.interpreter, plan.handler, runs=options.runs, events=events)


def _profile_events(dist: StrPath | None, options: ProfileOptions) -> list[Path]:
    """The events given, else the project's [tool.slim] event and events (relative to the project)."""
    if options.events:
        return [Path(path) for path in options.events]
    dist_path = Path(dist) if dist is not None else None
    _zip, _layers, project_dir = locate_artifacts(dist_path, Path(options.zip) if options.zip is not None else None, ())
    if project_dir is None or not (project_dir / "pyproject.toml").is_file():
        return []
    table = tool_table(read_pyproject(project_dir))
    single = table.get("event")
    patterns = table.get("events", [])
    if not isinstance(patterns, list):
        patterns = []
    return event_files(
        project_dir, [str(p) for p in patterns], project_dir / single if isinstance(single, str) else None
    )


def locate_artifacts(
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


def runtime_provided(dist: Path) -> dict[str, str]:
    """What the build left to the runtime, at its locked versions, as its manifest says."""
    manifest = read_manifest(dist) if dist.is_dir() else None
    versions = manifest.get("runtime_provided") if manifest else None
    return {str(name): str(version) for name, version in versions.items()} if isinstance(versions, dict) else {}


def function_environment(project_dir: Path | None, given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The project's [tool.slim] environment, with the given NAME=VALUE items added (and winning for a name both
    set)."""
    table = tool_table(read_pyproject(project_dir)) if project_dir is not None else {}
    from_file = parse_environment("environment", table.get("environment", {}), PYPROJECT)
    from_cli = parse_environment("environment", list(given), COMMAND_LINE)
    return tuple(sorted({**dict(from_file), **dict(from_cli)}.items()))


def known_handler(function_zip: Path, project_dir: Path | None) -> tuple[str | None, list[str]]:
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


def _path(value: StrPath | None) -> str | None:
    return None if value is None else os.fspath(value) or None


def _items(value: Sequence[str] | str) -> list[str] | str:
    """A tuple of strings as the loader takes it; a lone string stays one item, not its characters."""
    return value if isinstance(value, str) else list(value)


def _environment(value: Mapping[str, str] | Sequence[str]) -> list[str]:
    """NAME=VALUE items, as the command line gives them: the loader checks names and values alike."""
    if isinstance(value, Mapping):
        return [f"{name}={text}" for name, text in value.items()]
    return [value] if isinstance(value, str) else list(value)
