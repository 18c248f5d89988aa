"""Bad input at the command line: a clear message, the right exit status, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import helpers


def slim(*args: str) -> tuple[int, str]:
    """Exit code and stderr. A user error must be a message: an exception the CLI let through fails the test
    (helpers.slim propagates it) rather than passing as exit status 1."""
    code, out, err = helpers.slim(*args)
    assert "Traceback" not in out + err
    return code, err


def test_broken_pyproject_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n')
    code, err = slim("build", str(tmp_path))
    assert code == 2
    assert "pyproject.toml is not valid TOML" in err


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.slim]\nruntme = "python3.11"\n')
    code, err = slim("build", str(tmp_path))
    assert code == 2
    assert "unknown key 'runtme' in [tool.slim]. Did you mean 'runtime'?" in err


def test_bad_runtime_lists_the_choices(tmp_path: Path) -> None:
    code, err = slim("build", str(tmp_path), "--runtime", "python2.7")
    assert code == 2
    assert "python2.7" in err and "python3.11" in err


@pytest.mark.parametrize("command", ["build", "check", "verify", "analyze", "profile"])
def test_a_bad_runtime_flag_is_named_as_the_flag_it_was_given_as(tmp_path: Path, command: str) -> None:
    (tmp_path / "function.zip").write_bytes(b"")  # analyze needs a path; the flag is refused before it is read
    target = str(tmp_path / "function.zip") if command == "analyze" else str(tmp_path)
    code, err = slim(command, target, "--runtime", "python3.8")
    assert code == 2
    assert err.startswith("error: --runtime python3.8 is not a Lambda runtime: choose one of python3.9, "), err


def test_a_bad_runtime_in_pyproject_is_named_as_its_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.slim]\nruntime = "python3.8"\n')
    code, err = slim("build", str(tmp_path))
    assert code == 2
    assert err.startswith("error: [tool.slim] runtime = 'python3.8' is not a Lambda runtime: choose one of "), err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("build", "--measure-runs", "99"), "error: --measure-runs must be a whole number from 0"),
        (("build", "--env", "NOVALUE"), "error: --env takes NAME=VALUE items"),
        (("build", "--handler", "nodot"), "error: --handler must name a module and a function"),
        (("check", "--max-files", "-3"), "error: --max-files must be a whole number of files, not -3."),
        (("check", "--max-zipped", "3X"), "error: --max-zipped must be a number of bytes or a size"),
        (("check", "--max-growth", "lots", "--baseline", "b.json"), "error: --max-growth must be a percentage"),
        (("check", "--max-import-ms", "3X"), "error: --max-import-ms must map module names to milliseconds"),
        (("verify", "--env", "NOVALUE"), "error: --env takes NAME=VALUE items"),
    ],
)
def test_every_bad_flag_is_named_as_the_flag(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    command, *rest = args
    code, err = slim(command, str(tmp_path), *rest)
    assert code == 2
    assert err.startswith(message), err
    assert "the command-line options" not in err and "the options" not in err


def test_missing_project_directory(tmp_path: Path) -> None:
    code, err = slim("build", str(tmp_path / "nope"))
    assert code == 2
    assert "is not a directory" in err


def test_missing_requirements_file(tmp_path: Path) -> None:
    code, err = slim("build", str(tmp_path), "--requirements", str(tmp_path / "missing.txt"))
    assert code == 1
    assert "missing.txt does not exist" in err


def test_unknown_rule_name(tmp_path: Path) -> None:
    code, err = slim("build", str(tmp_path), "--disable-rule", "test")
    assert code == 2
    assert "unknown rule(s) test" in err and "tests" in err


def test_missing_interpreter_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, err = slim("build", str(tmp_path), "--runtime", "python3.9" if not _host("3.9") else "python3.10")
    assert code == 2
    assert "--python PATH" in err and "--no-compile" in err


def test_wrong_version_interpreter_is_refused(tmp_path: Path) -> None:
    import sys

    (tmp_path / "app.py").write_text("x = 1\n")
    other = "python3.9" if sys.version_info[:2] != (3, 9) else "python3.10"
    code, err = slim("build", str(tmp_path), "--runtime", other, "--python", sys.executable)
    assert code == 2
    assert f"needs {other[6:]}" in err


def _host(version: str) -> bool:
    import sys

    return f"{sys.version_info[0]}.{sys.version_info[1]}" == version


def test_module_entry_point_and_version() -> None:
    import subprocess
    import sys

    from lambda_slim import __version__

    done = subprocess.run([sys.executable, "-m", "lambda_slim", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip() == f"lambda-slim, version {__version__}"
