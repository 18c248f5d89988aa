"""Function code laid out the way SAM, CDK and the AWS samples lay it out: in directories without __init__.py."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.helpers import build_json, copy_fixture, slim

pytestmark = pytest.mark.usefixtures("offline_pip")


def build_sam_repository(project: Path, *args: str) -> tuple[int, str, str]:
    """Build the SAM repository from its root: its dependencies are src/requirements.txt, beside the handler."""
    return slim("build", str(project), "--handler", "src.app.lambda_handler", *args)


def members(project: Path) -> set[str]:
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        return set(archive.namelist())


def app_members(project: Path) -> set[str]:
    """The zip's entries that are not a dependency's nor bytecode."""
    dependencies = ("slimdemo", "slimdep")
    return {name for name in members(project) if not name.startswith(dependencies) and "__pycache__" not in name}


def test_sam_handler_in_a_namespace_directory_builds_and_verifies(tmp_path: Path) -> None:
    project = copy_fixture("sam-layout", tmp_path)
    code, out, err = build_sam_repository(
        project, "--event", str(project / "events" / "event.json"), "--measure-runs", "0"
    )
    assert code == 0, err
    assert "handler src.app.lambda_handler" in out
    assert "dependencies: src/requirements.txt" in out
    assert app_members(project) == {"src/app.py"}
    assert any(name.startswith("slimdemo/") for name in members(project))
    # The handler recorded in the manifest, a dotted module in a namespace directory, as the runtime imports it.
    event = str(project / "events" / "event.json")
    code, _, err = slim("verify", str(project / "dist"), "--event", event)
    assert code == 0, err
    assert "handler src.app.lambda_handler" in err


def test_sam_code_uri_directory_builds_with_its_own_handler(tmp_path: Path) -> None:
    """SAM's CodeUri is usually src/ itself: built there, the handler is app.lambda_handler."""
    project = copy_fixture("sam-layout", tmp_path) / "src"
    code, _, err = slim("build", str(project), "--handler", "app.lambda_handler", "--measure-runs", "0")
    assert code == 0, err
    assert app_members(project) == {"app.py"}


def test_sam_handler_ships_even_unverified(tmp_path: Path) -> None:
    """--no-verify shipped a zip without the handler: src/ has no __init__.py."""
    project = copy_fixture("sam-layout", tmp_path)
    code, _, err = build_sam_repository(project, "--no-verify")
    assert code == 0, err
    assert "src/app.py" in members(project)


def test_handler_in_path_form_is_accepted(tmp_path: Path) -> None:
    """CDK's PythonFunction entry is a directory: from the repository, its handler is api/main.handler."""
    project = copy_fixture("cdk-layout", tmp_path)
    code, out, err = slim(
        "build",
        str(project),
        "--handler",
        "api/main.handler",
        "-r",
        str(project / "api" / "requirements.txt"),
        "--measure-runs",
        "0",
    )
    assert code == 0, err
    assert "handler api/main.handler" in out
    # The CDK app (app.py, what cdk.json runs), its metadata and its tests are not the function.
    assert app_members(project) == {"api/main.py", "api/settings.json", "cdk_layout/__init__.py", "cdk_layout/stack.py"}


def test_cdk_entry_directory_builds_with_its_own_handler(tmp_path: Path) -> None:
    project = copy_fixture("cdk-layout", tmp_path) / "api"
    code, _, err = slim("build", str(project), "--handler", "main.handler", "--measure-runs", "0")
    assert code == 0, err
    assert app_members(project) == {"main.py", "settings.json"}


