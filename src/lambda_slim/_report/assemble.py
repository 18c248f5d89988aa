"""The parts of a build's report that are worked out from what the build did: savings by rule and by
distribution, the verification's summary, the unslimmed zip's size, and the names shown."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lambda_slim._artifacts.archive import Artifact, zip_overhead
from lambda_slim._artifacts.inventory import APP, Inventory
from lambda_slim._artifacts.outputs import LAYER_PREFIX
from lambda_slim._inputs.config import read_pyproject
from lambda_slim._install.resolve import Lock
from lambda_slim._report.build_report import DistributionSizes, RuleSavings, Verification
from lambda_slim._sandbox.safety import SafetyResult
from lambda_slim._slimming.prune import RULE as PRUNE_RULE
from lambda_slim._slimming.rules import Decision, rule_descriptions
from lambda_slim._slimming.strip import StripResult


def verification(safety: SafetyResult | None, handler: str | None) -> Verification | None:
    if safety is None:
        return None
    return Verification(
        checked_modules=safety.checked_modules,
        skipped_modules=safety.skipped_modules,
        handler=handler,
        restored=tuple(r.message() for r in safety.restorations),
    )


def zipped_before(
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


def rule_savings(before: Inventory, decisions: tuple[Decision, ...], stripped: StripResult) -> tuple[RuleSavings, ...]:
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


def distribution_sizes(before: Inventory, after: Inventory, lock: Lock) -> tuple[DistributionSizes, ...]:
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


def project_name(project_dir: Path) -> str:
    project = read_pyproject(project_dir).get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) and name else project_dir.name


def display_path(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)
