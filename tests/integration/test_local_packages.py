"""Local packages (a monorepo's shared library, a uv workspace member, a Poetry path dependency) and dependencies
published only as sdists: built into wheels in an isolated build, shipped when pure Python, and locked."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim import BuildOptions, build
from lambda_slim._cli.main import main
from tests.helpers import copy_fixture

pytestmark = pytest.mark.usefixtures("offline_pip")


def run_handler(project: Path, tmp_path: Path, module: str, event: str = "{}") -> str:
    """The handler's result, imported from the unpacked zip only, as Lambda would."""
    task = tmp_path / f"task-{project.name}"
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        archive.extractall(task)
    code = f"import sys, json; sys.path.insert(0, {str(task)!r}); import {module} as m; print(m.handler({event}, None))"
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_functions_share_one_local_library(tmp_path: Path) -> None:
    monorepo = copy_fixture("monorepo-shared-library", tmp_path)
    for function in ("orders", "payments"):  # a pyproject `shared @ file:...` and a requirements `-e ../..`
        project = monorepo / "functions" / function
        report = build(project)
        assert "the monorepo's own library" in run_handler(project, tmp_path, "handler", '{"amounts": [2]}')
        lock = (project / "slim.lock").read_text()
        assert "shared @ file:../../lib/shared \\\n    --hash=sha256:" in lock
        assert "slimdep==2.0" in lock  # the library's own dependency, resolved for the target with the rest
        assert str(tmp_path) not in lock  # nothing of this machine's paths
        versions = {d.name: d.version for d in report.distributions}
        assert versions["shared"] == "0.1.0"


