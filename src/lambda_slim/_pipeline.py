"""`slim build`: the stages chained, from a project directory to a deterministic zip and its report."""

from __future__ import annotations

import dataclasses
import os
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.archive import Artifact, deflated_size, zip_overhead
from lambda_slim._artifacts.inventory import APP, Inventory, scan_tree
from lambda_slim._artifacts.layers import LayerPlan, Weight, plan_auto, plan_explicit
from lambda_slim._artifacts.outputs import (
    LAYER_PREFIX,
    prepare_dist_dir,
    remove_leftovers,
    write_manifest,
    write_outputs,
)
from lambda_slim._artifacts.reuse import fingerprint, recall, remember
from lambda_slim._errors import ConfigError, SlimError, TargetError
from lambda_slim._inputs.config import Config, read_json, read_pyproject
from lambda_slim._inputs.interpreter import find_interpreter, missing_interpreter_message
from lambda_slim._inputs.project import (
    AppFile,
    app_code,
    requirement_inputs,
    unread_requirements,
    unread_workspace_lock,
)
from lambda_slim._inputs.target import Target, host_machine
from lambda_slim._install.distcache import ENV_VAR as CACHE_ENV_VAR
from lambda_slim._install.distcache import default_cache_dir, usable_cache
from lambda_slim._install.pip import Pip
from lambda_slim._install.resolve import Lock
from lambda_slim._install.stage import existing_lock, scratch_dir, stage_tree
from lambda_slim._install.uv import Uv, find_uv
from lambda_slim._progress import NullReporter, Reporter
from lambda_slim._report.budget import Measures, direct_upload_warning, refusal
from lambda_slim._report.build_report import (
    BuildReport,
    Bytecode,
    DistributionSizes,
    RuleSavings,
    Skipped,
    Totals,
    Verification,
    to_json,
)
from lambda_slim._report.load import build_report_from_json
from lambda_slim._report.skipped import refuse_unverified_prune, work_not_done
from lambda_slim._sandbox.coldstart import Measured, cold_start, estimate, measure_init
from lambda_slim._sandbox.safety import SafetyResult, check_and_repair, clone_tree
from lambda_slim._sizes import MAX_LAYERS
from lambda_slim._slimming.awsservices import AUTO as AUTO_SERVICES
from lambda_slim._slimming.awsservices import kept_services
from lambda_slim._slimming.privatekeys import refuse_private_keys
from lambda_slim._slimming.prune import RULE as PRUNE_RULE
from lambda_slim._slimming.prune import prune_traced
from lambda_slim._slimming.rules import Decision, decide, rule_descriptions, ruleset
from lambda_slim._slimming.runtimeprovided import (
    excluded_distributions,
    runtime_place,
    runtime_provided_warning,
    stand_in,
)
from lambda_slim._slimming.strip import StripResult, apply_decisions


