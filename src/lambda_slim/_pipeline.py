"""`slim build`: the stages chained, from a project directory to a deterministic zip and its report.

This is where the build's Config is split: each stage gets only the settings it reads.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_slim import _sizes
from lambda_slim._artifacts.archive import Artifact, deflated_total
from lambda_slim._artifacts.image import DOCKERFILE, IMAGE_DIR, image_spec, publish_image, remove_image, stage_image
from lambda_slim._artifacts.inventory import Inventory, scan_tree
from lambda_slim._artifacts.layers import LayerSettings, plan_for
from lambda_slim._artifacts.outputs import (
    over_lambda_limits,
    prepare_dist_dir,
    read_manifest,
    remove_leftovers,
    write_manifest,
    write_outputs,
)
from lambda_slim._artifacts.reuse import build_settings, fingerprint, recall, remember, reused_report, settings_key
from lambda_slim._background import Background, in_background
from lambda_slim._errors import ConfigError, SlimError, TargetError
from lambda_slim._inputs.config import Config, read_json
from lambda_slim._inputs.interpreter import find_interpreter, missing_interpreter_message
from lambda_slim._inputs.project import (
    AppFile,
    ProjectSettings,
    RequirementInputs,
    app_code,
    requirement_inputs,
    unread_requirements,
    unread_workspace_lock,
)
from lambda_slim._install.compile import CompileResult
from lambda_slim._install.distcache import ENV_VAR as CACHE_ENV_VAR
from lambda_slim._install.distcache import DistCache, default_cache_dir, usable_cache
from lambda_slim._install.installer import Installer, installer_for
from lambda_slim._install.pip import Pip
from lambda_slim._install.stage import LockOutcome, LockSettings, Staged, existing_lock, scratch_dir, stage_tree
from lambda_slim._progress import NullReporter, Reporter
from lambda_slim._report.assemble import (
    display_path,
    distribution_sizes,
    project_name,
    rule_savings,
    verification,
    zipped_before,
)
from lambda_slim._report.budget import OverLambdaLimits, direct_upload_warning
from lambda_slim._report.build_report import (
    BuildReport,
    Bytecode,
    ContainerImage,
    NextStep,
    Skipped,
    SlowImport,
    Totals,
    to_json,
)
from lambda_slim._report.nextsteps import BuiltTree, NextStepSettings, deferrable_imports, next_steps
from lambda_slim._report.skipped import refuse_unverified_prune, work_not_done
from lambda_slim._sandbox.coldstart import Measured, cold_start, estimate, measure_init, processes_to_measure
from lambda_slim._sandbox.importprofile import profile_imports
from lambda_slim._sandbox.runner import read_only
from lambda_slim._sandbox.safety import SafetyResult, check_and_repair, clone_tree, with_restorations
from lambda_slim._sandbox.trees import TreesUnderTest, can_run
from lambda_slim._slimming.awsservices import AUTO as AUTO_SERVICES
from lambda_slim._slimming.awsservices import kept_services
from lambda_slim._slimming.privatekeys import refuse_private_keys
from lambda_slim._slimming.prune import RULE as PRUNE_RULE
from lambda_slim._slimming.prune import event_files, prune_traced
from lambda_slim._slimming.rules import Decision, RuleSet, decide, ruleset
from lambda_slim._slimming.runtimeprovided import (
    left_to_runtime,
    placed_runtime,
    refuse_missing_runtime_packages,
    runtime_provided_warning,
    runtime_set,
    stand_in,
    without_runtime_packages,
)
from lambda_slim._slimming.strip import StripResult, apply_decisions, slimmed_inventory


def build(config: Config, reporter: Reporter | None = None, *, reuse: bool = True) -> BuildReport:
    """Build the project; with `reuse`, a project unchanged since the last build reports that build instead."""
    reporter = reporter or NullReporter()
    try:
        return _build(config, reporter, reuse)
    finally:
        reporter.close()  # when the build fails too: a progress bar left running would be drawn over the error


def _build(config: Config, reporter: Reporter, reuse: bool) -> BuildReport:
    project, lock = project_settings(config), lock_settings(config)
    read = read_project(config, project)
    reporter.stage("checking slim.lock")
    locked = existing_lock(lock, read.inputs)
    build_key = fingerprint(settings_key(config), project, lock.path)
    remove_leftovers(config.dist_dir)  # what a killed build left, even when this one reuses the last build
    previous = recall(config.dist_dir, build_key) if reuse and locked is not None else None
    if locked is not None and previous is not None:
        # Nothing a build reads has changed and the artifacts are intact: they are what a build would write.
        return reused_report(previous, config.dist_dir, locked.status)
    prepare_dist_dir(config.dist_dir, config.origin("out-dir"))  # an unwritable dist/ fails now, not after a build
    warnings = input_warnings(config, project, read)
    cache = usable_cache(config.cache_dir) if config.cache else None
    warnings += cache_warnings(config, cache)
    with scratch_dir(cache) as tmp, in_background(runtime_set_work(config, read, cache, tmp), "runtime") as runtime:
        compiler = read.interpreter if config.compile else None
        staged = stage_tree(
            lock, read.inputs, read.app, locked, (read.pip, read.installer, compiler), cache, tmp, reporter
        )
        warnings += [*staged.locked.warnings, *staged.warnings]
        if staged.resolved:
            # The lock it reads exists now.
            build_key = fingerprint(settings_key(config), project, lock.path) or build_key
        reporter.stage("slimming")
        slimmed = slim(config, read, staged, runtime, tmp, reporter)
        warnings += slimmed.stripped.warnings
        verified = verify(config, read.rules, slimmed, reporter)
        warnings += verified.warnings
        if slimmed.runtime_provided:
            warnings.append(runtime_provided_warning(slimmed.before, staged.locked.lock, slimmed.runtime_provided))
        after, artifacts, image = write(config, slimmed, verified, staged.locked, tmp, reporter)
        reporter.stage("removing the build's temporary files")  # the trees the checks ran: thousands of files
    if image is not None and image.zips_refused is not None:
        warnings.append(
            f"the zips are over Lambda's limits, so they are not deployable as zips: deploy the container image "
            f"({image.dockerfile}) instead; {image.zips_refused}."
        )
    report = report_of(config, read, staged, (slimmed, verified, after, artifacts), warnings)
    report = dataclasses.replace(report, image=image)
    remember(config.dist_dir, build_key, to_json(report), build_settings(config))
    return report


def project_settings(config: Config) -> ProjectSettings:
    """What reading the project takes, from the build's settings."""
    return ProjectSettings(
        project_dir=config.project_dir,
        target=config.target,
        dist_dir=config.dist_dir,
        requirements=config.requirements,
        extras=config.extras,
        groups=config.groups,
        include=config.include,
        exclude=config.exclude,
        handler=config.handler,
        handler_origin=config.origin("handler"),
        index_url=config.index_url,
        extra_index_urls=config.extra_index_urls,
        find_links=config.find_links,
    )


