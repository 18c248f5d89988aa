"""The project's own lock file (uv.lock, poetry.lock, pylock.toml, Pipfile.lock) is what a build installs, as
locked: production packages only, every locked version checked for a target wheel and its hash, a stale lock said
(and refused with --locked).

The fixture locks pin the session wheelhouse's wheels, whose bytes (zip timestamps) differ per session: their
`{{file name}}` placeholders are filled with the real sha256 when a test copies the project.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import lambda_slim
from lambda_slim import BuildOptions, BuildReport
from lambda_slim._cli.main import main
from tests.helpers import PY_TAG, copy_fixture

pytestmark = pytest.mark.usefixtures("offline_pip")

LOCK_PROJECTS = {
    "uv-lock-project": "uv.lock",
    "poetry-lock-project": "poetry.lock",
    "pylock-project": "pylock.toml",
    "pipfile-lock-project": "Pipfile.lock",
}
REFRESH = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "Pipfile.lock": "pipenv lock"}
_PLACEHOLDER = re.compile(r"\{\{([^}]+)\}\}")


def lock_project(name: str, dest: Path, wheelhouse: Path) -> Path:
    project = copy_fixture(name, dest)
    lock = project / LOCK_PROJECTS[name]
    lock.write_text(fill_hashes(lock.read_text(), wheelhouse))
    return project


def fill_hashes(text: str, wheelhouse: Path) -> str:
    return _PLACEHOLDER.sub(lambda m: hashlib.sha256((wheelhouse / m.group(1)).read_bytes()).hexdigest(), text)


def run_build(project: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["build", str(project), "--format", "json", "-q", "--force", "--measure-runs", "0", *args]
    )


def built(project: Path, **options: Any) -> BuildReport:
    """What `run_build` does, through the API, for the tests about what the build used and shipped."""
    return lambda_slim.build(project, BuildOptions(force=True, measure_runs=0, **options))


def shipped_packages(project: Path) -> set[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return {name.split("/", 1)[0] for name in archive.namelist() if "/" in name}


@pytest.mark.parametrize("name", sorted(LOCK_PROJECTS))
def test_project_lock_ships_its_locked_packages_and_never_the_dev_group(
    name: str, tmp_path: Path, wheelhouse: Path
) -> None:
    project = lock_project(name, tmp_path, wheelhouse)
    report = built(project)
    shipped = shipped_packages(project)
    assert {"appclient", "sharedlib"} <= shipped, shipped
    assert "devtoolonly" not in shipped
    assert report.dependency_source == LOCK_PROJECTS[name]
    assert "versions as locked" in report.lock_status
    # The user's lock is the lock: no second one is written beside it.
    assert not (project / "slim.lock").exists()


def test_project_lock_is_installed_as_locked_with_the_uv_installer(tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    report = built(project, installer="uv", verify=False)
    assert report.dependency_source == "uv.lock"
    assert {"appclient", "sharedlib"} <= shipped_packages(project)
    assert "devtoolonly" not in shipped_packages(project)
    assert not (project / "slim.lock").exists()


@pytest.mark.parametrize("name", ["uv-lock-project", "poetry-lock-project", "pipfile-lock-project"])
def test_stale_project_lock_warns_and_fails_with_locked(name: str, tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project(name, tmp_path, wheelhouse)
    lock_name = LOCK_PROJECTS[name]
    if name == "pipfile-lock-project":
        pipfile = project / "Pipfile"
        pipfile.write_text(pipfile.read_text().replace('appclient = ">=1"', 'appclient = ">=1"\nslimdemo = "*"'))
    elif name == "poetry-lock-project":
        # A new constraint: a package the lock lacks altogether stops the build anyway (poetry.lock has no entry).
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('appclient = ">=1"', 'appclient = ">=1.0,<2"'))
    else:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"appclient>=1"', '"appclient>=1", "slimdemo"'))
    report = built(project, verify=False)
    stale = [w for w in report.warnings if "stale" in w]
    assert stale and lock_name in stale[0] and f"`{REFRESH[lock_name]}`" in stale[0], report.warnings
    assert "stale" in report.lock_status

    refused = run_build(project, "--no-verify", "--locked")
    assert refused.exit_code == 1, refused.output
    assert f"{lock_name} is stale" in refused.stderr and REFRESH[lock_name] in refused.stderr
    assert "Traceback" not in refused.output


def test_fresh_project_lock_builds_with_locked(tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    report = built(project, verify=False, locked=True)
    assert not [w for w in report.warnings if "stale" in w]


def test_pylock_freshness_is_said_to_be_unchecked(tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project("pylock-project", tmp_path, wheelhouse)
    report = built(project, verify=False)
    assert "freshness not checked" in report.lock_status


def _add_uv_packages(project: Path, wheelhouse: Path, entries: str, names: list[str]) -> None:
    lock = project / "uv.lock"
    text = lock.read_text().replace(
        '    { name = "appclient" },\n]\n\n[package.dev',
        "".join(f'    {{ name = "{n}" }},\n' for n in ["appclient", *names]) + "]\n\n[package.dev",
    )
    lock.write_text(text + fill_hashes(entries, wheelhouse))


def test_locked_version_without_a_target_wheel_fails_naming_each_with_the_uv_fix(
    tmp_path: Path, wheelhouse: Path
) -> None:
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    macos = f"macosonly-1.0-{PY_TAG}-{PY_TAG}-macosx_11_0_arm64.whl"
    entries = f"""
