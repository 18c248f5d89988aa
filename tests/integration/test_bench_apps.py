"""The bench apps, built from PyPI: the acceptance tests of `slim build`. Select with -m network."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from packaging.version import Version

from lambda_slim._cli.main import main
from lambda_slim._sizes import UNZIPPED_LIMIT
from tests.helpers import build_json

pytestmark = pytest.mark.network

BENCH = Path(os.environ.get("SLIM_BENCH_APPS", Path(__file__).resolve().parents[3] / "shared" / "bench" / "apps"))


def app(name: str, tmp_path: Path) -> Path:
    if not (BENCH / name).is_dir():
        pytest.skip(f"bench app {name} not found under {BENCH} (set SLIM_BENCH_APPS)")
    return Path(shutil.copytree(BENCH / name, tmp_path / name))


def build(project: Path, *args: str) -> dict[str, Any]:
    return build_json(project, "--runtime", "python3.11", *args)


@pytest.fixture(scope="module")
def default_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[Path, dict[str, Any]]]]:
    """An app built with the default options, once for the tests that read that build (etl's takes half a minute),
    in the environment of the first of them; removed with the module."""
    root = tmp_path_factory.mktemp("bench-builds")
    built: dict[str, tuple[Path, dict[str, Any]]] = {}

    def get(name: str) -> tuple[Path, dict[str, Any]]:
        if name not in built:
            project = app(name, root)
            built[name] = (project, build(project))
        return built[name]

    yield get
    shutil.rmtree(root, ignore_errors=True)


def verify(zip_path: Path, project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "verify", "--zip", str(zip_path), "--handler", "handler.handler",
            "--event", str(project / "event.json"), "--expected", str(project / "expected.json"),
        ],
    )  # fmt: skip
    return result.exit_code, result.stdout


def invoke(project: Path, tmp_path: Path) -> object:
    """Unpack like Lambda, read-only, and call the handler in an isolated interpreter that cannot write bytecode."""
    task = tmp_path / "task"
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        archive.extractall(task)
    for path in [task, *task.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    code = (
        f"import sys, json; sys.path.insert(0, {str(task)!r}); import handler; "
        f"print(json.dumps(handler.handler(json.load(open({str(project / 'event.json')!r})), None)))"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=False)
    for path in [task, *task.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the bench apps target python3.11")
@pytest.mark.parametrize("name", ["api", "etl", "web"])
@pytest.mark.xdist_group("bench-apps-default-build")  # one worker builds each app once for both tests
def test_bench_app_builds_and_returns_expected(
    name: str, tmp_path: Path, default_build: Callable[[str], tuple[Path, dict[str, Any]]]
) -> None:
    project, report = default_build(name)
    assert invoke(project, tmp_path) == json.loads((project / "expected.json").read_text())
    assert report["after"]["unzipped_bytes"] <= report["before"]["unzipped_bytes"]
    if name == "etl":
        # The naive install is ~293 MB, over Lambda's limit; the build must fit.
        assert report["before"]["unzipped_bytes"] > UNZIPPED_LIMIT
        assert report["after"]["unzipped_bytes"] < UNZIPPED_LIMIT
        numpy = next(d for d in report["distributions"] if d["name"] == "numpy")
        # The newest numpy publishes no wheel for glibc 2.26: resolving for the host picks it (pip-compile does) and
        # the install then fails. The version the build chose installed, and is older than that.
        assert Version(numpy["version"]) < Version("2.4")
    if name == "api":
        members = zipfile.ZipFile(project / "dist" / "function.zip").namelist()
        tops = {m.split("/")[0].split("-")[0].lower() for m in members}
        assert not tops & {"pytest", "moto", "ruff", "_pytest"}
    second = build(project, "--force")  # a real second build, not the reuse of the first
    assert second["artifacts"][0]["sha256"] == report["artifacts"][0]["sha256"]


GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.skipif(
    sys.version_info[:3] != (3, 11, 7) or platform.machine() != "x86_64",
    reason="the zips were recorded with CPython 3.11.7 on x86_64",
)
@pytest.mark.parametrize("name", ["api", "etl", "web"])
def test_bench_app_builds_the_zip_recorded_before_the_move(name: str, tmp_path: Path) -> None:
    """Issue 15 moved the code into subpackages: a bench app built from the slim.lock recorded before the move (so
    that a new release on PyPI cannot change what is installed) writes the same bytes it wrote then."""
    project = app(name, tmp_path)
    shutil.copyfile(GOLDEN / "bench-locks" / f"{name}.slim.lock", project / "slim.lock")
    report = build(project, "--locked", "--measure-runs", "0")
    recorded = json.loads((GOLDEN / "bench-zips.json").read_text())[name]
    assert {Path(a["path"]).name: a["sha256"] for a in report["artifacts"]} == recorded


# A module each handler imports, deleted from a copy of the zip: verify must fail and name it.
IMPORTED = {"api": "requests/models", "etl": "pandas/core/frame", "web": "jinja2/environment"}


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the bench apps target python3.11")
@pytest.mark.parametrize("name", ["api", "etl", "web"])
def test_bench_app_verifies_and_measures(name: str, tmp_path: Path) -> None:
    project = app(name, tmp_path)
    report = build(
        project, "--handler", "handler.handler", "--event", str(project / "event.json"), "--measure-without-bytecode"
    )
    assert report["verification"]["handler"] == "handler.handler"
    assert report["verification"]["restored"] == []
    measured = report["cold_start"]["measured"]
    assert measured["bytecode_stripped_ms"] > measured["slimmed_ms"]
    zip_path = project / "dist" / "function.zip"
    code, out = verify(zip_path, project)
    assert code == 0, out
    assert "result: matches --expected exactly" in out

    module = IMPORTED[name]
    broken = tmp_path / "broken.zip"
    stem = module.rsplit("/", 1)
    dropped = (module + ".py", f"{stem[0]}/__pycache__/{stem[1]}.")
    with zipfile.ZipFile(zip_path) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            if not info.filename.startswith(dropped):
                zout.writestr(info, zin.read(info))
    code, out = verify(broken, project)
    assert code == 1
    assert f"No module named '{module.replace('/', '.')}'" in out


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the bench apps target python3.11")
def test_etl_with_auto_layers(tmp_path: Path) -> None:
    project = app("etl", tmp_path)
    report = build(project, "--layers", "auto", "--measure-runs", "0")
    dist = project / "dist"
    manifest = json.loads((dist / "slim-manifest.json").read_text())
    layers = [a for a in manifest["artifacts"] if a["kind"] == "layer"]
    assert {layer["name"] for layer in layers} == {"numpy", "pandas", "pyarrow"}
    assert manifest["totals"]["fits"] and manifest["totals"]["unzipped_bytes"] < UNZIPPED_LIMIT
    for layer in layers:
        assert all(n.startswith("python/") for n in zipfile.ZipFile(dist / layer["file"]).namelist())
    result = CliRunner().invoke(
        main,
        ["verify", str(dist), "--handler", "handler.handler",
         "--event", str(project / "event.json"), "--expected", str(project / "expected.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout

    handler = project / "handler.py"
    handler.write_text(handler.read_text() + "\n# only the app changes\n")
    again = build(project, "--layers", "auto", "--measure-runs", "0")
    shas = {a["path"]: a["sha256"] for a in report["artifacts"]}
    for artifact in again["artifacts"]:
        if artifact["kind"] == "layer":
            assert artifact["sha256"] == shas[artifact["path"]]


def naive_zip(project: Path, tmp_path: Path) -> Path:
    """The bench README's baseline: pip install -t with the target's wheels, the handler copied in, zip -r."""
    build_dir = tmp_path / "naive"
    if (project / "requirements.txt").exists():
        requirements = ["-r", str(project / "requirements.txt")]
    else:
        import tomllib

        requirements = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *requirements, "-t", str(build_dir),
         "--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--only-binary=:all:"],
        check=True,
    )  # fmt: skip
    shutil.copy(project / "handler.py", build_dir)
    out = tmp_path / "naive.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(build_dir.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(build_dir).as_posix())
    return out


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the bench apps target python3.11")
@pytest.mark.parametrize("name", ["api", "etl", "web"])
@pytest.mark.xdist_group("bench-apps-default-build")  # one worker builds each app once for both tests
def test_analyze_of_the_naive_zip_predicts_what_build_removes(
    name: str, tmp_path: Path, default_build: Callable[[str], tuple[Path, dict[str, Any]]]
) -> None:
    project = app(name, tmp_path)
    result = CliRunner().invoke(main, ["analyze", str(naive_zip(project, tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    analysis = json.loads(result.stdout)
    _, report = default_build(name)  # the rules' work: the same with or without the measurement
    removed = sum(rule["bytes"] for rule in report["rules"])
    assert abs(analysis["would_remove"]["bytes"] - removed) <= 0.02 * removed
    top = {"api": "aws-lambda-powertools", "etl": "pyarrow", "web": "sqlalchemy"}[name]
    assert analysis["distributions"][0]["name"] == top


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the bench apps target python3.11")
@pytest.mark.parametrize("name", ["api", "etl", "web"])
def test_traced_pruning_keeps_results_and_cuts_below_070(name: str, tmp_path: Path) -> None:
    project = app(name, tmp_path)
    report = build(
        project, "--handler", "handler.handler", "--event", str(project / "event.json"), "--prune", "traced",
        "--measure-runs", "0",
    )  # fmt: skip
    assert report["after"]["unzipped_bytes"] <= 0.70 * report["before"]["unzipped_bytes"]
    assert [rule for rule in report["rules"] if rule["name"] == "traced"]
    code, out = verify(project / "dist" / "function.zip", project)
    assert code == 0, out
    assert "result: matches --expected exactly" in out
