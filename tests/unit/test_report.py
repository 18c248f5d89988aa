"""report: text and JSON renderings of a fabricated BuildReport (golden files) and Lambda's size limits.

Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 pytest tests/unit/test_report.py`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from lambda_slim import __version__
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._inputs.config import InitCpu
from lambda_slim._report.build_report import (
    SCHEMA,
    BuildReport,
    Bytecode,
    DistributionSizes,
    NextStep,
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
from lambda_slim._sandbox.coldstart import BASIS, Machine, Measured, Timing, cold_start, estimate
from lambda_slim._sizes import DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT
from lambda_slim._slimming.rules import Decision

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256(b"test")
CODE_SHA256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
MIB = 1024 * 1024
NEXT_STEPS = (
    NextStep(
        "runtime-provided",
        'runtime-provided = "exclude" in [tool.slim] would leave boto3, botocore to the Lambda runtime',
        bytes=5_123_456,
    ),
    NextStep("deferrable-import", "import pandas inside the handler (handler.py:3)", ms=812.4),
)


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
            Measured(
                "handler handler.handler",
                3,
                naive=Timing(412.0, 405.5, 431.0),
                slim=Timing(398.5, 391.0, 420.25),
                no_bytecode=Timing(1650.25, 1601.0, 1702.5),
                invoke=Timing(12.5, 11.0, 14.0),
                machine=Machine(cores=2, load_start=0.42, load_end=0.61),
                reference=Timing(29.5, 27.0, 32.0),
            ),
            estimate(9_876_543, 31_415_926, 1_234, 0),
        ),
        decisions=(Decision("pkg/tests/test_x.py", "remove", "tests"),),
        next_steps=NEXT_STEPS,
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


def test_next_steps_come_last_in_every_format_and_round_trip() -> None:
    text, markdown = to_text(report()), to_markdown(report())
    assert text.endswith(
        "\nnext steps\n"
        '  - runtime-provided = "exclude" in [tool.slim] would leave boto3, botocore to the Lambda runtime '
        "(4.9 MiB at stake)\n"
        "  - import pandas inside the handler (handler.py:3) (812 ms at stake)\n"
    )
    assert markdown.endswith("(**812 ms** at stake)\n") and "\n#### Next steps\n" in markdown
    data = json.loads(to_json(report()))
    assert data["next_steps"] == [
        {"kind": "runtime-provided", "message": NEXT_STEPS[0].message, "bytes": 5_123_456, "ms": None},
        {"kind": "deferrable-import", "message": NEXT_STEPS[1].message, "bytes": None, "ms": 812.4},
    ]
    assert build_report_from_json(data, Path("dist")).next_steps == NEXT_STEPS
    # Nothing to recommend: no heading, an empty list.
    none = report(next_steps=())
    assert "next steps" not in to_text(none).lower() and "next steps" not in to_markdown(none).lower()
    assert json.loads(to_json(none))["next_steps"] == []


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
    # Init runs unthrottled: the measured import at every size; the invocation is throttled below one vCPU.
    assert (
        rows[128]["init_ms"] == rows[1769]["init_ms"] == rows[3008]["init_ms"] == 391.0
    )  # the fastest run times the host factor (1.0)
    assert rows[128]["invoke_ms"] == round(12.5 * 1769 / 128, 1) and rows[3008]["invoke_ms"] == 12.5
    assert rows[1769]["cold_start_ms"] > rows[1769]["init_ms"]
    assert data["by_memory"]["init_cpu"] == "unthrottled" and data["by_memory"]["init_warning"] is None
    assert data["measured"]["spread"]["slimmed"] == {"median_ms": 398.5, "min_ms": 391.0, "max_ms": 420.2,
                                                     "spread": 0.073}  # fmt: skip
    assert data["measured"]["machine"] == {"cores": 2, "load_start": 0.42, "load_end": 0.61}
    assert (data["measured"]["noisy"], data["measured"]["noise"]) == (False, [])


def test_the_cold_start_reads_back_from_json_as_it_was_written() -> None:
    # The reuse path reports the last build from its JSON: every field of the cold start must survive the trip.
    written = to_json(report())
    again = build_report_from_json(json.loads(written), Path("dist"))
    assert to_json(again) == written
    assert again.coldstart is not None and again.coldstart.measured is not None
    assert again.coldstart.measured.machine == Machine(2, 0.42, 0.61)
    assert again.coldstart.measured.slim == Timing(398.5, 391.0, 420.2)


def test_a_report_written_before_the_spread_reads_back_as_it_was_modelled() -> None:
    data = json.loads(to_json(report()))
    cold = data["cold_start"]
    for key in ("spread", "invoke", "machine", "noisy", "noise"):
        del cold["measured"][key]
    for key in ("init_cpu", "scaling", "init_limit_ms", "init_warning"):
        del cold["by_memory"][key]
    for row in cold["by_memory"]["rows"]:
        del row["invoke_ms"], row["init_over_limit"]
    old = build_report_from_json(data, Path("dist")).coldstart
    assert old is not None and old.measured is not None
    assert old.init_cpu == "proportional"  # what the table was computed with then
    assert old.measured.slim == Timing(398.5, 398.5, 398.5) and old.measured.machine is None
    assert "proportional" in to_text(dataclasses.replace(report(), coldstart=old))


def with_measurement(**changes: Any) -> BuildReport:
    built = report()
    assert built.coldstart is not None and built.coldstart.measured is not None
    measured = dataclasses.replace(built.coldstart.measured, **changes)
    return dataclasses.replace(built, coldstart=cold_start(measured, built.coldstart.estimate))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"slim": Timing(398.5, 301.0, 520.0)}, "the slimmed runs spread from 301 to 520 ms around a median of 398"),
        ({"machine": Machine(2, 3.5, 1.5)}, "the load (3.5 at the start, 1.5 at the end) was above the machine's 2"),
    ],
)
def test_a_noisy_measurement_is_labelled_noisy_in_every_format(changes: dict[str, Any], why: str) -> None:
    noisy = with_measurement(**changes)
    text, markdown, data = to_text(noisy), to_markdown(noisy), json.loads(to_json(noisy))
    assert f"\n  noisy: {why}" in text
    assert f"\n> **noisy**: {why}" in markdown
    assert data["cold_start"]["measured"]["noisy"] is True
    assert data["cold_start"]["measured"]["noise"][0].startswith(why)
    assert "Measure again when the machine is quiet" in text
    read_back = build_report_from_json(data, Path("dist")).coldstart
    assert read_back is not None and read_back.measured is not None and read_back.measured.noise()[0].startswith(why)
    steady = report()
    assert "noisy" not in to_text(steady) + to_markdown(steady)


def test_a_tight_spread_on_a_tiny_import_is_not_noise() -> None:
    # 3 to 5 ms is a 50% spread, and no reason to doubt a 4 ms import.
    assert not Measured("m", 3, Timing(4.0, 3.0, 5.0), Timing(4.0, 3.0, 5.0), None).noise()
    assert Measured("m", 3, Timing(40.0, 30.0, 50.0), Timing(40.0, 30.0, 50.0), None).noise()


@pytest.mark.parametrize("init_cpu", ["unthrottled", "proportional"])
def test_the_basis_of_the_memory_table_is_stated_in_every_format(init_cpu: InitCpu) -> None:
    built = report()
    assert built.coldstart is not None
    modelled = dataclasses.replace(
        built, coldstart=cold_start(built.coldstart.measured, built.coldstart.estimate, init_cpu)
    )
    basis = BASIS[init_cpu]
    assert f"\n  basis: {basis}\n" in to_text(modelled)
    assert f"\nBasis: {basis}.\n" in to_markdown(modelled)
    by_memory = json.loads(to_json(modelled))["cold_start"]["by_memory"]
    assert (by_memory["init_cpu"], by_memory["scaling"]) == (init_cpu, basis)
    init = {row["memory_mb"]: row["init_ms"] for row in by_memory["rows"]}
    assert init[128] == (round(391.0 * 1769 / 128, 1) if init_cpu == "proportional" else 391.0)


def test_an_init_over_lambdas_limit_is_a_warning_in_every_format() -> None:
    # A 1.5 s import, throttled at 128 MB: 20.7 s, past Lambda's 10 s init limit.
    slow = with_measurement(slim=Timing(1500.0, 1500.0, 1510.0))
    assert slow.coldstart is not None
    proportional = dataclasses.replace(
        slow, coldstart=cold_start(slow.coldstart.measured, slow.coldstart.estimate, "proportional")
    )
    warning = "the predicted init is over Lambda's 10 s init limit at 128 MB (20,730 ms): Lambda would stop it"
    assert f"\n  warning: {warning}" in to_text(proportional)
    assert f"\n> warning: {warning}" in to_markdown(proportional)
    by_memory = json.loads(to_json(proportional))["cold_start"]["by_memory"]
    assert by_memory["init_warning"].startswith(warning)
    assert [row["memory_mb"] for row in by_memory["rows"] if row["init_over_limit"]] == [128]
    assert "init limit" not in to_text(slow) + to_markdown(slow)  # unthrottled, 1.5 s at every size


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


def test_a_sub_millisecond_invocation_does_not_read_zero() -> None:
    quick = with_measurement(invoke=Timing(0.5, 0.4, 0.6))
    assert "  first invocation on the event          0.5 ms        0.4 - 0.6 ms\n" in to_text(quick)
    assert "| first invocation on the event | 0.5 ms | 0.4 - 0.6 ms |" in to_markdown(quick)
    assert "| 128 MB | 391 ms | 1,831 ms | 6.9 ms |" in to_markdown(quick)
