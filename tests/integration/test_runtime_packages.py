"""The runtime's own packages (/var/runtime: boto3, botocore, s3transfer, jmespath, python-dateutil, six, urllib3)
stand in after the function in every check, so a check never fails where Lambda would not; never shipped, never
more than that set, and when they cannot be installed, said out loud."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lambda_slim import BuildOptions, BuildReport, build
from lambda_slim._inputs.runtimeset import RUNTIME_SET_NAMES, RUNTIME_SETS
from lambda_slim._inputs.target import Target, host_runtime
from lambda_slim._slimming.runtimeprovided import merged_runtime_root, runtime_set_entry
from tests.helpers import copy_fixture, slim

NOT_INSTALLED = "runtime packages stand-in (not installed: "


def unpack_wheel(wheelhouse: Path, name: str, dest: Path) -> Path:
    [wheel] = wheelhouse.glob(f"{name}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(dest)
    return dest


def zip_names(project: Path) -> list[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return archive.namelist()


def zip_tops(project: Path) -> set[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return {name.split("/")[0] for name in archive.namelist()}


def prefill_runtime_set(cache: Path, wheelhouse: Path) -> Path:
    """The cache entry the default stand-in is read from, holding the fake jmespath, as a build would leave it."""
    return unpack_wheel(wheelhouse, "jmespath", runtime_set_entry(Target(host_runtime(), "x86_64"), cache))


def built_with_fake_jmespath(tmp_path: Path, wheelhouse: Path) -> tuple[Path, Path, BuildReport]:
    """The undeclared-import fixture built with --runtime-packages holding the fake jmespath: project, stand-in,
    report."""
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    runtime = unpack_wheel(wheelhouse, "jmespath", tmp_path / "runtime-packages")
    # Two runs: the measurement's own processes, unslimmed and slimmed, must see the stand-in too.
    return project, runtime, build(project, BuildOptions(runtime_packages=runtime, measure_runs=2))


@pytest.mark.usefixtures("offline_pip")
def test_an_undeclared_runtime_import_fails_offline_and_says_the_stand_in_was_not_installed(tmp_path: Path) -> None:
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    code, _, err = slim("build", str(project), "-q")
    assert code != 0
    assert "No module named 'jmespath'" in err
    assert "runtime packages stand-in not installed: " in err  # why the check could not be as Lambda runs it
    assert not (project / "dist" / "function.zip").exists()


@pytest.mark.usefixtures("offline_pip")
def test_a_build_without_the_stand_in_says_so_in_every_format(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, text, err = slim("build", str(project), "--measure-runs", "1")
    assert code == 0, err
    assert "not done: " + NOT_INSTALLED in text
    assert "runtime packages stand-in not done: not installed: " in err
    code, out, _ = slim("build", str(project), "--measure-runs", "1", "--format", "json", "-q", "--force")
    [skipped] = json.loads(out)["skipped"]
    assert skipped["what"] == "runtime packages stand-in" and skipped["why"].startswith("not installed: ")
    code, markdown, _ = slim("build", str(project), "--measure-runs", "1", "--format", "markdown", "-q", "--force")
    assert "> **not done**: " + NOT_INSTALLED in markdown


@pytest.mark.usefixtures("offline_pip")
def test_an_undeclared_runtime_import_builds_with_runtime_packages_and_the_stand_in_is_not_shipped(
    tmp_path: Path, wheelhouse: Path
) -> None:
    project, _, report = built_with_fake_jmespath(tmp_path, wheelhouse)
    assert report.verification is not None and report.verification.handler == "app.lambda_handler"
    assert report.skipped == () and report.coldstart is not None and report.coldstart.measured is not None
    assert "jmespath" not in zip_tops(project) and "app.py" in zip_tops(project)
    assert not any("jmespath" in name for name in zipfile.ZipFile(project / "dist" / "function.zip").namelist())


@pytest.mark.usefixtures("offline_pip")
def test_runtime_packages_in_pyproject_mean_the_same_as_the_flag(tmp_path: Path, wheelhouse: Path) -> None:
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    unpack_wheel(wheelhouse, "jmespath", project / "stand-in")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'runtime-packages = "stand-in"\n')
    (project / "stand-in" / "helpers.py").write_text("")  # a top-level-looking module in it is not app code either
    pyproject.write_text(
        pyproject.read_text().replace("[tool.slim]\n", '[tool.slim]\ninclude = ["*.py", "stand-in/**"]\n')
    )
    code, _, err = slim("build", str(project), "-q")
    assert code == 0, err
    assert not {name for name in zip_names(project) if "jmespath" in name or "stand-in" in name or "helpers" in name}
    pyproject.write_text(pyproject.read_text().replace('"stand-in"', '"nowhere"'))
    code, _, err = slim("build", str(project), "-q")
    assert code == 2 and "[tool.slim] runtime-packages in pyproject.toml names" in err


@pytest.mark.usefixtures("offline_pip")
def test_the_default_stand_in_comes_from_the_cache_and_verify_uses_it_too(
    tmp_path: Path, wheelhouse: Path, private_cache: Path
) -> None:
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    prefill_runtime_set(private_cache, wheelhouse)
    assert build(project).skipped == ()
    assert "jmespath" not in zip_tops(project)
    code, out, err = slim("verify", str(project / "dist"))
    assert code == 0, out + err
    assert "runtime packages stand-in" not in err


@pytest.mark.usefixtures("offline_pip")
def test_verify_without_the_stand_in_says_so_and_fails_on_the_undeclared_import(
    tmp_path: Path, wheelhouse: Path
) -> None:
    project, runtime, _ = built_with_fake_jmespath(tmp_path, wheelhouse)
    code, out, err = slim("verify", str(project / "dist"))
    assert code == 1 and "No module named 'jmespath'" in out + err
    assert "note: runtime packages stand-in not installed: " in err
    code, out, _ = slim("verify", str(project / "dist"), "--format", "json")
    assert code == 1 and json.loads(out)["runtime_packages_missing"].startswith("not installed: ")
    code, out, err = slim("verify", str(project / "dist"), "--runtime-packages", str(runtime))
    assert code == 0, out + err


@pytest.mark.usefixtures("offline_pip")
def test_an_undeclared_import_outside_the_runtime_set_still_fails(
    tmp_path: Path, wheelhouse: Path, private_cache: Path
) -> None:
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    prefill_runtime_set(private_cache, wheelhouse)
    app = project / "app.py"
    app.write_text(
        "import slimdep  # slimdemo's dependency: installed, but Lambda has no copy of it\n" + app.read_text()
    )
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace('["slimdemo"]', '["jmespath"]')
    )
    code, _, err = slim("build", str(project), "-q")
    assert code != 0 and "No module named 'slimdep'" in err


@pytest.mark.usefixtures("offline_pip")
def test_a_cache_entry_holding_more_than_the_runtime_set_is_never_used(
    tmp_path: Path, wheelhouse: Path, private_cache: Path
) -> None:
    project = copy_fixture("undeclared-runtime-import", tmp_path)
    entry = prefill_runtime_set(private_cache, wheelhouse)
    (entry / "slimdemo").mkdir()  # planted: would stand in for the declared dependency Lambda does not have
    (entry / "slimdemo" / "__init__.py").write_text("def greet(name):\n    return name\n")
    app = project / "app.py"
    app.write_text("import slimdemo\n\ndef lambda_handler(event, context):\n    return slimdemo.greet('x')\n")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace('["slimdemo"]', "[]"))
    code, _, err = slim("build", str(project), "-q")
    assert code != 0 and "No module named 'slimdemo'" in err
    assert not entry.exists()


def test_the_documented_set_is_exactly_the_runtime_packages_for_every_runtime() -> None:
    for runtime in ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"):
        assert set(RUNTIME_SETS[runtime]) == RUNTIME_SET_NAMES
        for version, sha256 in RUNTIME_SETS[runtime].values():
            assert version and len(sha256) == 64
    docs = (Path(__file__).resolve().parents[2] / "docs" / "runtime-packages.md").read_text()
    for version, _ in RUNTIME_SETS["python3.14"].values():
        assert version in docs


@pytest.mark.network
def test_a_sam_sample_with_powertools_builds_and_verifies_with_no_configuration(tmp_path: Path) -> None:
    project = tmp_path / "sam-powertools"
    project.mkdir()
    (project / "requirements.txt").write_text("aws-lambda-powertools==2.31.0\n")
    (project / "app.py").write_text(
        "from aws_lambda_powertools import Logger\n"
        "from aws_lambda_powertools.utilities.jmespath_utils import extract_data_from_envelope\n"
        "logger = Logger(service='sample')\n\n"
        "def lambda_handler(event, context):\n"
        "    return {'statusCode': 200, 'body': extract_data_from_envelope(data=event, envelope='body')}\n"
    )
    event = project / "event.json"
    event.write_text('{"body": "hello"}')
    # No handler, no runtime-packages: the build imports every module of the package, app's jmespath import too.
    report = build(project)
    assert report.skipped == () and report.verification is not None and "app" in report.verification.checked_modules
    assert "jmespath" not in zip_tops(project)
    code, out, err = slim("verify", str(project / "dist"), "--handler", "app.lambda_handler", "--event", str(event))
    assert code == 0, out + err


def dist(root: Path, name: str, files: dict[str, str]) -> None:
    """A distribution laid out as pip installs it, with the RECORD that says which files are its own."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    record = root / f"{name}-1.0.dist-info" / "RECORD"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("".join(f"{path},,\n" for path in [*files, record.relative_to(root).as_posix()]))


def test_what_the_build_left_to_the_runtime_keeps_its_locked_version_and_the_set_adds_the_rest(tmp_path: Path) -> None:
    locked, runtime_set = tmp_path / "locked", tmp_path / "set"
    dist(locked, "boto3", {"boto3/__init__.py": "VERSION = 'locked'\n"})
    dist(runtime_set, "boto3", {"boto3/__init__.py": "VERSION = 'set'\n", "boto3/extra.py": ""})
    dist(runtime_set, "jmespath", {"jmespath/__init__.py": ""})
    merged = merged_runtime_root(locked, runtime_set, tmp_path / "merged")
    assert merged == tmp_path / "merged"
    assert (merged / "boto3" / "__init__.py").read_text() == "VERSION = 'locked'\n"
    assert not (merged / "boto3" / "extra.py").exists()  # nothing of the set's boto3 mixes into the locked one
    assert (merged / "jmespath" / "__init__.py").is_file()
    assert merged_runtime_root(None, runtime_set, tmp_path / "unused") == runtime_set
