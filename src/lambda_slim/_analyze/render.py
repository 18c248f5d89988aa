"""Rendering an AnalyzeReport: text, JSON, markdown, and one self-contained HTML file with a treemap."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from lambda_slim import _sizes
from lambda_slim._analyze.analysis import AnalyzeReport, Group
from lambda_slim._sizes import human
from lambda_slim._version import __version__

SCHEMA = "lambda-slim/analyze-report/1"
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
NO_FINDINGS = "no findings: none of the checks flagged anything"
_FINDINGS_TABLE = (
    '<h2>Findings</h2>\n<table id="findings"><thead><tr><th>severity</th><th>finding</th><th>at stake</th></tr>'
    "</thead><tbody></tbody></table>"
)


def to_data(report: AnalyzeReport) -> dict[str, Any]:
    estimate = report.coldstart.estimate
    return {
        "schema": SCHEMA,
        "tool": {"name": "lambda-slim", "version": __version__},
        "archives": [
            {
                "path": str(a.path),
                "kind": a.kind,
                "files": len(a.members),
                "zipped_bytes": a.zipped_bytes,
                "unzipped_bytes": sum(m.size for m in a.members),
                "zip64": a.zip64,
            }
            for a in report.archives
        ],
        "runtime": report.runtime,
        "arch": report.arch,
        "totals": {"files": report.files, "unzipped_bytes": report.unzipped_bytes, "zipped_bytes": report.zipped_bytes},
        "would_remove": {
            "bytes": report.would_remove_bytes,
            "rules": [
                {"name": r.rule, "description": r.description, "files": r.files, "bytes": r.bytes}
                for r in report.would_remove
            ],
        },
        "distributions": _groups(report.distributions),
        "top_level": _groups(report.top_level),
        "categories": _groups(report.categories),
        "findings": [
            {"kind": f.kind, "severity": f.severity, "bytes": f.bytes, "message": f.message, "paths": list(f.paths)}
            for f in _ordered(report)
        ],
        "limits": {
            "direct_upload_zipped_bytes": _sizes.DIRECT_UPLOAD_LIMIT,
            "unzipped_bytes": _sizes.UNZIPPED_LIMIT,
            "unzipped_headroom_bytes": _sizes.UNZIPPED_LIMIT - report.unzipped_bytes,
            "largest_zip_bytes": max(a.zipped_bytes for a in report.archives),
        },
        "cold_start_estimate": {
            "fetch_ms": round(estimate.fetch_ms, 1),
            "unpack_ms": round(estimate.unpack_ms, 1),
            "compile_ms": round(estimate.compile_ms, 1),
            "total_ms": round(estimate.total_ms, 1),
            "model": "docs/coldstart.md",
        },
    }


def to_json(report: AnalyzeReport) -> str:
    return json.dumps(to_data(report), indent=2) + "\n"


def _groups(groups: Sequence[Group]) -> list[dict[str, Any]]:
    return [
        {"name": g.name, "files": g.files, "unzipped_bytes": g.unzipped_bytes, "zipped_bytes": g.zipped_bytes}
        for g in groups
    ]


def _ordered(report: AnalyzeReport) -> list[Any]:
    return sorted(report.findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), -f.bytes, f.kind))


def to_text(report: AnalyzeReport, top: int = 10) -> str:
    names = ", ".join(f"{a.path.name} ({a.kind})" for a in report.archives)
    lines = [
        f"lambda-slim {__version__} analyze: {names}, for {report.runtime} {report.arch}",
        f"{report.files:,} files, {human(report.unzipped_bytes)} unzipped ({report.unzipped_bytes:,} bytes), "
        f"{human(report.zipped_bytes)} zipped",
        "",
        f"{'largest distributions':36}{'files':>8}{'unzipped':>12}{'zipped':>12}",
    ]
    lines += [_group_line(g) for g in report.distributions[:top]]
    lines += ["", f"{'by category':36}{'files':>8}{'unzipped':>12}{'zipped':>12}"]
    lines += [_group_line(g) for g in report.categories]
    lines += ["", f"{'largest top-level directories':36}{'files':>8}{'unzipped':>12}{'zipped':>12}"]
    lines += [_group_line(g) for g in report.top_level[:top]]
    # No heading over nothing: a report with no findings says so in a line.
    lines += ["", "findings" if report.findings else NO_FINDINGS]
    for finding in _ordered(report):
        at_stake = f" [{human(finding.bytes)}]" if finding.bytes else ""
        lines.append(f"  {finding.severity.upper():8}{finding.kind}{at_stake}: {finding.message}")
        lines += [f"            {path}" for path in finding.paths[:3]]
    estimate = report.coldstart.estimate
    lines += [
        "",
        f"estimated cold-start cost of this package (docs/coldstart.md): fetch {estimate.fetch_ms:,.0f} ms, "
        f"unpack {estimate.unpack_ms:,.0f} ms, compiling modules without usable pycs {estimate.compile_ms:,.0f} ms",
    ]
    return "\n".join(lines) + "\n"


def _group_line(group: Group) -> str:
    return f"  {group.name[:34]:34}{group.files:>8,}{human(group.unzipped_bytes):>12}{human(group.zipped_bytes):>12}"


def to_markdown(report: AnalyzeReport, top: int = 8) -> str:
    lines = [
        f"### lambda-slim analyze: {', '.join(a.path.name for a in report.archives)} ({report.runtime}, {report.arch})",
        "",
        f"{report.files:,} files, **{human(report.unzipped_bytes)}** unzipped, {human(report.zipped_bytes)} zipped; "
        f"slim build would remove **{human(report.would_remove_bytes)}**.",
        "",
        "| distribution | unzipped | zipped |",
        "|---|---:|---:|",
    ]
    lines += [f"| {g.name} | {human(g.unzipped_bytes)} | {human(g.zipped_bytes)} |" for g in report.distributions[:top]]
    lines += (
        ["", "| finding | at stake |", "|---|---:|"]
        if report.findings
        else ["", NO_FINDINGS[0].upper() + NO_FINDINGS[1:]]
    )
    for finding in _ordered(report):
        lines.append(f"| **{finding.severity}** {finding.message} | {human(finding.bytes) if finding.bytes else ''} |")
    return "\n".join(lines) + "\n"


def to_html(report: AnalyzeReport) -> str:
    """One file, no network: the data as JSON inside the page, the treemap drawn by a small inline script."""
    data = to_data(report)
    data["tree"] = _tree(report)
    payload = json.dumps(data).replace("<", "\\u003c")  # nothing in the data can close the script element
    template = resources.files("lambda_slim._analyze").joinpath("analyze.html").read_text(encoding="utf-8")
    title = html.escape(", ".join(a.path.name for a in report.archives))
    findings = _FINDINGS_TABLE if report.findings else f"<p>{NO_FINDINGS[0].upper() + NO_FINDINGS[1:]}</p>"
    return template.replace("{{TITLE}}", title).replace("{{FINDINGS}}", findings).replace("{{DATA}}", payload)


def _tree(report: AnalyzeReport, depth: int = 3) -> dict[str, Any]:
    """Distribution -> directories, `depth` levels deep; deeper files are summed into their directory."""
    root: dict[str, Any] = {"name": "all", "size": 0, "zipped": 0, "children": {}}
    for kind, distribution, path, size, zipped in report.entries:
        node = root
        node["size"] += size
        node["zipped"] += zipped
        parts = [f"{distribution}" + (" (layer)" if kind == "layer" else ""), *path.split("/")[: depth - 1]]
        for part in parts:
            node = node["children"].setdefault(part, {"name": part, "size": 0, "zipped": 0, "children": {}})
            node["size"] += size
            node["zipped"] += zipped

    def finish(node: dict[str, Any]) -> dict[str, Any]:
        children = sorted(node["children"].values(), key=lambda child: -child["size"])
        result = {"name": node["name"], "size": node["size"], "zipped": node["zipped"]}
        if children:
            result["children"] = [finish(child) for child in children]
        return result

    return finish(root)