def test_a_locked_local_package_installs_again_from_a_rebuilt_wheel(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("monorepo-shared-library", tmp_path) / "functions" / "orders"
    build(project)
    locked = (project / "slim.lock").read_text()
    shutil.rmtree(private_cache)  # neither the built wheel nor the installed tree is cached any more
    report = build(project, BuildOptions(locked=True))
    assert report.lock_status.startswith("slim.lock reused")
    assert (project / "slim.lock").read_text() == locked  # the rebuilt wheel has the locked hash
    assert "the monorepo's own library" in run_handler(project, tmp_path, "handler")


def test_a_local_package_whose_wheel_is_not_the_locked_one_is_never_installed_as_locked(tmp_path: Path) -> None:
    """A build backend that does not build the same bytes twice: the lock's hash is not checked against another
    wheel, and --locked says why it cannot be used."""
    project = copy_fixture("monorepo-shared-library", tmp_path) / "functions" / "orders"
    build(project)
    lock = project / "slim.lock"
    original = lock.read_text()
    locked_hash = original.split("shared @ file:../../lib/shared \\\n    --hash=sha256:", 1)[1][:64]
    lock.write_text(original.replace(locked_hash, "0" * 64))
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--locked"])
    assert result.exit_code == 1 and "records another wheel of the local package shared" in result.stderr
    report = build(project)
    assert report.lock_status == "slim.lock written"
    assert lock.read_text() == original


def test_a_changed_local_package_makes_slim_lock_stale(tmp_path: Path) -> None:
    monorepo = copy_fixture("monorepo-shared-library", tmp_path)
    project = monorepo / "functions" / "orders"
    build(project)
    with (monorepo / "lib" / "shared" / "shared" / "__init__.py").open("a") as module:
        module.write("CHANGED = True\n")
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--locked"])
    assert result.exit_code == 1 and "slim.lock is out of date" in result.stderr
    build(project)
    assert "CHANGED = True" in zipfile.ZipFile(project / "dist" / "function.zip").read("shared/__init__.py").decode()


def test_local_library_with_the_uv_installer(tmp_path: Path) -> None:
    if shutil.which("uv") is None and shutil.which("uv", path=Path(sys.executable).parent) is None:
        pytest.skip("uv is not installed")
    project = copy_fixture("monorepo-shared-library", tmp_path) / "functions" / "payments"
    build(project, BuildOptions(installer="uv"))
    assert "shared @ file:../../lib/shared" in (project / "slim.lock").read_text()
    assert "the monorepo's own library" in run_handler(project, tmp_path, "handler")


def test_uv_workspace_member_is_built_from_the_workspace(tmp_path: Path) -> None:
    project = copy_fixture("uv-workspace-member", tmp_path) / "functions" / "api"
    build(project)
    # shared depends on the member common by name: common is built too, never taken from the wheelhouse
    assert "the workspace member, with the workspace member common" in run_handler(project, tmp_path, "app")
    lock = (project / "slim.lock").read_text()
    assert "shared @ file:../../packages/shared" in lock and "slimdep==1.0" in lock
    assert "common @ file:../../packages/common" in lock


def test_poetry_path_dependency_is_built(tmp_path: Path) -> None:
    project = copy_fixture("poetry-path-dependency", tmp_path) / "function"
    build(project)
    assert "the Poetry path dependency" in run_handler(project, tmp_path, "handler")
    assert "mylib @ file:../lib/mylib" in (project / "slim.lock").read_text()


def test_an_absolute_file_url_to_a_local_directory_builds(tmp_path: Path) -> None:
    """How a project's own lock file (uv.lock, poetry.lock) hands its local packages on."""
    monorepo = copy_fixture("monorepo-shared-library", tmp_path)
    project = monorepo / "functions" / "payments"
    (project / "requirements.txt").write_text(f"shared @ {(monorepo / 'lib' / 'shared').as_uri()}\n")
    build(project)
    assert "the monorepo's own library" in run_handler(project, tmp_path, "handler")
    assert "shared @ file:../../lib/shared" in (project / "slim.lock").read_text()


def test_a_pure_sdist_only_dependency_is_built_and_shipped(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("sdist-only", tmp_path)
    build(project)
    assert "the sdist of onlysdist" in run_handler(project, tmp_path, "handler")
    built = list((private_cache / "built-wheels").glob("sdist-*/onlysdist-1.0-py3-none-any.whl"))
    assert len(built) == 1  # cached by the sdist's sha256


def test_an_sdist_built_dependency_is_locked_by_the_sdists_hash_and_installs_from_the_lock(
    tmp_path: Path, private_cache: Path, offline_pip: Path
) -> None:
    project = copy_fixture("sdist-only", tmp_path)
    (project / "requirements.txt").write_text("onlysdist\nsdistwithdep\n")  # not pinned: slim.lock is written
    build(project)
    lock = (project / "slim.lock").read_text()
    digest = hashlib.sha256((offline_pip / "onlysdist-1.0.tar.gz").read_bytes()).hexdigest()
    assert f"onlysdist==1.0 \\\n    --hash=sha256:{digest}\n    # built by lambda-slim from this sdist" in lock
    assert "slimdep==2.0" in lock  # the built sdist's own dependency
    shutil.rmtree(private_cache)
    report = build(project, BuildOptions(locked=True))
    assert report.lock_status.startswith("slim.lock reused")
    assert "the sdist of onlysdist" in run_handler(project, tmp_path, "handler")


def test_uv_names_an_sdist_only_dependency_and_how_to_build_it(tmp_path: Path) -> None:
    if shutil.which("uv") is None and shutil.which("uv", path=Path(sys.executable).parent) is None:
        pytest.skip("uv is not installed")
    project = copy_fixture("sdist-only", tmp_path)
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--installer", "uv"])
    assert result.exit_code == 1
    assert "onlysdist==1.0: only a source distribution (sdist) is published" in result.stderr
    assert "Build with --installer pip" in result.stderr


@pytest.mark.network
def test_docopt_published_only_as_an_sdist_builds_from_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "docopt-app"
    project.mkdir()
    (project / "requirements.txt").write_text("docopt==0.6.2\n")
    (project / "handler.py").write_text(
        "import docopt\n\n\ndef handler(event, context):\n    return docopt.docopt('usage: x [--y]', argv=[])\n"
    )
    build(project, BuildOptions(handler="handler.handler"))
    assert "--y" in run_handler(project, tmp_path, "handler")


def test_a_member_of_a_locked_uv_workspace_says_the_workspace_lock_is_not_read(tmp_path: Path) -> None:
    """Built from a fresh clone, a member of a uv workspace shipped freshly resolved versions while the workspace's
    uv.lock pinned others, and nothing said so."""
    workspace = copy_fixture("uv-workspace-member", tmp_path)
    (workspace / "uv.lock").write_text('version = 1\nrequires-python = ">=3.11"\n')
    result = CliRunner().invoke(main, ["build", str(workspace / "functions" / "api"), "--measure-runs", "0"])
    assert result.exit_code == 0, result.output
    assert "../../uv.lock is the lock of the uv workspace this project belongs to" in result.stderr
    assert "uv export --package <member>" in result.stderr