def lock_settings(config: Config) -> LockSettings:
    return LockSettings(config.project_dir, config.target, config.locked)


def last_build_report(config: Config) -> dict[str, Any] | None:
    """The last build's JSON report, when nothing it read has changed and its artifacts are intact."""
    key = fingerprint(settings_key(config), project_settings(config), lock_settings(config).path)
    return recall(config.dist_dir, key)


@dataclass(frozen=True)
class ProjectRead:
    """What the build reads and checks before anything is installed."""

    rules: RuleSet
    inputs: RequirementInputs
    app: list[AppFile]
    services: frozenset[str] | None  # the AWS services whose models stay; None: all of them
    interpreter: str | None  # of the target's Python version, on this machine
    runnable: bool  # this machine can run the target: the build verifies and measures
    pip: Pip
    installer: Installer


def read_project(config: Config, project: ProjectSettings) -> ProjectRead:
    """The rules, requirements and app code, and the tools; refused at once when a setting cannot work."""
    target = config.target
    rules = ruleset(config.keep, config.exclude, config.disable_rules)
    inputs = requirement_inputs(project)
    app = without_runtime_packages(app_code(project), config.runtime_packages)
    refuse_private_keys(app, config.keep)
    # Read before anything is installed: a service "auto" cannot name stops the build at once.
    services = (
        kept_services(config.aws_services, [(f.path, f.source) for f in app if f.path.endswith(".py")])
        if config.aws_services
        else None
    )
    refuse_missing_runtime_packages(config.runtime_packages, config.origin("runtime-packages"))
    if config.image and config.handler is None:
        raise ConfigError(
            f"{config.origin('image') or '--image'} needs the handler, which is the image's CMD: pass --handler "
            "module.function, or set [tool.slim] handler in pyproject.toml."
        )
    interpreter = find_interpreter(target, config.python)
    if config.compile and interpreter is None:
        raise TargetError(missing_interpreter_message(target))
    runnable = can_run(target, interpreter)
    refuse_unverified_prune(target, runnable, prune=config.prune, verify=config.verify)
    pip = Pip(target, interpreter or sys.executable, inputs.indexes)
    installer = installer_for(config.installer, pip, inputs.indexes)
    return ProjectRead(rules, inputs, app, services, interpreter, runnable, pip, installer)


