"""Whole builds of fixture projects against the session wheelhouse: no network."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambda_slim import BuildOptions, build
from lambda_slim._inputs.target import host_machine
from tests.helpers import build_json, copy_fixture, lower_the_unzipped_limit, slim, tree_digest

pytestmark = pytest.mark.usefixtures("offline_pip")


def names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return archive.namelist()


def run_in_unzipped(zip_path: Path, tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Import from the unpacked zip only, as Lambda would: isolated, no site-packages, no bytecode writing."""
    task = tmp_path / "task"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", f"import sys; sys.path.insert(0, {str(task)!r}); {code}"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_minimal_build_slims_compiles_and_locks(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    report = build(project)
    zip_path = project / "dist" / "function.zip"
    members = names(zip_path)

    assert "handler.py" in members
    assert "slimdemo/core.py" in members and "slimdep/__init__.py" in members
    tag = sys.implementation.cache_tag
    assert f"slimdemo/__pycache__/core.{tag}.pyc" in members
    assert f"__pycache__/handler.{tag}.pyc" in members
    # What the rules removed, each by its name.
    assert not any("/tests/" in m for m in members)
    assert "tests/test_handler.py" not in members and "README.md" not in members
    assert not any(m.endswith((".pyi", "py.typed", ".h")) for m in members)
    assert not any(m.startswith("slimdemo/docs/") for m in members)
    assert "slimdemo-1.0.dist-info/METADATA" in members
    assert "slimdemo-1.0.dist-info/RECORD" not in members
    rules = {rule.rule for rule in report.rules}
    assert {"tests", "type-stubs", "c-sources", "docs", "installer-metadata"} <= rules
    assert report.after.unzipped_bytes < report.before.unzipped_bytes
    assert report.lock_status == "slim.lock written"

    lock = (project / "slim.lock").read_text()
    assert "slimdemo==1.0 \\\n    --hash=sha256:" in lock
    assert "slimdep==2.0" in lock and "# via slimdemo" in lock

    result = run_in_unzipped(zip_path, tmp_path, "import handler; print(handler.handler({'name': 'ada'}, None))")
    assert result.stdout.strip() == "{'greeting': 'hello ada'}", result.stderr


