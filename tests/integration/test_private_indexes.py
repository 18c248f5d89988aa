"""Private indexes: --index-url, --extra-index-url and --find-links lines in requirements, [tool.slim] index-url and
extra-index-urls, and pip's and uv's own variables reach both installers, on the resolve and on a rebuild from
slim.lock with a cold cache; credentials never reach slim.lock, the reports, the manifest or the output."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lambda_slim._cli.main import main
from tests.helpers import write_wheel
from tests.integration.test_uv_installer import needs_uv
from tests.local_index import LocalIndex, serve

INSTALLERS = ["pip", pytest.param("uv", marks=needs_uv)]
PASSWORD = "s3cr3t-Pa55"


@pytest.fixture()
def private_wheels(tmp_path: Path) -> Path:
    """Wheels found only on the private index, never in the session's wheelhouse."""
    wheels = tmp_path / "private-wheels"
    wheels.mkdir()
    write_wheel(wheels, "privonly", "1.0", {"privonly/__init__.py": "VALUE = 'private'\n"}, requires=("slimdep",))
    write_wheel(wheels, "slimdep", "1.0", {"slimdep/__init__.py": "VALUE = 1\n"})
    return wheels


@pytest.fixture()
def no_default_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither pip nor uv has an index or find-links of its own: an empty local one, so nothing reaches the network
    and every wheel a build installs came from the settings under test."""
    empty = tmp_path / "empty-index"
    empty.mkdir()
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "UV_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("PIP_INDEX_URL", empty.as_uri())
    monkeypatch.setenv("UV_INDEX_URL", empty.as_uri())
    for name, value in [("PIP_RETRIES", "0"), ("PIP_TIMEOUT", "5"), ("UV_HTTP_RETRIES", "0"), ("UV_HTTP_TIMEOUT", "5")]:
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc or keyring of the machine
    monkeypatch.delenv("NETRC", raising=False)
    (tmp_path / "home").mkdir()


@pytest.fixture()
def index(private_wheels: Path, no_default_index: None) -> Iterator[LocalIndex]:
    yield from serve(private_wheels)


Log = pytest.LogCaptureFixture


@pytest.fixture()
def commands_logged(caplog: Log) -> Log:
    """What -v logs: each command lambda-slim runs."""
    caplog.set_level(logging.DEBUG, logger="lambda_slim")
    return caplog


@pytest.fixture()
def second_index(tmp_path: Path, no_default_index: None) -> Iterator[LocalIndex]:
    wheels = tmp_path / "second-wheels"
    wheels.mkdir()
    write_wheel(wheels, "secondonly", "1.0", {"secondonly/__init__.py": ""})
    yield from serve(wheels)


@pytest.fixture()
def auth_index(private_wheels: Path, no_default_index: None) -> Iterator[LocalIndex]:
    yield from serve(private_wheels, credentials=("reader", PASSWORD))


def project(tmp_path: Path, *, requirements: str | None = None, tool_slim: str = "") -> Path:
    root = tmp_path / "project"
    root.mkdir()
    dependencies = "" if requirements is not None else 'dependencies = ["privonly"]\n'
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "0.1.0"\n{dependencies}\n[tool.slim]\n{tool_slim}'
    )
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    (root / "handler.py").write_text("import privonly\n\ndef handler(event, context):\n    return privonly.VALUE\n")
    return root


def build(root: Path, installer: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["-v", "build", str(root), "--installer", installer, "--format", "json", *args])


def build_then_rebuild_cold(
    root: Path, installer: str, index: LocalIndex, lock: list[str], tmp_path: Path
) -> tuple[Result, Result]:
    """A build that resolves from `index` and writes `lock` as slim.lock's option lines, then a rebuild from that
    lock with every cache cold, which must fetch from the same index again."""
    first = build(root, installer)
    assert first.exit_code == 0, first.output
    assert index.served("privonly")
    assert lock_lines(root) == lock
    index.requests.clear()
    again = CliRunner(env={"PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1"}).invoke(
        main, ["build", str(root), "--installer", installer, "--cache-dir", str(tmp_path / "cold"), "--force"]
    )
    assert again.exit_code == 0, again.output
    assert index.served("privonly")
    return first, again


def assert_no_password(root: Path, log: Log, *results: Result) -> None:
    """Not in the output, the commands logged (with -v), slim.lock, or anything in dist/: the reports, the
    manifest, and every file inside the zips (RECORDs, direct_url.json)."""
    assert "running:" in log.text and PASSWORD not in log.text
    for result in results:
        assert PASSWORD not in result.output and PASSWORD not in result.stderr
    written = [root / "slim.lock", *(path for path in (root / "dist").rglob("*") if path.is_file())]
    assert any(path.name == "slim-manifest.json" for path in written)
    for path in written:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                assert not [name for name in archive.namelist() if PASSWORD.encode() in archive.read(name)], path
        else:
            assert PASSWORD.encode() not in path.read_bytes(), path


def lock_lines(root: Path) -> list[str]:
    return [line for line in (root / "slim.lock").read_text().splitlines() if line.startswith("--")]


@pytest.mark.parametrize("installer", INSTALLERS)
def test_index_url_line_in_requirements_is_honoured_by_pip_and_uv(
    installer: str, index: LocalIndex, tmp_path: Path
) -> None:
    root = project(tmp_path, requirements=f"--index-url {index.url()}\nprivonly==1.0\n")
    build_then_rebuild_cold(root, installer, index, [f"--index-url {index.url()}"], tmp_path)
    assert index.served("slimdep")


@pytest.mark.parametrize("installer", INSTALLERS)
def test_extra_index_url_and_find_links_lines_are_honoured_by_pip_and_uv(
    installer: str, index: LocalIndex, tmp_path: Path
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    write_wheel(links, "linkonly", "1.0", {"linkonly/__init__.py": ""})
    root = project(
        tmp_path, requirements=f"--extra-index-url {index.url()}\n--find-links {links}\nprivonly==1.0\nlinkonly\n"
    )
    build_then_rebuild_cold(
        root, installer, index, [f"--extra-index-url {index.url()}", f"--find-links {links}"], tmp_path
    )


@pytest.mark.parametrize("installer", INSTALLERS)
def test_tool_slim_index_url_and_extra_index_urls_are_honoured_by_pip_and_uv(
    installer: str, index: LocalIndex, second_index: LocalIndex, tmp_path: Path
) -> None:
    second = second_index
    root = project(tmp_path, tool_slim=f'index-url = "{index.url()}"\nextra-index-urls = ["{second.url()}"]\n')
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["privonly"]', '["privonly", "secondonly"]'))
    lock = [f"--index-url {index.url()}", f"--extra-index-url {second.url()}"]
    build_then_rebuild_cold(root, installer, index, lock, tmp_path)
    assert second.served("secondonly")


def url_with_password_from_env(index: LocalIndex, monkeypatch: pytest.MonkeyPatch) -> str:
    """The index's URL as a committed file names it: the password in an environment variable, set here."""
    monkeypatch.setenv("PRIVATE_INDEX_PASSWORD", PASSWORD)
    return index.url("reader", "${PRIVATE_INDEX_PASSWORD}")


