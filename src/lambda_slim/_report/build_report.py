"""BuildReport: what a build did to size, per rule and per distribution, against Lambda's limits; text and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambda_slim import _sizes
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._sandbox.coldstart import INIT_LIMIT_MS, REFERENCE_MS, ColdStart, Measured, Timing
from lambda_slim._sizes import human
from lambda_slim._slimming.rules import Decision
from lambda_slim._version import __version__

SCHEMA = "lambda-slim/build-report/1"


@dataclass(frozen=True)
class Totals:
    files: int
    unzipped_bytes: int
    zipped_bytes: int


@dataclass(frozen=True)
class RuleSavings:
    rule: str
    description: str
    files: int
    bytes: int


@dataclass(frozen=True)
class DistributionSizes:
    name: str
    version: str
    before_files: int
    before_bytes: int
    after_files: int
    after_bytes: int


@dataclass(frozen=True)
class Bytecode:
    enabled: bool
    modules: int
    bytes: int
    failed: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Verification:
    checked_modules: tuple[str, ...]
    skipped_modules: tuple[str, ...]  # failed to import before slimming too
    handler: str | None
    restored: tuple[str, ...]  # what the safety net put back, and why


@dataclass(frozen=True)
class Skipped:
    """Work a build did not do, and why: said in every format, so a reader never takes it for done."""

    what: str
    why: str


@dataclass(frozen=True)
class ContainerImage:
    """What `slim build --image` wrote: the Dockerfile and the tree it copies into the base image."""

    dockerfile: str  # as shown: dist/Dockerfile
    tree: str  # as shown: dist/image
    base: str  # public.ecr.aws/lambda/python:3.12
    platform: str  # linux/amd64, linux/arm64
    handler: str
    unzipped_bytes: int
    # Why Lambda would refuse the zips written beside it; None when they deploy as zips too.
    zips_refused: str | None = None


@dataclass(frozen=True)
class NextStep:
    """A change the report recommends, with what it is worth as computed on this build: the bytes it would take off
    (unzipped, or the function zip's zipped bytes for layers, as `message` says) or the milliseconds of init it
    would save. One of `bytes` and `ms` is set. New kinds add here: the import profile's "deferrable-import"
    steps give `ms`."""

    kind: str  # a stable id: "runtime-provided", "aws-services", "layers", "dev-dependency", ...
    message: str
    bytes: int | None = None
    ms: float | None = None

    def at_stake(self) -> str:
        if self.bytes is not None:
            return human(self.bytes)
        return f"{self.ms:,.0f} ms" if self.ms is not None else ""


@dataclass(frozen=True)
class SlowImport:
    """One of the slowest modules in the handler's init, from the import profile (`slim profile` has the tree)."""

    module: str
    distribution: str
    cumulative_ms: float  # median of the runs, with what the module imported first
    share_percent: float  # of the handler's init


@dataclass(frozen=True)
class BuildReport:
    project: str
    runtime: str
    arch: str
    glibc: str
    dependency_source: str
    lock_status: str  # "written", "reused", "pinned file used as is", "no dependencies"
    before: Totals
    after: Totals
    rules: tuple[RuleSavings, ...]
    distributions: tuple[DistributionSizes, ...]
    bytecode: Bytecode
    artifacts: tuple[Artifact, ...]
    artifact_names: tuple[str, ...]  # how to show each artifact's path (relative to the project when inside it)
    warnings: tuple[str, ...]
    verification: Verification | None = None
    coldstart: ColdStart | None = None
    skipped: tuple[Skipped, ...] = ()
    # Layers the user attaches too ([tool.slim] external-layers, external-layers-bytes): they count in the limits.
    external_layers: int = 0
    external_layers_bytes: int = 0
    # What to change next, and what each change is worth: rendered after everything else.
    next_steps: tuple[NextStep, ...] = ()
    image: ContainerImage | None = None
    # Every file's fate, for --explain; not part of the JSON report (it can hold tens of thousands of rows).
    decisions: tuple[Decision, ...] = ()
    # When the build verified and measured: the slowest imports of the handler's init, slowest first.
    slowest_imports: tuple[SlowImport, ...] = ()


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def limits(report: BuildReport) -> dict[str, Any]:
    largest_zip = max((a.zipped_bytes for a in report.artifacts), default=0)
    unzipped = sum(a.unzipped_bytes for a in report.artifacts) + report.external_layers_bytes
    layers = sum(1 for a in report.artifacts if a.kind == "layer") + report.external_layers
    return {
        "direct_upload_zipped_bytes": _sizes.DIRECT_UPLOAD_LIMIT,
        "unzipped_bytes": _sizes.UNZIPPED_LIMIT,
        "layers_limit": _sizes.MAX_LAYERS,
        "largest_zip_bytes": largest_zip,
        "total_unzipped_bytes": unzipped,
        "external_layers": report.external_layers,
        "external_layers_bytes": report.external_layers_bytes,
        "layers": layers,
        "zipped_headroom_bytes": _sizes.DIRECT_UPLOAD_LIMIT - largest_zip,
        "unzipped_headroom_bytes": _sizes.UNZIPPED_LIMIT - unzipped,
        "fits_direct_upload": largest_zip <= _sizes.DIRECT_UPLOAD_LIMIT,
        "fits_unzipped": unzipped <= _sizes.UNZIPPED_LIMIT,
        "fits_layers": layers <= _sizes.MAX_LAYERS,
    }


def to_json(report: BuildReport) -> str:
    saved_unzipped = report.before.unzipped_bytes - report.after.unzipped_bytes
    saved_zipped = report.before.zipped_bytes - report.after.zipped_bytes
    data = {
        "schema": SCHEMA,
        "tool": {"name": "lambda-slim", "version": __version__},
        "project": report.project,
        "target": {"runtime": report.runtime, "arch": report.arch, "glibc": report.glibc},
        "dependencies": {"source": report.dependency_source, "lock": report.lock_status},
        "before": _totals(report.before),
        "after": _totals(report.after),
        "saved": {
            "unzipped_bytes": saved_unzipped,
            "zipped_bytes": saved_zipped,
            "unzipped_percent": _percent(saved_unzipped, report.before.unzipped_bytes),
            "zipped_percent": _percent(saved_zipped, report.before.zipped_bytes),
        },
        "bytecode": {
            "enabled": report.bytecode.enabled,
            "modules": report.bytecode.modules,
            "bytes": report.bytecode.bytes,
            "failed": [{"path": path, "error": error} for path, error in report.bytecode.failed],
        },
        "rules": [
            {"name": r.rule, "description": r.description, "files": r.files, "bytes": r.bytes} for r in report.rules
        ],
        "distributions": [
            {
                "name": d.name,
                "version": d.version,
                "before_files": d.before_files,
                "before_bytes": d.before_bytes,
                "after_files": d.after_files,
                "after_bytes": d.after_bytes,
            }
            for d in report.distributions
        ],
        "artifacts": [
            {"path": name, **artifact.describe()}
            for artifact, name in zip(report.artifacts, report.artifact_names, strict=False)
        ],
        "limits": limits(report),
        "verification": _verification_json(report.verification),
        "cold_start": _coldstart_json(report.coldstart),
        "slowest_imports": [
            {
                "module": item.module,
                "distribution": item.distribution,
                "cumulative_ms": round(item.cumulative_ms, 1),
                "share_percent": round(item.share_percent, 1),
            }
            for item in report.slowest_imports
        ],
        "skipped": [{"what": item.what, "why": item.why} for item in report.skipped],
        "image": _image_json(report.image),
        "warnings": list(report.warnings),
        "next_steps": [
            {"kind": step.kind, "message": step.message, "bytes": step.bytes, "ms": step.ms}
            for step in report.next_steps
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _image_json(image: ContainerImage | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "dockerfile": image.dockerfile,
        "tree": image.tree,
        "base_image": image.base,
        "platform": image.platform,
        "cmd": image.handler,
        "unzipped_bytes": image.unzipped_bytes,
        "zips_deployable": image.zips_refused is None,
        "zips_refused": image.zips_refused,
    }


def _verification_json(verification: Verification | None) -> dict[str, Any] | None:
    if verification is None:
        return None
    return {
        "checked_modules": list(verification.checked_modules),
        "skipped_modules": list(verification.skipped_modules),
        "handler": verification.handler,
        "restored": list(verification.restored),
    }


def _coldstart_json(coldstart: ColdStart | None) -> dict[str, Any] | None:
    if coldstart is None:
        return None
    measured = coldstart.measured
    estimate = coldstart.estimate
    return {
        "measured": None if measured is None else _measured_json(measured),
        "estimate": {
            "fetch_ms": round(estimate.fetch_ms, 1),
            "unpack_ms": round(estimate.unpack_ms, 1),
            "compile_ms": round(estimate.compile_ms, 1),
            "total_ms": round(estimate.total_ms, 1),
            "model": "docs/coldstart.md",
        },
        "by_memory": {
            "basis": coldstart.basis,
            "init_cpu": coldstart.init_cpu,
            "scaling": coldstart.scaling,
            "init_limit_ms": INIT_LIMIT_MS,
            "init_warning": coldstart.init_warning(),
            "rows": [
                {
                    "memory_mb": row.memory_mb,
                    "init_ms": round(row.init_ms, 1),
                    "cold_start_ms": round(row.cold_start_ms, 1),
                    "invoke_ms": None if row.invoke_ms is None else round(row.invoke_ms, 1),
                    "init_over_limit": row.init_ms > INIT_LIMIT_MS,
                }
                for row in coldstart.memory_table
            ],
        },
    }


def _measured_json(measured: Measured) -> dict[str, Any]:
    machine = measured.machine
    noise = measured.noise()
    return {
        "what": measured.what,
        "runs": measured.runs,
        "unslimmed_ms": round(measured.naive_ms, 1),
        "slimmed_ms": round(measured.slim_ms, 1),
        "bytecode_stripped_ms": None if measured.no_bytecode_ms is None else round(measured.no_bytecode_ms, 1),
        "speedup_vs_bytecode_stripped": None
        if measured.speedup_vs_no_bytecode is None
        else round(measured.speedup_vs_no_bytecode, 2),
        "spread": {name: _timing_json(timing) for name, timing in measured.variants()},
        "invoke": None if measured.invoke is None else _timing_json(measured.invoke),
        "reference": None if measured.reference is None else _timing_json(measured.reference),
        "host_factor": round(measured.host_factor, 3),
        "init_on_lambda_ms": round(measured.lambda_init_ms, 1),
        "machine": None
        if machine is None
        else {
            "cores": machine.cores,
            "load_start": round(machine.load_start, 2),
            "load_end": round(machine.load_end, 2),
        },
        "noisy": bool(noise),
        "noise": list(noise),
    }


def _timing_json(timing: Timing) -> dict[str, float]:
    return {
        "median_ms": round(timing.median, 1),
        "min_ms": round(timing.low, 1),
        "max_ms": round(timing.high, 1),
        "spread": round(timing.spread, 3),
    }


def _totals(totals: Totals) -> dict[str, int]:
    return {"files": totals.files, "unzipped_bytes": totals.unzipped_bytes, "zipped_bytes": totals.zipped_bytes}


def to_text(report: BuildReport, top: int = 10) -> str:
    before, after = report.before, report.after
    lines = [
        f"lambda-slim {__version__}: {report.project} for {report.runtime} {report.arch} (glibc {report.glibc})",
        f"dependencies: {report.dependency_source}; lock: {report.lock_status}",
        "",
        _row("", "files", "unzipped", "zipped"),
        _row(
            "before (pip install -t + zip)",
            f"{before.files:,}",
            human(before.unzipped_bytes),
            human(before.zipped_bytes),
        ),
        _row("after", f"{after.files:,}", human(after.unzipped_bytes), human(after.zipped_bytes)),
        _row(
            "change",
            f"{after.files - before.files:+,}",
            _change(before.unzipped_bytes, after.unzipped_bytes),
            _change(before.zipped_bytes, after.zipped_bytes),
        ),
    ]
    if report.rules:
        lines += ["", f"{'removed by rule':34}{'files':>8}{'bytes':>12}"]
        lines += [f"  {r.rule:32}{r.files:>8,}{human(r.bytes):>12}" for r in report.rules]
    lines.append("")
    if report.bytecode.enabled:
        lines.append(
            f"bytecode: {report.bytecode.modules:,} modules compiled to unchecked-hash pycs "
            f"({human(report.bytecode.bytes)}), so no cold start compiles them"
        )
        if report.bytecode.failed:
            count = len(report.bytecode.failed)
            lines.append(f"  {count} file{'s' if count != 1 else ''} did not compile and ship as source only")
    else:
        lines.append("bytecode: off (--no-compile): every cold start compiles each imported module")
    if report.distributions:
        biggest = sorted(report.distributions, key=lambda d: (-d.before_bytes, d.name))[:top]
        lines += ["", f"{'largest distributions':34}{'before':>12}{'after':>12}"]
        lines += [
            f"  {d.name + ' ' + d.version:32}{human(d.before_bytes):>12}{human(d.after_bytes):>12}" for d in biggest
        ]
    limit = limits(report)
    lines += [
        "",
        "Lambda limits",
        f"  {'zipped, direct upload':32}{human(limit['largest_zip_bytes']):>12} of {human(_sizes.DIRECT_UPLOAD_LIMIT)}"
        f"  ({_headroom(limit['zipped_headroom_bytes'])})",
        f"  {'unzipped, function + layers':32}{human(limit['total_unzipped_bytes']):>12}"
        f" of {_sizes.UNZIPPED_LIMIT:,} bytes"
        f"  ({_headroom(limit['unzipped_headroom_bytes'])})",
    ]
    if report.external_layers_bytes:
        lines.append(f"    with {human(report.external_layers_bytes)} of your own layers (external-layers-bytes)")
    if limit["layers"]:
        lines.append(
            f"  {'layers':32}{limit['layers']:>12} of {_sizes.MAX_LAYERS}"
            + ("" if limit["fits_layers"] else f"  (OVER by {limit['layers'] - _sizes.MAX_LAYERS})")
        )
    lines += _image_text(report.image)
    lines += _verification_text(report.verification) + _coldstart_text(report.coldstart)
    lines += _slowest_imports_text(report.slowest_imports)
    lines += _skipped_text(report.skipped)
    for artifact, name in zip(report.artifacts, report.artifact_names, strict=False):
        lines += ["", name, f"  sha256      {artifact.sha256}", f"  CodeSha256  {artifact.code_sha256}"]
    lines += [f"warning: {w}" for w in report.warnings]
    if report.next_steps:
        lines += ["", "next steps"]
        lines += [f"  - {step.message} ({step.at_stake()} at stake)" for step in report.next_steps]
    return "\n".join(lines) + "\n"


def _image_text(image: ContainerImage | None) -> list[str]:
    if image is None:
        return []
    return [
        "",
        f"container image: {image.dockerfile}, FROM {image.base} ({image.platform}), CMD {image.handler}; "
        f"{human(image.unzipped_bytes)} in {image.tree}/",
        f"  the zips are NOT deployable as zips: {image.zips_refused}"
        if image.zips_refused
        else "  the zips deploy as zips too",
    ]


def _slowest_imports_text(slowest: tuple[SlowImport, ...]) -> list[str]:
    if not slowest:
        return []
    lines = ["", "slowest imports in the handler's init (cumulative, median; `slim profile` for the tree and chains)"]
    lines += [
        f"  {item.cumulative_ms:>9,.1f} ms {item.share_percent:>5.1f}%  {item.module} ({item.distribution})"
        for item in slowest
    ]
    return lines


def _skipped_text(skipped: tuple[Skipped, ...]) -> list[str]:
    return [""] + [f"not done: {item.what} ({item.why})" for item in skipped] if skipped else []


def _verification_text(verification: Verification | None) -> list[str]:
    if verification is None:
        return []
    checked = f"{len(verification.checked_modules)} top-level modules import as before slimming"
    if verification.handler:
        checked += f", and so does handler {verification.handler}"
    lines = ["", f"verified: {checked}"]
    if verification.skipped_modules:
        lines.append(f"  not checked (fail without slimming too): {', '.join(verification.skipped_modules)}")
    return lines


def _coldstart_text(coldstart: ColdStart | None) -> list[str]:
    if coldstart is None:
        return []
    lines = [""]
    measured = coldstart.measured
    if measured is not None:
        lines += [
            f"cold start, measured here: {measured.what} imported, {measured.runs} fresh processes each, the "
            "variants interleaved",
            f"  {'':32}{'median':>13}{'min - max':>20}",
            _timing_text("unslimmed install, valid pycs", measured.naive),
            _timing_text("this package", measured.slim),
        ]
        if measured.reference is not None:
            lines.append(
                f"  {'this package on a Lambda vCPU':32}{_ms(measured.lambda_init_ms):>10} ms"
                f"{'':20}  (its fastest run times the host factor)"
            )
        if measured.no_bytecode is not None and measured.speedup_vs_no_bytecode is not None:
            lines.append(
                _timing_text("this package without bytecode", measured.no_bytecode)
                + f"  ({measured.speedup_vs_no_bytecode:.1f}x slower: what shipping no pycs costs)"
            )
        if measured.invoke is not None:
            lines.append(_timing_text("first invocation on the event", measured.invoke))
        lines += _machine_lines(measured, "  machine: ", "  host factor: ", "  noisy: ")
    estimate = coldstart.estimate
    invoke = any(row.invoke_ms is not None for row in coldstart.memory_table)
    lines += [
        f"estimated package cost (docs/coldstart.md): fetch {estimate.fetch_ms:,.0f} ms, "
        f"unpack {estimate.unpack_ms:,.0f} ms, compiling modules without pycs {estimate.compile_ms:,.0f} ms",
        _memory_caption(coldstart),
        f"  basis: {coldstart.scaling}",
        f"  {'memory':>8}{'init':>12}{'cold start':>14}" + (f"{'first invocation':>20}" if invoke else ""),
    ]
    lines += [
        f"  {row.memory_mb:>5} MB{_ms(row.init_ms):>9} ms{row.cold_start_ms:>11,.0f} ms"
        + ("" if row.invoke_ms is None else f"{_ms(row.invoke_ms):>17} ms")
        for row in coldstart.memory_table
    ]
    warning = coldstart.init_warning()
    return lines + ([f"  warning: {warning}"] if warning else [])


def _timing_text(label: str, timing: Timing) -> str:
    return f"  {label:32}{_ms(timing.median):>10} ms{f'{_ms(timing.low)} - {_ms(timing.high)} ms':>20}"


def _ms(value: float) -> str:
    """Milliseconds as the cold-start tables show them: whole, or to a tenth below 10 ms, where a small import or
    invocation would otherwise read 0 ms."""
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _machine_lines(measured: Measured, machine_prefix: str, host_prefix: str, noisy_prefix: str) -> list[str]:
    """The machine's cores and load while it measured, and whether the figures are noisy, in every format."""
    lines = []
    if measured.machine is not None:
        machine = measured.machine
        lines.append(
            f"{machine_prefix}{machine.cores} cores, load {machine.load_start:.2f} at the start and "
            f"{machine.load_end:.2f} at the end (1-minute average)"
        )
    if measured.reference is not None:
        lines.append(
            f"{host_prefix}{measured.host_factor:.2f} (the reference workload took {measured.reference.low:.1f} ms "
            f"here at its fastest, {REFERENCE_MS:.1f} ms on the core taken as one Lambda vCPU: "
            "docs/coldstart.md#the-host-factor)"
        )
    noise = measured.noise()
    if noise:
        lines.append(
            f"{noisy_prefix}{'; '.join(noise)}. Measure again when the machine is quiet; "
            "`slim check --max-cold-start-ms` judges the fastest run"
        )
    return lines


def _memory_caption(coldstart: ColdStart) -> str:
    if coldstart.basis == "measured":
        return (
            "estimated by memory size (init: the measured import times the host factor; cold start: plus fetch, unpack)"
        )
    # Without a measurement only compiling is known of the init: the import of valid pycs is not estimated.
    return (
        "estimated by memory size (init: only compiling modules without pycs, as nothing was measured; "
        "cold start: plus fetch, unpack)"
    )


def _coldstart_markdown(coldstart: ColdStart | None) -> list[str]:
    if coldstart is None:
        return []
    lines = []
    measured = coldstart.measured
    if measured is not None:
        lines += [
            "",
            f"| cold start ({measured.what}, {measured.runs} runs each, interleaved) | median | min - max |",
            "|---|---:|---:|",
            _timing_markdown("unslimmed, valid pycs", measured.naive),
            _timing_markdown("**this package**", measured.slim, bold=True),
        ]
        if measured.reference is not None:
            lines.append(
                "| this package on a Lambda vCPU (fastest run times the host factor) | "
                f"{_ms(measured.lambda_init_ms)} ms | |"
            )
        if measured.no_bytecode is not None:
            lines.append(_timing_markdown("this package without bytecode", measured.no_bytecode))
        if measured.invoke is not None:
            lines.append(_timing_markdown("first invocation on the event", measured.invoke))
        lines += ["", *_machine_lines(measured, "Machine: ", "Host factor: ", "> **noisy**: ")]
    invoke = any(row.invoke_ms is not None for row in coldstart.memory_table)
    lines += [
        "",
        "| memory | est. init | est. cold start |" + (" est. first invocation |" if invoke else ""),
        "|---:|---:|---:|" + ("---:|" if invoke else ""),
    ]
    lines += [
        f"| {row.memory_mb} MB | {_ms(row.init_ms)} ms | {row.cold_start_ms:,.0f} ms |"
        + ("" if row.invoke_ms is None else f" {_ms(row.invoke_ms)} ms |")
        for row in coldstart.memory_table
    ]
    lines += ["", f"Basis: {coldstart.scaling}."]
    warning = coldstart.init_warning()
    return lines + ([f"> warning: {warning}."] if warning else [])


def _timing_markdown(label: str, timing: Timing, bold: bool = False) -> str:
    median = f"{_ms(timing.median)} ms"
    return f"| {label} | {f'**{median}**' if bold else median} | {_ms(timing.low)} - {_ms(timing.high)} ms |"


def _row(label: str, files: str, unzipped: str, zipped: str) -> str:
    return f"{label:32}{files:>8}{unzipped:>20}{zipped:>20}".rstrip()


def _change(before: int, after: int) -> str:
    if not before:
        return human(after - before)
    return f"{human(after - before)} ({_percent(after - before, before):+.0f}%)"


def _headroom(headroom: int) -> str:
    return f"headroom {human(headroom)}" if headroom >= 0 else f"OVER by {human(-headroom)}"


def to_markdown(report: BuildReport) -> str:
    """A compact summary for a pull-request comment or $GITHUB_STEP_SUMMARY."""
    before, after = report.before, report.after
    limit = limits(report)
    lines = [
        f"### lambda-slim: {report.project} ({report.runtime}, {report.arch})",
        "",
        "| | files | unzipped | zipped |",
        "|---|---:|---:|---:|",
        f"| before (pip install -t) | {before.files:,} | {human(before.unzipped_bytes)} "
        f"| {human(before.zipped_bytes)} |",
        f"| **after** | {after.files:,} | **{human(after.unzipped_bytes)}** | **{human(after.zipped_bytes)}** |",
        f"| change | {after.files - before.files:+,} | {_change(before.unzipped_bytes, after.unzipped_bytes)} "
        f"| {_change(before.zipped_bytes, after.zipped_bytes)} |",
        "",
        f"Limits: unzipped {human(limit['total_unzipped_bytes'])} of 250 MiB "
        f"({_headroom(limit['unzipped_headroom_bytes'])}); zip {human(limit['largest_zip_bytes'])} of 50 MiB "
        f"direct upload ({_headroom(limit['zipped_headroom_bytes'])})"
        + (f"; {limit['layers']} of {_sizes.MAX_LAYERS} layers" if limit["layers"] else "")
        + ".",
    ]
    if report.image is not None:
        image = report.image
        lines += [
            "",
            f"Container image: `{image.dockerfile}` (FROM `{image.base}`, {image.platform}, CMD `{image.handler}`)"
            + (
                f". **The zips are not deployable as zips**: {image.zips_refused}"
                if image.zips_refused
                else "; the zips deploy as zips too."
            ),
        ]
    if report.skipped:
        lines += [""] + [f"> **not done**: {item.what} ({item.why})" for item in report.skipped]
    lines += _coldstart_markdown(report.coldstart)
    if report.slowest_imports:
        lines += ["", "| slowest imports in init | distribution | cumulative | share |", "|---|---|---:|---:|"]
        lines += [
            f"| `{item.module}` | {item.distribution} | {item.cumulative_ms:,.1f} ms | {item.share_percent:.1f}% |"
            for item in report.slowest_imports
        ]
    if report.rules:
        top = ", ".join(f"{r.rule} {human(r.bytes)}" for r in report.rules[:4])
        lines += ["", f"Removed by rule: {top}."]
    for artifact, name in zip(report.artifacts, report.artifact_names, strict=False):
        lines.append(f"`{name}` CodeSha256 `{artifact.code_sha256}`")
    lines += [f"> warning: {w}" for w in report.warnings]
    if report.next_steps:
        lines += ["", "#### Next steps", ""]
        lines += [f"- {step.message} (**{step.at_stake()}** at stake)" for step in report.next_steps]
    return "\n".join(lines) + "\n"