def input_warnings(config: Config, project: ProjectSettings, read: ProjectRead) -> list[str]:
    """What the build will not read that the user may expect it to, and what "auto" services cannot see."""
    unread = (unread_requirements(project, read.inputs), unread_workspace_lock(project, read.inputs))
    warnings = [warning for warning in unread if warning]
    if read.services is not None and AUTO_SERVICES in config.aws_services:
        warnings.append(
            f'aws-services: the models of {", ".join(sorted(read.services))} stay, the others go. "auto" sees only '
            "the app's own boto3 calls: name in aws-services any service a library calls for you."
        )
    return warnings


def cache_warnings(config: Config, cache: DistCache | None) -> list[str]:
    if config.cache and cache is None:
        return [
            f"the cache at {config.cache_dir or default_cache_dir()} cannot be written, so this build installed "
            f"everything afresh: fix its permissions, or pass --cache-dir (or set {CACHE_ENV_VAR})."
        ]
    return []


@dataclass(frozen=True)
class Slimmed:
    """The staged tree once the rules are applied, and what the checks need to run on it."""

    before: Inventory  # the unslimmed tree
    decisions: tuple[Decision, ...]
    stripped: StripResult
    changed_deflated: int  # what the files the rules changed cost in a zip before they did
    runtime_provided: frozenset[str]  # distributions left to Lambda's runtime
    trees: TreesUnderTest | None  # None: the build does not verify (turned off, or this machine cannot run it)
    stand_in_skipped: Skipped | None  # the runtime's packages could not stand in for the checks


def runtime_set_work(
    config: Config, read: ProjectRead, cache: DistCache | None, tmp: Path
) -> Callable[[], tuple[Path | None, Skipped | None]]:
    """What stands in for the runtime's own packages in the checks, as work the build starts before it resolves:
    it needs nothing the build installs. Nothing when the build runs no check."""
    interpreter = read.interpreter
    if not (config.verify and read.runnable) or interpreter is None:
        return lambda: (None, None)
    parent = cache.root if cache else tmp / "uncached"
    return lambda: runtime_set(config.runtime_packages, config.target, parent, (read.installer, interpreter))


