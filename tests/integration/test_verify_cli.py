"""`slim verify` on packages built from fixtures, on broken copies of them and on zips this machine cannot run."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from tests.helpers import copy_fixture, slim

pytestmark = pytest.mark.usefixtures("offline_pip")


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    project = copy_fixture("minimal", tmp_path)
    (project / "event.json").write_text('{"name": "ada"}')
    (project / "expected.json").write_text('{"greeting": "hello ada"}')
    code, _, err = slim("build", str(project), "-q", "--measure-runs", "0")
    assert code == 0, err
    return project


def copy_without(source: Path, dest: Path, *dropped: str) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if not info.filename.startswith(tuple(dropped)):
                zout.writestr(info, zin.read(info))
    return dest


def test_verify_passes_and_prints_a_lambda_report_line(built: Path) -> None:
    code, out, _ = slim(
        "verify",
        str(built / "dist"),
        "--handler",
        "handler.handler",
        "--event",
        str(built / "event.json"),
        "--expected",
        str(built / "expected.json"),
    )
    assert code == 0, out
    assert "result: matches --expected exactly" in out
    report = next(line for line in out.splitlines() if line.startswith("REPORT RequestId: "))
    fields = report.split("\t")
    assert [f.split(":")[0] for f in fields[1:]] == [
        "Duration",
        "Billed Duration",
        "Memory Size",
        "Max Memory Used",
        "Init Duration",
    ]
    assert out.rstrip().endswith("PASSED")


def test_a_different_result_fails(built: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"greeting": "hello bob"}')
    code, out, _ = slim(
        "verify", str(built / "dist"), "--handler", "handler.handler",
        "--event", str(built / "event.json"), "--expected", str(wrong),
    )  # fmt: skip
    assert code == 1
    assert "DIFFERS from --expected" in out and '"hello ada"' in out


def test_a_deleted_module_fails_naming_it(built: Path, tmp_path: Path) -> None:
    broken = copy_without(built / "dist" / "function.zip", tmp_path / "broken.zip", "slimdemo/")
    code, out, _ = slim(
        "verify", "--zip", str(broken), "--handler", "handler.handler", "--event", str(built / "event.json")
    )
    assert code == 1
    assert "FAILED: ModuleNotFoundError: No module named 'slimdemo'" in out


def test_all_modules_lists_each_failure(built: Path, tmp_path: Path) -> None:
    broken = copy_without(
        built / "dist" / "function.zip", tmp_path / "broken.zip", "slimdemo/core.py", "slimdemo/__pycache__/core."
    )
    code, out, _ = slim("verify", "--zip", str(broken), "--all-modules", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["modules_checked"] == 3  # handler, slimdemo, slimdep
    assert set(report["module_failures"]) == {"handler", "slimdemo"}
    assert "No module named 'slimdemo.core'" in report["module_failures"]["slimdemo"]


def test_handler_from_the_project_config(built: Path) -> None:
    (built / "pyproject.toml").write_text(
        (built / "pyproject.toml").read_text() + '\n[tool.slim]\nhandler = "handler.handler"\n'
    )
    code, out, _ = slim("verify", str(built / "dist"))
    assert code == 0
    assert "handler handler.handler: imported (no --event, so not invoked)" in out


def _elf_for(machine: int) -> bytes:
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1  # 64-bit, little-endian
    struct.pack_into("<H", header, 18, machine)
    return bytes(header)


def test_a_package_for_another_architecture_is_not_claimed_to_pass(tmp_path: Path) -> None:
    package = tmp_path / "arm.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handler(e, c):\n    return 1\n")
        archive.writestr("fast/_speed.cpython-311-aarch64-linux-gnu.so", _elf_for(183))
    code, _, err = slim("verify", "--zip", str(package), "--handler", "handler.handler")
    assert code == 3
    assert "arm64 (aarch64)" in err and "Nothing was checked" in err


def test_an_entry_outside_the_root_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "evil.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("../escape.py", "x = 1\n")
    code, _, err = slim("verify", "--zip", str(package), "--handler", "escape.x")
    assert code == 1
    assert "outside its root" in err
    assert not (tmp_path.parent / "escape.py").exists()


def test_expected_needs_an_event(built: Path) -> None:
    code, _, err = slim(
        "verify", str(built / "dist"), "--handler", "handler.handler", "--expected", str(built / "expected.json")
    )
    assert code == 2
    assert "--expected needs --event" in err


def test_missing_zip(tmp_path: Path) -> None:
    code, _, err = slim("verify", str(tmp_path / "dist"), "--handler", "handler.handler")
    assert code == 1
    assert "does not exist" in err


def test_a_zip_bomb_is_refused_before_anything_is_extracted(tmp_path: Path) -> None:
    package = tmp_path / "bomb.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("handler.py", "def handler(e, c):\n    return 1\n")
        archive.writestr("zeros.bin", bytes(64 * 1024 * 1024))
    code, _, err = slim("verify", "--zip", str(package), "--handler", "handler.handler")
    assert code == 1
    assert "looks like a zip bomb" in err and "Nothing was read or extracted" in err


def test_a_broken_event_or_expected_file_is_a_usage_error(built: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = slim("verify", str(built / "dist"), "--handler", "handler.handler", "--event", str(broken))
    assert code == 2 and f"the event file {broken} is not valid JSON" in err
    code, _, err = slim(
        "verify", str(built / "dist"), "--handler", "handler.handler",
        "--event", str(built / "event.json"), "--expected", str(broken),
    )  # fmt: skip
    assert code == 2 and f"the expected result {broken} is not valid JSON" in err


@pytest.fixture()
def built_with_handler(built: Path) -> Path:
    """The fixture built again with --handler on the command line: only the manifest remembers the handler."""
    code, _, err = slim("build", str(built), "-q", "--measure-runs", "0", "--handler", "handler.handler")
    assert code == 0, err
    return built


def test_verify_takes_the_handler_from_the_manifest(built_with_handler: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"greeting": "hello bob"}')
    dist = built_with_handler / "dist"
    event = str(built_with_handler / "event.json")
    code, out, err = slim("verify", str(dist), "--event", event, "--expected", str(wrong), "--format", "json")
    assert code == 1, out
    report = json.loads(out)
    assert report["handler"] == "handler.handler" and report["matches_expected"] is False
    assert f"{dist / 'slim-manifest.json'}" in err  # where the handler came from is said
    code, out, _ = slim("verify", "--zip", str(dist / "function.zip"), "--event", event, "--expected", str(wrong))
    assert code == 1, out
    assert "DIFFERS from --expected" in out and "PASSED" not in out


def test_verify_event_without_any_handler_is_a_usage_error(built: Path) -> None:
    for where in (["--zip", str(built / "dist" / "function.zip")], [str(built / "dist")]):
        code, out, err = slim("verify", *where, "--event", str(built / "event.json"))
        assert code == 2, out
        assert "--event needs a handler" in err and "--handler" in err
        assert "PASSED" not in out


def test_verify_without_handler_never_passes(built: Path, tmp_path: Path) -> None:
    # No handler anywhere: every top-level module shipped is imported instead, and that is said.
    code, out, err = slim("verify", str(built / "dist"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["modules_checked"] == 3
    assert "no handler" in err and "every top-level module" in err
    # And a package with nothing to import checks nothing: that is never PASSED.
    data_only = tmp_path / "data.zip"
    with zipfile.ZipFile(data_only, "w") as archive:
        archive.writestr("settings.json", "{}")
    code, out, err = slim("verify", "--zip", str(data_only))
    assert code == 1, out
    assert "PASSED" not in out and "nothing was checked" in out


def test_all_modules_counts_only_what_the_package_ships(built: Path, tmp_path: Path) -> None:
    """The runtime's stand-ins were counted as the package's own top-level modules ("8 of 8" for a one-module zip)."""
    runtime = tmp_path / "runtime"
    (runtime / "boto3").mkdir(parents=True)
    (runtime / "boto3" / "__init__.py").write_text("")
    code, out, err = slim(
        "verify", str(built / "dist"), "--all-modules", "--runtime-packages", str(runtime), "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["modules_checked"] == 3  # handler, slimdemo, slimdep: not boto3