def build(config: Config, reporter: Reporter | None = None, *, reuse: bool = True) -> BuildReport:
    """Build the project; with `reuse`, a project unchanged since the last build reports that build instead."""
    reporter = reporter or NullReporter()
    target = config.target
    rules = ruleset(config.keep, config.exclude, config.disable_rules)
    inputs = requirement_inputs(config)
    app = without_runtime_packages(app_code(config), config.runtime_packages)
    refuse_private_keys(app, config.keep)
    # Read before anything is installed: a service "auto" cannot name stops the build at once.
    services = (
        kept_services(config.aws_services, [(f.path, f.source) for f in app if f.path.endswith(".py")])
        if config.aws_services
        else None
    )
    refuse_missing_runtime_packages(config)
    interpreter = find_interpreter(target, config.python)
    if config.compile and interpreter is None:
        raise TargetError(missing_interpreter_message(target))
    runnable = can_run(target, interpreter)
    refuse_unverified_prune(config, runnable)
    pip = Pip(target, interpreter or sys.executable, inputs.indexes)
    uv = Uv(find_uv(), inputs.indexes) if config.installer == "uv" else None

    reporter.stage("checking slim.lock")
    locked = existing_lock(config, inputs)
    build_key = fingerprint(config)
    remove_leftovers(config.dist_dir)  # what a killed build left, even when this one reuses the last build
    previous = recall(config, build_key) if reuse and locked is not None else None
    if locked is not None and previous is not None:
        # Nothing a build reads has changed and the artifacts are intact: they are what a build would write.
        reporter.close()
        report = build_report_from_json(previous, config.dist_dir)
        return dataclasses.replace(
            report, lock_status=f"{locked.status}; nothing changed since the last build: its artifacts reused"
        )
    prepare_dist_dir(config.dist_dir, config.origin("out-dir"))  # an unwritable dist/ fails now, not after a build
    warnings = [w for w in (unread_requirements(config, inputs), unread_workspace_lock(config, inputs)) if w]
    if services is not None and AUTO_SERVICES in config.aws_services:
        warnings.append(
            f'aws-services: the models of {", ".join(sorted(services))} stay, the others go. "auto" sees only '
            "the app's own boto3 calls: name in aws-services any service a library calls for you."
        )
    cache = usable_cache(config.cache_dir) if config.cache else None
    if config.cache and cache is None:
        warnings.append(
            f"the cache at {config.cache_dir or default_cache_dir()} cannot be written, so this build installed "
            f"everything afresh: fix its permissions, or pass --cache-dir (or set {CACHE_ENV_VAR})."
        )
    with scratch_dir(cache) as tmp:
        root = tmp / "function"
        staging = stage_tree(config, inputs, app, locked, (pip, uv, interpreter), cache, tmp, reporter)
        locked, compiled = staging.locked, staging.compiled
        warnings += [*locked.warnings, *staging.warnings]
        build_key = staging.build_key or build_key
        reporter.stage("slimming")
        before = scan_tree(root, frozenset(f.path for f in app))
        runtime_provided = left_to_runtime(config, locked.lock)
        decisions = decide(
            before,
            rules,
            target.pyc_tag,
            compiled.compiled,
            lambda path: (root / path).read_bytes(),
            services,
            runtime_provided,
        )
        changed_deflated = _deflated_total(root, [d.path for d in decisions if d.action != "keep"])
        naive_root = tmp / "naive"
        if config.verify and runnable:
            clone_tree(root, naive_root)  # hard links: the unslimmed install, to compare and measure against
        runtime_root: Path | None = None
        stand_in_skipped: Skipped | None = None
        nothing_to_measure: Skipped | None = None
        if config.verify and runnable:
            # Where Lambda's runtime has its own packages: the runtime-provided ones at their locked versions, then
            # the rest of the runtime's set, so no check fails on an import Lambda would satisfy.
            locked_root = stand_in(naive_root, before, runtime_provided, tmp / "runtime") if runtime_provided else None
            runtime_root, stand_in_skipped = runtime_place(
                config.runtime_packages,
                target,
                cache.root if cache else tmp / "uncached",
                pip,
                locked_root,
                tmp / "runtime",
            )
        stripped = apply_decisions(root, decisions, target)
        warnings += stripped.warnings
        safety: SafetyResult | None = None
        measured: Measured | None = None
        if config.verify and runnable:
            assert interpreter is not None
            reporter.stage("verifying")
            event = load_event(config.event)
            try:
                safety = check_and_repair(
                    naive_root,
                    root,
                    before,
                    decisions,
                    interpreter,
                    target.python_tag,
                    config.handler,
                    event,
                    runtime_root=runtime_root,
                    handler_origin=config.origin("handler"),
                    environment=config.environment,
                )
            except SlimError as exc:
                if stand_in_skipped is not None:
                    # The failure may be an import Lambda's runtime would satisfy: say the check ran without it.
                    exc.message += f"\n(runtime packages stand-in {stand_in_skipped.why})"
                raise
            decisions, stripped = _with_restorations(decisions, stripped, safety)
            warnings += [restoration.message() for restoration in safety.restorations]
            if config.prune == "traced":
                reporter.stage("tracing the handler on the events")
                current = _after_inventory(before, decisions, stripped)
                pruned = {d.path: d for d in prune_traced(config, root, current, interpreter, runtime_root)}
                decisions = tuple(pruned.get(d.path, d) for d in decisions)
                changed_deflated += _deflated_total(naive_root, list(pruned))
                count = sum(1 for d in decisions if d.rule == PRUNE_RULE)
                warnings.append(f"--prune traced removed {count} files that no run on the events touched.")
            if config.measure_runs and not (config.handler or safety.checked_modules):
                # No handler, and no top-level module imports by name (`lambda-handler.py`): nothing to time.
                nothing_to_measure = Skipped(
                    "cold-start measurement",
                    "no handler and no top-level module an import statement can name: pass --handler module.function",
                )
            elif config.measure_runs:
                reporter.stage("measuring cold start")
                measured = measure_init(
                    naive_root,
                    root,
                    interpreter,
                    target.python_tag,
                    config.handler,
                    safety.checked_modules,
                    config.measure_runs,
                    without_bytecode=config.measure_without_bytecode,
                    first=safety.first_inits if config.prune == "none" else None,
                    runtime_root=runtime_root,
                    environment=config.environment,
                )
        if runtime_provided:
            warnings.append(runtime_provided_warning(before, locked.lock, runtime_provided))
        after = _after_inventory(before, decisions, stripped)
        plan = plan_for(config, after)
        _refuse_over_lambda_limits(config, after, plan)
        reporter.stage("writing zips")
        artifacts = write_outputs(root, tmp, after, plan, config.dist_dir, config.source_date_epoch)
        write_manifest(
            config.dist_dir,
            artifacts,
            target,
            config.handler,
            (config.external_layers, config.external_layers_bytes),
            {pin.name: pin.version for pin in locked.lock.pins if pin.name in runtime_provided},
        )
    before_zipped = _zipped_before(artifacts, before, decisions, changed_deflated)
    zipped = sum(artifact.zipped_bytes for artifact in artifacts)
    if compiled.failed:
        warnings.append(
            f"{len(compiled.failed)} files have no bytecode because they do not compile for {target.runtime} "
            f"(they still import as source if they are ever imported): "
            + ", ".join(path for path, _ in compiled.failed[:5])
            + (" ..." if len(compiled.failed) > 5 else "")
        )
    upload = direct_upload_warning(max(artifact.zipped_bytes for artifact in artifacts))
    warnings += [upload] if upload else []
    uncompiled = sum(f.size for f in after.files if f.path.endswith(".py") and f.path not in compiled.sources)
    package = estimate(zipped, after.total_bytes, len(after.files), uncompiled)
    reporter.close()
    report = BuildReport(
        project=project_name(config),
        runtime=target.runtime,
        arch=target.arch,
        glibc=f"{target.glibc[0]}.{target.glibc[1]}",
        dependency_source=inputs.source,
        lock_status=locked.status,
        before=Totals(len(before.files), before.total_bytes, before_zipped),
        after=Totals(len(after.files), after.total_bytes, zipped),
        rules=_rule_savings(before, decisions, stripped),
        distributions=_distribution_sizes(before, after, locked.lock),
        bytecode=Bytecode(
            config.compile,
            sum(1 for f in after.files if f.path in compiled.compiled),
            sum(f.size for f in after.files if f.path in compiled.compiled),
            compiled.failed,
        ),
        artifacts=artifacts,
        artifact_names=tuple(_display_path(artifact.path, config.project_dir) for artifact in artifacts),
        warnings=tuple(warnings),
        verification=_verification(safety, config.handler),
        coldstart=cold_start(measured, package),
        skipped=work_not_done(config, runnable)
        + tuple(item for item in (stand_in_skipped, nothing_to_measure) if item is not None),
        external_layers=config.external_layers,
        external_layers_bytes=config.external_layers_bytes,
        decisions=decisions,
    )
    remember(config, build_key, to_json(report))
    return report


