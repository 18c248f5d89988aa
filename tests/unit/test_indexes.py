"""The project's indexes: read from requirements files and [tool.slim], handed to pip and uv through their own
variables, keyed into slim.lock and written into it without credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim._credentials import expand_variables, has_literal_password, without_credentials
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.config import load_config
from lambda_slim._inputs.indexes import IndexSettings, Location
from lambda_slim._inputs.project import ProjectSettings, requirement_inputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.resolve import Lock, Pin, lock_key, read_lock, render_lock
from lambda_slim._pipeline import project_settings

TARGET = Target("python3.12", "x86_64")
SHA = "a" * 64


def project(tmp_path: Path, tool_slim: str = "", requirements: str | None = None) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    dependencies = "" if requirements is not None else 'dependencies = ["six"]\n'
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "1"\n{dependencies}\n[tool.slim]\nruntime = "python3.12"\n{tool_slim}'
    )
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def config(root: Path) -> ProjectSettings:
    return project_settings(load_config(root))


def test_a_password_spelled_out_in_tool_slim_index_url_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, 'index-url = "https://me:hunter2@pkgs.example/simple"\n')
    with pytest.raises(ConfigError) as caught:
        config(root)
    message = str(caught.value)
    assert "spells out a password" in message and "${INDEX_PASSWORD}" in message
    assert "hunter2" not in message and "https://me:****@pkgs.example/simple" in message


@pytest.mark.parametrize(
    "value", ['"pkgs.example/simple"', '["https://ok.example/simple"]', '"ftp://pkgs.example/simple"']
)
def test_tool_slim_index_url_must_be_one_http_or_file_url(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"\[tool.slim\] index-url must be"):
        config(project(tmp_path, f"index-url = {value}\n"))


def test_a_password_in_tool_slim_comes_from_an_environment_variable_that_must_be_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, 'extra-index-urls = ["https://me:${PKGS_TOKEN}@pkgs.example/simple"]\n')
    indexes = requirement_inputs(config(root)).indexes
    monkeypatch.setenv("PKGS_TOKEN", "t0ken")
    assert indexes.pip_environment({})["PIP_EXTRA_INDEX_URL"] == "https://me:t0ken@pkgs.example/simple"
    monkeypatch.delenv("PKGS_TOKEN")
    with pytest.raises(ConfigError, match=r"extra-index-urls in pyproject.toml names the environment variable PKGS"):
        indexes.pip_environment({})


def test_the_lock_key_follows_the_index_but_not_its_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def key(tool_slim: str) -> str:
        root = tmp_path / f"project-{len(list(tmp_path.iterdir()))}"
        root.mkdir()
        return lock_key(requirement_inputs(config(project(root, tool_slim))), TARGET)

    plain = key("")
    one = key('index-url = "https://one.example/simple"\n')
    assert len({plain, one, key('index-url = "https://two.example/simple"\n')}) == 3
    with_variable = 'index-url = "https://me:${PKGS_TOKEN}@one.example/simple"\n'
    monkeypatch.setenv("PKGS_TOKEN", "first")
    rotated = key(with_variable)
    monkeypatch.setenv("PKGS_TOKEN", "second")
    assert key(with_variable) == rotated == one


def test_index_lines_are_read_from_requirements_files_and_their_includes(tmp_path: Path) -> None:
    root = project(tmp_path, requirements="-i https://main.example/simple\n-r more.txt\nsix\n")
    (root / "wheels").mkdir()
    (root / "more.txt").write_text("--extra-index-url=https://extra.example/simple\n-f ./wheels\n--no-index\n")
    indexes = requirement_inputs(config(root)).indexes
    assert indexes.lock_lines(root) == [
        "--index-url https://main.example/simple",
        "--extra-index-url https://extra.example/simple",
        "--find-links wheels",
        "--no-index",
    ]
    assert indexes.index_url == Location("https://main.example/simple", "requirements.txt line 1")


def test_two_different_index_urls_are_refused(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'index-url = "https://one.example/simple"\n',
        requirements="--index-url https://u:pw@two.example/simple\nsix\n",
    )
    with pytest.raises(ConfigError) as caught:
        requirement_inputs(config(root))
    message = str(caught.value)
    assert "https://two.example/simple (requirements.txt line 1)" in message and "pw" not in message
    assert "[tool.slim] index-url in pyproject.toml" in message


def test_project_indexes_reach_pip_and_uv_through_their_own_variables() -> None:
    indexes = IndexSettings(
        Location("https://main.example/simple", "x"),
        (Location("https://extra.example/simple", "x"),),
        (Location("/wheels", "x"), Location("/more", "x")),
    )
    machine = {"PIP_EXTRA_INDEX_URL": "https://ci.example/simple", "UV_DEFAULT_INDEX": "https://ci.example/simple"}
    pip = indexes.pip_environment(machine)
    assert pip["PIP_INDEX_URL"] == "https://main.example/simple"
    assert pip["PIP_EXTRA_INDEX_URL"] == "https://extra.example/simple https://ci.example/simple"
    assert pip["PIP_FIND_LINKS"] == "/wheels /more"
    uv = indexes.uv_environment(machine)
    assert uv["UV_INDEX_URL"] == "https://main.example/simple" and "UV_DEFAULT_INDEX" not in uv
    assert uv["UV_FIND_LINKS"] == "/wheels,/more"
    assert IndexSettings().pip_environment(machine) == machine


def test_slim_lock_names_the_indexes_without_credentials_and_reads_back(tmp_path: Path) -> None:
    root = project(tmp_path, requirements="--index-url https://me:pw@pkgs.example/simple\nsix==1.17.0\n")
    inputs = requirement_inputs(config(root))
    lock = Lock(lock_key(inputs, TARGET), (Pin("six", "1.17.0", (SHA,)),))
    text = render_lock(lock, inputs, TARGET, root)
    assert "--index-url https://pkgs.example/simple\n" in text and "pw" not in text
    (root / "slim.lock").write_text(text)
    assert read_lock(root / "slim.lock") == lock


def test_credentials_are_masked_removed_and_told_apart_from_variables() -> None:
    assert without_credentials("https://me:pw@host:8080/simple") == "https://host:8080/simple"
    assert without_credentials("/local/wheels") == "/local/wheels"
    assert has_literal_password("https://me:pw@host/simple")
    assert not has_literal_password("https://me:${TOKEN}@host/simple")
    assert not has_literal_password("https://${USER}:${TOKEN}@host/simple")
    assert expand_variables("https://${A}:${B_2}@h", "x", {"A": "me", "B_2": "pw"}) == "https://me:pw@h"
