"""Environment markers (`; platform_machine == "aarch64"`, `; python_version < "3.12"`) are judged for the Lambda
target, not for the build machine: with pip and uv, direct and transitive, and in a requirements file that pins
everything. The host is x86_64, so arm64 builds cannot be verified here: they run with --no-verify and the tests
read the zip."""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import lambda_slim
from lambda_slim import BuildOptions, BuildReport
from lambda_slim._errors import ConfigError
from lambda_slim._install.resolve import read_lock
from lambda_slim._install.uv import find_uv

pytestmark = pytest.mark.usefixtures("offline_pip")

try:
    find_uv()
    INSTALLERS = ["pip", "uv"]
except ConfigError:
    INSTALLERS = ["pip", pytest.param("uv", marks=pytest.mark.skip(reason="uv is not installed"))]

HANDLER = "def handler(event, context):\n    return 'ok'\n"
# The package each architecture's marker selects, and the one it must leave out.
FOR_ARCH = {"x86_64": ("x86only", "armonly"), "arm64": ("armonly", "x86only")}


def make_project(root: Path, dependencies: list[str]) -> Path:
    root.mkdir(parents=True)
    (root / "handler.py").write_text(HANDLER)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "markers-app"\nversion = "0.1.0"\ndependencies = {json.dumps(dependencies)}\n'
    )
    return root


def build(project: Path, **options: Any) -> BuildReport:
    """A build for the target the options name, neither verified nor measured: both run the target's code, and this
    machine may not be able to."""
    return lambda_slim.build(project, BuildOptions(force=True, verify=False, measure_runs=0, **options))


def top_level_packages(project: Path) -> set[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return {name.split("/", 1)[0] for name in archive.namelist() if "/" in name}


def locked_names(project: Path) -> set[str]:
    lock = read_lock(project / "slim.lock")
    assert lock is not None
    return lock.names()


@pytest.mark.parametrize("installer", INSTALLERS)
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
@pytest.mark.parametrize("how", ["direct", "transitive"])
def test_markers_are_judged_for_the_target_arch(installer: str, arch: str, how: str, tmp_path: Path) -> None:
    dependencies = (
        ['armonly ; platform_machine == "aarch64"', 'x86only ; platform_machine == "x86_64"']
        if how == "direct"
        else ["crossdep"]
    )
    project = make_project(tmp_path / "app", dependencies)
    build(project, arch=arch, installer=installer)
    wanted, unwanted = FOR_ARCH[arch]
    packages = top_level_packages(project)
    assert wanted in packages and unwanted not in packages, packages
    assert wanted in locked_names(project) and unwanted not in locked_names(project)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_markers_are_judged_for_the_target_python_version(installer: str, tmp_path: Path) -> None:
    # A runtime whose minor version is not the build machine's, on either side of the markers' 3.12.
    runtime, wanted, unwanted = (
        ("python3.12", "newpy", "oldpy") if sys.version_info < (3, 12) else ("python3.11", "oldpy", "newpy")
    )
    minor = runtime.removeprefix("python")
    project = make_project(
        tmp_path / "app",
        [
            'newpy ; python_version >= "3.12"',
            'oldpy ; python_version < "3.12"',
            "crossdep",
            # The runtime runs a patch release of its Python, never 3.X.0 (uv takes `--python-version 3.12` so).
            f'patchrelease ; python_full_version > "{minor}.0"',
        ],
    )
    build(project, runtime=runtime, compile=False, installer=installer)
    packages = top_level_packages(project)
    assert wanted in packages and unwanted not in packages, packages
    assert "patchrelease" in packages


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("installer", INSTALLERS)
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_pinned_requirements_markers_are_judged_for_the_target_arch(
    installer: str, arch: str, offline_pip: Path, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "app", [])
    (project / "pyproject.toml").unlink()
    # As pip-compile writes a lock for several platforms: a marker on each line that is not for all of them.
    (project / "requirements.txt").write_text(
        f'armonly==1.0 ; platform_machine == "aarch64" \\\n'
        f"    --hash=sha256:{_sha256(offline_pip / 'armonly-1.0-py3-none-any.whl')}\n"
        f'x86only==1.0 ; platform_machine == "x86_64" \\\n'
        f"    --hash=sha256:{_sha256(offline_pip / 'x86only-1.0-py3-none-any.whl')}\n"
    )
    report = build(project, arch=arch, installer=installer)
    wanted, unwanted = FOR_ARCH[arch]
    packages = top_level_packages(project)
    assert wanted in packages and unwanted not in packages, packages
    # Every line that applies to the target is pinned, so the file is the lock: no slim.lock beside it.
    assert "used as is" in report.lock_status
    assert not (project / "slim.lock").exists()


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_locked_pins_with_markers_are_judged_for_the_target_arch(arch: str, offline_pip: Path, tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "app", ['armonly ; platform_machine == "aarch64"', 'x86only ; platform_machine == "x86_64"']
    )
    build(project, arch=arch)
    # The lock as a multi-platform tool writes it: both pins, each under its marker, and the key kept.
    header = "".join(
        line for line in (project / "slim.lock").read_text().splitlines(keepends=True) if line.startswith("#")
    )
    (project / "slim.lock").write_text(
        header + f'armonly==1.0 ; platform_machine == "aarch64" \\\n'
        f"    --hash=sha256:{_sha256(offline_pip / 'armonly-1.0-py3-none-any.whl')}\n"
        f'x86only==1.0 ; platform_machine == "x86_64" \\\n'
        f"    --hash=sha256:{_sha256(offline_pip / 'x86only-1.0-py3-none-any.whl')}\n"
    )
    report = build(project, arch=arch, locked=True)
    assert report.lock_status.startswith("slim.lock reused")
    wanted, unwanted = FOR_ARCH[arch]
    packages = top_level_packages(project)
    assert wanted in packages and unwanted not in packages, packages
