"""The build report's "next steps": the changes that would take the most off this build, each with what it is worth,
computed on the slimmed tree by the code that would make the change (the rule engine, the layer planner), never
estimated.

What each step counts:
- runtime-provided, aws-services: the bytes the rule would remove from the slimmed tree, found as `slim analyze`
  finds what the rules would remove from a zip (the rule engine's decisions, summed by rule).
- layers: the function zip's zipped bytes that `--layers auto` would move into layers, from the entries' deflated
  sizes in the zip just written (a layer is the same deflate streams under `python/`).
- dev-dependency: the bytes of a development tool the lock holds and of every distribution only it needs, by
  the lock's "via". A lock that does not record who asks (a pinned requirements file used as is) gives the tool's
  own bytes only: the least the step is worth.
- deferrable-import: the cumulative import time (median of the measure runs, -X importtime) of an import the app's
  own code makes at init that no invocation on the event used: moving it into the code that needs it saves that
  much of every cold start. Only the app's own import statements: those are what the user can move.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_slim import _sizes
from lambda_slim._analyze.analysis import would_remove
from lambda_slim._artifacts.archive import Artifact, zip_overhead
from lambda_slim._artifacts.inventory import Inventory
from lambda_slim._artifacts.layers import LayerPlan, LayerSettings, plan_for
from lambda_slim._artifacts.outputs import LAYER_PREFIX, layer_zip_name
from lambda_slim._errors import ConfigError
from lambda_slim._install.resolve import Lock, needed_only_by
from lambda_slim._report.build_report import NextStep
from lambda_slim._sandbox.importprofile import ImportProfile
from lambda_slim._sizes import human
from lambda_slim._slimming.awsservices import ALWAYS_KEPT, AUTO, kept_services, service_of
from lambda_slim._slimming.rules import RuleSet, decide
from lambda_slim._slimming.runtimeprovided import excluded_distributions

# Distributions that only develop, test or type-check code: nothing a function imports at run time needs them.
DEV_TOOLS = frozenset(
    {
        "autopep8", "bandit", "black", "build", "coverage", "flake8", "hypothesis", "ipdb", "ipython", "isort",
        "mkdocs", "moto", "mypy", "nox", "pip-tools", "pre-commit", "pycodestyle", "pyflakes", "pylint",
        "pyright", "pytest", "ruff", "sphinx", "tox", "twine", "yapf",
    }
)  # fmt: skip
DEV_TOOL_PREFIXES = ("pytest-", "flake8-", "types-", "mypy-boto3-", "sphinx-")


@dataclass(frozen=True)
class NextStepSettings:
    """What the build was told, for the steps that recommend turning something on: a step is only given when
    its setting is off."""

    runtime_provided: str  # "bundle" or "exclude"
    aws_services: tuple[str, ...]
    layers: LayerSettings
    rules: RuleSet
    pyc_tag: str


@dataclass(frozen=True)
class BuiltTree:
    """What the build made, for the steps to measure: the slimmed tree, the pycs it compiled, the lock, the
    app's Python sources (display path, file) and the artifacts written."""

    after: Inventory
    compiled: frozenset[str]
    lock: Lock
    app_sources: tuple[tuple[str, Path], ...]
    artifacts: tuple[Artifact, ...]


def next_steps(settings: NextStepSettings, built: BuiltTree) -> tuple[NextStep, ...]:
    steps = [*_layers(settings, built), *_runtime_provided(settings, built), *_aws_services(settings, built)]
    steps += _dev_dependencies(built)
    return tuple(steps)


def _rule_would_remove(
    settings: NextStepSettings,
    built: BuiltTree,
    rule: str,
    files: Sequence[str],
    *,
    aws_services: frozenset[str] | None = None,
    runtime_provided: frozenset[str] = frozenset(),
) -> int:
    """The bytes `rule` would remove from these files of the slimmed tree, decided by the build's own rule engine
    (user keep patterns and disabled rules included) and summed as `slim analyze` sums them."""
    if not files:
        return 0
    subset = Inventory(tuple(built.after.by_path[path] for path in files), built.after.package_dirs)
    decisions = decide(subset, settings.rules, settings.pyc_tag, built.compiled, None, aws_services, runtime_provided)
    return sum(saving.bytes for saving in would_remove(subset, decisions) if saving.rule == rule)


def _runtime_provided(settings: NextStepSettings, built: BuiltTree) -> list[NextStep]:
    if settings.runtime_provided == "exclude":
        return []
    left_out = excluded_distributions(built.lock)
    files = [entry.path for entry in built.after.files if entry.distribution in left_out]
    saved = _rule_would_remove(settings, built, "runtime-provided", files, runtime_provided=left_out)
    if not saved:
        return []
    present = sorted({built.after.by_path[path].distribution for path in files})
    return [
        NextStep(
            "runtime-provided",
            f'runtime-provided = "exclude" in [tool.slim] would leave {", ".join(present)} to the Lambda runtime, '
            "which ships them: the function then runs with the runtime's boto3, whose version AWS chooses, not the "
            "locked one",
            bytes=saved,
        )
    ]


def _aws_services(settings: NextStepSettings, built: BuiltTree) -> list[NextStep]:
    if settings.aws_services:
        return []
    files = [entry.path for entry in built.after.files if service_of(entry.path) is not None]
    if not files:
        return []
    try:
        kept = kept_services((AUTO,), built.app_sources)
    except ConfigError:
        # A client whose service is not a literal: "auto" would refuse the build, so it is no step to take as is.
        return []
    saved = _rule_would_remove(settings, built, "aws-services", files, aws_services=kept)
    if not saved:
        return []
    dropped = {service_of(path) for path in files} - kept
    used = sorted(kept - ALWAYS_KEPT)
    return [
        NextStep(
            "aws-services",
            f'aws-services = "auto" in [tool.slim] would drop the botocore models of {len(dropped)} services the '
            f"app's code does not call (it calls {', '.join(used) or 'none'}); name in aws-services any service a "
            "library calls for you",
            bytes=saved,
        )
    ]


