"""Requirements given by URL (`name @ file:///.../x.whl`): locked by that URL, so a rebuild installs the same file."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from lambda_slim import BuildOptions, build
from lambda_slim._api import Installer
from lambda_slim._install.resolve import LOCK_FORMAT
from tests.helpers import write_wheel
from tests.integration.test_uv_installer import needs_uv

pytestmark = pytest.mark.usefixtures("offline_pip")


INSTALLERS = ["pip", pytest.param("uv", marks=needs_uv)]


def forked_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project that asks for a fork of slimdep 1.0 by URL; the wheelhouse (the index) serves the upstream 1.0."""
    forks = tmp_path / "forks"
    forks.mkdir()
    fork = write_wheel(forks, "slimdep", "1.0", {"slimdep/__init__.py": "VALUE = 'fork'\n"})
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "forked"\nversion = "0.1.0"\ndependencies = ["slimdep @ {fork.as_uri()}"]\n'
    )
    (project / "handler.py").write_text("import slimdep\n\n\ndef handler(event, context):\n    return slimdep.VALUE\n")
    return project, fork


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_url_requirement_keeps_its_url_in_the_lock(installer: Installer, tmp_path: Path) -> None:
    project, fork = forked_project(tmp_path)
    first = build(project, BuildOptions(installer=installer, cache_dir=tmp_path / "cache-1"))

    lock = (project / "slim.lock").read_text()
    assert f"slimdep @ {fork.as_uri()} \\\n    --hash=sha256:" in lock, lock
    assert "slimdep==" not in lock

    # A fresh cache: the lock alone decides what is installed, and the index's slimdep 1.0 is another file.
    again = build(project, BuildOptions(installer=installer, force=True, cache_dir=tmp_path / "cache-2"))
    assert again.lock_status.startswith("slim.lock reused"), again.lock_status
    assert again.artifacts[0].sha256 == first.artifacts[0].sha256
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert archive.read("slimdep/__init__.py") == b"VALUE = 'fork'\n"


def test_a_lock_that_pinned_a_url_requirement_by_version_is_resolved_again(tmp_path: Path, wheelhouse: Path) -> None:
    project, fork = forked_project(tmp_path)
    first = build(project)
    # What lambda-slim wrote before URL requirements kept their URL: the inputs' key then, a version pin, and the
    # hash of the index's slimdep 1.0 (the upstream file, not the fork).
    digest = hashlib.sha256(f"pyproject\nslimdep @ {fork.as_uri()}".encode()).hexdigest()
    key = hashlib.sha256("\0".join([LOCK_FORMAT, digest, first.runtime, first.arch]).encode()).hexdigest()
    upstream = hashlib.sha256((wheelhouse / "slimdep-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    (project / "slim.lock").write_text(f"# slim-lock-key: {key}\nslimdep==1.0 \\\n    --hash=sha256:{upstream}\n")

    report = build(project, BuildOptions(force=True, cache=False))
    assert report.lock_status == "slim.lock written"
    assert f"slimdep @ {fork.as_uri()} \\\n" in (project / "slim.lock").read_text()
