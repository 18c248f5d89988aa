"""aws-services: finding the services an app calls, and the rule that drops the other models."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim._artifacts.inventory import FileEntry, Inventory
from lambda_slim._errors import ConfigError
from lambda_slim._slimming.awsservices import ALWAYS_KEPT, kept_services, service_of, services_in_code
from lambda_slim._slimming.rules import decide, ruleset


def code(tmp_path: Path, source: str) -> list[tuple[str, Path]]:
    path = tmp_path / "handler.py"
    path.write_text(source)
    return [("handler.py", path)]


def test_client_resource_and_session_calls_with_literal_names(tmp_path: Path) -> None:
    source = """
import boto3
from boto3 import client as make_client
from boto3.session import Session

s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table("t")
queue = boto3.session.Session().client(service_name="sqs")
events = Session(region_name="eu-west-1").client("events")
session = boto3.Session()
secrets = session.client("secretsmanager")
sagemaker = make_client("runtime.sagemaker")
cache = redis.client("not-aws")  # not boto3: ignored
"""
    assert services_in_code(code(tmp_path, source)) == {
        "s3", "dynamodb", "sqs", "events", "secretsmanager", "sagemaker-runtime"
    }  # fmt: skip


def test_a_name_that_is_not_a_literal_is_refused_with_the_call(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        services_in_code(code(tmp_path, "import boto3\nname = 's3'\n\nclient = boto3.client(name)\n"))
    assert "handler.py:4" in str(caught.value) and "boto3.client(name)" in str(caught.value)
    assert 'aws-services = ["s3", "dynamodb"]' in str(caught.value)


def test_kept_services_adds_the_ones_botocore_needs(tmp_path: Path) -> None:
    assert kept_services(("s3",), []) == {"s3"} | ALWAYS_KEPT
    assert kept_services(("auto", "ssm"), code(tmp_path, "import boto3\nboto3.client('s3')\n")) == (
        {"s3", "ssm"} | ALWAYS_KEPT
    )


def test_service_of() -> None:
    assert service_of("botocore/data/s3/2006-03-01/service-2.json.gz") == "s3"
    assert service_of("boto3/data/dynamodb/2012-08-10/resources-1.json") == "dynamodb"
    assert service_of("botocore/data/endpoints.json") is None
    assert service_of("botocore/client.py") is None


def test_the_rule_removes_only_unused_models_and_only_when_asked() -> None:
    paths = [
        "botocore/data/endpoints.json",
        "botocore/data/s3/2006-03-01/service-2.json.gz",
        "botocore/data/ec2/2016-11-15/service-2.json.gz",
        "botocore/data/sts/2011-06-15/service-2.json.gz",
        "boto3/data/ec2/2016-11-15/resources-1.json",
        "botocore/client.py",
    ]
    inventory = Inventory(tuple(FileEntry(path, 10, "botocore") for path in paths))
    untouched = decide(inventory, ruleset(), "cpython-311")
    assert all(d.action == "keep" for d in untouched)
    pruned = {d.path: d for d in decide(inventory, ruleset(), "cpython-311", aws_services=kept_services(("s3",), []))}
    removed = {path for path, d in pruned.items() if d.action == "remove"}
    assert removed == {"botocore/data/ec2/2016-11-15/service-2.json.gz", "boto3/data/ec2/2016-11-15/resources-1.json"}
    assert {pruned[path].rule for path in removed} == {"aws-services"}