def slim(
    config: Config,
    read: ProjectRead,
    staged: Staged,
    runtime: Background[tuple[Path | None, Skipped | None]],
    tmp: Path,
    reporter: Reporter,
) -> Slimmed:
    """Decide about every file of the staged tree (tmp/function) and apply the decisions; when the build verifies,
    keep the unslimmed tree beside it first, and place what stands in for the runtime's own packages (`runtime`:
    runtime_set_work's, running)."""
    target, root = config.target, tmp / "function"
    before = scan_tree(root, frozenset(f.path for f in read.app))
    runtime_provided = left_to_runtime(config.runtime_provided, staged.locked.lock)
    decisions = decide(
        before,
        read.rules,
        target.pyc_tag,
        staged.compiled.compiled,
        lambda path: (root / path).read_bytes(),
        read.services,
        runtime_provided,
    )
    changed_deflated = deflated_total(root, [d.path for d in decisions if d.action != "keep"])
    trees: TreesUnderTest | None = None
    stand_in_skipped: Skipped | None = None
    if config.verify and read.runnable:
        assert read.interpreter is not None
        naive_root = tmp / "naive"
        clone_tree(root, naive_root)  # hard links: the unslimmed install, to compare and measure against
        # Where Lambda's runtime has its own packages: the runtime-provided ones at their locked versions, then
        # the rest of the runtime's set, so no check fails on an import Lambda would satisfy.
        locked_root = stand_in(naive_root, before, runtime_provided, tmp / "runtime") if runtime_provided else None
        reporter.stage("placing Lambda's runtime packages for the checks")  # waits for their install
        runtime_root, stand_in_skipped = placed_runtime(runtime.result(), locked_root, tmp / "runtime")
        trees = TreesUnderTest(
            naive_root, root, read.interpreter, target.python_tag, config.handler, runtime_root, config.environment
        )
    reporter.stage("applying the rules")  # removing files and stripping binaries
    stripped = apply_decisions(root, decisions, target)
    return Slimmed(before, decisions, stripped, changed_deflated, runtime_provided, trees, stand_in_skipped)


@dataclass(frozen=True)
class Verified:
    """The decisions once the checks are done (restorations and traced pruning in), and what they found."""

    decisions: tuple[Decision, ...]
    stripped: StripResult
    changed_deflated: int
    safety: SafetyResult | None = None
    measured: Measured | None = None
    nothing_to_measure: Skipped | None = None
    warnings: tuple[str, ...] = ()
    slowest_imports: tuple[SlowImport, ...] = ()
    deferrable: tuple[NextStep, ...] = ()  # the app's own imports no invocation on the event used


def verify(config: Config, rules: RuleSet, slimmed: Slimmed, reporter: Reporter) -> Verified:
    """The safety net, then traced pruning and the cold-start measurement when asked for."""
    trees = slimmed.trees
    if trees is None:
        return Verified(slimmed.decisions, slimmed.stripped, slimmed.changed_deflated)
    event = load_event(config.event)
    try:
        safety = check_and_repair(
            trees, slimmed.before, slimmed.decisions, event, handler_origin=config.origin("handler"), reporter=reporter
        )
    except SlimError as exc:
        if slimmed.stand_in_skipped is not None:
            # The failure may be an import Lambda's runtime would satisfy: say the check ran without it.
            exc.message += f"\n(runtime packages stand-in {slimmed.stand_in_skipped.why})"
        raise
    decisions, stripped = with_restorations(slimmed.decisions, slimmed.stripped, safety)
    warnings = [restoration.message() for restoration in safety.restorations]
    changed_deflated = slimmed.changed_deflated
    if config.prune == "traced":
        reporter.stage("tracing the handler on the events")
        current = slimmed_inventory(slimmed.before, decisions, stripped)
        events = event_files(config.project_dir, config.events, config.event)
        pruned = {d.path: d for d in prune_traced(trees, current, events, rules, config.target)}
        decisions = tuple(pruned.get(d.path, d) for d in decisions)
        changed_deflated += deflated_total(trees.unslimmed, list(pruned))
        count = sum(1 for d in decisions if d.rule == PRUNE_RULE)
        warnings.append(f"--prune traced removed {count} files that no run on the events touched.")
    measured, nothing_to_measure = measure(config, trees, safety, event, reporter)
    slowest, deferrable = import_profile(config, trees, event, warnings) if measured is not None else ((), ())
    return Verified(
        decisions,
        stripped,
        changed_deflated,
        safety,
        measured,
        nothing_to_measure,
        tuple(warnings),
        slowest,
        deferrable,
    )


# The slowest imports the build report lists: `slim profile` has the whole tree.
SLOWEST_IMPORTS = 5
# Runs of the import profile a build makes (at most; measure-runs when fewer): it names the slowest imports, which
# three runs rank as well as five, and each run is one more import of the handler in the build's time.
PROFILE_RUNS_IN_BUILD = 3


