"""Which requirements are local packages, to be built rather than looked up on an index by their name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambda_slim._errors import ProjectError
from lambda_slim._inputs.config import Config
from lambda_slim._inputs.project import RequirementInputs, requirement_inputs
from lambda_slim._inputs.target import Target
from lambda_slim._pipeline import project_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "projects"
TARGET = Target("python3.12", "x86_64")
LIBRARY = '[project]\nname = "{name}"\nversion = "1.0"\n'


def inputs_of(root: Path, **options: Any) -> RequirementInputs:
    return requirement_inputs(project_settings(Config(project_dir=root.resolve(), target=TARGET, **options)))


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def local(inputs: RequirementInputs) -> list[tuple[str, Path, str | None]]:
    return [(item.line, item.package.path, item.package.name) for item in inputs.local]


@pytest.mark.parametrize("line", ["-e ./vendor/lib", "--editable ./vendor/lib", "./vendor/lib", "file:./vendor/lib"])
def test_an_editable_or_plain_local_path_in_requirements_is_a_local_package(tmp_path: Path, line: str) -> None:
    write(tmp_path, {"vendor/lib/pyproject.toml": LIBRARY.format(name="lib"), "requirements.txt": line + "\n"})
    assert local(inputs_of(tmp_path)) == [(line, (tmp_path / "vendor" / "lib").resolve(), None)]


def test_a_named_file_url_to_a_directory_is_a_local_package(tmp_path: Path) -> None:
    library = write(tmp_path / "lib", {"pyproject.toml": LIBRARY.format(name="My_Lib")})
    project = write(tmp_path / "fn", {"requirements.txt": f"my-lib @ {library.as_uri()}\n"})
    assert local(inputs_of(project)) == [(f"my-lib @ {library.as_uri()}", library.resolve(), "my-lib")]


def test_a_local_package_that_is_not_there_is_named_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "slimdep\n-e ../missing\n"})
    with pytest.raises(ProjectError, match=r"requirements.txt line 2: the local package .*missing does not exist"):
        inputs_of(tmp_path)


def test_uv_path_source_and_poetry_path_dependency_are_local_packages(tmp_path: Path) -> None:
    write(
        tmp_path / "libs", {"a/pyproject.toml": LIBRARY.format(name="a"), "b/pyproject.toml": LIBRARY.format(name="b")}
    )
    project = write(
        tmp_path / "fn",
        {
            "pyproject.toml": '[project]\nname = "fn"\nversion = "1"\ndependencies = ["a>=1", "slimdep"]\n'
            '[tool.uv.sources]\na = { path = "../libs/a" }\n'
            '[tool.poetry.dependencies]\nb = { path = "../libs/b", develop = true }\n'
        },
    )
    inputs = inputs_of(project)
    # Poetry 1 declares a path dependency only in its own table: it is required all the same.
    assert inputs.requirement_lines == ("a>=1", "slimdep", "b")
    assert [(line, name) for line, _, name in local(inputs)] == [("a>=1", "a"), ("b", "b")]


def test_a_workspace_member_required_by_name_alone_is_never_left_to_the_index(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*", "fn"]\n',
            "packages/common/pyproject.toml": LIBRARY.format(name="common"),
            "fn/pyproject.toml": '[project]\nname = "fn"\nversion = "1"\ndependencies = ["common"]\n',
        },
    )
    inputs = inputs_of(tmp_path / "fn")
    assert [(line, name) for line, _, name in local(inputs)] == [("common", "common")]


def test_a_workspace_source_with_no_such_member_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.uv.workspace]\nmembers = ["fn"]\n',
            "fn/pyproject.toml": '[project]\nname = "fn"\nversion = "1"\ndependencies = ["common"]\n'
            "[tool.uv.sources]\ncommon = { workspace = true }\n",
        },
    )
    with pytest.raises(ProjectError, match=r"no member of the uv workspace .* is named common"):
        inputs_of(tmp_path / "fn")


@pytest.mark.parametrize(
    ("table", "spec"),
    [
        ("tool.uv.sources", '{ git = "https://user:secret@example.com/common.git" }'),
        ("tool.uv.sources", '{ url = "https://example.com/common-1.0-py3-none-any.whl" }'),
        ("tool.poetry.dependencies", '{ git = "https://example.com/common.git" }'),
        ("tool.poetry.dependencies", '{ path = "wheels/common-1.0-py3-none-any.whl" }'),
    ],
)
def test_a_source_that_is_not_a_directory_is_refused_rather_than_looked_up_by_name(
    tmp_path: Path, table: str, spec: str
) -> None:
    body = '[project]\nname = "fn"\nversion = "1"\ndependencies = ["common"]\n'
    write(tmp_path, {"pyproject.toml": f"{body}[{table}]\ncommon = {spec}\n"})
    with pytest.raises(
        ProjectError, match="which lambda-slim does not read: it would look common up on the index"
    ) as caught:
        inputs_of(tmp_path)
    assert "secret" not in str(caught.value)


def test_a_git_source_of_a_package_that_does_not_ship_is_no_concern(tmp_path: Path) -> None:
    body = '[project]\nname = "fn"\nversion = "1"\ndependencies = ["slimdep"]\n'
    write(tmp_path, {"pyproject.toml": body + '[tool.uv.sources]\ndevtool = { git = "https://example.com/d.git" }\n'})
    assert inputs_of(tmp_path).local == ()


def test_a_changed_local_package_changes_the_inputs_digest(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"lib/pyproject.toml": LIBRARY.format(name="lib"), "lib/lib/__init__.py": "", "requirements.txt": "./lib\n"},
    )
    before = inputs_of(tmp_path).digest
    (tmp_path / "lib" / "lib" / "__pycache__").mkdir()
    (tmp_path / "lib" / "lib" / "__pycache__" / "x.pyc").write_bytes(b"build output")
    assert inputs_of(tmp_path).digest == before  # what a build leaves behind is not source
    (tmp_path / "lib" / "lib" / "__init__.py").write_text("CHANGED = 1\n")
    assert inputs_of(tmp_path).digest != before
