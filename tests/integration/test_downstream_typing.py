"""A downstream project type-checks its use of the API with mypy --strict against the installed package: what
py.typed gives. The API's types are real: a mode outside its Literal is an error too."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import lambda_slim

GOOD = """
from pathlib import Path

from lambda_slim import (
    AnalyzeOptions, Analysis, Artifact, BuildOptions, BuildReport, CheckOptions, CheckResult, ConfigError,
    SlimError, VerifyOptions, VerifyResult, __version__, analyze, build, check, verify,
)


def deploy(project: Path) -> str:
    options = BuildOptions(
        arch="arm64", installer="uv", layers="auto", prune="none", keep=("data/*.json",), measure_runs=0,
        environment={"TABLE_NAME": "orders"}, out_dir=project / "dist",
    )
    try:
        report: BuildReport = build(project, options)
    except ConfigError as error:
        return error.message
    except SlimError as error:
        return f"{type(error).__name__}: {error} (exit {error.exit_status})"
    function: Artifact = report.artifacts[0]
    zip_path: Path = function.path
    checked: CheckResult = check(project, CheckOptions(max_zipped="50MB"))
    verified: VerifyResult = verify(zip_path.parent, VerifyOptions(handler="app.handler", memory_mb=256))
    analysis: Analysis = analyze([zip_path], AnalyzeOptions(runtime="python3.12"))
    ok: bool = checked.ok and verified.ok
    return f"{__version__} {zip_path} {function.code_sha256} {ok} {len(analysis.archives)}"
"""

BAD = """
from lambda_slim import BuildOptions

options = BuildOptions(arch="mips")
"""


def test_a_downstream_script_passes_mypy_strict(tmp_path: Path) -> None:
    marker = Path(lambda_slim.__file__).parent / "py.typed"
    assert marker.is_file(), f"{marker} is missing: type checkers treat lambda_slim as untyped without it"
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "good.py", "bad.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = done.stdout.splitlines()
    assert not [line for line in errors if "py.typed" in line], done.stdout
    assert not [line for line in errors if line.startswith("good.py")], done.stdout
    assert any(line.startswith("bad.py:4") and "'mips'" in line for line in errors), done.stdout
