"""BuildReport: what a build did to size, per rule and per distribution, against Lambda's limits; text and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambda_slim import _sizes
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._sandbox.coldstart import ColdStart
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
        "warnings": list(report.warnings),
    }
    return json.dumps(data, indent=2) + "\n"


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
        "measured": None
        if measured is None
        else {
            "what": measured.what,
            "runs": measured.runs,
            "unslimmed_ms": round(measured.naive_ms, 1),
            "slimmed_ms": round(measured.slim_ms, 1),
            "bytecode_stripped_ms": None if measured.no_bytecode_ms is None else round(measured.no_bytecode_ms, 1),
            "speedup_vs_bytecode_stripped": None
            if measured.speedup_vs_no_bytecode is None
            else round(measured.speedup_vs_no_bytecode, 2),
        },
        "estimate": {
            "fetch_ms": round(estimate.fetch_ms, 1),
            "unpack_ms": round(estimate.unpack_ms, 1),
            "compile_ms": round(estimate.compile_ms, 1),
            "total_ms": round(estimate.total_ms, 1),
            "model": "docs/coldstart.md",
        },
        "by_memory": {
            "basis": coldstart.basis,
            "rows": [
                {"memory_mb": size, "init_ms": round(init, 1), "cold_start_ms": round(total, 1)}
                for size, init, total in coldstart.memory_table
            ],
        },
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
    lines += _verification_text(report.verification) + _coldstart_text(report.coldstart)
    lines += _slowest_imports_text(report.slowest_imports)
    lines += _skipped_text(report.skipped)
    for artifact, name in zip(report.artifacts, report.artifact_names, strict=False):
        lines += ["", name, f"  sha256      {artifact.sha256}", f"  CodeSha256  {artifact.code_sha256}"]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


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
            f"cold start, measured here: {measured.what} imported, median of {measured.runs} fresh processes",
            f"  {'unslimmed install, valid pycs':32}{measured.naive_ms:>10,.0f} ms",
            f"  {'this package':32}{measured.slim_ms:>10,.0f} ms",
        ]
        if measured.no_bytecode_ms is not None and measured.speedup_vs_no_bytecode is not None:
            lines.append(
                f"  {'this package without bytecode':32}{measured.no_bytecode_ms:>10,.0f} ms"
                f"  ({measured.speedup_vs_no_bytecode:.1f}x slower: what shipping no pycs costs)"
            )
    estimate = coldstart.estimate
    lines += [
        f"estimated package cost (docs/coldstart.md): fetch {estimate.fetch_ms:,.0f} ms, "
        f"unpack {estimate.unpack_ms:,.0f} ms, compiling modules without pycs {estimate.compile_ms:,.0f} ms",
        _memory_caption(coldstart),
        f"  {'memory':>8}{'init':>12}{'cold start':>14}",
    ]
    lines += [f"  {size:>5} MB{init:>9,.0f} ms{total:>11,.0f} ms" for size, init, total in coldstart.memory_table]
    return lines


def _memory_caption(coldstart: ColdStart) -> str:
    if coldstart.basis == "measured":
        return (
            "estimated by memory size (init: the measured import scaled by CPU share; cold start: plus fetch, unpack)"
        )
    # Without a measurement only compiling is known of the init: the import of valid pycs is not estimated.
    return (
        "estimated by memory size (init: only compiling modules without pycs, as nothing was measured; "
        "cold start: plus fetch, unpack)"
    )


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
    if report.skipped:
        lines += [""] + [f"> **not done**: {item.what} ({item.why})" for item in report.skipped]
    coldstart = report.coldstart
    if coldstart is not None and coldstart.measured is not None:
        measured = coldstart.measured
        lines += [
            "",
            f"| cold start ({measured.what}, median of {measured.runs}) | init |",
            "|---|---:|",
            f"| unslimmed, valid pycs | {measured.naive_ms:,.0f} ms |",
            f"| **this package** | **{measured.slim_ms:,.0f} ms** |",
        ]
        if measured.no_bytecode_ms is not None:
            lines.append(f"| this package without bytecode | {measured.no_bytecode_ms:,.0f} ms |")
    if coldstart is not None:
        lines += ["", "| memory | est. init | est. cold start |", "|---:|---:|---:|"]
        lines += [f"| {size} MB | {init:,.0f} ms | {total:,.0f} ms |" for size, init, total in coldstart.memory_table]
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
    return "\n".join(lines) + "\n"
