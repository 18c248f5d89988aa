"""--installer uv: the same artifacts as pip, from a lock either of them wrote."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import lambda_slim
from lambda_slim import BuildOptions, BuildReport
from lambda_slim._api import Installer
from lambda_slim._cli.main import main
from lambda_slim._errors import ConfigError
from lambda_slim._install.resolve import read_lock
from lambda_slim._install.uv import find_uv
from lambda_slim._report.build_report import RuleSavings
from tests.helpers import copy_fixture

pytestmark = pytest.mark.usefixtures("offline_pip")

try:
    find_uv()
    HAVE_UV = True
except ConfigError:
    HAVE_UV = False
needs_uv = pytest.mark.skipif(not HAVE_UV, reason="uv is not installed")


def build(project: Path, installer: Installer) -> BuildReport:
    """A build that installs everything afresh (no cache, even when nothing changed) with the installer given."""
    return lambda_slim.build(project, BuildOptions(force=True, cache=False, installer=installer))


def differences(first: Path, second: Path) -> list[tuple[str, object, object]]:
    """The entries whose name, CRC, size or mode differ between two projects' function.zip."""

    def entries(project: Path) -> dict[str, tuple[int, int, int]]:
        with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
            return {i.filename: (i.CRC, i.file_size, i.external_attr) for i in archive.infolist()}

    a, b = entries(first), entries(second)
    return [(name, a.get(name), b.get(name)) for name in sorted(a.keys() | b.keys()) if a.get(name) != b.get(name)]


def zip_sha(report: BuildReport) -> str:
    return report.artifacts[0].sha256


@needs_uv
@pytest.mark.parametrize("fixture", ["minimal", "compiled-extension"])
def test_uv_resolves_and_installs_the_same_artifacts_as_pip(fixture: str, tmp_path: Path) -> None:
    with_pip = copy_fixture(fixture, tmp_path / "pip")
    with_uv = copy_fixture(fixture, tmp_path / "uv")
    by_pip = build(with_pip, "pip")
    by_uv = build(with_uv, "uv")
    assert zip_sha(by_uv) == zip_sha(by_pip), differences(with_pip, with_uv)
    assert by_uv.bytecode == by_pip.bytecode and by_uv.after == by_pip.after

    def slimming(report: BuildReport) -> list[RuleSavings]:
        # The installers' own metadata differs (pip writes REQUESTED where uv does not); that rule removes it all.
        return [rule for rule in report.rules if rule.rule != "installer-metadata"]

    assert slimming(by_uv) == slimming(by_pip)
    pip_lock, uv_lock = read_lock(with_pip / "slim.lock"), read_lock(with_uv / "slim.lock")
    assert pip_lock is not None and uv_lock is not None
    assert [(p.name, p.version) for p in uv_lock.pins] == [(p.name, p.version) for p in pip_lock.pins]
    # pip's hash is of the wheel it chose; uv lists every file of the version, that wheel among them.
    for pip_pin, uv_pin in zip(pip_lock.pins, uv_lock.pins, strict=True):
        assert set(pip_pin.hashes) <= set(uv_pin.hashes)


@needs_uv
def test_uv_installs_a_lock_pip_wrote(tmp_path: Path) -> None:
    project = copy_fixture("compiled-extension", tmp_path)
    by_pip = build(project, "pip")
    lock_before = (project / "slim.lock").read_text()
    by_uv = build(project, "uv")
    assert (project / "slim.lock").read_text() == lock_before
    assert zip_sha(by_uv) == zip_sha(by_pip)


def test_a_missing_uv_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    result = CliRunner().invoke(main, ["build", str(copy_fixture("minimal", tmp_path)), "--installer", "uv"])
    assert result.exit_code == 2
    assert "needs uv on PATH" in result.stderr and "pip install uv" in result.stderr
    assert "Traceback" not in result.stderr