def _layers(settings: NextStepSettings, built: BuiltTree) -> list[NextStep]:
    if settings.layers.mode != "none":
        return []
    functions = [a for a in built.artifacts if a.kind == "function"]
    if not functions or functions[0].zipped_bytes <= _sizes.DIRECT_UPLOAD_LIMIT:
        return []
    function = functions[0]
    plan = plan_for(built.after, dataclasses.replace(settings.layers, mode="auto"))
    if not plan.layers:
        return []
    with zipfile.ZipFile(function.path) as archive:
        deflated = {info.filename: info.compress_size for info in archive.infolist()}
    stays, layer_sizes = _split_zip(built.after, plan, deflated)
    largest_name, largest = max(layer_sizes.items(), key=lambda item: (item[1], item[0]))
    still_over = [name for name, size in layer_sizes.items() if size > _sizes.DIRECT_UPLOAD_LIMIT]
    over = (
        f"; {', '.join(layer_zip_name(name) for name in sorted(still_over))} would still be over "
        f"{human(_sizes.DIRECT_UPLOAD_LIMIT)}, to upload through S3"
        if still_over
        else f", the largest layer {layer_zip_name(largest_name)} {human(largest)}"
    )
    return [
        NextStep(
            "layers",
            f'--layers auto (or [tool.slim] layers = "auto") would move '
            f"{', '.join(name for layer in plan.layers for name in layer.distributions)} into {len(plan.layers)} "
            f"layer{'s' if len(plan.layers) != 1 else ''}: {function.path.name} would be {human(stays)} zipped "
            f"instead of {human(function.zipped_bytes)}, under the {human(_sizes.DIRECT_UPLOAD_LIMIT)} a direct "
            f"upload takes" + over
            if stays <= _sizes.DIRECT_UPLOAD_LIMIT
            else f"--layers auto would move the heavy distributions into layers, and {function.path.name} would "
            f"still be {human(stays)} zipped, over the direct-upload limit",
            bytes=function.zipped_bytes - stays,
        )
    ]


def _split_zip(after: Inventory, plan: LayerPlan, deflated: dict[str, int]) -> tuple[int, dict[str, int]]:
    """The function zip's size and each layer zip's, were the plan applied: the same deflate streams, each entry's
    headers (a layer's names under python/) and the end record."""
    function_names: list[str] = []
    layer_names: dict[str, list[str]] = {layer.name: [] for layer in plan.layers}
    for entry in after.files:
        layer = plan.layer_of(entry.distribution)
        if layer is None:
            function_names.append(entry.path)
        else:
            layer_names[layer].append(entry.path)
    stays = sum(deflated.get(name, 0) for name in function_names) + zip_overhead(function_names)
    layers = {
        layer: sum(deflated.get(name, 0) for name in names) + zip_overhead(LAYER_PREFIX + name for name in names)
        for layer, names in layer_names.items()
    }
    return stays, layers


def is_dev_tool(name: str) -> bool:
    return name in DEV_TOOLS or name.startswith(DEV_TOOL_PREFIXES)


def _dev_dependencies(built: BuiltTree) -> list[NextStep]:
    sizes: dict[str, int] = {}
    for entry in built.after.files:
        sizes[entry.distribution] = sizes.get(entry.distribution, 0) + entry.size
    tools = sorted((p for p in built.lock.pins if is_dev_tool(p.name) and p.name in sizes), key=lambda p: p.name)
    steps = []
    for tool in tools:
        only = needed_only_by(built.lock, {tool.name}) & sizes.keys()
        others = sorted(only - {tool.name})
        asked = [who for who in tool.via if who.startswith("-")]
        by = [who for who in tool.via if not who.startswith("-")]
        if asked:
            why = (
                f"the project asks for it ({asked[0].removeprefix('-r ')}): move it to a dependency group or an "
                "extra the build does not package"
            )
        elif by:
            why = (
                f"{', '.join(by)} require{'s' if len(by) == 1 else ''} it at run time by their metadata: if the app "
                "never imports it, [tool.slim] exclude can leave it out (the build's verification checks the imports)"
            )
        else:
            why = "the lock does not say who asks for it"
        steps.append(
            NextStep(
                "dev-dependency",
                f"{tool.name} is a development tool, shipped"
                + (f" with {', '.join(others)}, which only it needs" if others else "")
                + f"; {why}",
                bytes=sum(sizes[name] for name in only),
            )
        )
    return sorted(steps, key=lambda step: -(step.bytes or 0))


# The deferrable imports a build report names: the slowest few; `slim profile` lists them all.
DEFERRABLE_STEPS = 3


def deferrable_imports(profile: ImportProfile) -> tuple[NextStep, ...]:
    """The app's own imports at init that no invocation on the events used, slowest first."""
    if profile.deferrable is None:
        return ()
    own = sorted((item for item in profile.deferrable if item.direct), key=lambda item: -item.cumulative_ms)
    events = ", ".join(profile.events)
    return tuple(
        NextStep(
            "deferrable-import",
            f"move `{item.chain[0]}` into the code that needs it: no invocation on {events} used {item.module} "
            f"({item.distribution}), which the handler's init imports",
            ms=item.cumulative_ms,
        )
        for item in own[:DEFERRABLE_STEPS]
    )