def test_pycs_are_unchecked_hash_based(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    build(project)
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        header = archive.read(f"slimdemo/__pycache__/core.{sys.implementation.cache_tag}.pyc")[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: bit 0 = hash-based, bit 1 = check_source. Unchecked: 0b01.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_second_build_reuses_lock_and_is_byte_identical(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    first = build(project)
    (project / "handler.py").touch()  # a newer mtime must not change a byte
    second = build(project, BuildOptions(force=True))
    assert second.lock_status == "slim.lock reused; 2 of 2 distributions from the cache"
    assert first.artifacts[0].sha256 == second.artifacts[0].sha256
    other = copy_fixture("minimal", tmp_path / "elsewhere")
    third = build(other)
    assert third.artifacts[0].sha256 == first.artifacts[0].sha256


def test_lock_is_resolved_again_when_inputs_change(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    build(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["slimdemo"]', '["slimdemo", "slimdep<2"]'))
    report = build(project)
    assert report.lock_status == "slim.lock written"
    assert "slimdep==1.0" in (project / "slim.lock").read_text()


def test_locked_refuses_a_stale_lock(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, _, err = slim("build", str(project), "--locked", "-q")
    assert code == 1
    assert "slim.lock is missing" in err and "--locked" in err


def test_dev_group_and_test_extra_are_left_out_unless_named(tmp_path: Path) -> None:
    project = copy_fixture("dev-dependencies-left-out", tmp_path)
    build(project)
    members = names(project / "dist" / "function.zip")
    assert "slimdep/__init__.py" in members
    assert not any(m.startswith(("devonly", "testonly")) for m in members)

    build(project, BuildOptions(groups=("dev",), extras=("test",)))
    members = names(project / "dist" / "function.zip")
    assert "devonly/__init__.py" in members and "testonly/__init__.py" in members


def test_fully_pinned_requirements_are_used_as_is(tmp_path: Path) -> None:
    project = copy_fixture("requirements-pinned", tmp_path)
    report = build(project)
    assert report.lock_status == "requirements.txt pins every package: used as is"
    assert not (project / "slim.lock").exists()
    assert "slimdep-2.0.dist-info/METADATA" in names(project / "dist" / "function.zip")


def test_requirements_with_includes(tmp_path: Path) -> None:
    project = copy_fixture("requirements-includes", tmp_path)
    build(project)
    assert "slimdep==1.0" in (project / "slim.lock").read_text()


def test_sdist_only_dependency_that_builds_a_platform_wheel_is_refused_with_the_reason(tmp_path: Path) -> None:
    project = copy_fixture("sdist-only-platform-build", tmp_path)
    code, _, err = slim("build", str(project), "-q")
    assert code == 1
    assert "nativesdist==1.0" in err and "only a source distribution" in err
    assert "a wheel for this machine, not for Lambda" in err and "linux_x86_64" in err
    assert not (project / "dist").exists() or not list((project / "dist").glob("*.zip"))


def test_wrong_platform_wheel_is_named_with_the_reason(tmp_path: Path) -> None:
    project = copy_fixture("wrong-platform-wheel", tmp_path)
    code, _, err = slim("build", str(project), "-q")
    assert code == 1
    assert "macosonly" in err and "no wheel for Linux x86_64" in err


def test_unresolvable_requirement_fails_and_keeps_previous_artifacts(tmp_path: Path) -> None:
    project = copy_fixture("requirements-includes", tmp_path)
    build(project)
    zip_path = project / "dist" / "function.zip"
    before = zip_path.read_bytes()
    (project / "base.txt").write_text("slimdep>=3\n")
    code, _, err = slim("build", str(project), "-q")
    assert code == 1
    assert "slimdep>=3" in err
    assert zip_path.read_bytes() == before
    assert sorted(p.name for p in zip_path.parent.iterdir()) == [
        ".slim-build.json",
        "function.zip",
        "slim-manifest.json",
    ]


def test_the_project_tree_is_never_modified(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    before = tree_digest(project)
    build(project)
    after = tree_digest(project)
    added = set(after) - set(before)
    assert added == {"slim.lock", "dist/function.zip", "dist/slim-manifest.json", "dist/.slim-build.json"}
    assert {k: after[k] for k in before} == before


def test_metadata_survives_for_importlib_metadata(tmp_path: Path) -> None:
    project = copy_fixture("metadata-at-import", tmp_path)
    build(project)
    result = run_in_unzipped(
        project / "dist" / "function.zip", tmp_path, "import metaimport; print(metaimport.__version__)"
    )
    assert result.stdout.strip() == "1.0", result.stderr


def test_importable_docs_package_is_kept(tmp_path: Path) -> None:
    project = copy_fixture("imports-docs-package", tmp_path)
    build(project)
    members = names(project / "dist" / "function.zip")
    assert "docspkg/docs/__init__.py" in members
    assert "docspkg/examples/example.txt" not in members
    result = run_in_unzipped(project / "dist" / "function.zip", tmp_path, "import docspkg; print(docspkg.docs.TOPICS)")
    assert result.stdout.strip() == "['a']", result.stderr


def test_extension_is_stripped_but_libs_dir_is_untouched(tmp_path: Path, wheelhouse: Path) -> None:
    if not list(wheelhouse.glob("fastext-*.whl")):
        pytest.skip("no C compiler to build the extension fixture")
    project = copy_fixture("compiled-extension", tmp_path)
    report = build(project)
    rules = {rule.rule for rule in report.rules}
    assert rules & {"symbol-tables", "debug-symbols"}
    with zipfile.ZipFile(next(wheelhouse.glob("fastext-*.whl"))) as wheel:
        original_lib = wheel.read("fastext.libs/libhelper-1a2b3c4d.so")
        original_ext = next(wheel.read(n) for n in wheel.namelist() if "_speedups" in n)
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        shipped_lib = archive.read("fastext.libs/libhelper-1a2b3c4d.so")
        shipped_ext = next(archive.read(n) for n in archive.namelist() if "_speedups" in n)
    assert shipped_lib == original_lib
    assert len(shipped_ext) < len(original_ext)
    result = run_in_unzipped(project / "dist" / "function.zip", tmp_path, "import fastext; print(fastext.answer())")
    assert result.stdout.strip() == "42", result.stderr


def test_no_compile_ships_no_bytecode(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    report = build(project, BuildOptions(compile=False))
    assert not any(m.endswith(".pyc") for m in names(project / "dist" / "function.zip"))
    assert report.bytecode.enabled is False


def test_user_keep_and_exclude(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    build(project, BuildOptions(keep=("slimdemo/tests/",), exclude=("slimdep/",)))
    members = names(project / "dist" / "function.zip")
    assert "slimdemo/tests/test_core.py" in members
    assert not any(m.startswith("slimdep/") for m in members)


def test_explain_names_the_rule(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, _, err = slim("build", str(project), "-q", "--explain", "slimdemo/tests/*")
    assert code == 0
    assert "removed   slimdemo/tests/test_core.py  by rule tests" in err


def test_output_and_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_fixture("minimal", tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "out"
    report_file = tmp_path / "report.json"
    code, stdout, err = slim("build", str(project), "--out", str(out), "--format", "json", "-o", str(report_file), "-q")
    assert code == 0, err
    assert stdout == ""
    report = json.loads(report_file.read_text())
    assert report["artifacts"][0]["path"] == str(out / "function.zip")
    with zipfile.ZipFile(out / "function.zip") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_an_unchanged_project_reuses_the_last_build(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    first = build_json(project)
    again = build_json(project)
    assert (
        again["dependencies"]["lock"] == "slim.lock reused; nothing changed since the last build: its artifacts reused"
    )
    assert again["artifacts"] == first["artifacts"] and again["rules"] == first["rules"]
    assert again["verification"] == first["verification"]
    assert again["cold_start"] == first["cold_start"]  # spread, machine, basis and all, read back from the JSON
    forced = build_json(project, "--force")
    assert "artifacts reused" not in forced["dependencies"]["lock"]
    assert forced["artifacts"][0]["sha256"] == first["artifacts"][0]["sha256"]
    # A changed artifact is not trusted: the next build builds.
    zip_path = project / "dist" / "function.zip"
    zip_path.write_bytes(zip_path.read_bytes() + b"tampered")
    rebuilt = build_json(project)
    assert "artifacts reused" not in rebuilt["dependencies"]["lock"]
    assert rebuilt["artifacts"][0]["sha256"] == first["artifacts"][0]["sha256"]


def test_explain_says_why_the_keep_list_kept_a_file(tmp_path: Path) -> None:
    project = tmp_path / "uses-cffi"
    project.mkdir()
    (project / "requirements.txt").write_text("cffi==0.0.1\n")
    (project / "handler.py").write_text("import cffi\n")
    code, _, err = slim("build", str(project), "-q", "--measure-runs", "0", "--explain", "cffi/*.h")
    assert code == 0, err
    assert "kept      cffi/parse_c_type.h  by rule builtin-keep: cffi compiles C declarations at run time" in err


def test_measuring_without_bytecode_is_opt_in(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    default = build(project, BuildOptions(measure_runs=1)).coldstart
    assert default is not None and default.measured is not None
    assert default.measured.slim_ms > 0 and default.measured.no_bytecode_ms is None
    # One run, the safety check's (no handler: it imports every module): it timed the reference too.
    assert default.measured.reference is not None
    opted = build(project, BuildOptions(measure_runs=1, measure_without_bytecode=True, force=True)).coldstart
    assert opted is not None and opted.measured is not None
    assert opted.measured.no_bytecode_ms is not None and opted.measured.no_bytecode_ms > 0


def test_the_measurement_times_the_first_invocation_and_records_the_machine(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    # An invocation of at least 30 ms: the package's measured processes invoke the handler on the event.
    (project / "handler.py").write_text(
        "import time\nimport slimdemo\n\n\ndef handler(event, context):\n    time.sleep(0.03)\n"
        "    return slimdemo.greet(event['name'])\n"
    )
    (project / "event.json").write_text('{"name": "x"}')
    options = BuildOptions(measure_runs=2, handler="handler.handler", event=project / "event.json")
    coldstart = build(project, options).coldstart
    assert coldstart is not None and coldstart.measured is not None
    measured = coldstart.measured
    assert measured.invoke is not None and 30.0 <= measured.invoke.low <= measured.invoke.median
    assert measured.slim.low <= measured.slim.median <= measured.slim.high
    assert measured.machine is not None and measured.machine.cores == os.cpu_count()
    rows = {row.memory_mb: row for row in coldstart.memory_table}
    assert rows[128].init_ms == rows[3008].init_ms  # unthrottled by default
    assert rows[128].invoke_ms is not None and rows[128].invoke_ms > rows[1769].invoke_ms
    # Each process timed the reference workload: the table is on a Lambda vCPU, by the host factor measured.
    assert measured.reference is not None and measured.reference.low > 0
    assert rows[1769].invoke_ms == pytest.approx(measured.invoke.median * measured.host_factor)
    assert rows[1769].init_ms == pytest.approx(measured.slim.low * measured.host_factor)
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + '\n[tool.slim]\ninit-cpu = "proportional"\n'
    )
    proportional = build(project, options).coldstart
    assert proportional is not None and proportional.init_cpu == "proportional"
    rows = {row.memory_mb: row for row in proportional.memory_table}
    assert rows[128].init_ms > rows[1769].init_ms


def test_over_the_unzipped_limit_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lower_the_unzipped_limit(monkeypatch, 200_000)
    project = copy_fixture("one-distribution-over-the-limit", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('layers = "auto"', ""))
    code, _, err = slim("build", str(project), "--measure-runs", "0")
    assert code == 1, err
    # The error names the limit, the total and the contributors, and nothing replaced the previous artifacts.
    assert "error: the package is over Lambda's limits" in err
    assert "unzipped limit: " in err and "limit 200,000 bytes" in err
    assert "largest contributors: bigdist 293." in err
    assert "Nothing was written" in err
    assert not (project / "dist" / "function.zip").exists()
    # A previous, deployable build stays as it was.
    (project / "dist").mkdir()
    (project / "dist" / "function.zip").write_bytes(b"the previous build")
    code, _, err = slim("build", str(project), "--measure-runs", "0", "--format", "json")
    assert code == 1 and "error: the package is over Lambda's limits" in err
    assert (project / "dist" / "function.zip").read_bytes() == b"the previous build"


def test_no_verify_is_said_in_every_format(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, text, err = slim("build", str(project), "--no-verify")
    assert code == 0, err
    assert "not done: verification (turned off: --no-verify or [tool.slim] verify = false)" in text
    assert "not done: cold-start measurement (it runs with verification, which is turned off)" in text
    assert "warning: verification not done: turned off" in err
    data = build_json(project, "--no-verify")
    assert [item["what"] for item in data["skipped"]] == ["verification", "cold-start measurement"]
    assert data["skipped"][0]["why"].startswith("turned off: --no-verify")
    code, markdown, _ = slim("build", str(project), "--no-verify", "--format", "markdown", "-q")
    assert code == 0 and "> **not done**: verification (turned off: --no-verify" in markdown
    assert "cold-start measurement" in markdown
    # A verified build with the runtime's packages in their place (none are needed here) says nothing was skipped.
    runtime_packages = tmp_path / "runtime-packages"
    runtime_packages.mkdir()
    assert build_json(project, "--measure-runs", "1", "--runtime-packages", str(runtime_packages))["skipped"] == []


def test_a_host_that_cannot_run_the_target_is_said_in_every_format(tmp_path: Path) -> None:
    other = "arm64" if host_machine() == "x86_64" else "x86_64"
    project = copy_fixture("minimal", tmp_path)
    data = build_json(project, "--arch", other)
    why = data["skipped"][0]["why"]
    assert data["skipped"][0]["what"] == "verification" and why.startswith("this machine cannot run")
    assert data["skipped"][1] == {"what": "cold-start measurement", "why": why}
    code, text, _ = slim("build", str(project), "--arch", other, "-q")
    assert code == 0 and "not done: verification (this machine cannot run" in text
    code, markdown, _ = slim("build", str(project), "--arch", other, "-q", "--format", "markdown")
    assert code == 0 and "> **not done**: verification (this machine cannot run" in markdown


@pytest.mark.parametrize("files", [{}, {"README.md": "# a readme\n"}, {"requirements.txt": "nosuchpackage==1.0\n"}])
def test_an_empty_project_fails_up_front(tmp_path: Path, files: dict[str, str]) -> None:
    """Case 4: an empty directory built a 22-byte zip with exit 0. With requirements but no code, the error comes
    before anything is resolved (nosuchpackage is in no index)."""
    project = tmp_path / "empty"
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text)
    code, _, err = slim("build", str(project), "-q")
    assert code == 1, err
    assert f"no app code found in {project.resolve()}" in err
    assert "nosuchpackage" not in err and "Traceback" not in err
    assert not (project / "dist").exists() and not (project / "slim.lock").exists()


def test_symlinks_inside_the_project_are_followed_once(tmp_path: Path) -> None:
    """Case 8: a link within the project ships what it points at, under the link's path; a directory link was
    dropped without a word."""
    project = copy_fixture("minimal", tmp_path)
    (project / "shared").mkdir()
    (project / "shared" / "rates.json").write_text('{"eur": 1}\n')
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "rates.json").symlink_to("../shared/rates.json")
    (project / "pkg" / "shared").symlink_to("../shared", target_is_directory=True)
    build(project, BuildOptions(measure_runs=0))
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert archive.read("pkg/rates.json") == archive.read("pkg/shared/rates.json") == b'{"eur": 1}\n'
        assert not archive.getinfo("pkg/shared/rates.json").is_dir()


def test_report_into_the_dist_a_first_build_creates(tmp_path: Path) -> None:
    """-o is checked before building (issue 13, case 11), and its directory made as dist/ is: a first build can
    still write its report into dist/."""
    project = copy_fixture("minimal", tmp_path)
    code, _, err = slim("build", str(project), "--quiet", "--measure-runs", "0", "-o", str(project / "dist" / "r.json"))
    assert code == 0, err
    assert (project / "dist" / "r.json").read_text().strip()


def test_no_progress_is_drawn_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """CI logs and redirected output get the report and the warnings, never a bar's carriage returns."""
    project = copy_fixture("minimal", tmp_path)
    code, out, err = slim("build", str(project))
    assert code == 0, err
    assert "\r" not in err and "packages/s" not in err and "resolving" not in err
    assert "function.zip" in out


def test_a_measurement_that_fails_keeps_the_previous_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A build that fails after its checks passed, in the cold-start measurement, writes nothing: the zips come
    # after it (written while it ran, they slowed what it measured: etl's init read 20% higher).
    import lambda_slim._pipeline as pipeline
    from lambda_slim import VerifyError

    project = copy_fixture("minimal", tmp_path)
    build(project)
    dist = project / "dist"
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    (project / "handler.py").write_text((project / "handler.py").read_text() + "\n# changed\n")

    def failing_measurement(*args: object, **kwargs: object) -> None:
        raise VerifyError("measuring the init of the slimmed package failed.")

    monkeypatch.setattr(pipeline, "measure_init", failing_measurement)
    with pytest.raises(VerifyError, match="measuring the init"):
        build(project)
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before  # no scratch left, nothing replaced
