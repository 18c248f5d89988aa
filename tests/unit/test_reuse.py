"""The record of the last build: its fingerprint moves with everything a build reads, and its report stands only
while the artifacts it names are there, byte for byte."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from lambda_slim._artifacts.archive import sha256_file
from lambda_slim._artifacts.reuse import (
    CACHE_FILE,
    build_settings,
    changed_settings,
    fingerprint,
    recall,
    remember,
    settings_key,
)
from lambda_slim._inputs.budget import Budget
from lambda_slim._inputs.config import load_config
from lambda_slim._inputs.project import ProjectSettings, requirement_inputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.resolve import Lock, Pin, lock_key, render_lock
from lambda_slim._report.build_report import to_json
from tests.unit.test_report import report as a_report

TARGET = Target("python3.12", "x86_64")


def settings_of(root: Path, files: dict[str, str]) -> ProjectSettings:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return ProjectSettings(root, TARGET, root / "dist")


def test_the_fingerprint_moves_with_the_settings_and_the_apps_files(tmp_path: Path) -> None:
    project = settings_of(tmp_path, {"handler.py": "x = 1\n"})
    lock = tmp_path / "slim.lock"
    key = fingerprint("Config(a)", project, lock)
    assert key is not None and key == fingerprint("Config(a)", project, lock)
    assert fingerprint("Config(b)", project, lock) != key
    (tmp_path / "handler.py").write_text("x = 2\n")
    changed = fingerprint("Config(a)", project, lock)
    assert changed not in (None, key)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "leftover.py").write_text("")  # the build's output is not the app's
    assert fingerprint("Config(a)", project, lock) == changed
    (tmp_path / "module.py").write_text("")
    assert fingerprint("Config(a)", project, lock) != changed


def test_requirements_without_a_lock_for_them_have_no_fingerprint(tmp_path: Path) -> None:
    project = settings_of(tmp_path, {"handler.py": "", "requirements.txt": "slimdemo\n"})
    lock_path = tmp_path / "slim.lock"
    assert fingerprint("Config()", project, lock_path) is None
    inputs = requirement_inputs(project)
    lock = Lock(lock_key(inputs, TARGET), (Pin("slimdemo", "1.0", ("0" * 64,)),))
    lock_path.write_text(render_lock(lock, inputs, TARGET, tmp_path))
    key = fingerprint("Config()", project, lock_path)
    assert key is not None
    lock_path.write_text(lock_path.read_text() + "# edited\n")
    assert fingerprint("Config()", project, lock_path) not in (None, key)  # the lock's bytes count
    (tmp_path / "requirements.txt").write_text("slimdemo>=1\n")
    assert fingerprint("Config()", project, lock_path) is None  # the lock is for other inputs


def test_the_last_report_stands_while_its_artifacts_are_intact(tmp_path: Path) -> None:
    zipped = tmp_path / "function.zip"
    zipped.write_bytes(b"zip")
    report = json.loads(to_json(a_report()))
    report["artifacts"] = [{**report["artifacts"][0], "path": "elsewhere/function.zip", "sha256": sha256_file(zipped)}]
    remember(tmp_path, "key", json.dumps(report))
    assert recall(tmp_path, "key") == report
    assert recall(tmp_path, "other") is None
    assert recall(tmp_path, None) is None
    zipped.write_bytes(b"changed")
    assert recall(tmp_path, "key") is None
    zipped.unlink()
    assert recall(tmp_path, "key") is None


def test_a_build_without_a_fingerprint_leaves_no_record(tmp_path: Path) -> None:
    remember(tmp_path, None, json.dumps({"artifacts": []}))
    assert not (tmp_path / CACHE_FILE).exists()
    (tmp_path / CACHE_FILE).write_text("not json")
    assert recall(tmp_path, "key") is None


def test_locked_and_the_budget_are_not_build_settings_and_environment_values_stay_out_of_the_record(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    plain = load_config(tmp_path, {"runtime": "python3.12"})
    assert settings_key(plain) == settings_key(dataclasses.replace(plain, locked=True))
    assert settings_key(plain) == settings_key(dataclasses.replace(plain, budget=Budget(max_files=1)))
    assert build_settings(plain)["runtime"] == "'python3.12'"
    with_env = load_config(tmp_path, {"environment": ["API_KEY=s3cret"]})
    assert "s3cret" not in json.dumps(build_settings(with_env))  # dist/ is uploaded: the record must not hold it
    other_value = load_config(tmp_path, {"environment": ["API_KEY=other"]})
    assert settings_key(with_env) != settings_key(other_value)  # yet a new value builds again


def test_the_record_says_which_settings_differ(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    built = load_config(tmp_path, {"runtime": "python3.12", "handler": "app.handler"})
    remember(tmp_path, "key", to_json(a_report()), build_settings(built))
    assert changed_settings(tmp_path, build_settings(built)) == []
    now = load_config(tmp_path, {"runtime": "python3.11"})
    assert changed_settings(tmp_path, build_settings(now)) == [
        "handler was 'app.handler', now None",
        "runtime was 'python3.12', now 'python3.11'",
    ]
    remember(tmp_path, "key", to_json(a_report()))  # a record that kept no settings says nothing
    assert changed_settings(tmp_path, build_settings(now)) == []