def import_profile(
    config: Config, trees: TreesUnderTest, event: Any, warnings: list[str]
) -> tuple[tuple[SlowImport, ...], tuple[NextStep, ...]]:
    """The handler's slowest imports in the slimmed tree, by the import profile's own code (-X importtime, medians
    of the measure runs), and, with an event, the app's imports that no invocation on it used; none without a
    handler, whose import is what is profiled."""
    if config.handler is None:
        return (), ()
    layout = trees.slimmed_layout
    events = [(config.event.name, event)] if config.event is not None else None
    try:
        with read_only(layout.roots()):
            found = profile_imports(
                layout,
                trees.interpreter,
                config.handler,
                runs=min(config.measure_runs, PROFILE_RUNS_IN_BUILD),
                events=events,
            )
    except SlimError as exc:
        warnings.append(f"the import profile could not run, so the report lists no slowest imports: {exc.message}")
        return (), ()
    roots = {root.module for root in found.roots}
    slowest = tuple(
        SlowImport(node.module, node.distribution, node.cumulative_ms, found.share(node.cumulative_ms))
        for node in found.modules()
        if node.module not in roots
    )[:SLOWEST_IMPORTS]
    return slowest, deferrable_imports(found)


def measure(
    config: Config, trees: TreesUnderTest, safety: SafetyResult, event: Any, reporter: Reporter
) -> tuple[Measured | None, Skipped | None]:
    """The cold start of both trees, measured (and the package's first invocation on `event`, when there is one);
    or why there is nothing to time."""
    if not config.measure_runs:
        return None, None
    if not (config.handler or safety.checked_modules):
        # No handler, and no top-level module imports by name (`lambda-handler.py`): nothing to time.
        return None, Skipped(
            "cold-start measurement",
            "no handler and no top-level module an import statement can name: pass --handler module.function",
        )
    first = safety.first_round if config.prune == "none" else None
    runs, without_bytecode = config.measure_runs, config.measure_without_bytecode
    total = processes_to_measure(runs, without_bytecode=without_bytecode, first=first is not None)
    reporter.stage("measuring cold start", total, "run")
    measured = measure_init(
        trees,
        safety.checked_modules,
        runs,
        without_bytecode=without_bytecode,
        event=event,
        first=first,
        ran=reporter.advance,
    )
    return measured, None


def write(
    config: Config, slimmed: Slimmed, verified: Verified, locked: LockOutcome, tmp: Path, reporter: Reporter
) -> tuple[Inventory, tuple[Artifact, ...], ContainerImage | None]:
    """The zips and the manifest in dist/, refused before anything is written when Lambda would refuse them; with
    --image, the Dockerfile and its tree too, and zips over their limits are written and said to be so."""
    after = slimmed_inventory(slimmed.before, verified.decisions, verified.stripped)
    layers = layer_settings(config)
    plan = plan_for(after, layers, limit=_sizes.IMAGE_LIMIT if config.image else None)
    refused = over_lambda_limits(after, plan, layers, config.dist_dir)
    if refused is not None and not config.image:
        raise refused
    if config.image and after.total_bytes > _sizes.IMAGE_LIMIT:
        raise OverLambdaLimits(
            f"the package is {after.total_bytes:,} bytes unzipped, over the {_sizes.IMAGE_LIMIT:,} bytes of a Lambda "
            "container image: exclude what the app does not use ([tool.slim] exclude). Nothing was written."
        )
    spec = image_spec(config.target, config.handler) if config.image and config.handler else None
    staged = stage_image(tmp / "function", after, config.dist_dir) if spec is not None else None
    reporter.stage("writing zips", after.total_bytes, "B")
    try:
        artifacts = write_outputs(
            tmp / "function", tmp, after, plan, config.dist_dir, config.source_date_epoch, reporter.advance
        )
        if staged is not None and spec is not None:
            publish_image(staged, spec, config.dist_dir)
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)  # published: moved away already
    previous = read_manifest(config.dist_dir)
    if spec is None and previous is not None and previous.get("image"):
        remove_image(config.dist_dir)  # an earlier build's image would no longer match the zips
    write_manifest(
        config.dist_dir,
        artifacts,
        config.target,
        config.handler,
        (config.external_layers, config.external_layers_bytes),
        {pin.name: pin.version for pin in locked.lock.pins if pin.name in slimmed.runtime_provided},
        spec.describe() if spec is not None else None,
    )
    image = None
    if spec is not None:
        image = ContainerImage(
            display_path(config.dist_dir / DOCKERFILE, config.project_dir),
            display_path(config.dist_dir / IMAGE_DIR, config.project_dir),
            spec.base,
            spec.platform,
            spec.handler,
            after.total_bytes,
            # What the refusal says of the limits, not of what it would have left in dist/: this build wrote.
            None if refused is None else refused.message.split(". Nothing was written")[0],
        )
    return after, artifacts, image


