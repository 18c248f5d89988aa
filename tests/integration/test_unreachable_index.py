"""An index that cannot be reached is named as the cause (credentials masked), never blamed on a package or on a
hash; and a committed lock with a warm cache builds with no index at all."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lambda_slim._cli.main import main
from tests.integration.test_uv_installer import needs_uv

pytestmark = pytest.mark.usefixtures("offline_pip")


INSTALLERS = ["pip", pytest.param("uv", marks=needs_uv)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def index_down(monkeypatch: pytest.MonkeyPatch, *, find_links: bool) -> int:
    """pip's and uv's index on a closed port behind credentials; the wheelhouse too, unless `find_links`."""
    port = closed_port()
    index = f"http://user:secret@127.0.0.1:{port}/simple"
    monkeypatch.delenv("PIP_NO_INDEX")
    for name, value in [("PIP_INDEX_URL", index), ("UV_INDEX_URL", index), ("PIP_RETRIES", "0"),
                        ("PIP_TIMEOUT", "1"), ("UV_HTTP_RETRIES", "0"), ("UV_HTTP_TIMEOUT", "1")]:  # fmt: skip
        monkeypatch.setenv(name, value)
    if not find_links:
        monkeypatch.delenv("PIP_FIND_LINKS")
        monkeypatch.delenv("UV_FIND_LINKS")
    return port


def project(tmp_path: Path, dependency: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "p"\nversion = "0.1.0"\ndependencies = ["{dependency}"]\n')
    (root / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    return root


def build(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["build", str(root), "-q", *args])


def assert_index_named(result: Result, port: int, installer: str) -> None:
    assert result.exit_code == 1, result.output
    assert "secret" not in result.output
    # pip masks the password, uv leaves the credentials out.
    shown = f"http://user:****@127.0.0.1:{port}/" if installer == "pip" else f"http://127.0.0.1:{port}/"
    assert f"cannot reach the package index at {shown}" in result.stderr
    assert "keep the cache warm to build offline" in result.stderr
    assert "no release matches" not in result.stderr and "delete slim.lock" not in result.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_an_unreachable_index_is_named_with_its_password_masked(
    installer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = index_down(monkeypatch, find_links=True)
    result = build(project(tmp_path, "onlyontheindex"), "--installer", installer)
    assert_index_named(result, port, installer)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_locked_build_with_the_index_down_names_the_index_not_a_hash(
    installer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, "slimdep")
    warm = tmp_path / "warm-cache"
    assert build(root, "--installer", installer, "--cache-dir", str(warm)).exit_code == 0
    port = index_down(monkeypatch, find_links=False)

    cold = build(root, "--installer", installer, "--force", "--cache-dir", str(tmp_path / "cold-cache"))
    assert_index_named(cold, port, installer)

    # What the message promises: the committed lock and a warm cache need no index.
    offline = build(root, "--installer", installer, "--force", "--cache-dir", str(warm), "--locked")
    assert offline.exit_code == 0, offline.output
