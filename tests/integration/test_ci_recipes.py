"""The README's CI recipes, run as written (read from README.md, so a change there is tested): each builds once, its
`slim check` checking the build the step before made instead of building again."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, copy_fixture, older_python, slim

README = REPO / "README.md"


def recipe(heading: str) -> dict[str, object]:
    """The YAML block that follows a bold heading such as **GitHub Actions** in README.md."""
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(f"**{heading}**") + r".*?```yaml\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"README.md has no yaml block after **{heading}**"
    loaded = yaml.safe_load(found.group(1))
    assert isinstance(loaded, dict)
    return loaded


def slim_commands(commands: list[str]) -> list[list[str]]:
    """The recipe's `slim` commands, split as a shell would, after the installation (tested on its own)."""
    assert commands and commands[0].startswith("pip install "), commands
    split = [shlex.split(command) for command in commands[1:]]
    assert all(words[0] == "slim" for words in split), commands
    return [words[1:] for words in split]


def github_actions() -> list[list[str]]:
    steps = recipe("GitHub Actions")["jobs"]["package"]["steps"]  # type: ignore[index]
    return slim_commands([step["run"] for step in steps if "run" in step])


def gitlab_ci() -> list[list[str]]:
    return slim_commands(recipe("GitLab CI")["lambda"]["script"])  # type: ignore[index]


def test_the_recipes_are_a_build_then_a_check_of_the_same_project() -> None:
    for commands in (github_actions(), gitlab_ci()):
        assert [words[0] for words in commands] == ["build", "check"]
        assert commands[0][1] == commands[1][1] == "services/orders"


@pytest.mark.usefixtures("offline_pip")
@pytest.mark.parametrize("commands", [github_actions(), gitlab_ci()], ids=["github-actions", "gitlab-ci"])
def test_a_ci_recipe_builds_once(commands: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = next(words[i + 1] for words in commands for i, word in enumerate(words) if word == "--runtime")
    interpreter = older_python(int(runtime.removeprefix("python3.")))
    if interpreter is None:
        pytest.skip(f"no {runtime} interpreter on this machine for the recipe's --runtime")
    # The runner's Python is the recipe's (setup-python, the python:3.X image): on PATH first, as there.
    monkeypatch.setenv("PATH", f"{Path(interpreter).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    project = copy_fixture("minimal", tmp_path / "services")
    project.rename(tmp_path / "services" / "orders")
    # What the repository holds: slim.lock (the recipe builds --locked) and a baseline report, from a developer's
    # build; the checkout has no dist/.
    baseline = tmp_path / "baseline" / "report.json"
    code, _, err = slim("build", "services/orders", "--runtime", runtime, "--format", "json", "-o", str(baseline))
    assert code == 0, err
    assert (tmp_path / "services" / "orders" / "slim.lock").is_file()
    shutil.rmtree(tmp_path / "services" / "orders" / "dist")

    code, _, err = slim(*commands[0])
    assert code == 0, err
    function_zip = tmp_path / "services" / "orders" / "dist" / "function.zip"
    built = function_zip.stat()
    code, out, err = slim(*commands[1])
    assert code == 0, out + err
    assert "nothing changed since the last build: checking its report" in err
    assert "built again" not in err
    again = function_zip.stat()
    assert (again.st_ino, again.st_mtime_ns) == (built.st_ino, built.st_mtime_ns)  # not even rewritten
