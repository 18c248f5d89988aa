"""foreignlocks: the project's own uv.lock, poetry.lock, pylock.toml and Pipfile.lock, read for the target."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from lambda_slim._errors import ConfigError, ProjectError
from lambda_slim._inputs.foreignlocks import (
    LockedFile,
    LockedPackage,
    ProjectLock,
    find_project_lock,
    find_project_locks,
    no_wheel_hint,
    no_wheel_reason,
    pipfile_hashes,
    poetry_content_hash,
    read_project_lock,
    stale_reason,
    to_pinned_requirements,
    wheel_tags,
)

LOCKS = Path(__file__).resolve().parents[2] / "fixtures" / "locks"
# Each fixture project has its lock, written by the tool (pylock.toml exported by uv, then made multi-use).
PROJECTS = {"uv": "uv.lock", "poetry": "poetry.lock", "poetry2": "poetry.lock", "pylock": "pylock.toml"}
ALL_PROJECTS = {**PROJECTS, "pipenv": "Pipfile.lock"}


def lambda_environment(machine: str, python: str = "3.11.9") -> dict[str, str]:
    """A complete marker environment for a Lambda target, as the caller builds it (never this machine's)."""
    return {
        "implementation_name": "cpython",
        "implementation_version": python,
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": f"5.10.227-239.884.amzn2.{machine}",
        "platform_system": "Linux",
        "platform_version": "#1 SMP",
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        "sys_platform": "linux",
    }


X86 = lambda_environment("x86_64")
ARM = lambda_environment("aarch64")


def pyproject_of(project: Path) -> dict[str, Any]:
    path = project / "pyproject.toml"
    return tomllib.loads(path.read_text()) if path.is_file() else {}


def read(project: str, environment: dict[str, str] = X86, extras: Any = (), groups: Any = ()) -> ProjectLock:
    root = LOCKS / project
    return read_project_lock(root / ALL_PROJECTS[project], pyproject_of(root), extras, groups, environment)


def names(project: str, environment: dict[str, str] = X86, **selection: Any) -> set[str]:
    return {package.name for package in read(project, environment, **selection).packages}


def copy_project(project: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(LOCKS / project, tmp_path / project))


# --- choosing the file ------------------------------------------------------------------------------------------


def test_lock_precedence_is_pylock_then_uv_then_poetry_then_pipfile(tmp_path: Path) -> None:
    assert find_project_lock(tmp_path) is None
    for name in ("Pipfile.lock", "poetry.lock", "uv.lock", "pylock.toml"):
        (tmp_path / name).write_text("")
        assert find_project_lock(tmp_path) == tmp_path / name
    (tmp_path / "pylock.docs.toml").write_text("")
    assert [p.name for p in find_project_locks(tmp_path)] == [
        "pylock.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "pylock.docs.toml",
    ]
    (tmp_path / "pylock.toml").unlink()
    assert find_project_lock(tmp_path) == tmp_path / "uv.lock"  # a named lock is for its own purpose


def test_named_pylock_is_chosen_by_its_name_and_several_need_one(tmp_path: Path) -> None:
    (tmp_path / "pylock.lambda.toml").write_text("")
    assert find_project_lock(tmp_path) == tmp_path / "pylock.lambda.toml"
    (tmp_path / "pylock.dev.toml").write_text("")
    with pytest.raises(ConfigError, match=r"pylock\.dev\.toml, pylock\.lambda\.toml"):
        find_project_lock(tmp_path)
    assert find_project_lock(tmp_path, "lambda") == tmp_path / "pylock.lambda.toml"
    with pytest.raises(ConfigError, match=r"no pylock\.prod\.toml"):
        find_project_lock(tmp_path, "prod")


# --- what ships -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("project", sorted(ALL_PROJECTS))
def test_dev_group_never_ships(project: str) -> None:
    extras = () if project == "pipenv" else ("attrs",)
    assert "iniconfig" not in names(project)
    assert "iniconfig" not in names(project, extras=extras, groups=("ops",))


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_markers_are_judged_for_the_target_machine(project: str) -> None:
    on_x86, on_arm = names(project, X86), names(project, ARM)
    assert "six" in on_x86 and "idna" not in on_x86
    assert "idna" in on_arm and "six" not in on_arm


@pytest.mark.parametrize("project", sorted(ALL_PROJECTS))
def test_transitive_dependencies_and_a_dependencys_extra_follow(project: str) -> None:
    # markdown-it-py[linkify]: mdurl always, linkify-it-py only through the extra.
    assert {"markdown-it-py", "mdurl", "linkify-it-py"} <= names(project)


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_project_extra_and_group_ship_only_when_named(project: str) -> None:
    assert not {"attrs", "certifi"} & names(project)
    assert "attrs" in names(project, extras=("attrs",))
    assert "certifi" in names(project, groups=("ops",))


def test_pipfile_category_ships_only_when_named() -> None:
    assert "certifi" not in names("pipenv")
    assert "certifi" in names("pipenv", groups=("ops",))


@pytest.mark.parametrize("project", sorted(ALL_PROJECTS))
def test_unknown_group_is_a_usage_error_listing_the_known_ones(project: str) -> None:
    with pytest.raises(ConfigError, match=r"--group nope: .*ops"):
        names(project, groups=("nope",))


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_unknown_extra_is_a_usage_error(project: str) -> None:
    with pytest.raises(ConfigError, match=r"--extra nope: .*attrs"):
        names(project, extras=("nope",))


def test_pipfile_has_no_extras() -> None:
    with pytest.raises(ConfigError, match="Pipfile has no extras"):
        names("pipenv", extras=("attrs",))


@pytest.mark.parametrize("project", sorted(ALL_PROJECTS))
def test_local_directory_package_is_recorded_not_resolved(project: str) -> None:
    lock = read(project)
    helper = next(p for p in lock.packages if p.name == "helper")
    assert (helper.kind, helper.location, helper.is_local) == ("directory", "libs/helper", True)
    assert lock.source == ALL_PROJECTS[project]


@pytest.mark.parametrize("project", sorted(ALL_PROJECTS))
def test_every_hash_of_the_locked_version_is_kept(project: str) -> None:
    lock = read(project)
    mdurl = next(p for p in lock.packages if p.name == "mdurl")
    assert mdurl.version == "0.1.2"
    assert mdurl.hashes == (
        "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8",  # the wheel
        "bb413d29f5eea38f31dd4754dd7377d4465116fb207585f97bf925588687c1ba",  # the sdist
    )


def test_pipfile_lock_without_a_pin_fails_for_a_target_that_needs_it() -> None:
    # pipenv locked on x86_64 and left the aarch64-only idna at version "*".
    with pytest.raises(ProjectError, match=r"Pipfile\.lock \[default\] does not pin idna .*pipenv lock"):
        names("pipenv", ARM)
    assert "idna" not in names("pipenv", X86)


def test_a_partial_marker_environment_is_refused_so_the_host_never_leaks_in() -> None:
    partial = {"platform_machine": "aarch64", "sys_platform": "linux", "python_version": "3.11"}
    with pytest.raises(ValueError, match="python_full_version"):
        names("uv", partial)


UV_FORKED = """
version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "numpy", version = "2.2.6", marker = "python_full_version < '3.11'" },
    { name = "numpy", version = "2.4.6", marker = "python_full_version >= '3.11'" },
]

[[package]]
name = "numpy"
version = "2.2.6"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/numpy-2.2.6-cp310-cp310-manylinux_2_17_x86_64.whl", hash = "sha256:aa" }]

[[package]]
name = "numpy"
version = "2.4.6"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl", hash = "sha256:bb" }]
"""


def test_uv_forked_resolution_takes_the_version_locked_for_the_target_python(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(UV_FORKED)
    lock = read_project_lock(tmp_path / "uv.lock", {}, (), (), lambda_environment("x86_64", "3.11.9"))
    [numpy] = lock.packages
    assert (numpy.version, numpy.files[0].filename) == ("2.4.6", "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl")
    lock = read_project_lock(tmp_path / "uv.lock", {}, (), (), lambda_environment("x86_64", "3.10.16"))
    assert [p.version for p in lock.packages] == ["2.2.6"]


POETRY_PYTHON_SPLIT = """
[[package]]
name = "tomli"
version = "2.2.1"
optional = false
python-versions = ">=3.8"
files = [{file = "tomli-2.2.1-py3-none-any.whl", hash = "sha256:cc"}]

[metadata]
lock-version = "2.1"
python-versions = "^3.10"
content-hash = "0"
"""


@pytest.mark.parametrize(("python", "ships"), [("3.10.16", True), ("3.11.9", False)])
def test_poetry_python_constraint_is_judged_for_the_target(tmp_path: Path, python: str, ships: bool) -> None:
    (tmp_path / "poetry.lock").write_text(POETRY_PYTHON_SPLIT)
    pyproject = {
        "tool": {"poetry": {"dependencies": {"python": "^3.10", "tomli": {"version": "*", "python": "~3.10"}}}}
    }
    lock = read_project_lock(tmp_path / "poetry.lock", pyproject, (), (), lambda_environment("x86_64", python))
    assert bool(lock.packages) is ships


def test_pylock_made_for_another_platform_is_refused(tmp_path: Path) -> None:
    text = (LOCKS / "pylock" / "pylock.toml").read_text()
    (tmp_path / "pylock.toml").write_text(text.replace("sys_platform == 'linux'", "sys_platform == 'darwin'"))
    with pytest.raises(ProjectError, match="was locked for sys_platform == 'darwin'"):
        read_project_lock(tmp_path / "pylock.toml", {}, (), (), X86)


def test_pylock_requires_python_excluding_the_target_is_refused(tmp_path: Path) -> None:
    text = (LOCKS / "pylock" / "pylock.toml").read_text()
    (tmp_path / "pylock.toml").write_text(text.replace('requires-python = ">=3.11"', 'requires-python = ">=3.12"'))
    with pytest.raises(ProjectError, match=r"requires Python >=3\.12; the target runs 3\.11\.9"):
        read_project_lock(tmp_path / "pylock.toml", {}, (), (), X86)


@pytest.mark.parametrize("name", ["uv.lock", "poetry.lock", "pylock.toml", "Pipfile.lock"])
def test_malformed_lock_is_a_project_error_naming_the_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("[[package]\nname = ")
    with pytest.raises(ProjectError, match=name.replace(".", r"\.")):
        read_project_lock(tmp_path / name, {}, (), (), X86)


def test_uv_lock_without_the_project_entry_is_a_project_error(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "six"\nversion = "1.17.0"\n')
    with pytest.raises(ProjectError, match=r"uv\.lock has no entry for the project itself.*uv lock"):
        read_project_lock(tmp_path / "uv.lock", {}, (), (), X86)


# --- staleness --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("project", ["uv", "poetry", "poetry2", "pipenv"])
def test_lock_written_by_its_tool_is_fresh(project: str) -> None:
    root = LOCKS / project
    assert stale_reason(root / ALL_PROJECTS[project], pyproject_of(root)) is None


def test_content_hashes_match_what_poetry_and_pipenv_recorded() -> None:
    for project in ("poetry", "poetry2"):
        recorded = tomllib.loads((LOCKS / project / "poetry.lock").read_text())["metadata"]["content-hash"]
        assert poetry_content_hash(pyproject_of(LOCKS / project)) == recorded
    recorded = json.loads((LOCKS / "pipenv" / "Pipfile.lock").read_text())["_meta"]["hash"]["sha256"]
    assert recorded in pipfile_hashes(tomllib.loads((LOCKS / "pipenv" / "Pipfile").read_text()))


def test_uv_lock_is_stale_after_pyproject_adds_or_changes_a_dependency(tmp_path: Path) -> None:
    root = copy_project("uv", tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    pyproject = pyproject.replace('"helper",', '"helper",\n    "requests>=2",')
    pyproject = pyproject.replace('"markdown-it-py[linkify]>=3"', '"markdown-it-py[linkify]>=4"')
    (root / "pyproject.toml").write_text(pyproject)
    reason = stale_reason(root / "uv.lock", pyproject_of(root))
    assert reason is not None
    assert "dependencies: requests added" in reason
    assert "dependencies: markdown-it-py changed" in reason
    assert reason.endswith("Run `uv lock` to refresh it.")


def test_uv_lock_is_stale_after_a_group_or_extra_changes(tmp_path: Path) -> None:
    root = copy_project("uv", tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    pyproject = pyproject.replace('ops = ["certifi"]', 'ops = ["certifi", "boto3"]').replace('["attrs"]', "[]")
    (root / "pyproject.toml").write_text(pyproject)
    reason = stale_reason(root / "uv.lock", pyproject_of(root))
    assert reason is not None
    assert "group ops: boto3 added" in reason and "dependencies: attrs removed" in reason


@pytest.mark.parametrize("project", ["poetry", "poetry2"])
def test_poetry_lock_is_stale_after_pyproject_changes(tmp_path: Path, project: str) -> None:
    root = copy_project(project, tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    if project == "poetry":
        pyproject = pyproject.replace('iniconfig = "*"', 'iniconfig = "*"\npytest = "*"').replace(
            'python = "^3.11"', 'python = "^3.11"\nrequests = "^2"'
        )
    else:
        pyproject = pyproject.replace('"helper",', '"helper",\n    "requests>=2",')
    (root / "pyproject.toml").write_text(pyproject)
    reason = stale_reason(root / "poetry.lock", pyproject_of(root))
    assert reason is not None
    assert "content-hash" in reason and re.search(r"not in the lock: (pytest, )?requests\)", reason)
    assert reason.endswith("Run `poetry lock` to refresh it.")


def test_pipfile_lock_is_stale_after_the_pipfile_changes(tmp_path: Path) -> None:
    root = copy_project("pipenv", tmp_path)
    (root / "Pipfile").write_text(
        (root / "Pipfile").read_text().replace("[dev-packages]", 'requests = "*"\n\n[dev-packages]')
    )
    reason = stale_reason(root / "Pipfile.lock", {})
    assert reason is not None
    assert "Pipfile changed" in reason and "not in the lock: requests" in reason
    assert reason.endswith("Run `pipenv lock` to refresh it.")


def test_pylock_staleness_cannot_be_checked_and_says_so() -> None:
    root = LOCKS / "pylock"
    assert stale_reason(root / "pylock.toml", pyproject_of(root)) is None
    lock = read("pylock")
    assert lock.freshness.startswith("not checked")
    assert lock.created_by == "uv" and "uv" in lock.refresh_command


# --- rendering --------------------------------------------------------------------------------------------------


def test_pinned_requirements_carry_every_hash_and_skip_local_packages() -> None:
    lock = read("uv", ARM)
    assert to_pinned_requirements(lock) == (
        "# from uv.lock, versions as locked\n"
        "# helper: directory libs/helper (not hash-checked)\n"
        "idna==3.20 \\\n"
        "    --hash=sha256:a7db850025b95ded1eae8a46181a1a6c56c92c96f0e2b005d9ff8dc0210cab44 \\\n"
        "    --hash=sha256:ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c\n"
        "linkify-it-py==2.2.0 \\\n"
        "    --hash=sha256:3adc40eb5af300b2605fcfdb968c24e1d780a90f1f2221af7c15e5111e94d443 \\\n"
        "    --hash=sha256:907acd2d17ac1fbb9ddb62c8957ccbd6158cac602231a15c3b0cd1e215f03cee\n"
        "markdown-it-py==4.3.0 \\\n"
        "    --hash=sha256:7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa \\\n"
        "    --hash=sha256:91a58fa5b72c71a40cf7177250fd767480d7a2bb3ac426ccfb76fb90305fdaaa\n"
        "mdurl==0.1.2 \\\n"
        "    --hash=sha256:84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8 \\\n"
        "    --hash=sha256:bb413d29f5eea38f31dd4754dd7377d4465116fb207585f97bf925588687c1ba\n"
    )


def test_direct_url_package_renders_as_name_at_url_with_its_hash(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "tiny" }]\n'
        '[[package]]\nname = "tiny"\nversion = "1.0"\n'
        'source = { url = "https://example.org/tiny-1.0-py3-none-any.whl" }\n'
        'wheels = [{ url = "https://example.org/tiny-1.0-py3-none-any.whl", hash = "sha256:dd" }]\n'
    )
    lock = read_project_lock(tmp_path / "uv.lock", {}, (), (), X86)
    assert to_pinned_requirements(lock).splitlines()[1:] == [
        "tiny @ https://example.org/tiny-1.0-py3-none-any.whl \\",
        "    --hash=sha256:dd",
    ]


def test_a_locked_package_without_hashes_cannot_be_rendered(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text(json.dumps({"_meta": {}, "default": {"six": {"version": "==1.17.0"}}}))
    lock = read_project_lock(tmp_path / "Pipfile.lock", {}, (), (), X86)
    with pytest.raises(ProjectError, match=r"no sha256 hash for six 1\.17\.0.*pipenv lock"):
        to_pinned_requirements(lock)


@pytest.mark.parametrize(
    ("tool", "fix"),
    [
        ("uv", '`[tool.uv] constraint-dependencies = ["numpy<2.4.6"]`'),
        ("uv", "`[tool.uv] required-environments = [\"sys_platform == 'linux' and platform_machine == 'x86_64'\"]`"),
        ("uv", "then run `uv lock`"),
        ("poetry", "`poetry add 'numpy<2.4.6'`); then run `poetry lock`"),
        ("pipenv", "`pipenv install 'numpy<2.4.6'`); then run `pipenv lock`"),
        ("pylock", "re-create pylock.toml for Lambda"),
    ],
)
def test_no_wheel_hint_names_the_package_the_reason_and_the_fix_in_that_tool(tool: str, fix: str) -> None:
    hint = no_wheel_hint(tool, "numpy", "2.4.6", "no wheel fits python3.11 x86_64 (glibc 2.26)")
    lock_file = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock", "pylock": "pylock.toml"}[tool]
    assert hint.startswith(f"numpy 2.4.6 is pinned by {lock_file}, but no wheel fits python3.11 x86_64 (glibc 2.26)")
    assert fix in hint


# --- sources and wheels -----------------------------------------------------------------------------------------


def test_indexes_the_lock_names_are_reported() -> None:
    assert read("uv").indexes == ("https://pypi.org/simple",)
    assert read("pylock").indexes == ("https://pypi.org/simple",)
    assert read("pipenv", groups=("ops",)).indexes == ("https://pypi.org/simple",)


NUMPY_WHEELS = [
    "numpy-2.4.6-cp311-cp311-macosx_14_0_arm64.whl",
    "numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
    "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
    "numpy-2.4.6-cp311-cp311-win_amd64.whl",
]
# What python3.11 on x86_64 Lambda accepts: glibc 2.26 (Amazon Linux 2), see Target.platform_tags().
PY311_X86 = wheel_tags((3, 11), [f"manylinux_2_{minor}_x86_64" for minor in range(26, 4, -1)] + ["linux_x86_64"])


def locked(filenames: list[str], kind: str = "registry") -> LockedPackage:
    files = tuple(LockedFile(name, None, ("00",)) for name in filenames)
    return LockedPackage("numpy", "2.4.6", files, kind)


def test_locked_version_without_a_wheel_for_the_target_says_why() -> None:
    reason = no_wheel_reason(locked([*NUMPY_WHEELS, "numpy-2.4.6.tar.gz"]), PY311_X86)
    assert reason == (
        "none of its 5 wheels fits the target (they are for cp311 on manylinux_2_27_aarch64, manylinux_2_27_x86_64, "
        "manylinux_2_28_aarch64, manylinux_2_28_x86_64, macosx_14_0_arm64, musllinux_1_2_x86_64 and 1 more)"
    )
    assert no_wheel_reason(locked(["numpy-2.4.6.tar.gz"]), PY311_X86) == (
        "the lock lists only a source distribution (numpy-2.4.6.tar.gz) and slim installs wheels only"
    )


def test_a_fitting_wheel_or_no_file_names_is_not_a_missing_wheel() -> None:
    fitting = "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert no_wheel_reason(locked([*NUMPY_WHEELS, fitting]), PY311_X86) is None
    assert no_wheel_reason(locked(["six-1.17.0-py2.py3-none-any.whl"]), PY311_X86) is None
    assert (
        no_wheel_reason(LockedPackage("six", "1.17.0", (LockedFile(None, None, ("00",)),), "registry"), PY311_X86)
        is None
    )
    assert no_wheel_reason(locked(["numpy-2.4.6.tar.gz"], kind="directory"), PY311_X86) is None


def test_the_project_itself_in_its_own_lock_is_not_a_dependency(tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "uv"\n'
        '[[packages]]\nname = "demo-app"\ndirectory = { path = ".", editable = true }\n'
        '[[packages]]\nname = "shared"\ndirectory = { path = "../shared", editable = true }\n'
    )
    lock = read_project_lock(tmp_path / "pylock.toml", {}, (), (), X86)
    assert [(p.name, p.kind, p.location) for p in lock.packages] == [("shared", "editable", "../shared")]
    (tmp_path / "Pipfile.lock").write_text(
        json.dumps({"_meta": {}, "default": {"demo-app": {"editable": True, "path": "."}}})
    )
    assert read_project_lock(tmp_path / "Pipfile.lock", {}, (), (), X86).packages == ()


def test_vcs_and_url_sources_are_recorded_with_their_pinned_revision(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "tool"\nversion = "1.2.0"\nfiles = []\n'
        '[package.source]\ntype = "git"\nurl = "https://github.com/o/tool.git"\nreference = "main"\n'
        'resolved_reference = "0123abcd"\n'
        '[[package]]\nname = "Tiny"\nversion = "1.0"\n'
        'files = [{file = "tiny-1.0-py3-none-any.whl", hash = "sha256:dd"}]\n'
        '[package.source]\ntype = "url"\nurl = "https://example.org/tiny-1.0-py3-none-any.whl"\n'
        '[metadata]\nlock-version = "2.1"\ncontent-hash = "0"\n'
    )
    pyproject = {"tool": {"poetry": {"dependencies": {"python": "^3.11", "tool": {"git": "x"}, "tiny": {"url": "y"}}}}}
    lock = read_project_lock(tmp_path / "poetry.lock", pyproject, (), (), X86)
    assert [(p.name, p.kind, p.location) for p in lock.packages] == [
        ("tiny", "url", "https://example.org/tiny-1.0-py3-none-any.whl"),
        ("tool", "vcs", "git+https://github.com/o/tool.git@0123abcd"),
    ]
    assert to_pinned_requirements(lock).splitlines()[1:] == [
        "tiny @ https://example.org/tiny-1.0-py3-none-any.whl \\",
        "    --hash=sha256:dd",
        "# tool: vcs git+https://github.com/o/tool.git@0123abcd (not hash-checked)",
    ]


def test_poetry_legacy_dev_dependencies_never_ship(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "pytest"\nversion = "8.0.0"\nfiles = []\n'
        '[[package]]\nname = "six"\nversion = "1.17.0"\nfiles = [{file = "six-1.17.0-py2.py3-none-any.whl", '
        'hash = "sha256:aa"}]\n[metadata]\nlock-version = "1.1"\ncontent-hash = "0"\n'
    )
    pyproject = {"tool": {"poetry": {"dependencies": {"six": "*"}, "dev-dependencies": {"pytest": "*"}}}}
    lock = read_project_lock(tmp_path / "poetry.lock", pyproject, (), (), X86)
    assert [p.name for p in lock.packages] == ["six"]


def test_uv_conflicts_markers_are_refused_rather_than_guessed(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        "[package.optional-dependencies]\n"
        'cpu = [{ name = "torch", marker = "extra == \'extra-3-app-cpu\'" }]\n'
        '[[package]]\nname = "torch"\nversion = "2.9.0"\nsource = { registry = "https://pypi.org/simple" }\n'
    )
    with pytest.raises(ProjectError, match=r"conflicts marker .*uv export --no-dev"):
        read_project_lock(tmp_path / "uv.lock", {}, ("cpu",), (), X86)


POETRY_MARKER_SPLIT = """
[[package]]
name = "numpy"
version = "2.2.6"
optional = false
python-versions = ">=3.10"
groups = ["main"]
markers = "python_version < \\"3.11\\""
files = [{file = "numpy-2.2.6-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:aa"}]

[[package]]
name = "numpy"
version = "2.4.6"
optional = false
python-versions = ">=3.11"
groups = ["main"]
markers = {main = "python_version >= \\"3.11\\""}
files = [{file = "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", hash = "sha256:bb"}]

[metadata]
lock-version = "2.1"
python-versions = "^3.10"
content-hash = "0"
"""


@pytest.mark.parametrize(("python", "version"), [("3.10.16", "2.2.6"), ("3.11.9", "2.4.6")])
def test_poetry_marker_split_takes_the_version_locked_for_the_target(tmp_path: Path, python: str, version: str) -> None:
    (tmp_path / "poetry.lock").write_text(POETRY_MARKER_SPLIT)
    pyproject = {"project": {"dependencies": ["numpy>=2"]}}
    lock = read_project_lock(tmp_path / "poetry.lock", pyproject, (), (), lambda_environment("x86_64", python))
    assert [(p.name, p.version) for p in lock.packages] == [("numpy", version)]