@pytest.mark.parametrize("installer", INSTALLERS)
@pytest.mark.parametrize("where", ["[tool.slim]", "requirements.txt"])
def test_credentials_from_the_environment_never_reach_the_lock_report_or_log(
    installer: str,
    where: str,
    auth_index: LocalIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    commands_logged: Log,
) -> None:
    url = url_with_password_from_env(auth_index, monkeypatch)
    if where == "[tool.slim]":
        root = project(tmp_path, tool_slim=f'index-url = "{url}"\n')
    else:
        root = project(tmp_path, requirements=f"--index-url {url}\nprivonly\n")
    first, again = build_then_rebuild_cold(root, installer, auth_index, [f"--index-url {auth_index.url()}"], tmp_path)
    assert_no_password(root, commands_logged, first, again)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_each_installer_honours_its_own_index_variable_with_credentials_kept_out_of_every_output(
    installer: str, auth_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, commands_logged: Log
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL" if installer == "pip" else "UV_INDEX_URL", auth_index.url("reader", PASSWORD))
    root = project(tmp_path)
    # The machine's own index is the machine's business, not the project's: slim.lock does not name it.
    first, again = build_then_rebuild_cold(root, installer, auth_index, [], tmp_path)
    assert_no_password(root, commands_logged, first, again)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_netrc_credentials_are_used_by_pip_and_uv(
    installer: str, auth_index: LocalIndex, tmp_path: Path, commands_logged: Log
) -> None:
    netrc = tmp_path / "home" / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin reader\npassword {PASSWORD}\n")
    netrc.chmod(0o600)
    root = project(tmp_path, tool_slim=f'index-url = "{auth_index.url()}"\n')
    first = build(root, installer)
    assert first.exit_code == 0, first.output
    assert auth_index.served("privonly")
    assert_no_password(root, commands_logged, first)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_wrong_credentials_name_the_index_with_the_password_masked(
    installer: str, auth_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_with_password_from_env(auth_index, monkeypatch)
    root = project(tmp_path, requirements=f"--index-url {url}\nprivonly==1.0\n")
    auth_index.credentials = ("reader", "another-password")
    result = CliRunner().invoke(main, ["build", str(root), "--installer", installer])
    assert result.exit_code == 1, result.output
    assert f"127.0.0.1:{auth_index.port}" in result.stderr
    assert "refused the credentials" in result.stderr
    assert PASSWORD not in result.output and PASSWORD not in result.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_misspelt_name_says_no_release_of_it_exists_on_the_index_not_no_wheel_for_the_target(
    installer: str, auth_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_with_password_from_env(auth_index, monkeypatch)
    root = project(tmp_path, requirements=f"--index-url {url}\nrequestz-nonexistent-xyz\n")
    result = CliRunner().invoke(main, ["build", str(root), "--installer", installer, "--runtime", "python3.11"])
    assert result.exit_code == 1, result.output
    assert "error: requestz-nonexistent-xyz: no release of 'requestz-nonexistent-xyz' exists on " in result.stderr
    assert "check the name's spelling in requirements.txt" in result.stderr
    assert "no wheel for" not in result.stderr and "python3.11" not in result.stderr
    assert PASSWORD not in result.output and PASSWORD not in result.stderr
    if installer == "pip":  # pip names where it looked; uv does not say
        assert f"the index http://reader:****@127.0.0.1:{auth_index.port}/simple" in result.stderr


def test_a_name_the_index_has_with_no_file_for_the_target_still_says_no_wheel(
    index: LocalIndex, tmp_path: Path
) -> None:
    write_wheel(index.wheels, "maconly", "1.0", {"maconly/__init__.py": ""}, tag="cp311-cp311-macosx_11_0_arm64")
    root = project(tmp_path, requirements=f"--index-url {index.url()}\nmaconly\n")
    result = CliRunner().invoke(main, ["build", str(root), "--installer", "pip", "--runtime", "python3.11"])
    assert result.exit_code == 1, result.output
    assert "no wheel for" in result.stderr and "no release of" not in result.stderr
