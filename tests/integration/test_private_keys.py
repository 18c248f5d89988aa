"""A private key among the app's files ships only when a keep pattern allows it (the refusals are rows of
test_hostile_input.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main
from tests.key_samples import pem

pytestmark = pytest.mark.usefixtures("offline_pip")


def test_a_private_key_the_keep_patterns_allow_ships(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "keys"\nversion = "0.1.0"\ndependencies = []\n\n[tool.slim]\nkeep = ["app/tls.key"]\n'
    )
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "tls.key").write_text(pem("PRIVATE KEY"))
    (project / "app" / "id_rsa").write_text(pem("OPENSSH PRIVATE KEY"))
    refused = CliRunner().invoke(main, ["build", str(project), "-q", "--no-verify"])
    assert refused.exit_code == 1 and "app/id_rsa" in refused.stderr and "app/tls.key" not in refused.stderr
    allowed = CliRunner().invoke(main, ["build", str(project), "-q", "--no-verify", "--keep", "app/id_rsa"])
    assert allowed.exit_code == 0, allowed.output
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert {"app/tls.key", "app/id_rsa"} <= set(archive.namelist())
