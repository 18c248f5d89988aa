"""A BuildReport read back from its JSON form: what a rebuild with nothing changed reports without building."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_slim._artifacts.archive import Artifact
from lambda_slim._report.build_report import (
    BuildReport,
    Bytecode,
    DistributionSizes,
    RuleSavings,
    Skipped,
    Totals,
    Verification,
)
from lambda_slim._sandbox.coldstart import ColdStart, Estimate, Measured


def _totals(data: dict[str, Any]) -> Totals:
    return Totals(data["files"], data["unzipped_bytes"], data["zipped_bytes"])


def _coldstart(data: dict[str, Any] | None) -> ColdStart | None:
    if data is None:
        return None
    measured = data["measured"]
    estimate = data["estimate"]
    return ColdStart(
        measured=None
        if measured is None
        else Measured(
            measured["what"],
            measured["runs"],
            measured["unslimmed_ms"],
            measured["slimmed_ms"],
            measured["bytecode_stripped_ms"],
        ),
        estimate=Estimate(estimate["fetch_ms"], estimate["unpack_ms"], estimate["compile_ms"]),
        memory_table=tuple(
            (row["memory_mb"], row["init_ms"], row["cold_start_ms"]) for row in data["by_memory"]["rows"]
        ),
        basis=data["by_memory"]["basis"],
    )


def build_report_from_json(data: dict[str, Any], dist_dir: Path) -> BuildReport:
    verification = data.get("verification")
    artifacts = tuple(
        Artifact(
            dist_dir / Path(a["path"]).name,
            a["kind"],
            a["files"],
            a["zipped_bytes"],
            a["unzipped_bytes"],
            a["sha256"],
            a.get("name", "function"),
            tuple(a.get("distributions", ())),
        )
        for a in data["artifacts"]
    )
    return BuildReport(
        project=data["project"],
        runtime=data["target"]["runtime"],
        arch=data["target"]["arch"],
        glibc=data["target"]["glibc"],
        dependency_source=data["dependencies"]["source"],
        lock_status=data["dependencies"]["lock"],
        before=_totals(data["before"]),
        after=_totals(data["after"]),
        rules=tuple(RuleSavings(r["name"], r["description"], r["files"], r["bytes"]) for r in data["rules"]),
        distributions=tuple(
            DistributionSizes(
                d["name"], d["version"], d["before_files"], d["before_bytes"], d["after_files"], d["after_bytes"]
            )
            for d in data["distributions"]
        ),
        bytecode=Bytecode(
            data["bytecode"]["enabled"],
            data["bytecode"]["modules"],
            data["bytecode"]["bytes"],
            tuple((f["path"], f["error"]) for f in data["bytecode"]["failed"]),
        ),
        artifacts=artifacts,
        artifact_names=tuple(a["path"] for a in data["artifacts"]),
        warnings=tuple(data["warnings"]),
        verification=None
        if verification is None
        else Verification(
            tuple(verification["checked_modules"]),
            tuple(verification["skipped_modules"]),
            verification["handler"],
            tuple(verification["restored"]),
        ),
        coldstart=_coldstart(data.get("cold_start")),
        skipped=tuple(Skipped(item["what"], item["why"]) for item in data.get("skipped", [])),
        external_layers=data["limits"].get("external_layers", 0),
        external_layers_bytes=data["limits"].get("external_layers_bytes", 0),
    )
