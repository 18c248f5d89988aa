"""project: which requirement inputs a project has, and which of its files are its code."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from lambda_slim._errors import ProjectError
from lambda_slim._inputs.config import Config
from lambda_slim._inputs.lockedproject import locked_pins
from lambda_slim._inputs.project import (
    ProjectSettings,
    RequirementInputs,
    app_code,
    app_files,
    left_out_app_paths,
    requirement_inputs,
    selection_of,
)
from lambda_slim._inputs.target import Target
from lambda_slim._pipeline import project_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "projects"
TARGET = Target("python3.12", "x86_64")


def settings_of(root: Path, **options: Any) -> ProjectSettings:
    """What reading the project takes, made from a Config as a build makes it."""
    return project_settings(Config(project_dir=root.resolve(), target=TARGET, **options))


def inputs_of(root: Path, **options: Any) -> RequirementInputs:
    return requirement_inputs(settings_of(root, **options))


def project_error(root: Path, **options: Any) -> str:
    with pytest.raises(ProjectError) as caught:
        inputs_of(root, **options)
    return str(caught.value)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def pyproject(root: Path, body: str) -> Path:
    return write(root, {"pyproject.toml": '[project]\nname = "p"\nversion = "1"\n' + body})


def requirements(root: Path, text: str, name: str = "requirements.txt") -> RequirementInputs:
    write(root, {name: text})
    return inputs_of(root)


# --- requirement inputs from pyproject.toml -----------------------------------------------------------------------


def test_pyproject_dependencies_only() -> None:
    inputs = inputs_of(FIXTURES / "dev-group")
    assert inputs.requirement_lines == ("requests>=2.31", "PyYAML==6.0.1")
    assert inputs.source == "pyproject.toml [project] dependencies"
    assert inputs.requirements_file is None
    assert inputs.pinned is None
    assert not inputs.empty


def test_named_extra_is_added() -> None:
    inputs = inputs_of(FIXTURES / "dev-group", extras=("test",))
    assert inputs.requirement_lines == ("requests>=2.31", "PyYAML==6.0.1", "pytest>=8", "coverage[toml]")
    assert "boto3" not in inputs.requirement_lines
    assert inputs.source == "pyproject.toml [project] dependencies + extra test"


def test_named_group_expands_its_include_group() -> None:
    inputs = inputs_of(FIXTURES / "dev-group", groups=("dev",))
    assert inputs.requirement_lines == ("requests>=2.31", "PyYAML==6.0.1", "ipython", "ruff>=0.6")
    assert inputs.source == "pyproject.toml [project] dependencies + group dev"


def test_extras_and_groups_together() -> None:
    inputs = inputs_of(FIXTURES / "dev-group", extras=("aws",), groups=("lint",))
    assert inputs.requirement_lines[2:] == ("boto3", "ruff>=0.6")
    assert inputs.source.endswith("extra aws, group lint")


def test_digest_follows_the_selected_requirements() -> None:
    root = FIXTURES / "dev-group"
    plain = inputs_of(root).digest
    assert inputs_of(root).digest == plain
    assert inputs_of(root, extras=("test",)).digest != plain
    assert inputs_of(root, groups=("dev",)).digest != plain
    assert inputs_of(root, groups=("dev",)).digest != inputs_of(root, groups=("lint",)).digest


def test_unknown_extra_lists_the_extras() -> None:
    message = project_error(FIXTURES / "dev-group", extras=("tset",))
    assert "'tset'" in message
    assert "it has: test, aws" in message


def test_unknown_group_lists_the_groups() -> None:
    message = project_error(FIXTURES / "dev-group", groups=("prod",))
    assert "'prod'" in message
    assert "it has: lint, dev" in message


def test_unknown_group_when_there_are_none(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dependencies = ["a"]\n')
    assert "it has: none" in project_error(tmp_path, groups=("dev",))


def test_include_group_cycle_is_an_error(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        'dependencies = []\n[dependency-groups]\na = ["x", {include-group = "b"}]\nb = [{include-group = "a"}]\n',
    )
    message = project_error(tmp_path, groups=("a",))
    assert "includes itself" in message
    assert "a -> b -> a" in message


def test_group_entry_of_the_wrong_kind_is_an_error(tmp_path: Path) -> None:
    pyproject(tmp_path, "dependencies = []\n[dependency-groups]\ndev = [3]\n")
    assert "neither a string nor an include" in project_error(tmp_path, groups=("dev",))


def test_dynamic_dependencies_are_an_error(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dynamic = ["dependencies"]\n')
    message = project_error(tmp_path)
    assert "dynamic" in message
    assert "--requirements" in message


def test_invalid_requirement_in_pyproject(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dependencies = ["requests >>= 2"]\n')
    assert "'requests >>= 2'" in project_error(tmp_path)


def test_dependencies_must_be_a_list_of_strings(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dependencies = "requests"\n')
    assert "[project] dependencies" in project_error(tmp_path)


def test_extras_without_a_project_table_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "requests\n"})
    assert "[project] table" in project_error(tmp_path, extras=("test",))


def test_extra_of_a_project_without_required_dependencies(tmp_path: Path) -> None:
    pyproject(tmp_path, '[project.optional-dependencies]\naws = ["boto3"]\n')
    assert inputs_of(tmp_path, extras=("aws",)).requirement_lines == ("boto3",)


def test_dynamic_metadata_does_not_hide_requirements_txt(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dynamic = ["readme"]\n')
    write(tmp_path, {"requirements.txt": "requests==2.31.0\n"})
    inputs = inputs_of(tmp_path)
    assert inputs.requirements_file == tmp_path / "requirements.txt"


def test_project_table_without_dependencies_falls_back_to_requirements_txt(tmp_path: Path) -> None:
    pyproject(tmp_path, "")
    write(tmp_path, {"requirements.txt": "requests\n"})
    inputs = inputs_of(tmp_path)
    assert inputs.requirements_file == tmp_path / "requirements.txt"


# --- requirement inputs from requirements files -------------------------------------------------------------------


def test_requirements_txt(tmp_path: Path) -> None:
    inputs = requirements(tmp_path, "requests>=2\n")
    assert inputs.source == "requirements.txt"
    assert inputs.requirements_file == tmp_path / "requirements.txt"
    assert inputs.requirement_lines == ()
    assert not inputs.empty


def test_explicit_requirements_file_wins_over_pyproject(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dependencies = ["requests"]\n')
    write(tmp_path, {"reqs/prod.txt": "boto3==1.0\n"})
    inputs = inputs_of(tmp_path, requirements=tmp_path / "reqs" / "prod.txt")
    assert inputs.source == "prod.txt"
    assert inputs.requirements_file == tmp_path / "reqs" / "prod.txt"
    assert inputs.pinned == frozenset({"boto3"})


def test_missing_explicit_requirements_file(tmp_path: Path) -> None:
    message = project_error(tmp_path, requirements=tmp_path / "nope.txt")
    assert "nope.txt" in message
    assert "does not exist" in message


def test_requirements_in_is_the_fallback(tmp_path: Path) -> None:
    inputs = requirements(tmp_path, "requests\n", name="requirements.in")
    assert inputs.source == "requirements.in"
    assert inputs.requirements_file == tmp_path / "requirements.in"


def test_requirements_txt_is_preferred_over_requirements_in(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.in": "requests\n"})
    assert requirements(tmp_path, "requests==2.31.0\n").source == "requirements.txt"


def test_no_dependencies(tmp_path: Path) -> None:
    write(tmp_path, {"handler.py": "def handler(e, c): pass\n"})
    inputs = inputs_of(tmp_path)
    assert inputs.source == "no dependencies"
    assert inputs.empty
    assert inputs.pinned == frozenset()


def test_include_is_read_and_its_changes_change_the_digest(tmp_path: Path) -> None:
    write(tmp_path, {"base.txt": "urllib3==2.0.7\n"})
    first = requirements(tmp_path, "-r base.txt\nrequests==2.31.0\n")
    assert first.pinned == frozenset({"requests", "urllib3"})
    write(tmp_path, {"base.txt": "urllib3==2.2.1\n"})
    assert inputs_of(tmp_path).digest != first.digest


def test_digest_is_stable_for_unchanged_files(tmp_path: Path) -> None:
    write(tmp_path, {"base.txt": "urllib3==2.0.7\n"})
    assert requirements(tmp_path, "-r base.txt\n").digest == inputs_of(tmp_path).digest


@pytest.mark.parametrize("include", ["-r base.txt", "--requirement base.txt", "--requirement=base.txt", "-c base.txt"])
def test_include_spellings(tmp_path: Path, include: str) -> None:
    write(tmp_path, {"base.txt": "urllib3>=2\n"})
    # The included file's unpinned requirement makes the whole input unpinned: proof that it was read.
    assert requirements(tmp_path, f"{include}\nrequests==2.31.0\n").pinned is None


def test_nested_and_cyclic_includes(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": "-r sub/b.txt\nsix==1.16.0\n", "sub/b.txt": "-r ../a.txt\nidna==3.6\n"})
    inputs = requirements(tmp_path, "-r a.txt\n")
    assert inputs.pinned == frozenset({"six", "idna"})


def test_missing_include_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "-r missing.txt\n"})
    assert "missing.txt" in project_error(tmp_path)


def test_invalid_requirement_line_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "requests (>=2\n"})
    assert "requirements.txt" in project_error(tmp_path)


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("requests==2.31.0\nDjango_REST.framework==3.0\n", {"requests", "django-rest-framework"}),
        ("requests===2.31.0\n", {"requests"}),
        ("# a comment\nrequests==2.31.0  # pinned by pip-compile\n\n", {"requests"}),
        ('requests[socks]==2.31.0 ; python_version >= "3.8"\n', {"requests"}),
        (
            "requests==2.31.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\nidna==3.6 --hash=sha256:cccc\n",
            {"requests", "idna"},
        ),
    ],
)
def test_fully_pinned_files(tmp_path: Path, text: str, pinned: set[str]) -> None:
    assert requirements(tmp_path, text).pinned == frozenset(pinned)


@pytest.mark.parametrize(
    "text",
    [
        "requests>=2.31\n",
        "requests==2.31.0\nidna\n",
        "requests==2.*\n",
        "requests==2.31.0,!=2.31.1\n",
        "requests~=2.31\n",
        "./vendor/lib\n",
        "mylib @ https://example.com/mylib-1.0.tar.gz\n",
    ],
)
def test_not_fully_pinned_files(tmp_path: Path, text: str) -> None:
    assert requirements(tmp_path, text).pinned is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("requests==2.31.0\n-e git+https://github.com/psf/requests@v2.31.0#egg=requests\n", "line 2"),
        ("# vendored\n\n--editable https://example.com/lib-1.0.tar.gz\n", "line 3"),
        ("requests==2.31.0 \\\n    --hash=sha256:aaaa\n-e https://example.com/lib-1.0.tar.gz\n", "line 3"),
        ("git+https://github.com/psf/requests@v2.31.0#egg=requests\n", "line 1"),
        ("requests @ git+ssh://git@github.com/psf/requests@v2.31.0\n", "line 1"),
        ("requests @ hg+https://hg.example/requests\n", "line 1"),
    ],
)
def test_editable_and_vcs_requirements_are_refused_before_pip_clones_them(
    tmp_path: Path, text: str, where: str
) -> None:
    message = project_error(write(tmp_path, {"requirements.txt": text}))
    assert f"requirements.txt {where}: " in message
    assert "Build a wheel of it" in message and "name @ https://" in message


def test_a_vcs_reference_in_pyproject_is_refused(tmp_path: Path) -> None:
    pyproject(tmp_path, 'dependencies = ["requests @ git+https://github.com/psf/requests@v2.31.0"]\n')
    message = project_error(tmp_path)
    assert "pyproject.toml [project] dependencies: 'requests @ git+https" in message
    assert "version-control reference" in message


def test_credentials_in_a_requirement_url_are_refused_and_never_repeated(tmp_path: Path) -> None:
    text = "requests==2.31.0\nmylib @ https://deploy:hunter2@files.example/mylib-1.0-py3-none-any.whl\n"
    message = project_error(write(tmp_path, {"requirements.txt": text}))
    assert "requirements.txt line 2: " in message and "~/.netrc" in message
    assert "hunter2" not in message


def test_credentials_in_an_index_url_are_pip_s_business(tmp_path: Path) -> None:
    text = "--index-url https://deploy:hunter2@pypi.example/simple\nrequests==2.31.0\n"
    assert requirements(tmp_path, text).pinned == frozenset({"requests"})


def test_index_url_option_does_not_unpin_a_file(tmp_path: Path) -> None:
    text = "--index-url https://pypi.org/simple\n--extra-index-url https://example.com/simple\nrequests==2.31.0\n"
    assert requirements(tmp_path, text).pinned == frozenset({"requests"})


def test_options_without_urls_do_not_unpin_a_file(tmp_path: Path) -> None:
    assert requirements(tmp_path, "--prefer-binary\nrequests==2.31.0\n").pinned == frozenset({"requests"})


# --- app files ----------------------------------------------------------------------------------------------------


@pytest.fixture()
def app_layout(tmp_path: Path) -> Path:
    """fixtures/projects/app-layout, plus what .gitignore keeps out of the repository (.venv/, dist/)."""
    root = tmp_path / "app-layout"
    shutil.copytree(FIXTURES / "app-layout", root)
    write(
        root,
        {
            ".venv/lib/x.py": "VENV = True\n",
            ".hidden/secret.py": "TOKEN = 'x'\n",
            ".env": "TOKEN=x\n",
            "dist/function.zip": "zip",
            "dist/old.py": "OLD = True\n",
            "mypkg/__pycache__/__init__.cpython-312.pyc": "pyc",
            "mypkg/tests/test_inner.py": "def test_inner(): pass\n",
            "mypkg/stale.pyc": "pyc",
        },
    )
    return root


def paths(root: Path, **options: Any) -> list[str]:
    found = app_files(settings_of(root, **options))
    for file in found:
        assert file.source == root.resolve() / file.path
    return [file.path for file in found]


def test_default_app_files(app_layout: Path) -> None:
    assert sorted(paths(app_layout)) == [
        "handler.py",
        "mypkg/__init__.py",
        "mypkg/templates/page.html",
        "settings.py",
    ]


def test_app_file_order_is_stable(app_layout: Path) -> None:
    assert paths(app_layout) == ["handler.py", "settings.py", "mypkg/__init__.py", "mypkg/templates/page.html"]


def test_include_replaces_the_defaults(app_layout: Path) -> None:
    assert sorted(paths(app_layout, include=("scripts/", "README.md"))) == ["README.md", "scripts/deploy.py"]


def test_include_still_honours_the_default_excludes(app_layout: Path) -> None:
    assert sorted(paths(app_layout, include=("*.py",))) == [
        "handler.py",
        "mypkg/__init__.py",
        "scripts/deploy.py",
        "settings.py",
    ]


def test_exclude_adds_to_the_default_excludes(app_layout: Path) -> None:
    assert sorted(paths(app_layout, exclude=("templates/",))) == ["handler.py", "mypkg/__init__.py", "settings.py"]
    assert sorted(paths(app_layout, exclude=("settings.py",))) == [
        "handler.py",
        "mypkg/__init__.py",
        "mypkg/templates/page.html",
    ]


@pytest.mark.parametrize("include", [None, ("*",)])
def test_out_dir_is_never_included(app_layout: Path, include: tuple[str, ...] | None) -> None:
    out = app_layout / "artifacts"
    write(out, {"__init__.py": "", "function.zip": "zip"})
    found = paths(app_layout, include=include, out_dir=out)
    assert not [path for path in found if path.startswith("artifacts/")]
    assert "handler.py" in found


def test_a_package_dir_is_included_when_it_is_not_the_out_dir(app_layout: Path) -> None:
    write(app_layout / "artifacts", {"__init__.py": "", "function.zip": "zip"})
    found = paths(app_layout, out_dir=app_layout / "elsewhere")
    assert {"artifacts/__init__.py", "artifacts/function.zip"} <= set(found)


# --- case 3: top-level test files are not app code ----------------------------------------------------------------


def test_app_modules_that_fail_to_import_exclude_top_level_test_files(tmp_path: Path) -> None:
    """A sample app shipped test_pdf_encrypt.py, which imports pytest: the safety net then found it broken."""
    write(
        tmp_path,
        {
            "handler.py": "",
            "test_handler.py": "import pytest\n",
            "handler_test.py": "import pytest\n",
            "mypkg/__init__.py": "",
            "mypkg/test_vectors.py": "VECTORS = []\n",
        },
    )
    assert paths(tmp_path) == ["handler.py", "mypkg/__init__.py", "mypkg/test_vectors.py"]
    # `include` chooses files itself: what it names is packaged.
    assert "test_handler.py" in paths(tmp_path, include=("*.py",))


# --- case 4: a project with no app code ---------------------------------------------------------------------------


def no_app_code(root: Path, **options: Any) -> str:
    with pytest.raises(ProjectError) as caught:
        app_code(settings_of(root, **options))
    return str(caught.value)


# A directory of Python is app code with or without __init__.py; docs/ is the repository's, whatever it holds.
@pytest.mark.parametrize("files", [{}, {"README.md": "# nothing to run\n", "docs/conf.py": "project = 'x'\n"}])
def test_an_empty_project_fails_up_front(tmp_path: Path, files: dict[str, str]) -> None:
    message = no_app_code(write(tmp_path, files))
    assert "no app code" in message
    assert str(tmp_path.resolve()) in message
    assert "top-level modules" in message and "include" in message


def test_an_empty_project_names_its_include_patterns(tmp_path: Path) -> None:
    write(tmp_path, {"handler.py": ""})
    message = no_app_code(tmp_path, include=("src/",))
    assert "src/" in message and "matches nothing" in message


def test_a_handler_from_a_dependency_needs_no_app_code(tmp_path: Path) -> None:
    assert app_code(settings_of(tmp_path, handler="awspkg.handlers.main")) == []


def test_app_code_is_the_app_files(app_layout: Path) -> None:
    settings = settings_of(app_layout)
    assert app_code(settings) == app_files(settings)


# --- case 8: symlinks ---------------------------------------------------------------------------------------------


@pytest.fixture()
def linked(tmp_path: Path) -> Path:
    """A project with a package, next to a directory outside it."""
    write(tmp_path / "outside", {"secret.txt": "outside the project\n", "more/__init__.py": ""})
    return write(tmp_path / "project", {"handler.py": "", "pkg/__init__.py": "", "shared/data.txt": "shared\n"})


def app_file_error(root: Path, **options: Any) -> str:
    with pytest.raises(ProjectError) as caught:
        app_files(settings_of(root, **options))
    return str(caught.value)


def test_symlink_to_a_file_outside_the_project_is_refused(linked: Path) -> None:
    (linked / "pkg" / "data.txt").symlink_to(linked.parent / "outside" / "secret.txt")
    message = app_file_error(linked)
    assert "pkg/data.txt" in message and "outside the project" in message
    assert str((linked.parent / "outside" / "secret.txt").resolve()) in message
    assert 'exclude = ["pkg/data.txt"]' in message and "--exclude pkg/data.txt" in message


def test_symlink_to_a_directory_outside_the_project_is_refused(linked: Path) -> None:
    (linked / "pkg" / "vendored").symlink_to(linked.parent / "outside", target_is_directory=True)
    message = app_file_error(linked)
    assert "pkg/vendored" in message and "outside the project" in message


def test_a_top_level_package_linked_from_outside_is_refused(linked: Path) -> None:
    (linked / "more").symlink_to(linked.parent / "outside" / "more", target_is_directory=True)
    assert "outside the project" in app_file_error(linked)


def test_an_excluded_symlink_is_never_followed(linked: Path) -> None:
    (linked / "pkg" / "data.txt").symlink_to(linked.parent / "outside" / "secret.txt")
    (linked / "pkg" / "gone.txt").symlink_to(linked / "missing.txt")
    assert paths(linked, exclude=("pkg/data.txt", "pkg/gone.txt")) == ["handler.py", "pkg/__init__.py"]


def test_a_link_no_rule_selects_is_not_checked(linked: Path) -> None:
    (linked / "notes.txt").symlink_to(linked.parent / "outside" / "secret.txt")
    (linked / "docs").symlink_to(linked.parent / "outside", target_is_directory=True)
    (linked / "broken.txt").symlink_to(linked / "missing.txt")
    assert paths(linked) == ["handler.py", "pkg/__init__.py"]


def test_symlinks_inside_the_project_are_followed_once(linked: Path) -> None:
    (linked / "pkg" / "data.txt").symlink_to("../shared/data.txt")
    (linked / "pkg" / "shared").symlink_to("../shared", target_is_directory=True)
    found = app_files(settings_of(linked))
    assert [file.path for file in found] == ["handler.py", "pkg/__init__.py", "pkg/data.txt", "pkg/shared/data.txt"]
    assert [file.source.read_text() for file in found[2:]] == ["shared\n", "shared\n"]


@pytest.mark.parametrize("target", ["missing.txt", "../nowhere/data.txt"])
def test_a_dangling_symlink_is_named(linked: Path, target: str) -> None:
    (linked / "pkg" / "data.txt").symlink_to(target)
    message = app_file_error(linked)
    assert "pkg/data.txt" in message and "does not exist" in message and target in message
    assert 'exclude = ["pkg/data.txt"]' in message


def test_a_symlink_loop_is_named(linked: Path) -> None:
    (linked / "pkg" / "a").symlink_to("b")
    (linked / "pkg" / "b").symlink_to("a")
    message = app_file_error(linked)
    assert "pkg/a" in message and "loop" in message


def test_a_directory_linked_to_its_own_ancestor_is_a_loop(linked: Path) -> None:
    (linked / "pkg" / "again").symlink_to("..", target_is_directory=True)
    message = app_file_error(linked)
    assert "pkg/again" in message and "loop" in message
    assert paths(linked, exclude=("pkg/again",)) == ["handler.py", "pkg/__init__.py"]


# --- case 11: odd files ---------------------------------------------------------------------------------------------


def test_a_fifo_in_the_app_is_refused_without_opening_it(linked: Path) -> None:
    os.mkfifo(linked / "pkg" / "pipe")
    message = app_file_error(linked)
    assert "pkg/pipe" in message and "FIFO" in message and 'exclude = ["pkg/pipe"]' in message
    assert paths(linked, exclude=("pkg/pipe",)) == ["handler.py", "pkg/__init__.py"]


def test_a_fifo_no_rule_selects_is_left_alone(linked: Path) -> None:
    os.mkfifo(linked / "pipe")
    assert paths(linked) == ["handler.py", "pkg/__init__.py"]


def test_a_file_name_that_is_not_utf8_is_named_escaped(linked: Path) -> None:
    open(os.fsencode(linked / "pkg") + b"/caf\xe9.txt", "w").close()
    message = app_file_error(linked)
    assert "pkg/caf\\xe9.txt" in message and "UTF-8" in message
    assert 'exclude = ["pkg/caf?.txt"]' in message
    assert paths(linked, exclude=("pkg/caf?.txt",)) == ["handler.py", "pkg/__init__.py"]


def test_a_file_name_that_is_not_utf8_outside_the_app_is_left_alone(linked: Path) -> None:
    open(os.fsencode(linked) + b"/caf\xe9.txt", "w").close()
    assert paths(linked) == ["handler.py", "pkg/__init__.py"]


def test_an_unreadable_package_directory_is_named(linked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.walk skipped a directory it could not list without a word: its files silently went missing."""
    (linked / "pkg" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    message = app_file_error(linked)
    assert "pkg/locked" in message and "Permission denied" in message


# --- issue 14, case 1: app code laid out the way SAM, CDK and the AWS samples lay it out ---------------------------


@pytest.fixture()
def repository(tmp_path: Path) -> Path:
    """What a SAM or CDK repository holds next to its function's code."""
    return write(
        tmp_path / "repo",
        {
            "src/app.py": "def lambda_handler(event, context): pass\n",
            "src/requirements.txt": "requests\n",
            "src/Dockerfile": "FROM public.ecr.aws/lambda/python:3.12\n",
            "src/templates/mail.html": "<p>hi</p>\n",
            "functions/orders/handler.py": "def handler(event, context): pass\n",
            "functions/orders/schema.json": "{}\n",
            "config.json": "{}\n",
            "settings.yaml": "a: 1\n",
            "event.json": "{}\n",
            "expected.json": "{}\n",
            "template.yaml": "Resources: {}\n",
            "samconfig.toml": "version = 0.1\n",
            "serverless.yml": "service: x\n",
            "cdk.json": '{"app": "python3 app.py"}\n',
            "app.py": "import aws_cdk\n",
            "pyproject.toml": "[project]\nname = 'x'\n",
            "poetry.lock": "",
            "uv.lock": "",
            "requirements-dev.txt": "pytest\n",
            "Dockerfile": "FROM x\n",
            "Makefile": "all:\n",
            "README.md": "# repo\n",
            "LICENSE": "MIT\n",
            "events/event.json": "{}\n",
            "events/make_event.py": "print(1)\n",
            "docs/conf.py": "project = 'x'\n",
            "scripts/deploy.sh": "sam deploy\n",
            "scripts/seed.py": "print(1)\n",
            "infra/main.tf": "",
            "tests/unit/test_handler.py": "import pytest\n",
            "test_app.py": "import pytest\n",
            ".aws-sam/build/HelloFunction/app.py": "",
            ".venv-3.12/lib/x.py": "",
            "cdk.out/asset.1/main.py": "",
            "node_modules/x/y.py": "",
        },
    )


def test_modules_in_directories_without_init_are_app_code(repository: Path) -> None:
    assert paths(repository) == [
        "config.json",
        "settings.yaml",
        "functions/orders/handler.py",
        "functions/orders/schema.json",
        "src/app.py",
        "src/templates/mail.html",
    ]


def test_iac_templates_and_lock_files_never_ship(repository: Path) -> None:
    shipped = set(paths(repository))
    for tooling in ("template.yaml", "samconfig.toml", "serverless.yml", "cdk.json", "pyproject.toml", "poetry.lock"):
        assert tooling not in shipped
    assert {"uv.lock", "requirements-dev.txt", "src/requirements.txt", "Dockerfile", "src/Dockerfile"}.isdisjoint(
        shipped
    )
    # Even `include` never ships requirements, lock files and metadata: they are never data a function reads.
    assert paths(repository, include=("src/", "*.lock", "pyproject.toml")) == ["src/app.py", "src/templates/mail.html"]


def test_include_may_name_what_the_default_leaves_out(repository: Path) -> None:
    assert paths(repository, include=("template.yaml", "events/", "scripts/")) == [
        "template.yaml",
        "events/event.json",
        "events/make_event.py",
        "scripts/deploy.sh",
        "scripts/seed.py",
    ]


def test_a_package_named_like_a_tooling_directory_is_still_app_code(tmp_path: Path) -> None:
    write(tmp_path, {"handler.py": "", "scripts/__init__.py": "", "scripts/run.py": ""})
    assert paths(tmp_path) == ["handler.py", "scripts/__init__.py", "scripts/run.py"]


def test_the_cdk_app_cdk_json_runs_is_not_app_code(tmp_path: Path) -> None:
    write(tmp_path, {"cdk.json": '{"app": "python3 ./deploy_app.py"}', "deploy_app.py": "", "app.py": ""})
    assert paths(tmp_path) == ["app.py"]


def test_explain_says_why_an_app_file_was_left_out(repository: Path) -> None:
    selection = selection_of(settings_of(repository, exclude=("settings.yaml",)))
    reasons = {
        rel: selection.why_left_out(rel)
        for rel in (
            "template.yaml",
            "src/requirements.txt",
            "tests/unit/test_handler.py",
            "test_app.py",
            "events/event.json",
            "infra/main.tf",
            "infra",
            ".venv-3.12/lib/x.py",
            "cdk.out/asset.1/main.py",
            "app.py",
            "README.md",
            "event.json",
            "settings.yaml",
            "src/app.py",
            "config.json",
        )
    }
    assert reasons == {
        "template.yaml": "IaC template (template.yaml)",
        "src/requirements.txt": "requirements or lock file (requirements*.txt)",
        "tests/unit/test_handler.py": "test directory (tests/)",
        "test_app.py": "top-level test module",
        "events/event.json": "sample events directory (events/), not the function's code",
        "infra/main.tf": "a directory with no Python (infra/): only directories of code ship with their data",
        "infra": "a directory with no Python (infra/): only directories of code ship with their data",
        ".venv-3.12/lib/x.py": "hidden file or directory (.*)",
        "cdk.out/asset.1/main.py": "build output (cdk.out/)",
        "app.py": "the CDK app cdk.json runs (app.py), not the function",
        "README.md": "documentation (README.md)",
        "event.json": "sample event or expected result (event.json)",
        "settings.yaml": "by exclude pattern 'settings.yaml'",
        "src/app.py": None,
        "config.json": None,
    }


def handler_error(root: Path, handler: str, **options: Any) -> str:
    with pytest.raises(ProjectError) as caught:
        app_code(settings_of(root, handler=handler, **options))
    return str(caught.value)


def test_handler_module_missing_from_the_selection_fails_before_installing(repository: Path) -> None:
    message = handler_error(repository, "scripts/seed.main")
    assert "module scripts.seed, expected at scripts/seed.py" in message
    assert "scripts directory (scripts/)" in message
    assert "--include scripts/seed.py" in message and 'include = ["scripts/seed.py"]' in message
    message = handler_error(repository, "src.app.lambda_handler", include=("functions/",))
    assert "src/app.py" in message and "matched by no include pattern" in message
    message = handler_error(repository, "src.missing.handler")
    assert "expected at src/missing.py" in message and "no such file" in message


@pytest.mark.parametrize(
    "handler", ["src.app.lambda_handler", "src/app.lambda_handler", "functions/orders/handler.handler"]
)
def test_handler_in_path_form_is_accepted(repository: Path, handler: str) -> None:
    """Lambda's runtime reads path/module.function as path.module.function: either form finds the module."""
    module_path = handler.rpartition(".")[0].replace(".", "/") + ".py"
    assert module_path in [file.path for file in app_code(settings_of(repository, handler=handler))]


def test_a_repository_root_reads_the_requirements_beside_the_handler(repository: Path) -> None:
    """SAM keeps the function's requirements.txt in its CodeUri (src/): built from the root, the build reads it."""
    for lock in ("uv.lock", "poetry.lock"):  # a project lock at the root would come first
        (repository / lock).unlink()
    inputs = inputs_of(repository, handler="src.app.lambda_handler")
    assert inputs.source == "src/requirements.txt" and inputs.requirements_file == repository / "src/requirements.txt"
    assert inputs_of(repository, handler="functions/orders/handler.handler").source == "no dependencies"
    write(repository, {"requirements.txt": "boto3\n"})
    assert inputs_of(repository, handler="src.app.lambda_handler").source == "requirements.txt"


def test_explain_names_the_output_directory_and_globs(repository: Path) -> None:
    write(repository, {"artifacts/function.zip": "zip"})
    settings = settings_of(repository, out_dir=repository / "artifacts")
    assert left_out_app_paths(settings, "artifacts/function.zip") == [
        ("artifacts/function.zip", "the build's output directory")
    ]
    assert [rel for rel, _ in left_out_app_paths(settings, "*.toml")] == ["pyproject.toml", "samconfig.toml"]
    assert left_out_app_paths(settings, "src/app.py") == []
    assert left_out_app_paths(settings, "events/") == [
        ("events", "sample events directory (events/), not the function's code")
    ]
    for outside in ("/etc/passwd", "../repo/README.md", ""):
        assert left_out_app_paths(settings, outside) == []


def test_a_cdk_app_in_a_directory_is_not_app_code(tmp_path: Path) -> None:
    write(tmp_path, {"cdk.json": '{"app": "pipenv run python3 infra/app.py"}', "infra/app.py": "", "infra/util.py": ""})
    assert paths(tmp_path) == ["infra/util.py"]


LOCK_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "locks"


def test_local_package_in_project_lock_is_handed_on_as_a_path_requirement(tmp_path: Path) -> None:
    project = tmp_path / "uv"
    shutil.copytree(LOCK_FIXTURES / "uv", project)
    inputs = inputs_of(project)
    helper = (project / "libs" / "helper").resolve().as_uri()
    assert inputs.source == "uv.lock"
    assert f"helper @ {helper}" in inputs.requirement_lines
    # Never looked up on an index by its name: its pin is the path, whatever an index serves as `helper`.
    assert [pin.url for pin in locked_pins(inputs, project) if pin.name == "helper"] == ["file:libs/helper"]
    assert "iniconfig" not in " ".join(inputs.requirement_lines)


def test_vcs_package_in_project_lock_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "gitdep"\nversion = "1.0"\n'
        'vcs = { type = "git", url = "https://example.invalid/gitdep.git", commit-id = "abc123" }\n'
    )
    message = project_error(tmp_path)
    assert "pylock.toml (gitdep)" in message and "version-control reference" in message
