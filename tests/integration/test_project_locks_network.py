"""Lock files written by the real tools, from PyPI, built as locked: uv (slim's own environment has it), Poetry and
pipenv (from PATH, else installed from PyPI into a virtual environment of their own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import lambda_slim
from lambda_slim import BuildOptions
from lambda_slim._cli.main import main
from lambda_slim._errors import ConfigError
from lambda_slim._install.uv import find_uv

pytestmark = pytest.mark.network

HANDLER = "import six\n\n\ndef handler(event, context):\n    return six.__name__\n"


@pytest.fixture(scope="module")
def tools_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where Poetry and pipenv are installed from PyPI when they are not on PATH: a virtual environment of their
    own, so their dependencies (keyring...) never reach the environment lambda-slim's pip runs in."""
    return tmp_path_factory.mktemp("lock-tools") / "venv"


def tool(name: str, venv: Path | None = None) -> str:
    if name == "uv":
        try:
            return find_uv()
        except ConfigError:
            pytest.skip("uv is not installed")
    found = shutil.which(name)
    if found is not None or venv is None:
        if found is None:
            pytest.skip(f"{name} is not on PATH (`pip install {name}` into any virtual environment on PATH)")
        return found
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    installed = venv / "bin" / name
    if not installed.exists():
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", name], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return str(installed)


def run_tool(command: list[str], project: Path) -> None:
    # The tools must not see the test's own virtual environment as the project's.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PIP_CONFIG_FILE")}
    env["PIPENV_IGNORE_VIRTUALENVS"] = "1"
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def build(project: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["build", str(project), "--format", "json", "-q", "--force", "--measure-runs", "0", *args]
    )


def shipped(project: Path) -> set[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return {name.split("/", 1)[0] for name in archive.namelist()}


def assert_built_without_dev_group(project: Path, lock_name: str) -> None:
    report = lambda_slim.build(project, BuildOptions(force=True, measure_runs=0))
    assert report.dependency_source == lock_name
    files = shipped(project)
    assert "six.py" in files and "iniconfig" not in files, files
    assert not (project / "slim.lock").exists()


def project_of(root: Path, handler: str, files: dict[str, str]) -> Path:
    root.mkdir()
    (root / "handler.py").write_text(handler)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_real_uv_lock_builds_as_locked_without_its_dev_group(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "uv-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["six"]\n\n'
        '[dependency-groups]\ndev = ["iniconfig"]\n\n[tool.uv]\npackage = false\n'
    )
    project = project_of(tmp_path / "uv-app", HANDLER, {"pyproject.toml": pyproject})
    run_tool([tool("uv"), "lock"], project)
    assert_built_without_dev_group(project, "uv.lock")


def test_real_uv_lock_pinning_numpy_without_a_python311_wheel_fails_with_the_uv_fix(tmp_path: Path) -> None:
    # uv locks numpy for every Python >=3.11 at once; for 3.11 it pins 2.4.6, whose Linux wheels need glibc 2.27.
    pyproject = (
        '[project]\nname = "numpy-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["numpy"]\n'
    )
    handler = "import numpy\n\n\ndef handler(event, context):\n    return 1\n"
    project = project_of(tmp_path / "numpy-app", handler, {"pyproject.toml": pyproject})
    run_tool([tool("uv"), "lock"], project)
    result = build(project, "--runtime", "python3.11", "--no-verify")
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    assert "is pinned by uv.lock" in message and "numpy" in message and "manylinux_2_2" in message
    assert "constraint-dependencies" in message and "uv lock" in message


def test_real_poetry_lock_builds_as_locked_without_its_dev_group(tmp_path: Path, tools_venv: Path) -> None:
    poetry = tool("poetry", tools_venv)
    pyproject = (
        '[tool.poetry]\nname = "poetry-app"\nversion = "0.1.0"\ndescription = ""\nauthors = ["A <a@example.com>"]\n'
        'package-mode = false\n\n[tool.poetry.dependencies]\npython = "^3.11"\nsix = "*"\n\n'
        '[tool.poetry.group.dev.dependencies]\niniconfig = "*"\n'
    )
    project = project_of(tmp_path / "poetry-app", HANDLER, {"pyproject.toml": pyproject})
    run_tool([poetry, "lock"], project)
    assert_built_without_dev_group(project, "poetry.lock")


def test_real_pipfile_lock_builds_as_locked_without_its_dev_packages(tmp_path: Path, tools_venv: Path) -> None:
    pipenv = tool("pipenv", tools_venv)
    pipfile = (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\nsix = "*"\n\n[dev-packages]\niniconfig = "*"\n'
    )
    project = project_of(tmp_path / "pipenv-app", HANDLER, {"Pipfile": pipfile})
    run_tool([pipenv, "lock"], project)
    assert_built_without_dev_group(project, "Pipfile.lock")
