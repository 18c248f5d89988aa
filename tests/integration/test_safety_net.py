"""Each way slimming broke packages before (docs/lambda-facts.md#past-breakages) stays impossible: the rule-level
protection keeps the package working, and with that protection switched off the build's verification catches and
repairs it, so these tests fail if either protection goes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim import BuildOptions, build
from lambda_slim._artifacts.inventory import bytecode_of
from lambda_slim._cli.main import main
from lambda_slim._slimming import rules
from tests.helpers import copy_fixture

pytestmark = pytest.mark.usefixtures("offline_pip")


# Cold-start measurement is not what these tests are about, and it is the slowest step of a build.
UNMEASURED = BuildOptions(measure_runs=0)


def imports(zip_path: Path, tmp_path: Path, statement: str) -> subprocess.CompletedProcess[str]:
    task = tmp_path / "unpacked"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    code = f"import sys; sys.path.insert(0, {str(task)!r}); {statement}"
    return subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=False)


def test_package_importing_its_own_tests_is_repaired_by_verification(tmp_path: Path) -> None:
    project = copy_fixture("imports-own-tests", tmp_path)
    report = build(project, UNMEASURED)
    members = zipfile.ZipFile(project / "dist" / "function.zip").namelist()
    assert "owntests/tests/helpers.py" in members
    assert "owntests" in report.verification.checked_modules
    # The app's handler module imports owntests, so whichever of the two is checked first gets the repair.
    [restored] = report.verification.restored
    assert "No module named 'owntests.tests'" in restored
    assert "of owntests that rule tests removed" in restored
    assert 'keep = ["owntests/tests/"]' in restored
    assert imports(project / "dist" / "function.zip", tmp_path, "import owntests").returncode == 0


def test_without_verification_the_own_tests_package_breaks(tmp_path: Path) -> None:
    project = copy_fixture("imports-own-tests", tmp_path)
    build(project, BuildOptions(measure_runs=0, verify=False))
    done = imports(project / "dist" / "function.zip", tmp_path, "import owntests")
    assert "No module named 'owntests.tests'" in done.stderr


def test_handler_is_verified_with_its_event(tmp_path: Path) -> None:
    project = copy_fixture("imports-own-tests", tmp_path)
    (project / "event.json").write_text("{}")
    report = build(project, BuildOptions(measure_runs=0, handler="handler.handler", event=project / "event.json"))
    assert report.verification.handler == "handler.handler"


def test_a_handler_broken_before_slimming_fails_the_build(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--handler", "handler.missing"])
    assert result.exit_code == 1
    # Not there at all: said so (issue 13, case 13), rather than "fails", which sends the user to the app's code.
    assert "(--handler) is not in the package: module 'handler' has no attribute 'missing'" in result.stderr


@pytest.mark.parametrize("verify", [True, False])
def test_metadata_protection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: bool) -> None:
    """Switch off the keep of METADATA: verification must notice `importlib.metadata.version()` failing."""
    monkeypatch.setattr(rules, "INSTALLER_ONLY_METADATA", rules.INSTALLER_ONLY_METADATA | {"METADATA"})
    project = copy_fixture("metadata-at-import", tmp_path)
    report = build(project, BuildOptions(measure_runs=0, verify=verify))
    done = imports(project / "dist" / "function.zip", tmp_path, "import metaimport")
    if verify:
        assert done.returncode == 0, done.stderr
        assert any("rule installer-metadata" in r for r in report.verification.restored)
    else:
        assert "metaimport needs its metadata" in done.stderr


def test_metadata_is_kept_by_the_rules(tmp_path: Path) -> None:
    project = copy_fixture("metadata-at-import", tmp_path)
    report = build(project, UNMEASURED)
    assert report.verification.restored == ()
    assert imports(project / "dist" / "function.zip", tmp_path, "import metaimport").returncode == 0


@pytest.mark.parametrize("verify", [True, False])
def test_docs_package_protection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: bool) -> None:
    """Switch off the rule's "a directory with Python is code" check: boto3.docs-like imports must survive."""

    def careless_docs_rule(entry: object, context: object) -> bool:
        return any(part in rules.DOC_DIRS for part in entry.parts[:-1])  # type: ignore[attr-defined]

    monkeypatch.setattr(
        rules,
        "BUILTIN_RULES",
        tuple(
            rules.Rule(r.name, r.action, r.description, careless_docs_rule) if r.name == "docs" else r
            for r in rules.BUILTIN_RULES
        ),
    )
    project = copy_fixture("imports-docs-package", tmp_path)
    report = build(project, BuildOptions(measure_runs=0, verify=verify))
    done = imports(project / "dist" / "function.zip", tmp_path, "import docspkg")
    if verify:
        assert done.returncode == 0, done.stderr
        assert any("rule docs" in r for r in report.verification.restored)
    else:
        assert "cannot import name 'docs'" in done.stderr


def test_libs_directory_protection_is_what_keeps_it_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wheelhouse: Path
) -> None:
    """With the *.libs exclusion switched off, the helper library in fastext.libs/ would be stripped: the
    offline test that checks it ships byte-identical (test_build_offline) would then fail."""
    if not list(wheelhouse.glob("fastext-*.whl")):
        pytest.skip("no C compiler to build the extension fixture")
    monkeypatch.setattr(rules, "_strippable", lambda entry: entry.elf is not None)
    project = copy_fixture("compiled-extension", tmp_path)
    build(project, UNMEASURED)
    with zipfile.ZipFile(next(wheelhouse.glob("fastext-*.whl"))) as wheel:
        original = wheel.read("fastext.libs/libhelper-1a2b3c4d.so")
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert archive.read("fastext.libs/libhelper-1a2b3c4d.so") != original


