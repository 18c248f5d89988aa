"""The Python API: what `import lambda_slim` offers, and that it builds what `slim build` builds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import lambda_slim
from lambda_slim import (
    Analysis,
    BuildOptions,
    BuildReport,
    CheckOptions,
    CheckResult,
    ConfigError,
    ImportProfile,
    ProfileOptions,
    SlimError,
    VerifyOptions,
    VerifyResult,
    analyze,
    build,
    check,
    profile,
    verify,
)
from lambda_slim._api import build_config
from lambda_slim._cli.main import main
from tests.helpers import copy_fixture


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_public_name_exists_and_the_errors_are_one_family() -> None:
    namespace: dict[str, object] = {}
    exec("from lambda_slim import *", namespace)
    assert set(lambda_slim.__all__) <= set(namespace)
    assert lambda_slim.__version__ == namespace["__version__"]
    errors = [getattr(lambda_slim, name) for name in lambda_slim.__all__ if name.endswith(("Error", "Target", "Only"))]
    errors.append(lambda_slim.OverLambdaLimits)
    assert all(isinstance(error, type) and issubclass(error, SlimError) for error in errors)


def test_the_package_ships_its_type_marker() -> None:
    assert (Path(lambda_slim.__file__).parent / "py.typed").is_file()


def write_tool_slim(project: Path, table: str) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.slim]\n" + table)


def test_options_override_tool_slim_field_by_field(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    write_tool_slim(
        project,
        'arch = "arm64"\ncompile = false\nkeep = ["a/**"]\nmeasure-runs = 1\n'
        'environment = { TABLE = "t", STAGE = "dev" }\n',
    )
    from_file = build_config(project, BuildOptions())
    assert (from_file.target.arch, from_file.compile, from_file.keep, from_file.measure_runs) == (
        "arm64",
        False,
        ("a/**",),
        1,
    )

    config = build_config(
        project, BuildOptions(arch="x86_64", keep=("b/**",), environment={"STAGE": "prod"}, out_dir=tmp_path / "out")
    )
    assert config.target.arch == "x86_64"  # given: replaces the file's
    assert config.compile is False and config.measure_runs == 1  # not given: the file's
    assert config.keep == ("a/**", "b/**")  # patterns add, as --keep does
    assert config.environment == (("STAGE", "prod"), ("TABLE", "t"))
    assert config.dist_dir == (tmp_path / "out").resolve()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (BuildOptions(arch="mips"), r"BuildOptions\.arch = 'mips' is not allowed"),  # type: ignore[arg-type]
        (BuildOptions(measure_runs=-1), r"BuildOptions\.measure_runs must be"),
        (BuildOptions(handler="not a handler"), r"BuildOptions\.handler must"),
        (BuildOptions(environment={"1BAD": "x"}), "not an environment variable name"),
    ],
)
def test_a_bad_option_raises_config_error_and_never_exits(
    tmp_path: Path, options: BuildOptions, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_fixture("minimal", tmp_path)
    with pytest.raises(ConfigError, match=words):
        build(project, options)
    assert capsys.readouterr().out == ""


def test_a_missing_project_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        build(tmp_path / "nowhere")


@pytest.mark.usefixtures("offline_pip")
def test_build_writes_the_zip_the_cli_writes_and_the_other_commands_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_cli = copy_fixture("minimal", tmp_path / "cli")
    result = CliRunner().invoke(main, ["build", str(by_cli), "-q", "--measure-runs", "0"])
    assert result.exit_code == 0, result.stderr
    capsys.readouterr()

    project = copy_fixture("minimal", tmp_path / "api")
    report = build(project, BuildOptions(measure_runs=0))
    assert isinstance(report, BuildReport)
    assert capsys.readouterr().out == ""  # the library never prints
    function = report.artifacts[0]
    assert function.kind == "function" and function.path == project / "dist" / "function.zip"
    assert sha256(function.path) == function.sha256 == sha256(by_cli / "dist" / "function.zip")

    again = build(project, BuildOptions(measure_runs=0))
    assert "artifacts reused" in again.lock_status
    forced = build(project, BuildOptions(measure_runs=0, force=True))
    assert "artifacts reused" not in forced.lock_status
    assert forced.artifacts[0].sha256 == function.sha256

    analysis = analyze([function.path])
    assert isinstance(analysis, Analysis) and analysis.archives[0].path == function.path

    checked = check(project, CheckOptions(max_zipped="1 GiB"))
    assert isinstance(checked, CheckResult) and checked.ok
    over = check(project, CheckOptions(zips=(function.path,), max_files=1))
    assert not over.ok and over.violations[0].budget == "max-files"

    verified = verify(project / "dist", VerifyOptions(handler="handler.handler"))
    assert isinstance(verified, VerifyResult) and verified.ok and verified.handler == "handler.handler"
    assert capsys.readouterr().out == ""


def test_profile_is_public_and_checks_its_options_before_any_zip_is_read(tmp_path: Path) -> None:
    assert {"profile", "ProfileOptions", "ImportProfile"} <= set(lambda_slim.__all__)
    assert ImportProfile.__module__.startswith("lambda_slim")
    with pytest.raises(ConfigError, match="runs must be at least 1"):
        profile(tmp_path, ProfileOptions(runs=0))
    with pytest.raises(ConfigError, match="handler"):
        profile(tmp_path, ProfileOptions(handler="no function"))


def test_verify_options_are_checked_before_any_zip_is_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--expected needs --event"):
        verify(None, VerifyOptions(zip=tmp_path / "x.zip", expected=tmp_path / "e.json"))
    with pytest.raises(ConfigError, match="memory"):
        verify(tmp_path, VerifyOptions(memory_mb=64))
    with pytest.raises(ConfigError, match="either DIST or --zip"):
        verify(tmp_path, VerifyOptions(zip=tmp_path / "x.zip"))


def test_a_zip_that_cannot_be_read_raises_the_one_archive_error(tmp_path: Path) -> None:
    from lambda_slim._artifacts.zipread import read_archive

    truncated = tmp_path / "function.zip"
    truncated.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(lambda_slim.ArchiveError, match="is not a readable zip") as caught:
        read_archive(truncated)
    assert type(caught.value) is lambda_slim.ArchiveError  # the class writing a zip raises, not a subclass


def test_check_refuses_two_different_runtimes(tmp_path: Path) -> None:
    # CheckOptions.runtime (also for zips) and build.runtime: one runtime, said once or twice alike.
    with pytest.raises(ConfigError, match=r"runtime 'python3.11' and build.runtime 'python3.12' differ"):
        check(tmp_path, CheckOptions(runtime="python3.11", build=BuildOptions(runtime="python3.12")))


def test_a_growth_budget_without_a_baseline_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^CheckOptions\.max_growth needs CheckOptions\.baseline: "):
        lambda_slim.check(tmp_path, CheckOptions(max_growth=10))
    assert list(tmp_path.iterdir()) == []


def test_a_growth_budget_from_pyproject_without_a_baseline_is_refused_not_passed(tmp_path: Path) -> None:
    # Asked for in [tool.slim.budget] and not judged for want of a baseline would be a false green.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\n\n[tool.slim.budget]\nmax-growth = 10\n'
    )
    with pytest.raises(ConfigError, match=r"\[tool\.slim\.budget\] max-growth in .* needs CheckOptions\.baseline"):
        lambda_slim.check(tmp_path, CheckOptions())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pyproject.toml"]  # nothing was built
