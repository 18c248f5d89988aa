"""The record of the last build in dist/: if nothing that goes into a build changed and the artifacts it wrote
are still there, byte for byte, its report stands, and `slim check` need not build again."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.archive import sha256_file
from lambda_slim._atomic import write_text_atomically
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.project import ProjectSettings, app_files, requirement_inputs
from lambda_slim._install.resolve import lock_key, read_lock
from lambda_slim._report.build_report import BuildReport
from lambda_slim._report.load import build_report_from_json, checked_report, read_report
from lambda_slim._version import __version__

CACHE_FILE = ".slim-build.json"


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


def remember(dist_dir: Path, key: str | None, report_json: str) -> None:
    if key is None:
        return
    record = {"fingerprint": key, "report": read_report(report_json)}
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


def reused_report(previous: dict[str, Any], dist_dir: Path, lock_status: str) -> BuildReport:
    """The last build's report (from `recall`) as this build's: its artifacts are what a build would write."""
    report = build_report_from_json(previous, dist_dir)
    return dataclasses.replace(
        report, lock_status=f"{lock_status}; nothing changed since the last build: its artifacts reused"
    )