[[package]]
name = "macosonly"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://files.example.invalid/{macos}", hash = "sha256:{{{{{macos}}}}}" }}]

[[package]]
name = "onlysdist"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://files.example.invalid/onlysdist-1.0.tar.gz", hash = "sha256:{{{{onlysdist-1.0.tar.gz}}}}" }}
"""
    _add_uv_packages(project, wheelhouse, entries, ["macosonly", "onlysdist"])
    result = run_build(project, "--no-verify")
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    assert "macosonly 1.0 is pinned by uv.lock" in message and "macosx_11_0_arm64" in message
    assert "onlysdist 1.0 is pinned by uv.lock" in message and "source distribution" in message
    assert "constraint-dependencies" in message and "required-environments" in message
    assert "Traceback" not in result.output
    assert not (project / "dist" / "function.zip").exists()


def test_pipfile_lock_version_without_a_target_wheel_fails_with_the_pipenv_fix(
    tmp_path: Path, wheelhouse: Path
) -> None:
    # Pipfile.lock lists bare hashes, no file names: pip's failure to find a file is what says so.
    project = lock_project("pipfile-lock-project", tmp_path, wheelhouse)
    lock = project / "Pipfile.lock"
    data = json.loads(lock.read_text())
    macos = wheelhouse / f"macosonly-1.0-{PY_TAG}-{PY_TAG}-macosx_11_0_arm64.whl"
    digest = hashlib.sha256(macos.read_bytes()).hexdigest()
    data["default"]["macosonly"] = {"hashes": [f"sha256:{digest}"], "index": "pypi", "version": "==1.0"}
    lock.write_text(json.dumps(data))
    result = run_build(project, "--no-verify")
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    assert "macosonly 1.0 is pinned by Pipfile.lock" in message and "pipenv lock" in message


def test_wrong_hash_in_project_lock_fails_the_build(tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project("poetry-lock-project", tmp_path, wheelhouse)
    lock = project / "poetry.lock"
    real = hashlib.sha256((wheelhouse / "sharedlib-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    lock.write_text(lock.read_text().replace(real, "0" * 64))
    result = run_build(project, "--no-verify")
    assert result.exit_code != 0, result.output
    message = " ".join(result.stderr.split())
    assert "hash" in message.lower() and "poetry.lock" in message and "`poetry lock`" in message
    assert not (project / "dist" / "function.zip").exists()


def test_changed_project_lock_is_never_answered_by_the_last_build(tmp_path: Path, wheelhouse: Path) -> None:
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    built(project, verify=False)
    lock = project / "uv.lock"
    real = hashlib.sha256((wheelhouse / "sharedlib-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    lock.write_text(lock.read_text().replace(real, "0" * 64))
    # Without --force: an unchanged project would reuse the last build; a changed lock must be installed again.
    result = CliRunner().invoke(main, ["build", str(project), "--format", "json", "-q", "--no-verify"])
    assert result.exit_code != 0, result.output
    assert "hash" in result.stderr.lower()


def test_local_package_in_project_lock_is_never_taken_from_an_index(tmp_path: Path, wheelhouse: Path) -> None:
    # `sharedlib` is also a wheel in the wheelhouse (the index here): the locked directory is the one that may ship.
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    local = project / "libs" / "sharedlib"
    (local / "sharedlib").mkdir(parents=True)
    (local / "sharedlib" / "__init__.py").write_text("LOCAL = True\n")
    (local / "pyproject.toml").write_text('[project]\nname = "sharedlib"\nversion = "1.0"\n')
    lock = project / "uv.lock"
    text = lock.read_text()
    start = text.index('[[package]]\nname = "sharedlib"')
    end = text.index("[[package]]", start + 1)
    lock.write_text(
        text[:start]
        + '[[package]]\nname = "sharedlib"\nversion = "1.0"\nsource = { directory = "libs/sharedlib" }\n\n'
        + text[end:]
    )
    result = run_build(project, "--no-verify")
    if result.exit_code == 0:
        with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
            assert b"LOCAL = True" in archive.read("sharedlib/__init__.py")
    else:
        assert "sharedlib" in result.stderr and "libs/sharedlib" in result.stderr, result.output
        assert not (project / "dist" / "function.zip").exists()


def test_locked_wheel_the_index_does_not_serve_names_the_locks_index(tmp_path: Path, wheelhouse: Path) -> None:
    # A wheel that fits is locked, so the version is not to blame: the index pip reads is (a private index unset).
    project = lock_project("uv-lock-project", tmp_path, wheelhouse)
    lock = project / "uv.lock"
    lock.write_text(
        lock.read_text()
        .replace(
            'version = "1.0"\nsource = { registry = "https://pypi.org/simple" }\ndependencies',
            'version = "9.9"\nsource = { registry = "https://pypi.example.invalid/simple" }\ndependencies',
        )
        .replace("appclient-1.0-py3-none-any.whl", "appclient-9.9-py3-none-any.whl")
    )
    result = run_build(project, "--no-verify")
    assert result.exit_code != 0, result.output
    message = " ".join(result.stderr.split())
    assert "appclient 9.9 is locked in uv.lock" in message and "https://pypi.example.invalid/simple" in message
    assert "constraint" not in message
