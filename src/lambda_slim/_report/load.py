"""Build reports read back from their JSON form: the one reader of that JSON, whether a file the user names (a
baseline), the record of the last build in dist/, or the text a build just wrote; and the BuildReport a rebuild
with nothing changed reports without building."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from lambda_slim._analyze.render import SCHEMA as ANALYZE_SCHEMA
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.config import read_json
from lambda_slim._report.build_report import (
    SCHEMA,
    BuildReport,
    Bytecode,
    ContainerImage,
    DistributionSizes,
    NextStep,
    RuleSavings,
    Skipped,
    SlowImport,
    Totals,
    Verification,
)
from lambda_slim._sandbox.coldstart import ColdStart, Estimate, Machine, Measured, MemoryRow, Timing
from lambda_slim._version import __version__

# What each schema's readers index without looking: a report without one was cut short or edited by hand.
_REQUIRED_KEYS = {
    SCHEMA: ("project", "target", "dependencies", "before", "after", "rules", "distributions", "bytecode",
             "artifacts", "warnings", "limits"),
    ANALYZE_SCHEMA: ("archives", "totals", "cold_start_estimate"),
}  # fmt: skip
# A baseline for growth is either: what a build wrote, or what `slim analyze` read from zips.
BASELINE_SCHEMAS = (SCHEMA, ANALYZE_SCHEMA)
_WRITE_AGAIN = "write it again with this lambda-slim: `slim build --format json -o FILE`"


def read_report(source: Path | str, what: str = "build report", schemas: Collection[str] = (SCHEMA,)) -> dict[str, Any]:
    """A build report's JSON (or, when `schemas` allows it, an analyze report's), parsed and checked: from a file
    when `source` is a Path, else from JSON text. `what` names it in messages ("baseline").

    Raises ConfigError naming the file when it cannot be read, is not JSON, is not a lambda-slim report, or is one
    of another schema (another kind of report, or another version's)."""
    if isinstance(source, Path):
        return checked_report(read_json(source, what), f"the {what} {source}", schemas)
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the {what} is not valid JSON ({exc}).") from exc
    return checked_report(data, f"the {what}", schemas)


def checked_report(data: object, where: str, schemas: Collection[str] = (SCHEMA,)) -> dict[str, Any]:
    """`data`, parsed JSON, when it is a report of one of `schemas` with the keys its readers use; `where` names
    it in messages ("the baseline /tmp/b.json"). read_report's check, for a report held inside other JSON."""
    if not isinstance(data, dict) or not str(data.get("schema")).startswith("lambda-slim/"):
        raise ConfigError(f"{where} is not a lambda-slim JSON report: {_WRITE_AGAIN}.")
    schema = data["schema"]
    if schema not in schemas:
        raise ConfigError(
            f"{where} is a {schema!r} report, and lambda-slim {__version__} reads {' or '.join(map(repr, schemas))} "
            f"here: {_WRITE_AGAIN}."
        )
    missing = [key for key in _REQUIRED_KEYS.get(schema, ()) if key not in data]
    if missing:
        raise ConfigError(f"{where} has no {', '.join(missing)}: it was cut short or edited; {_WRITE_AGAIN}.")
    return data


def _totals(data: dict[str, Any]) -> Totals:
    return Totals(data["files"], data["unzipped_bytes"], data["zipped_bytes"])


def _coldstart(data: dict[str, Any] | None) -> ColdStart | None:
    if data is None:
        return None
    estimate = data["estimate"]
    by_memory = data["by_memory"]
    return ColdStart(
        measured=None if data["measured"] is None else _measured(data["measured"]),
        estimate=Estimate(estimate["fetch_ms"], estimate["unpack_ms"], estimate["compile_ms"]),
        memory_table=tuple(
            MemoryRow(row["memory_mb"], row["init_ms"], row["cold_start_ms"], row.get("invoke_ms"))
            for row in by_memory["rows"]
        ),
        basis=by_memory["basis"],
        # Reports written before init-cpu existed scaled init by memory, as "proportional" does.
        init_cpu=by_memory.get("init_cpu", "proportional"),
    )


def _measured(measured: dict[str, Any]) -> Measured:
    """A report written before the spread was recorded gives the median only: its runs' spread is unknown, and
    taken as none."""
    spread = measured.get("spread") or {}

    def timing(name: str, median: float) -> Timing:
        found = spread.get(name)
        return Timing(median, median, median) if found is None else Timing(median, found["min_ms"], found["max_ms"])

    def recorded(name: str) -> Timing | None:
        found = measured.get(name)
        return None if found is None else Timing(found["median_ms"], found["min_ms"], found["max_ms"])

    stripped = measured["bytecode_stripped_ms"]
    machine = measured.get("machine")
    return Measured(
        measured["what"],
        measured["runs"],
        timing("unslimmed", measured["unslimmed_ms"]),
        timing("slimmed", measured["slimmed_ms"]),
        None if stripped is None else timing("bytecode-stripped", stripped),
        recorded("invoke"),
        None if machine is None else Machine(machine["cores"], machine["load_start"], machine["load_end"]),
        recorded("reference"),
    )


def _image(data: dict[str, Any] | None) -> ContainerImage | None:
    if data is None:
        return None
    return ContainerImage(
        data["dockerfile"],
        data["tree"],
        data["base_image"],
        data["platform"],
        data["cmd"],
        data["unzipped_bytes"],
        data["zips_refused"],
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
        image=_image(data.get("image")),
        next_steps=tuple(
            NextStep(step["kind"], step["message"], step.get("bytes"), step.get("ms"))
            for step in data.get("next_steps", [])
        ),
        slowest_imports=tuple(
            SlowImport(item["module"], item["distribution"], item["cumulative_ms"], item["share_percent"])
            for item in data.get("slowest_imports", [])
        ),
    )
