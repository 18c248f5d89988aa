"""Size and cold-start budgets: what `slim check` compares a build (or existing zips) against.

Works on the JSON reports (`slim build --format json`, `slim analyze --format json`), so a budget can be
checked against a fresh build, a cached one, or a baseline file from an earlier run alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_slim import _sizes
from lambda_slim._errors import ConfigError, SlimError
from lambda_slim._inputs.budget import Budget
from lambda_slim._sizes import human


@dataclass(frozen=True)
class Measures:
    """What a budget is checked against, read from a build or an analyze report."""

    largest_zip: int
    unzipped: int
    files: int
    cold_start_ms: float
    # "measured init on a Lambda vCPU, fastest of 5 runs" (older reports: "measured init, fastest of 3 runs" or
    # "measured init, median"), or "estimated"
    cold_start_basis: str
    distributions: dict[str, int]  # name -> unzipped bytes
    layers: int = 0  # layers the function attaches: built ones and external ones
    external_bytes: int = 0  # unzipped bytes of the external layers: they count against Lambda's limit too
    # module -> its cumulative import time in the handler's init, the least disturbed (minimum) of the profile's runs;
    # measured only for max-import-ms
    import_ms: dict[str, float] = field(default_factory=dict)
    import_runs: int = 0
    distribution_files: dict[str, int] = field(default_factory=dict)  # name -> files shipped
    # name -> zipped bytes in the largest zip, which max-zipped judges: read from the zips only when it is over
    zipped_distributions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    budget: str
    limit: str
    actual: str
    over_by: str
    contributors: tuple[str, ...]
    # One of Lambda's own limits rather than a budget of the project's: Lambda refuses the package.
    refused: bool = False


class OverLambdaLimits(SlimError):
    """The package is bigger than Lambda accepts: deploying it would fail."""


@dataclass(frozen=True)
class Growth:
    name: str
    before: int
    after: int


@dataclass(frozen=True)
class CheckResult:
    measures: Measures
    violations: tuple[Violation, ...]
    growth: tuple[Growth, ...]  # per distribution, against the baseline, biggest change first
    growth_percent: float | None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def measures_from_build(report: Mapping[str, Any]) -> Measures:
    cold = report.get("cold_start") or {}
    measured = cold.get("measured")
    if measured:
        # The least disturbed run: a busy machine only ever slows an import down, so the fastest run is the
        # closest to what the package costs (docs/coldstart.md#how-steady-a-measurement-is); on a Lambda vCPU, by
        # each run's host factor, so that a budget set on a laptop holds on a CI runner
        # (docs/coldstart.md#the-host-factor). Older reports: the fastest run as measured, else the median.
        fastest = ((measured.get("spread") or {}).get("slimmed") or {}).get("min_ms")
        on_lambda = measured.get("init_on_lambda_ms") if measured.get("reference") else None
        if on_lambda is not None:
            cold_ms = float(on_lambda)
            basis = f"measured init on a Lambda vCPU, fastest of {measured['runs']} runs"
        elif fastest is None:
            cold_ms, basis = float(measured["slimmed_ms"]), "measured init, median"
        else:
            cold_ms, basis = float(fastest), f"measured init, fastest of {measured['runs']} runs"
    else:
        cold_ms, basis = float((cold.get("estimate") or {}).get("total_ms", 0.0)), "estimated"
    limits = report.get("limits") or {}
    return Measures(
        largest_zip=max(a["zipped_bytes"] for a in report["artifacts"]),
        unzipped=sum(a["unzipped_bytes"] for a in report["artifacts"]),
        files=sum(a["files"] for a in report["artifacts"]),
        cold_start_ms=cold_ms,
        cold_start_basis=basis,
        distributions={d["name"]: d["after_bytes"] for d in report.get("distributions", [])},
        distribution_files={d["name"]: d["after_files"] for d in report.get("distributions", [])},
        layers=limits.get("layers", sum(1 for a in report["artifacts"] if a["kind"] == "layer")),
        external_bytes=limits.get("external_layers_bytes", 0),
    )


def measures_from_analyze(report: Mapping[str, Any]) -> Measures:
    return Measures(
        largest_zip=max(a["zipped_bytes"] for a in report["archives"]),
        unzipped=report["totals"]["unzipped_bytes"],
        files=report["totals"]["files"],
        cold_start_ms=float(report["cold_start_estimate"]["total_ms"]),
        cold_start_basis="estimated",
        distributions={d["name"]: d["unzipped_bytes"] for d in report.get("distributions", [])},
        distribution_files={d["name"]: d["files"] for d in report.get("distributions", []) if "files" in d},
        layers=sum(1 for a in report["archives"] if a["kind"] == "layer"),
    )


def baseline_distributions(baseline: Mapping[str, Any]) -> dict[str, int]:
    """Per-distribution unzipped bytes of a baseline report (a build's or an analyze's)."""
    if baseline.get("schema", "").startswith("lambda-slim/analyze-report"):
        return measures_from_analyze(baseline).distributions
    if baseline.get("schema", "").startswith("lambda-slim/build-report"):
        return measures_from_build(baseline).distributions
    raise ConfigError(
        "the baseline is not a lambda-slim JSON report: write one with `slim build --format json -o FILE`."
    )


def _biggest(measures: Measures, top: int, *, decimal: bool = False) -> tuple[str, ...]:
    return _largest(measures.distributions, top, lambda size: human(size, decimal=decimal))


def _largest(sizes: Mapping[str, int], top: int, shown: Callable[[int], str]) -> tuple[str, ...]:
    """The `top` largest, largest first (then by name, so the same package always reads the same)."""
    return tuple(f"{name} {shown(size)}" for name, size in sorted(sizes.items(), key=lambda i: (-i[1], i[0]))[:top])


def check(measures: Measures, budget: Budget, baseline: Mapping[str, Any] | None = None, top: int = 5) -> CheckResult:
    biggest = _biggest(measures, top)
    violations: list[Violation] = []

    def over(
        name: str, limit: float, actual: float, shown: tuple[str, str, str], contributors: tuple[str, ...]
    ) -> None:
        if actual > limit:
            violations.append(Violation(name, *shown, contributors))

    # Each budget in its own unit: sizes in the unit system the limit was written in ("10MB" reads "10.0 MB"), and
    # the contributors by what the budget counts (zipped bytes in the largest zip, files).
    if budget.max_zipped is not None:
        size = functools.partial(human, decimal=bool(budget.max_zipped_decimal))
        zipped = _largest(measures.zipped_distributions, top, lambda n: f"{size(n)} zipped")
        over("max-zipped", budget.max_zipped, measures.largest_zip,
             (size(budget.max_zipped), size(measures.largest_zip), size(measures.largest_zip - budget.max_zipped)),
             zipped or _biggest(measures, top, decimal=bool(budget.max_zipped_decimal)))  # fmt: skip
    if budget.max_unzipped is not None:
        size = functools.partial(human, decimal=bool(budget.max_unzipped_decimal))
        over("max-unzipped", budget.max_unzipped, measures.unzipped,
             (size(budget.max_unzipped), size(measures.unzipped), size(measures.unzipped - budget.max_unzipped)),
             _biggest(measures, top, decimal=bool(budget.max_unzipped_decimal)))  # fmt: skip
    if budget.max_files is not None:
        most_files = _largest(measures.distribution_files, top, lambda n: f"{n:,} files")
        over("max-files", budget.max_files, measures.files,
             (f"{budget.max_files:,}", f"{measures.files:,}", f"{measures.files - budget.max_files:,} files"),
             most_files or biggest)  # fmt: skip
    if budget.max_cold_start_ms is not None:
        limit, actual = budget.max_cold_start_ms, measures.cold_start_ms
        over("max-cold-start-ms", limit, actual,
             (f"{limit:,.0f} ms", f"{actual:,.0f} ms ({measures.cold_start_basis})", f"{actual - limit:,.0f} ms"),
             biggest)  # fmt: skip
    for module, limit in budget.max_import_ms or ():
        spent = measures.import_ms.get(module)
        if spent is None:
            violations.append(
                Violation(
                    "max-import-ms",
                    f"{module} {limit:,.0f} ms",
                    f"{module} is not imported by the handler's init: check the module name",
                    "-",
                    (),
                )
            )
            continue
        over("max-import-ms", limit, spent,
             (f"{module} {limit:,.0f} ms", f"{module} {spent:,.1f} ms (least of {measures.import_runs} runs)",
              f"{spent - limit:,.1f} ms"), ())  # fmt: skip
    growth: tuple[Growth, ...] = ()
    percent = None
    if baseline is not None:
        before = baseline_distributions(baseline)
        names = set(before) | set(measures.distributions)
        rows = [Growth(n, before.get(n, 0), measures.distributions.get(n, 0)) for n in names]
        growth = tuple(sorted((r for r in rows if r.after != r.before), key=lambda r: (-(r.after - r.before), r.name)))
        base_total = sum(before.values())
        percent = 100.0 * (measures.unzipped - base_total) / base_total if base_total else None
        if budget.max_growth is not None and percent is not None:
            grew = tuple(f"{g.name} {human(g.after - g.before)}" for g in growth if g.after > g.before)[:top]
            over("max-growth", budget.max_growth, percent,
                 (f"{budget.max_growth:g}%", f"{percent:+.1f}% ({human(measures.unzipped - base_total)})",
                  f"{percent - budget.max_growth:.1f} points"), grew)  # fmt: skip
    violations += lambda_limits(measures, biggest, skip_unzipped=any(v.budget == "max-unzipped" for v in violations))
    # A zip over 50 MiB still deploys through S3; a max-zipped of the project's own decides instead.
    upload = None if budget.max_zipped is not None else direct_upload_warning(measures.largest_zip)
    return CheckResult(measures, tuple(violations), growth, percent, (upload,) if upload else ())


def lambda_limits(measures: Measures, contributors: tuple[str, ...], *, skip_unzipped: bool = False) -> list[Violation]:
    """Lambda's hard limits, which apply whatever the budget says. `skip_unzipped` when a tighter max-unzipped
    already reports the same bytes."""
    violations = []
    total = measures.unzipped + measures.external_bytes
    if total > _sizes.UNZIPPED_LIMIT and not skip_unzipped:
        own = f", with {measures.external_bytes:,} bytes of your own layers" if measures.external_bytes else ""
        violations.append(
            Violation(
                "Lambda's unzipped limit",
                f"{_sizes.UNZIPPED_LIMIT:,} bytes",
                f"{total:,} bytes ({human(total)}) for the function and its layers{own}",
                f"{total - _sizes.UNZIPPED_LIMIT:,} bytes",
                contributors,
                refused=True,
            )
        )
    if measures.layers > _sizes.MAX_LAYERS:
        violations.append(
            Violation(
                "Lambda's layer limit",
                f"{_sizes.MAX_LAYERS} layers",
                f"{measures.layers} layers",
                f"{measures.layers - _sizes.MAX_LAYERS} layers",
                (),
                refused=True,
            )
        )
    return violations


def direct_upload_warning(largest_zip: int) -> str | None:
    if largest_zip <= _sizes.DIRECT_UPLOAD_LIMIT:
        return None
    return (
        f"the largest zip is {human(largest_zip)}, "
        f"over Lambda's {human(_sizes.DIRECT_UPLOAD_LIMIT)} direct-upload limit: "
        "deploy it through S3, or set [tool.slim.budget] max-zipped for `slim check` to fail on it."
    )


def refusal(measures: Measures, dist_dir: str, top: int = 5) -> OverLambdaLimits | None:
    """The error for a build Lambda would refuse, naming each limit, the total and the largest contributors.

    Raised before any zip is written, so the previous artifacts in `dist_dir` stay as they were."""
    violations = lambda_limits(measures, _biggest(measures, top))
    if not violations:
        return None
    return OverLambdaLimits(
        "the package is over Lambda's limits, so Lambda would refuse it: "
        + "; ".join(_describe(v) for v in violations)
        + f". Nothing was written: what is in {dist_dir} is still the previous build's. Options: exclude what "
        "the app does not use ([tool.slim] exclude), leave a package to the runtime or to a layer of your own, "
        "or deploy a container image (10 GB): `slim build --image` (or [tool.slim] image = true) writes its "
        "Dockerfile and builds the zips anyway, saying they are not deployable as zips."
    )


def _describe(violation: Violation) -> str:
    text = f"{violation.budget}: {violation.actual}, limit {violation.limit}, over by {violation.over_by}"
    if violation.contributors:
        text += f"; largest contributors: {', '.join(violation.contributors)}"
    return text


def render(result: CheckResult) -> str:
    m = result.measures
    lines = [
        f"largest zip {human(m.largest_zip)}, unzipped {human(m.unzipped)}, {m.files:,} files, "
        f"cold start {m.cold_start_ms:,.0f} ms ({m.cold_start_basis})"
    ]
    if result.growth_percent is not None:
        lines.append(f"growth against the baseline: {result.growth_percent:+.1f}% unzipped")
        lines += [
            f"  {g.name:32}{human(g.before):>12} -> {human(g.after):>12}  ({human(g.after - g.before)})"
            for g in result.growth[:10]
        ]
    lines += [
        f"import of {module}: {ms:,.1f} ms (least of {m.import_runs} runs under -X importtime)"
        for module, ms in sorted(m.import_ms.items())
    ]
    lines += _violation_lines(result)
    lines += [f"warning: {warning}" for warning in result.warnings]
    lines.append(_status(result))
    return "\n".join(lines) + "\n"


def render_violations(result: CheckResult) -> str:
    """Only the budgets and limits exceeded, as `render` words them (`slim check --quiet`); empty within both."""
    return "".join(line + "\n" for line in _violation_lines(result))


def _violation_lines(result: CheckResult) -> list[str]:
    lines = []
    for violation in result.violations:
        lines.append(
            f"OVER {'' if violation.refused else 'BUDGET '}{violation.budget}: {violation.actual}, "
            f"limit {violation.limit}, over by {violation.over_by}"
        )
        if violation.contributors:
            lines.append(f"  largest contributors: {', '.join(violation.contributors)}")
    return lines


def _status(result: CheckResult) -> str:
    refused = sum(1 for v in result.violations if v.refused)
    exceeded = len(result.violations) - refused
    parts = [f"{exceeded} budget(s) exceeded"] if exceeded else []
    if refused:
        parts.insert(0, "over Lambda's limits: Lambda refuses this package")
    return "; ".join(parts) or "within budget"


def render_markdown(result: CheckResult) -> str:
    m = result.measures
    status = "within budget" if result.ok else f"**{_status(result)}**"
    lines = [
        f"### lambda-slim check: {status}",
        "",
        f"Largest zip {human(m.largest_zip)}, unzipped {human(m.unzipped)}, {m.files:,} files, "
        f"cold start {m.cold_start_ms:,.0f} ms ({m.cold_start_basis}).",
    ]
    if result.violations:
        lines += ["", "| budget | limit | actual | over by | largest contributors |", "|---|---:|---:|---:|---|"]
        lines += [
            f"| {v.budget} | {v.limit} | {v.actual} | {v.over_by} | {', '.join(v.contributors)} |"
            for v in result.violations
        ]
    if result.growth_percent is not None:
        lines += ["", f"Growth against the baseline: {result.growth_percent:+.1f}% unzipped."]
    lines += [f"> warning: {warning}" for warning in result.warnings]
    return "\n".join(lines) + "\n"