def test_handler_module_missing_from_the_selection_fails_before_installing(tmp_path: Path) -> None:
    project = copy_fixture("sam-layout", tmp_path)
    (project / "scripts").mkdir()
    (project / "scripts" / "run.py").write_text("def handler(event, context):\n    return 1\n")
    # A requirement no index has: had anything been installed, the build would fail on it instead.
    requirements = project / "src" / "requirements.txt"
    requirements.write_text("no-such-distribution-anywhere\n")
    code, _, err = build_sam_repository(project, "--exclude", "src/app.py")
    assert code == 1
    assert "module src.app, expected at src/app.py" in err
    assert "left out by exclude pattern 'src/app.py'" in err and "narrow" in err
    assert "no-such-distribution" not in err
    code, _, err = slim("build", str(project), "--handler", "scripts/run.handler", "-r", str(requirements))
    assert code != 0
    assert "module scripts.run, expected at scripts/run.py" in err and "scripts directory" in err
    assert "--include scripts/run.py" in err and 'include = ["scripts/run.py"]' in err
    assert "no-such-distribution" not in err
    assert not (project / "slim.lock").exists()


def test_include_on_the_command_line_selects_app_files(tmp_path: Path) -> None:
    project = copy_fixture("sam-layout", tmp_path)
    code, _, err = build_sam_repository(project, "--no-verify", "--include", "src/", "--include", "events/")
    assert code == 0, err
    assert app_members(project) == {"src/app.py", "events/event.json"}


def test_explain_says_why_an_app_file_was_left_out(tmp_path: Path) -> None:
    project = copy_fixture("sam-layout", tmp_path)
    explained = ("template.yaml", "tests/unit/test_handler.py", "events/event.json", "src/requirements.txt")
    explain = [arg for path in (*explained, "README.md", "src/app.py") for arg in ("--explain", path)]
    code, _, err = build_sam_repository(project, "--measure-runs", "0", "--exclude", "README.md", *explain)
    assert code == 0, err
    assert "left out  template.yaml  IaC template" in err
    assert "left out  tests/unit/test_handler.py  test directory" in err
    assert "left out  events/event.json  sample events directory (events/)" in err
    assert "left out  src/requirements.txt  requirements or lock file" in err
    assert "left out  README.md  by exclude pattern 'README.md'" in err
    assert "kept      src/app.py" in err


def hyphenated_cdk_function(root: Path) -> Path:
    """aws-cdk-examples' api-cors-lambda: a function file whose name an import statement cannot name."""
    project = root / "lambda"
    project.mkdir()
    (project / "lambda-handler.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    return project


def test_a_hyphenated_module_lambda_accepts_builds_and_verifies(tmp_path: Path) -> None:
    """Lambda imports the handler's module with importlib, so `lambda-handler.handler` works there: it was refused
    as not module.function shaped, for build and verify alike."""
    project = hyphenated_cdk_function(tmp_path)
    code, _, err = slim("build", str(project), "--handler", "lambda-handler.handler", "--measure-runs", "1", "-q")
    assert code == 0, err
    assert "lambda-handler.py" in members(project)
    code, out, err = slim("verify", str(project / "dist"), "--handler", "lambda-handler.handler")
    assert code == 0 and "PASSED" in out, out + err


def test_a_function_with_nothing_to_measure_says_so_instead_of_failing(tmp_path: Path) -> None:
    """Without a handler, measuring imported the top-level modules, of which there were none by importable name:
    the build failed with only "measuring the init of the unslimmed package failed"."""
    project = hyphenated_cdk_function(tmp_path)
    report = build_json(project, "--measure-runs", "1")
    skipped = {item["what"]: item["why"] for item in report["skipped"]}
    assert "no handler and no top-level module" in skipped["cold-start measurement"]


def test_a_sam_root_built_without_its_handler_warns_that_no_dependencies_were_read(tmp_path: Path) -> None:
    """From a fresh clone of a SAM sample, `slim build .` shipped the code without src/requirements.txt's
    dependencies, and said nothing."""
    project = copy_fixture("sam-layout", tmp_path)
    code, _, err = slim("build", str(project), "--measure-runs", "0")
    assert code == 0, err
    assert "no dependencies were read" in err and "src/requirements.txt is not read" in err
    assert "--handler (e.g. src.app.lambda_handler)" in err
