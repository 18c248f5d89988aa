"""runtime-provided = "exclude": boto3's family is left out, verified with the locked versions in the runtime's
place; a dependency something else needs stays."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim import build
from lambda_slim._cli.main import main
from lambda_slim._install.resolve import Lock, Pin
from lambda_slim._slimming.runtimeprovided import excluded_distributions
from tests.helpers import copy_fixture


def pin(name: str, *via: str) -> Pin:
    return Pin(name, "1", ("0" * 64,), via)


def test_the_closure_takes_only_what_nothing_else_needs() -> None:
    lock = Lock(
        "k",
        (
            pin("boto3", "-r requirements.txt"),
            pin("botocore", "boto3", "s3transfer"),
            pin("s3transfer", "boto3"),
            pin("jmespath", "boto3", "botocore"),
            pin("python-dateutil", "botocore"),
            pin("six", "python-dateutil"),
            pin("urllib3", "botocore", "requests"),
            pin("requests", "-r requirements.txt"),
            pin("pyyaml", "-r requirements.txt", "botocore"),
        ),
    )
    assert excluded_distributions(lock) == {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"}
    assert excluded_distributions(Lock("k", (pin("requests", "-r r.txt"),))) == frozenset()


@pytest.mark.usefixtures("offline_pip")
def test_excluded_packages_leave_the_zip_and_the_build_verifies_with_them_in_the_runtime_place(
    tmp_path: Path,
) -> None:
    project = copy_fixture("runtime-provided", tmp_path)
    report = build(project)
    tops = {name.split("/")[0] for name in zipfile.ZipFile(project / "dist" / "function.zip").namelist()}
    for gone in ("boto3", "botocore", "s3transfer", "jmespath", "onlyforboto"):
        assert gone not in tops
    assert {"appclient", "sharedlib", "handler.py"} <= tops  # sharedlib: appclient needs it too
    assert report.verification is not None
    assert report.verification.handler == "handler.handler" and report.verification.restored == ()
    assert "boto3" in report.verification.checked_modules
    [rule] = [rule for rule in report.rules if rule.rule == "runtime-provided"]
    assert rule.bytes > 0
    [warning] = [w for w in report.warnings if w.startswith("runtime-provided:")]
    assert "boto3 0.0.1" in warning and "whose version AWS chooses" in warning


@pytest.mark.usefixtures("offline_pip")
def test_without_the_stand_in_the_build_would_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_slim import _pipeline as pipeline

    monkeypatch.setattr(pipeline, "stand_in", lambda naive, inventory, dists, dest: dest)
    project = copy_fixture("runtime-provided", tmp_path)
    result = CliRunner().invoke(main, ["build", str(project), "-q"])
    assert result.exit_code != 0
    assert "No module named 'boto3'" in result.stderr


@pytest.mark.usefixtures("offline_pip")
def test_verify_stands_in_the_locked_versions_from_the_manifest(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("runtime-provided", tmp_path)
    assert CliRunner().invoke(main, ["build", str(project), "-q"]).exit_code == 0
    manifest = json.loads((project / "dist" / "slim-manifest.json").read_text())
    assert manifest["runtime_provided"] == {
        "boto3": "0.0.1", "botocore": "0.0.1", "jmespath": "0.0.1", "onlyforboto": "1.0", "s3transfer": "0.0.1"
    }  # fmt: skip
    (project / "event.json").write_text("{}")
    (project / "expected.json").write_text('{"boto3": "bundled", "client": "appclient"}')
    args = ["--handler", "handler.handler", "--event", str(project / "event.json")]
    passed = CliRunner().invoke(
        main, ["verify", str(project / "dist"), *args, "--expected", str(project / "expected.json")]
    )
    assert passed.exit_code == 0, passed.output
    assert list((private_cache / "runtime").iterdir())  # installed once, reused by later runs
    # The zip alone, with nothing in the runtime's place, does not import: the stand-in is what makes it pass.
    alone = CliRunner().invoke(main, ["verify", "--zip", str(project / "dist" / "function.zip"), *args])
    assert alone.exit_code == 1 and "No module named 'boto3'" in alone.output
    # A directory of the user's own choosing works as well.
    own = tmp_path / "runtime"
    (own / "boto3").mkdir(parents=True)
    (own / "boto3" / "__init__.py").write_text("VERSION = 'the runtime'\n")
    theirs = CliRunner().invoke(
        main, ["verify", "--zip", str(project / "dist" / "function.zip"), *args, "--runtime-packages", str(own)]
    )
    assert theirs.exit_code == 0, theirs.output