def test_what_the_user_excluded_is_never_put_back(tmp_path: Path) -> None:
    project = copy_fixture("imports-own-tests", tmp_path)
    result = CliRunner().invoke(
        main, ["build", str(project), "-q", "--measure-runs", "0", "--exclude", "owntests/tests/helpers.py"]
    )
    assert result.exit_code == 1
    assert "imports from the unslimmed install but not from the slimmed one" in result.stderr
    assert "Your exclude patterns removed 2 file(s) (such as owntests/tests/helpers.py)" in result.stderr
    assert "No module named 'owntests.tests'" in result.stderr


def test_a_test_package_that_run_time_code_imports_is_kept_by_the_rules(tmp_path: Path) -> None:
    # Like django/test/ (found by the compatibility corpus): the rules keep what import statements reach, so
    # the safety net has nothing to put back; the real tests and the unused module still go.
    project = copy_fixture("imports-runtime-test-package", tmp_path)
    report = build(project, UNMEASURED)
    assert report.verification.restored == ()
    members = set(zipfile.ZipFile(project / "dist" / "function.zip").namelist())
    for kept in ("runtimetest/test/__init__.py", "runtimetest/test/signals.py", "runtimetest/test/names.py"):
        assert kept in members
        assert bytecode_of(kept, sys.implementation.cache_tag) in members
    assert "runtimetest/test/unused.py" not in members
    assert not [name for name in members if name.startswith("runtimetest/tests/")]
    assert imports(project / "dist" / "function.zip", tmp_path, "import runtimetest").returncode == 0


def project_with_modules(root: Path, modules: dict[str, str]) -> Path:
    project = root / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\ndependencies = []\n')
    (project / "handler.py").write_text("def handler(event, context):\n    return 'ok'\n")
    for name, text in modules.items():
        (project / name).write_text(text)
    return project


def failed_build(project: Path) -> str:
    """A build that must fail, and write no zip: its stderr."""
    result = CliRunner().invoke(main, ["build", str(project), "-q", "--measure-runs", "0"])
    assert result.exit_code == 1, result.output
    assert not (project / "dist" / "function.zip").exists()
    return result.stderr


def test_app_modules_that_fail_to_import_fail_the_build(tmp_path: Path) -> None:
    """Case 3: the app's own module failing unslimmed was listed as "not checked", and the build passed."""
    stderr = failed_build(project_with_modules(tmp_path, {"report_job.py": "import reportlab_not_installed\n"}))
    assert "report_job: import reportlab_not_installed" in stderr
    assert "No module named 'reportlab_not_installed'" in stderr
    assert "--exclude /report_job.py" in stderr


def test_app_modules_that_fail_to_import_pass_once_excluded(tmp_path: Path) -> None:
    project = project_with_modules(tmp_path, {"report_job.py": "import reportlab_not_installed\n"})
    report = build(project, BuildOptions(measure_runs=0, exclude=("/report_job.py",)))
    assert report.verification.skipped_modules == ()
    assert "report_job.py" not in zipfile.ZipFile(project / "dist" / "function.zip").namelist()


def test_app_modules_that_fail_to_import_leave_top_level_test_files_out(tmp_path: Path) -> None:
    """A sample app shipped test_pdf_encrypt.py, which imports pytest: test files are not app code."""
    project = project_with_modules(
        tmp_path, {"test_handler.py": "import pytest_not_installed\n", "handler_test.py": "import pytest\n"}
    )
    report = build(project, UNMEASURED)
    assert report.verification.skipped_modules == ()
    members = zipfile.ZipFile(project / "dist" / "function.zip").namelist()
    assert "handler.py" in members
    assert not [name for name in members if "test_handler" in name or "handler_test" in name], members


def test_app_modules_that_fail_to_import_are_judged_alone_when_one_kills_the_interpreter(tmp_path: Path) -> None:
    """The probe dies at a module that exits the interpreter: the modules after it are judged one by one."""
    stderr = failed_build(project_with_modules(tmp_path, {"a_exits.py": "import os\nos._exit(3)\n"}))
    assert "a_exits: the interpreter exited with status 3" in stderr
    assert "1 of the app's own module(s)" in stderr


READS_ENVIRONMENT = "import os\n\nTABLE = os.environ['TABLE_NAME']\n"


def test_an_app_module_reading_an_environment_variable_is_told_how_to_set_it(tmp_path: Path) -> None:
    """Reading os.environ["TABLE_NAME"] at import is ordinary Lambda code: the check must not advise leaving the
    module out, but setting the variable, as Lambda's configuration does."""
    stderr = failed_build(project_with_modules(tmp_path, {"orders.py": READS_ENVIRONMENT}))
    assert "it reads the environment variable TABLE_NAME" in stderr
    assert '[tool.slim] environment = { TABLE_NAME = "..." } (or --env TABLE_NAME=...)' in stderr
    assert "to leave it out" not in stderr


def test_the_function_environment_is_set_where_the_package_is_checked(tmp_path: Path) -> None:
    project = project_with_modules(tmp_path, {"orders.py": READS_ENVIRONMENT})
    report = build(project, BuildOptions(measure_runs=0, environment={"TABLE_NAME": "orders"}))
    assert "orders" in report.verification.checked_modules
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[tool.slim]\nenvironment = { TABLE_NAME = "orders" }\n')
    assert "orders" in build(project, BuildOptions(measure_runs=0, force=True)).verification.checked_modules
    # slim verify reads the project's environment too; the variables are never shipped.
    verified = CliRunner().invoke(main, ["verify", str(project / "dist"), "--all-modules"])
    assert verified.exit_code == 0, verified.output
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert not any(b"TABLE_NAME = " in archive.read(name) for name in archive.namelist())
