"""aws-services in a build: offline with a botocore-shaped wheel; with the real boto3 from PyPI (network)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim import BuildOptions, build
from lambda_slim._cli.main import main
from tests.helpers import copy_fixture

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "projects"


@pytest.mark.usefixtures("offline_pip")
def test_auto_keeps_the_models_the_app_calls(tmp_path: Path) -> None:
    project = copy_fixture("aws-services-auto", tmp_path)
    report = build(project)
    members = set(zipfile.ZipFile(project / "dist" / "function.zip").namelist())
    assert "botocore/data/s3/2006-03-01/service-2.json" in members
    assert "botocore/data/sts/2011-06-15/service-2.json" in members  # botocore's credential providers need it
    assert "botocore/data/endpoints.json" in members
    assert not [name for name in members if name.startswith("botocore/data/ec2/")]
    [rule] = [rule for rule in report.rules if rule.rule == "aws-services"]
    assert rule.files == 1 and rule.bytes == len('{"operations": {}}') * 500
    assert any("the models of s3, sso, sso-oidc, sts stay" in warning for warning in report.warnings)


@pytest.mark.usefixtures("offline_pip")
def test_without_the_setting_every_model_stays(tmp_path: Path) -> None:
    project = copy_fixture("aws-services-auto", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('aws-services = "auto"\n', ""))
    build(project)
    members = set(zipfile.ZipFile(project / "dist" / "function.zip").namelist())
    assert "botocore/data/ec2/2016-11-15/service-2.json" in members


@pytest.mark.usefixtures("offline_pip")
def test_a_dynamic_service_name_stops_the_build_before_installing(tmp_path: Path) -> None:
    project = copy_fixture("aws-services-auto", tmp_path)
    (project / "handler.py").write_text("import boto3\n\n\ndef make(name):\n    return boto3.client(name)\n")
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 2
    assert "handler.py:5" in result.stderr and "boto3.client(name)" in result.stderr
    assert not (project / "slim.lock").exists()


@pytest.mark.network
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="built for python3.11")
def test_a_boto3_app_with_auto_works_and_is_under_40_percent(tmp_path: Path) -> None:
    project = copy_fixture("boto3-app", tmp_path)
    report = build(project, BuildOptions(handler="handler.handler", event=project / "event.json"))
    assert report.verification is not None and report.verification.restored == ()
    ratio = report.after.unzipped_bytes / report.before.unzipped_bytes
    assert ratio < 0.40, ratio
    result = CliRunner().invoke(
        main,
        ["verify", str(project / "dist"), "--handler", "handler.handler", "--event", str(project / "event.json"),
         "--expected", str(project / "expected.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
