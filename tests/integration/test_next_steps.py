"""The build report's next steps: each one's bytes are what taking the step takes off, checked by taking it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_slim import BuildOptions, build
from lambda_slim._report.build_report import BuildReport, NextStep
from tests.helpers import copy_fixture


def steps_by_kind(report: BuildReport) -> dict[str, NextStep]:
    return {step.kind: step for step in report.next_steps}


def set_slim(project: Path, line: str) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + line + "\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture("next-steps-boto3", tmp_path)


@pytest.mark.usefixtures("offline_pip")
def test_runtime_provided_step_is_what_excluding_takes_off(project: Path) -> None:
    bundled = build(project)
    steps = steps_by_kind(bundled)
    assert set(steps) == {"runtime-provided", "aws-services", "dev-dependency"}  # under 50 MiB: no layers step
    step = steps["runtime-provided"]
    # What only boto3's family needs goes with it; sharedlib stays, appclient needs it too.
    assert "boto3, botocore, jmespath, onlyforboto, s3transfer to the Lambda runtime" in step.message
    set_slim(project, 'runtime-provided = "exclude"')
    excluded = build(project)
    assert step.bytes == bundled.after.unzipped_bytes - excluded.after.unzipped_bytes > 0
    # Turned on, it is no next step; nor are the models of a botocore that is not shipped.
    assert set(steps_by_kind(excluded)) == {"dev-dependency"}


@pytest.mark.usefixtures("offline_pip")
def test_aws_services_step_is_what_auto_takes_off(project: Path) -> None:
    every_model = build(project)
    step = steps_by_kind(every_model)["aws-services"]
    assert "models of 1 services" in step.message and "(it calls s3)" in step.message  # ec2 goes; sts always stays
    set_slim(project, 'aws-services = "auto"')
    auto = build(project)
    assert step.bytes == every_model.after.unzipped_bytes - auto.after.unzipped_bytes > 0
    assert "aws-services" not in steps_by_kind(auto) and "runtime-provided" in steps_by_kind(auto)


@pytest.mark.usefixtures("offline_pip")
def test_a_dev_tool_and_what_only_it_needs(project: Path) -> None:
    report = build(project)
    step = steps_by_kind(report)["dev-dependency"]
    assert step.message.startswith("pytest is a development tool, shipped with devtooldep, which only it needs;")
    assert "the project asks for it (pyproject.toml [project] dependencies)" in step.message
    sizes = {d.name: d.after_bytes for d in report.distributions}
    assert step.bytes == sizes["pytest"] + sizes["devtooldep"]
    # The reused slim.lock still knows who asks for what: the same step from a second build.
    assert steps_by_kind(build(project, BuildOptions(force=True)))["dev-dependency"] == step


@pytest.mark.usefixtures("offline_pip")
def test_layers_step_predicts_the_function_zip_layers_give(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_slim import _sizes

    whole = build(project).artifacts[0].zipped_bytes
    monkeypatch.setattr(_sizes, "DIRECT_UPLOAD_LIMIT", whole - 1)  # the function zip is just over the limit
    over = build(project, BuildOptions(force=True))
    step = steps_by_kind(over)["layers"]
    assert step.message.startswith('--layers auto (or [tool.slim] layers = "auto") would move ')
    layered = build(project, BuildOptions(layers="auto"))
    [function] = [a for a in layered.artifacts if a.kind == "function"]
    assert step.bytes == whole - function.zipped_bytes > 0
    assert "layers" not in steps_by_kind(layered)


@pytest.mark.network
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="built for python3.11")
def test_a_real_boto3_app_is_told_what_each_setting_takes_off(tmp_path: Path) -> None:
    project = copy_fixture("boto3-app", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('aws-services = "auto"\n', ""))
    bundled = build(project, BuildOptions(measure_runs=0))
    steps = steps_by_kind(bundled)
    assert set(steps) == {"runtime-provided", "aws-services"}
    assert "(it calls dynamodb, s3)" in steps["aws-services"].message
    set_slim(project, 'aws-services = "auto"')
    auto = build(project, BuildOptions(measure_runs=0))
    assert steps["aws-services"].bytes == bundled.after.unzipped_bytes - auto.after.unzipped_bytes
    # Every dependency of this app is boto3's: excluding the family leaves the app alone.
    app = next(d.after_bytes for d in bundled.distributions if d.name == "(app)")
    assert steps["runtime-provided"].bytes == bundled.after.unzipped_bytes - app
