"""`--explain`: what happened to the files a pattern names, and which rule or default decided, as data."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lambda_slim._inputs.project import ProjectSettings, left_out_app_paths
from lambda_slim._report.build_report import BuildReport
from lambda_slim._slimming.rules import Action, ruleset
from lambda_slim._slimming.rules import explain as explain_keep

Outcome = Literal["kept", "removed", "stripped", "left out"]
_OUTCOME: dict[Action, Outcome] = {"keep": "kept", "remove": "removed", "strip": "stripped"}


@dataclass(frozen=True)
class ExplainedFile:
    outcome: Outcome
    path: str  # in the package for a file of the build, in the project for one left out
    why: str  # the rule that decided, or the default or pattern that left a project file out


@dataclass(frozen=True)
class Explanation:
    pattern: str
    files: tuple[ExplainedFile, ...]  # empty: no file of the build or of the project matches


def explain(report: BuildReport, patterns: Sequence[str], project: ProjectSettings) -> tuple[Explanation, ...]:
    """For each pattern (a glob), the build's files it matches with the decision on each, then the project's
    files it names that are not app code, each with why. The report must come from a real build, not a reused
    one: only a build has every file's decision."""
    return tuple(Explanation(pattern, _explain_one(report, pattern, project)) for pattern in patterns)


def _explain_one(report: BuildReport, pattern: str, project: ProjectSettings) -> tuple[ExplainedFile, ...]:
    files = []
    for decision in report.decisions:
        if not fnmatch.fnmatch(decision.path, pattern):
            continue
        why = f"by rule {decision.rule}" if decision.rule else "(no rule applies)"
        if decision.rule == "builtin-keep":
            why += f": {explain_keep(decision.path, ruleset())}"
        files.append(ExplainedFile(_OUTCOME[decision.action], decision.path, why))
    files += [ExplainedFile("left out", path, why) for path, why in left_out_app_paths(project, pattern)]
    return tuple(files)
