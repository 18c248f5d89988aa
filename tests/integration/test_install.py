"""Installing lambda-slim as README says, from this repository: `python -m build` makes the sdist and, from it, the
wheel; the wheel installed in a fresh virtual environment runs `slim`, templates included (package data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from lambda_slim import __version__
from tests.helpers import commit_all, snapshot_of_checkout

# Files the installed package reads at run time that are not imported modules: templates, the PEP 561 marker, and
# the scripts run by path in another interpreter.
RUNTIME_FILES = (
    "lambda_slim/py.typed",
    "lambda_slim/_analyze/analyze.html",
    "lambda_slim/_report/importprofile.html",
    "lambda_slim/_sandbox/probe.py",
    "lambda_slim/_install/compile_worker.py",
)


def run(*command: str | Path, cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PIP_NO_INDEX")},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


def small_zip(path: Path) -> Path:
    """A function zip as `pip install -t` and `zip -r` make it: the app, a distribution with its RECORD, its tests."""
    files = {
        "handler.py": "import demo\n\ndef handler(event, context):\n    return demo.VALUE\n",
        "demo/__init__.py": "VALUE = 1\n",
        "demo/tests/test_demo.py": "def test_value():\n    assert True\n" * 20,
        "demo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/RECORD": "demo/__init__.py,,\ndemo/tests/test_demo.py,,\ndemo-1.0.dist-info/METADATA,,\n",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.mark.network  # the isolated build fetches setuptools, the fresh venv lambda-slim's dependencies
def test_the_wheel_built_from_this_repository_installs_and_runs(tmp_path: Path) -> None:
    source = snapshot_of_checkout(tmp_path / "lambda-slim")  # a copy: the build writes *.egg-info beside the sources
    run(sys.executable, "-m", "build", "--outdir", tmp_path / "dist", source, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob(f"lambda_slim-{__version__}-py3-none-any.whl")
    (sdist,) = (tmp_path / "dist").glob(f"lambda_slim-{__version__}.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        assert set(RUNTIME_FILES) <= set(archive.namelist())
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"src/{name}" for name in RUNTIME_FILES} <= names
    assert {"pyproject.toml", "README.md"} <= names

    venv = tmp_path / "fresh"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    slim = venv / "bin" / "slim"
    assert run(slim, "--version", cwd=tmp_path).strip() == f"lambda-slim, version {__version__}"
    # Run from elsewhere than the checkout, so only the installed package can be imported.
    function_zip = small_zip(tmp_path / "function.zip")
    assert "demo" in run(slim, "analyze", function_zip, cwd=tmp_path)
    data = json.loads(run(slim, "analyze", function_zip, "--format", "json", cwd=tmp_path))
    assert data["schema"].startswith("lambda-slim/")
    run(slim, "analyze", function_zip, "--format", "html", "-o", tmp_path / "page.html", cwd=tmp_path)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "demo" in page
    location = run(venv / "bin" / "python", "-c", "import lambda_slim; print(lambda_slim.__file__)", cwd=tmp_path)
    assert Path(location.strip()).is_relative_to(venv)


@pytest.mark.network  # pip fetches setuptools to build, and lambda-slim's dependencies
def test_pip_installs_it_from_git_at_a_commit(tmp_path: Path) -> None:
    # README's `pip install "git+https://...@<commit-sha>"`, from a repository on this disk.
    source = snapshot_of_checkout(tmp_path / "lambda-slim")
    sha = commit_all(source)
    venv = tmp_path / "fresh"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", f"git+{source.as_uri()}@{sha}", cwd=tmp_path)
    assert run(venv / "bin" / "slim", "--version", cwd=tmp_path).strip() == f"lambda-slim, version {__version__}"