def layer_settings(config: Config) -> LayerSettings:
    return LayerSettings(
        config.layers, config.layer_groups, config.layer_min_bytes, config.external_layers, config.external_layers_bytes
    )


def report_of(
    config: Config,
    read: ProjectRead,
    staged: Staged,
    built: tuple[Slimmed, Verified, Inventory, tuple[Artifact, ...]],
    warnings: list[str],
) -> BuildReport:
    """The build's report: sizes before and after, by rule and by distribution, the checks, the cold start."""
    slimmed, verified, after, artifacts = built
    target, compiled, locked = config.target, staged.compiled, staged.locked
    before, decisions = slimmed.before, verified.decisions
    before_zipped = zipped_before(artifacts, before, decisions, verified.changed_deflated)
    zipped = sum(artifact.zipped_bytes for artifact in artifacts)
    warnings = warnings + bytecode_warnings(compiled, target.runtime)
    upload = direct_upload_warning(max(artifact.zipped_bytes for artifact in artifacts))
    warnings += [upload] if upload else []
    uncompiled = sum(f.size for f in after.files if f.path.endswith(".py") and f.path not in compiled.sources)
    package = estimate(zipped, after.total_bytes, len(after.files), uncompiled)
    skipped = (slimmed.stand_in_skipped, verified.nothing_to_measure)
    return BuildReport(
        project=project_name(config.project_dir),
        runtime=target.runtime,
        arch=target.arch,
        glibc=f"{target.glibc[0]}.{target.glibc[1]}",
        dependency_source=read.inputs.source,
        lock_status=locked.status,
        before=Totals(len(before.files), before.total_bytes, before_zipped),
        after=Totals(len(after.files), after.total_bytes, zipped),
        rules=rule_savings(before, decisions, verified.stripped),
        distributions=distribution_sizes(before, after, locked.lock),
        bytecode=Bytecode(
            config.compile,
            sum(1 for f in after.files if f.path in compiled.compiled),
            sum(f.size for f in after.files if f.path in compiled.compiled),
            compiled.failed,
        ),
        artifacts=artifacts,
        artifact_names=tuple(display_path(artifact.path, config.project_dir) for artifact in artifacts),
        warnings=tuple(warnings),
        verification=verification(verified.safety, config.handler),
        coldstart=cold_start(verified.measured, package, config.init_cpu),
        skipped=work_not_done(target, read.runnable, verify=config.verify, measure_runs=config.measure_runs)
        + tuple(item for item in skipped if item is not None),
        external_layers=config.external_layers,
        external_layers_bytes=config.external_layers_bytes,
        next_steps=verified.deferrable
        + next_steps(
            NextStepSettings(
                config.runtime_provided, config.aws_services, layer_settings(config), read.rules, target.pyc_tag
            ),
            BuiltTree(
                after,
                compiled.compiled,
                locked.lock,
                tuple((f.path, f.source) for f in read.app if f.path.endswith(".py")),
                artifacts,
            ),
        ),
        decisions=decisions,
        slowest_imports=verified.slowest_imports,
    )


def bytecode_warnings(compiled: CompileResult, runtime: str) -> list[str]:
    if not compiled.failed:
        return []
    return [
        f"{len(compiled.failed)} files have no bytecode because they do not compile for {runtime} "
        f"(they still import as source if they are ever imported): "
        + ", ".join(path for path, _ in compiled.failed[:5])
        + (" ..." if len(compiled.failed) > 5 else "")
    ]


def load_event(path: Path | None) -> Any:
    return None if path is None else read_json(path, "event file")
