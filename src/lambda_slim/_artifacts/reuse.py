"""The record of the last build in dist/: if nothing that goes into a build changed and the artifacts it wrote
are still there, byte for byte, its report stands, and `slim check` need not build again."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.archive import sha256_file
from lambda_slim._atomic import write_text_atomically
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.config import Config
from lambda_slim._inputs.project import ProjectSettings, app_files, requirement_inputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.resolve import lock_key, read_lock
from lambda_slim._report.build_report import BuildReport
from lambda_slim._report.load import build_report_from_json, checked_report, read_report
from lambda_slim._version import __version__

CACHE_FILE = ".slim-build.json"

# Config fields that do not change what a build writes, so a build that differs only in them is reused: `locked` only
# says whether slim.lock may be resolved again, and a build is reused only while the lock is current anyway (so
# `slim build --locked` and a `slim check` without it share one build); the budget is judged by `slim check`, after.
NOT_BUILD_SETTINGS = frozenset({"locked", "budget"})


def build_settings(config: Config) -> dict[str, str]:
    """Every setting that shapes what the build writes, by name (runtime and arch for the target, [tool.slim]'s
    spelling for the rest), each value as a message may show it: what the record keeps, so that a build not reused
    for its settings can say which ones differ. The function's environment is there by its names only: its values
    may be secrets, and dist/ is uploaded (`settings_key` digests them)."""
    settings: dict[str, str] = {}
    for field in dataclasses.fields(config):
        if not field.repr or field.name in NOT_BUILD_SETTINGS:
            continue  # not repr'd: where each value came from, which builds the same package
        value = getattr(config, field.name)
        if isinstance(value, Target):
            settings["runtime"], settings["arch"] = repr(value.runtime), repr(value.arch)
        elif field.name == "environment":
            settings["environment"] = repr(tuple(name for name, _ in config.environment))
        else:
            settings[field.name.replace("_", "-")] = str(value) if isinstance(value, Path) else repr(value)
    return settings


def settings_key(config: Config) -> str:
    """The build's settings as the one string `fingerprint` takes: `build_settings`, and the environment's values."""
    return json.dumps(build_settings(config), sort_keys=True) + "\0" + repr(config.environment)


def fingerprint(settings: str, project: ProjectSettings, lock_path: Path) -> str | None:
    """A digest of everything a build reads, or None when the lock would have to be resolved again. `settings`:
    every setting of the build, as one string (the repr of its Config); `lock_path`: slim.lock."""
    inputs = requirement_inputs(project)
    digest = hashlib.sha256()
    for part in (__version__, sys.version, settings, inputs.digest):
        digest.update(part.encode() + b"\0")
    if not inputs.empty and inputs.pinned is None:
        lock = read_lock(lock_path)
        if lock is None or lock.key != lock_key(inputs, project.target):
            return None
        digest.update(lock_path.read_bytes())
    for file in app_files(project):
        digest.update(file.path.encode() + b"\0" + hashlib.sha256(file.source.read_bytes()).digest())
    return digest.hexdigest()


def remember(dist_dir: Path, key: str | None, report_json: str, settings: Mapping[str, str] | None = None) -> None:
    if key is None:
        return
    record = {"fingerprint": key, "report": read_report(report_json), "settings": dict(settings or {})}
    write_text_atomically(dist_dir / CACHE_FILE, json.dumps(record) + "\n")


def recall(dist_dir: Path, key: str | None) -> dict[str, Any] | None:
    """The last build's JSON report, when `key` matches and every artifact is still as it wrote it."""
    if key is None:
        return None
    try:
        record = json.loads((dist_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != key:
        return None
    try:
        report = checked_report(record.get("report"), f"the last build's report in {CACHE_FILE}")
    except ConfigError:
        return None  # another version's, or edited: build again
    for artifact in report.get("artifacts", []):
        path = dist_dir / Path(artifact["path"]).name
        if not path.is_file() or sha256_file(path) != artifact["sha256"]:
            return None
    image = report.get("image")
    if image and not (
        (dist_dir / Path(image["dockerfile"]).name).is_file() and (dist_dir / Path(image["tree"]).name).is_dir()
    ):
        return None  # --image's output is gone (its tree is not hashed: thousands of files, rebuilt cheaply)
    return report


def changed_settings(dist_dir: Path, settings: Mapping[str, str]) -> list[str]:
    """The settings the last build recorded in `dist_dir` was made with that differ from `settings`, as "NAME was
    X, now Y": why that build is not reused, when its settings are why. Empty without a record (or one from a
    version that kept no settings), and when only the inputs changed."""
    try:
        record = json.loads((dist_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    previous = record.get("settings") if isinstance(record, dict) else None
    if not isinstance(previous, dict) or not previous:
        return []
    names = sorted(set(previous) | set(settings))
    return [
        f"{name} was {previous.get(name, '(not a setting then)')}, now {settings.get(name, '(not a setting now)')}"
        for name in names
        if previous.get(name) != settings.get(name)
    ]


def reused_report(previous: dict[str, Any], dist_dir: Path, lock_status: str) -> BuildReport:
    """The last build's report (from `recall`) as this build's: its artifacts are what a build would write."""
    report = build_report_from_json(previous, dist_dir)
    return dataclasses.replace(
        report, lock_status=f"{lock_status}; nothing changed since the last build: its artifacts reused"
    )
