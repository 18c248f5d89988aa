"""report: text and JSON renderings of a fabricated BuildReport (golden files) and Lambda's size limits.

Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 pytest tests/unit/test_report.py`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from lambda_slim import __version__
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._report.build_report import (
    SCHEMA,
    BuildReport,
    Bytecode,
    DistributionSizes,
    RuleSavings,
    Skipped,
    SlowImport,
    Totals,
    Verification,
    limits,
    to_json,
    to_markdown,
    to_text,
)
from lambda_slim._report.load import build_report_from_json
from lambda_slim._sandbox.coldstart import Measured, cold_start, estimate
from lambda_slim._sizes import DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT
from lambda_slim._slimming.rules import Decision

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256(b"test")
CODE_SHA256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
MIB = 1024 * 1024


def artifact(zipped: int = 9_876_543, unzipped: int = 31_415_926, kind: str = "function") -> Artifact:
    return Artifact(Path("/work/project/dist/function.zip"), kind, 1_234, zipped, unzipped, SHA256)


def report(*artifacts: Artifact, **changes: Any) -> BuildReport:
    chosen = artifacts or (artifact(),)
    built = BuildReport(
        project="orders-api",
        runtime="python3.12",
        arch="arm64",
        glibc="2.34",
        dependency_source="pyproject.toml [project] dependencies",
        lock_status="slim.lock written",
        before=Totals(files=4_321, unzipped_bytes=98_765_432, zipped_bytes=34_567_890),
        after=Totals(files=1_234, unzipped_bytes=31_415_926, zipped_bytes=9_876_543),
        rules=(
            RuleSavings("tests", "test packages (`tests` and `test` directories)", 1_500, 40_000_000),
            RuleSavings("debug-symbols", "debug sections of shared libraries", 12, 20_971_520),
            RuleSavings("type-stubs", "type stubs", 300, 1_048_576),
        ),
        distributions=(
            DistributionSizes("numpy", "2.1.3", 1_200, 60_000_000, 700, 25_000_000),
            DistributionSizes("botocore", "1.35.0", 2_000, 30_000_000, 400, 5_000_000),
            DistributionSizes("(app)", "", 20, 65_432, 20, 65_432),
            DistributionSizes("six", "1.16.0", 3, 34_000, 2, 33_000),
        ),
        bytecode=Bytecode(enabled=True, modules=987, bytes=7_654_321, failed=(("pkg/py2only.py", "invalid syntax"),)),
        artifacts=chosen,
        artifact_names=tuple("dist/function.zip" if a.kind == "function" else "dist/layer.zip" for a in chosen),
        warnings=("debug symbols were left in 2 shared libraries: no strip for aarch64 was found.",),
        verification=Verification(("handler", "numpy", "six"), ("broken_optional",), "handler.handler", ()),
        coldstart=cold_start(
            Measured("handler handler.handler", 3, naive_ms=412.0, slim_ms=398.5, no_bytecode_ms=1650.25),
            estimate(9_876_543, 31_415_926, 1_234, 0),
        ),
        decisions=(Decision("pkg/tests/test_x.py", "remove", "tests"),),
        slowest_imports=(
            SlowImport("numpy", "numpy", 180.25, 45.2),
            SlowImport("numpy._core", "numpy", 120.5, 30.2),
            SlowImport("six", "six", 3.0, 0.8),
        ),
    )
    return dataclasses.replace(built, **changes)


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1 to write it"
    assert rendered == path.read_text(encoding="utf-8")


# --- golden files -------------------------------------------------------------------------------------------------


def test_text_report_golden() -> None:
    check_golden("build-report.txt", to_text(report()))


def test_json_report_golden() -> None:
    check_golden("build-report.json", to_json(report()))


def test_markdown_report_golden() -> None:
    check_golden("build-report.md", to_markdown(report()))


def test_reports_without_verification_or_measurement() -> None:
    bare = report(verification=None, coldstart=None)
    assert json.loads(to_json(bare))["cold_start"] is None
    assert "cold start, measured" not in to_text(bare) and "verified:" not in to_text(bare)


def test_skipped_work_in_every_format() -> None:
    skipped = (
        Skipped("verification", "turned off: --no-verify or [tool.slim] verify = false"),
        Skipped("cold-start measurement", "it runs with verification, which is turned off"),
    )
    bare = report(verification=None, coldstart=cold_start(None, estimate(1, 1, 1, 0)), skipped=skipped)
    assert "\nnot done: verification (turned off: --no-verify or [tool.slim] verify = false)\n" in to_text(bare)
    assert "\nnot done: cold-start measurement (it runs with verification" in to_text(bare)
    assert "> **not done**: verification (turned off: --no-verify" in to_markdown(bare)
    assert json.loads(to_json(bare))["skipped"] == [{"what": s.what, "why": s.why} for s in skipped]
    assert build_report_from_json(json.loads(to_json(bare)), Path("dist")).skipped == skipped
    assert json.loads(to_json(report()))["skipped"] == []
    assert "not done" not in to_text(report()) + to_markdown(report())


def test_slowest_imports_in_every_format_and_read_back() -> None:
    full = report()
    assert "slowest imports in the handler's init" in to_text(full)
    assert "     180.2 ms  45.2%  numpy (numpy)" in to_text(full)
    assert "| `numpy._core` | numpy | 120.5 ms | 30.2% |" in to_markdown(full)
    assert json.loads(to_json(full))["slowest_imports"][0] == {
        "module": "numpy", "distribution": "numpy", "cumulative_ms": 180.2, "share_percent": 45.2,
    }  # fmt: skip
    read_back = build_report_from_json(json.loads(to_json(full)), Path("dist")).slowest_imports
    assert [item.module for item in read_back] == ["numpy", "numpy._core", "six"]
    bare = report(slowest_imports=())
    assert "slowest imports" not in to_text(bare) + to_markdown(bare)
    assert json.loads(to_json(bare))["slowest_imports"] == []


def test_cold_start_in_json() -> None:
    data = json.loads(to_json(report()))["cold_start"]
    assert data["measured"]["speedup_vs_bytecode_stripped"] == round(1650.25 / 398.5, 2)
    rows = {row["memory_mb"]: row for row in data["by_memory"]["rows"]}
    assert rows[128]["init_ms"] > rows[1769]["init_ms"] == rows[3008]["init_ms"]
    assert rows[1769]["cold_start_ms"] > rows[1769]["init_ms"]


# --- JSON structure -----------------------------------------------------------------------------------------------


def test_json_artifacts_and_totals() -> None:
    data = json.loads(to_json(report()))
    assert data["schema"] == SCHEMA
    assert data["tool"] == {"name": "lambda-slim", "version": __version__}
    assert data["artifacts"] == [
        {
            "path": "dist/function.zip",
            "kind": "function",
            "name": "function",
            "distributions": [],
            "files": 1_234,
            "zipped_bytes": 9_876_543,
            "unzipped_bytes": 31_415_926,
            "sha256": SHA256,
            "code_sha256": CODE_SHA256,
        }
    ]
    assert data["before"] == {"files": 4_321, "unzipped_bytes": 98_765_432, "zipped_bytes": 34_567_890}
    assert data["after"] == {"files": 1_234, "unzipped_bytes": 31_415_926, "zipped_bytes": 9_876_543}
    assert data["saved"] == {
        "unzipped_bytes": 98_765_432 - 31_415_926,
        "zipped_bytes": 34_567_890 - 9_876_543,
        "unzipped_percent": 68.2,
        "zipped_percent": 71.4,
    }


def test_json_leaves_out_per_file_decisions() -> None:
    rendered = to_json(report())
    assert "decisions" not in json.loads(rendered)
    assert "pkg/tests/test_x.py" not in rendered


def test_json_lists_rules_distributions_bytecode_and_warnings_in_order() -> None:
    data = json.loads(to_json(report()))
    assert [rule["name"] for rule in data["rules"]] == ["tests", "debug-symbols", "type-stubs"]
    assert [dist["name"] for dist in data["distributions"]] == ["numpy", "botocore", "(app)", "six"]
    assert data["bytecode"]["failed"] == [{"path": "pkg/py2only.py", "error": "invalid syntax"}]
    assert data["warnings"] == list(report().warnings)
    assert data["target"] == {"runtime": "python3.12", "arch": "arm64", "glibc": "2.34"}
    assert data["dependencies"] == {"source": "pyproject.toml [project] dependencies", "lock": "slim.lock written"}


def test_json_percentages_of_an_empty_before_are_zero() -> None:
    empty = Totals(0, 0, 0)
    data = json.loads(to_json(report(before=empty, after=empty)))
    assert data["saved"]["unzipped_percent"] == 0.0
    assert data["saved"]["zipped_percent"] == 0.0


# --- limits -------------------------------------------------------------------------------------------------------


def test_fits_with_headroom() -> None:
    assert limits(report(artifact(zipped=10 * MIB, unzipped=100_000_000))) == {
        "direct_upload_zipped_bytes": DIRECT_UPLOAD_LIMIT,
        "unzipped_bytes": UNZIPPED_LIMIT,
        "layers_limit": 5,
        "largest_zip_bytes": 10 * MIB,
        "total_unzipped_bytes": 100_000_000,
        "external_layers": 0,
        "external_layers_bytes": 0,
        "layers": 0,
        "zipped_headroom_bytes": 40 * MIB,
        "unzipped_headroom_bytes": 162_144_000,
        "fits_direct_upload": True,
        "fits_unzipped": True,
        "fits_layers": True,
    }


def test_external_layers_count_in_the_limits() -> None:
    own = report(
        artifact(unzipped=UNZIPPED_LIMIT - 1_000),
        artifact(kind="layer"),
        external_layers=4,
        external_layers_bytes=1_001,
    )
    result = limits(own)
    assert result["total_unzipped_bytes"] == UNZIPPED_LIMIT - 1_000 + 31_415_926 + 1_001
    assert (result["layers"], result["fits_layers"], result["fits_unzipped"]) == (5, True, False)
    text = to_text(dataclasses.replace(own, external_layers=5))
    assert "with 1001 B of your own layers (external-layers-bytes)" in text
    assert "6 of 5  (OVER by 1)" in text
    assert "; 5 of 5 layers." in to_markdown(own)


def test_exactly_at_the_limits_fits() -> None:
    result = limits(report(artifact(zipped=DIRECT_UPLOAD_LIMIT, unzipped=UNZIPPED_LIMIT)))
    assert result["fits_direct_upload"] and result["fits_unzipped"]
    assert result["zipped_headroom_bytes"] == result["unzipped_headroom_bytes"] == 0


def test_one_byte_over_the_zipped_limit() -> None:
    result = limits(report(artifact(zipped=DIRECT_UPLOAD_LIMIT + 1)))
    assert result["fits_direct_upload"] is False
    assert result["zipped_headroom_bytes"] == -1
    assert result["fits_unzipped"] is True


def test_one_byte_over_the_unzipped_limit() -> None:
    result = limits(report(artifact(unzipped=UNZIPPED_LIMIT + 1)))
    assert result["fits_unzipped"] is False
    assert result["unzipped_headroom_bytes"] == -1
    assert result["fits_direct_upload"] is True


def test_unzipped_adds_up_every_artifact_and_zipped_takes_the_largest() -> None:
    function = artifact(zipped=30 * MIB, unzipped=150_000_000)
    layer = artifact(zipped=40 * MIB, unzipped=150_000_000, kind="layer")
    result = limits(report(function, layer))
    assert result["largest_zip_bytes"] == 40 * MIB
    assert result["fits_direct_upload"] is True
    assert result["total_unzipped_bytes"] == 300_000_000
    assert result["fits_unzipped"] is False
    assert result["unzipped_headroom_bytes"] == UNZIPPED_LIMIT - 300_000_000


def test_no_artifacts() -> None:
    result = limits(report(artifacts=(), artifact_names=()))
    assert (result["largest_zip_bytes"], result["total_unzipped_bytes"]) == (0, 0)
    assert result["fits_direct_upload"] and result["fits_unzipped"]


def limit_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("Lambda limits")
    return lines[start + 1 : start + 3]


def test_text_shows_headroom_when_it_fits() -> None:
    zipped, unzipped = limit_lines(to_text(report(artifact(zipped=10 * MIB, unzipped=100_000_000))))
    assert zipped.endswith("(headroom 40.0 MiB)")
    assert unzipped.endswith("(headroom 154.6 MiB)")


def test_text_shows_over_when_above_a_limit() -> None:
    over = artifact(zipped=DIRECT_UPLOAD_LIMIT + 3 * MIB, unzipped=UNZIPPED_LIMIT + 2048)
    zipped, unzipped = limit_lines(to_text(report(over)))
    assert zipped.endswith("(OVER by 3.0 MiB)")
    assert unzipped.endswith("(OVER by 2.0 KiB)")
    assert "262,144,000 bytes" in unzipped


# --- text details -------------------------------------------------------------------------------------------------


def test_text_without_bytecode_or_rules() -> None:
    text = to_text(report(rules=(), bytecode=Bytecode(False, 0, 0, ())))
    assert "bytecode: off (--no-compile)" in text
    assert "removed by rule" not in text


def test_text_lists_the_largest_distributions_only() -> None:
    text = to_text(report(), top=2)
    assert "numpy 2.1.3" in text
    assert "botocore 1.35.0" in text
    assert "six 1.16.0" not in text