def _refuse_over_lambda_limits(config: Config, after: Inventory, plan: LayerPlan) -> None:
    """A package Lambda would refuse is no build: fail before writing, so the previous artifacts stay intact."""
    refused = refusal(
        Measures(
            largest_zip=0,  # not zipped yet; the direct-upload limit is only a warning
            unzipped=after.total_bytes,
            files=len(after.files),
            cold_start_ms=0.0,
            cold_start_basis="",
            distributions={name: sum(f.size for f in files) for name, files in after.distributions().items()},
            layers=len(plan.layers) + config.external_layers,
            external_bytes=config.external_layers_bytes,
        ),
        str(config.dist_dir),
    )
    if refused is not None:
        raise refused


def _deflated_total(root: Path, paths: list[str]) -> int:
    """What these files of `root` cost inside our zips, deflated on every core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return sum(pool.map(lambda path: deflated_size(root / path), paths))


def without_runtime_packages(app: list[AppFile], runtime_packages: Path | None) -> list[AppFile]:
    """A --runtime-packages directory inside the project stands in for Lambda's runtime: never shipped as app code."""
    if runtime_packages is None:
        return app
    return [f for f in app if not f.source.resolve().is_relative_to(runtime_packages.resolve())]


def refuse_missing_runtime_packages(config: Config) -> None:
    given = config.runtime_packages
    if given is not None and not given.is_dir():
        raise ConfigError(
            f"{config.origin('runtime-packages')} names {given}, which is not a directory: install the runtime's "
            "packages there (pip install -t DIR boto3), or leave it out to use the documented set."
        )


def left_to_runtime(config: Config, lock: Lock) -> frozenset[str]:
    return excluded_distributions(lock) if config.runtime_provided == "exclude" else frozenset()


def can_run(target: Target, interpreter: str | None) -> bool:
    """Whether this machine can import the target's code: Linux, the same machine, a Python of its version."""
    return interpreter is not None and sys.platform == "linux" and host_machine() == target.machine


