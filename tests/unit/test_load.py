"""The one reader of build-report JSON: a file or text, checked for its schema, naming the file when it is not one;
and the record of the last build, whose report it checks the same way."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lambda_slim._artifacts.reuse import CACHE_FILE, recall, remember
from lambda_slim._errors import ConfigError
from lambda_slim._report.build_report import SCHEMA, to_json
from lambda_slim._report.load import BASELINE_SCHEMAS, build_report_from_json, read_report
from tests.unit.test_report import report


def written(tmp_path: Path, text: str, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(source: Path | str, *schemas: str) -> str:
    with pytest.raises(ConfigError) as caught:
        read_report(source, "baseline", schemas or (SCHEMA,))
    return str(caught.value)


def test_a_build_report_reads_back_from_a_file_or_from_text(tmp_path: Path) -> None:
    text = to_json(report())
    from_text = read_report(text)
    assert from_text == read_report(written(tmp_path, text)) == json.loads(text)
    assert build_report_from_json(from_text, Path("dist")).project == "orders-api"


def test_truncated_json_names_the_file(tmp_path: Path) -> None:
    path = written(tmp_path, to_json(report())[:200])
    assert refusal(path).startswith(f"the baseline {path} is not valid JSON (")


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    assert refusal(tmp_path / "gone.json").startswith(f"cannot read the baseline {tmp_path / 'gone.json'}: ")


@pytest.mark.parametrize("text", ['{"schema": "something-else"}', "[1, 2]", '"lambda-slim/build-report/1"', "{}"])
def test_json_that_is_not_a_lambda_slim_report_is_refused(tmp_path: Path, text: str) -> None:
    path = written(tmp_path, text)
    assert refusal(path).startswith(f"the baseline {path} is not a lambda-slim JSON report: write it again")


def test_a_report_of_another_schema_version_is_refused_naming_both(tmp_path: Path) -> None:
    data = json.loads(to_json(report()))
    data["schema"] = "lambda-slim/build-report/2"
    path = written(tmp_path, json.dumps(data))
    message = refusal(path)
    assert message.startswith(f"the baseline {path} is a 'lambda-slim/build-report/2' report, and lambda-slim ")
    assert "reads 'lambda-slim/build-report/1' here" in message


def test_an_analyze_report_is_a_baseline_but_not_a_build_report(tmp_path: Path) -> None:
    analyze = {"schema": "lambda-slim/analyze-report/1", "archives": [], "totals": {}, "cold_start_estimate": {}}
    path = written(tmp_path, json.dumps(analyze))
    assert read_report(path, "baseline", BASELINE_SCHEMAS) == analyze
    assert "is a 'lambda-slim/analyze-report/1' report" in refusal(path)


def test_a_report_cut_short_says_what_it_lacks(tmp_path: Path) -> None:
    data = json.loads(to_json(report()))
    del data["artifacts"], data["limits"]
    assert "has no artifacts, limits: it was cut short or edited" in refusal(written(tmp_path, json.dumps(data)))


# --- the record of the last build ---------------------------------------------------------------------------------


def last_build(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """A dist/ that holds the function.zip its recorded report names, byte for byte."""
    dist_dir = tmp_path / "dist"
    dist_dir.mkdir()
    (dist_dir / "function.zip").write_bytes(b"zip bytes")
    data = json.loads(to_json(report()))
    data["artifacts"][0]["sha256"] = hashlib.sha256(b"zip bytes").hexdigest()
    return dist_dir, data


def test_the_last_build_is_recalled_when_its_report_is_one_and_its_zips_are_unchanged(tmp_path: Path) -> None:
    dist_dir, data = last_build(tmp_path)
    remember(dist_dir, "key", json.dumps(data))
    assert recall(dist_dir, "key") == data
    assert recall(dist_dir, "another key") is None


@pytest.mark.parametrize("schema", ["lambda-slim/build-report/2", "lambda-slim/analyze-report/1", None])
def test_a_last_build_whose_report_is_not_one_this_version_reads_is_built_again(
    tmp_path: Path, schema: str | None
) -> None:
    dist_dir, data = last_build(tmp_path)
    data["schema"] = schema
    (dist_dir / CACHE_FILE).write_text(json.dumps({"fingerprint": "key", "report": data}))
    assert recall(dist_dir, "key") is None
