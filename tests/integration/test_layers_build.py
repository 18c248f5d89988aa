"""Builds with layers: zips under python/, the manifest, verify finding the layers, stable layer bytes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim import BuildOptions, build
from lambda_slim._cli.main import main
from tests.helpers import copy_fixture, lower_the_unzipped_limit

pytestmark = pytest.mark.usefixtures("offline_pip")


# Cold-start measurement is not what these tests are about, and it is the slowest step of a build.
UNMEASURED = BuildOptions(measure_runs=0)


def test_layer_zip_manifest_and_verify(tmp_path: Path) -> None:
    project = copy_fixture("layered", tmp_path)
    report = build(project, UNMEASURED)
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == [
        ".slim-build.json",
        "function.zip",
        "layer-demo.zip",
        "slim-manifest.json",
    ]
    layer_members = zipfile.ZipFile(dist / "layer-demo.zip").namelist()
    assert layer_members and all(m.startswith("python/") for m in layer_members)
    assert "python/slimdemo/core.py" in layer_members and "python/slimdep/__init__.py" in layer_members
    function_members = zipfile.ZipFile(dist / "function.zip").namelist()
    assert not any(m.startswith(("slimdemo", "slimdep")) for m in function_members)
    assert "docspkg/docs/__init__.py" in function_members

    manifest = json.loads((dist / "slim-manifest.json").read_text())
    assert manifest["handler"] == "handler.handler"
    kinds = {a["file"]: a for a in manifest["artifacts"]}
    assert kinds["layer-demo.zip"]["kind"] == "layer"
    assert kinds["layer-demo.zip"]["distributions"] == ["slimdemo", "slimdep"]
    assert kinds["layer-demo.zip"]["compatible_runtimes"] == [report.runtime]
    assert kinds["layer-demo.zip"]["compatible_architectures"] == ["x86_64"]
    assert kinds["function.zip"]["code_sha256"] == report.artifacts[0].code_sha256
    assert manifest["totals"]["fits"] is True and manifest["totals"]["layers"] == 1

    (project / "event.json").write_text('{"name": "ada"}')
    (project / "expected.json").write_text('{"greeting": "hello ada", "topics": ["a"]}')
    result = CliRunner().invoke(
        main,
        ["verify", str(dist), "--event", str(project / "event.json"), "--expected", str(project / "expected.json")],
    )
    assert result.exit_code == 0, result.stdout
    assert "layer-demo.zip" in result.stdout and "matches --expected exactly" in result.stdout


def test_changing_only_the_app_leaves_layer_zips_byte_identical(tmp_path: Path) -> None:
    project = copy_fixture("layered", tmp_path)
    first = {a.path.name: a.sha256 for a in build(project, UNMEASURED).artifacts}
    handler = project / "handler.py"
    handler.write_text(handler.read_text() + "\n# a change to the app only\n")
    second = {a.path.name: a.sha256 for a in build(project, UNMEASURED).artifacts}
    assert second["layer-demo.zip"] == first["layer-demo.zip"]
    assert second["function.zip"] != first["function.zip"]


def test_a_layer_no_longer_planned_is_removed(tmp_path: Path) -> None:
    project = copy_fixture("layered", tmp_path)
    build(project, UNMEASURED)
    build(project, BuildOptions(measure_runs=0, layers="none"))
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        ".slim-build.json",
        "function.zip",
        "slim-manifest.json",
    ]


def test_one_distribution_over_the_limit_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lower_the_unzipped_limit(monkeypatch, 200_000)
    project = copy_fixture("one-distribution-over-the-limit", tmp_path)
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--measure-runs", "0"])
    assert result.exit_code == 1
    assert "bigdist alone is" in result.stderr and "over Lambda's limit of 200,000 bytes" in result.stderr
    assert "Biggest: bigdist" in result.stderr and "container image" in result.stderr
    assert not (project / "dist").exists()