def load_event(path: Path | None) -> Any:
    return None if path is None else read_json(path, "event file")


def _with_restorations(
    decisions: tuple[Decision, ...], stripped: StripResult, safety: SafetyResult
) -> tuple[tuple[Decision, ...], StripResult]:
    """Files the safety net put back are kept after all, by the rule `restored`."""
    restored = {path for restoration in safety.restorations for path in restoration.files}
    if not restored:
        return decisions, stripped
    decisions = tuple(Decision(d.path, "keep", "restored") if d.path in restored else d for d in decisions)
    kept_stripped = tuple(item for item in stripped.stripped if item[0] not in restored)
    return decisions, StripResult(stripped.removed_files, kept_stripped, stripped.warnings)


def _verification(safety: SafetyResult | None, handler: str | None) -> Verification | None:
    if safety is None:
        return None
    return Verification(
        checked_modules=safety.checked_modules,
        skipped_modules=safety.skipped_modules,
        handler=handler,
        restored=tuple(r.message() for r in safety.restorations),
    )


def _zipped_before(
    artifacts: tuple[Artifact, ...], before: Inventory, decisions: tuple[Decision, ...], changed_deflated: int
) -> int:
    """The zip of the unslimmed tree, as write_zip would write it: kept entries as they are in the real zips."""
    unchanged = {d.path for d in decisions if d.action == "keep"}
    kept_compressed = 0
    for artifact in artifacts:
        prefix = LAYER_PREFIX if artifact.kind == "layer" else ""
        with zipfile.ZipFile(artifact.path) as archive:
            kept_compressed += sum(
                info.compress_size for info in archive.infolist() if info.filename.removeprefix(prefix) in unchanged
            )
    return kept_compressed + changed_deflated + zip_overhead(f.path for f in before.files)


def plan_for(config: Config, after: Inventory) -> LayerPlan:
    weights = [Weight(name, sum(f.size for f in files)) for name, files in sorted(after.distributions().items())]
    slots = MAX_LAYERS - config.external_layers
    if config.layers == "auto":
        return plan_auto(
            weights, slots=slots, heavy_bytes=config.layer_min_bytes, external_bytes=config.external_layers_bytes
        )
    if config.layers == "groups":
        return plan_explicit(
            weights, dict(config.layer_groups), slots=slots, external_bytes=config.external_layers_bytes
        )
    return LayerPlan(())


def _after_inventory(before: Inventory, decisions: tuple[Decision, ...], stripped: StripResult) -> Inventory:
    saved = dict(stripped.stripped)
    removed = {d.path for d in decisions if d.action == "remove"}
    files = tuple(
        f if f.path not in saved else dataclasses.replace(f, size=f.size - saved[f.path])
        for f in before.files
        if f.path not in removed
    )
    return Inventory(files, before.package_dirs)


def _rule_savings(before: Inventory, decisions: tuple[Decision, ...], stripped: StripResult) -> tuple[RuleSavings, ...]:
    descriptions = rule_descriptions()
    descriptions["user-exclude"] = "[tool.slim] exclude patterns"
    descriptions[PRUNE_RULE] = "dependency files no run of the handler on the events touched (--prune traced)"
    files: dict[str, int] = {}
    size: dict[str, int] = {}
    saved = dict(stripped.stripped)
    for decision in decisions:
        if decision.action == "remove" and decision.rule:
            files[decision.rule] = files.get(decision.rule, 0) + 1
            size[decision.rule] = size.get(decision.rule, 0) + before.by_path[decision.path].size
        elif decision.action == "strip" and decision.rule and decision.path in saved:
            files[decision.rule] = files.get(decision.rule, 0) + 1
            size[decision.rule] = size.get(decision.rule, 0) + saved[decision.path]
    return tuple(
        RuleSavings(rule, descriptions.get(rule, rule), files[rule], size[rule])
        for rule in sorted(files, key=lambda r: (-size[r], r))
    )


def _distribution_sizes(before: Inventory, after: Inventory, lock: Lock) -> tuple[DistributionSizes, ...]:
    versions = {pin.name: pin.version for pin in lock.pins}
    after_groups = after.distributions()
    result = []
    for name, files in before.distributions().items():
        kept = after_groups.get(name, [])
        version = "" if name == APP else versions.get(name, "")
        result.append(
            DistributionSizes(
                name, version, len(files), sum(f.size for f in files), len(kept), sum(f.size for f in kept)
            )
        )
    return tuple(sorted(result, key=lambda d: (-d.before_bytes, d.name)))


def project_name(config: Config) -> str:
    project = read_pyproject(config.project_dir).get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) and name else config.project_dir.name


def _display_path(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)
