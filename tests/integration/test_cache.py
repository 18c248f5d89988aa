"""The per-distribution cache: same artifacts with or without it, read-only entries, and safe when shared or broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import lambda_slim
from lambda_slim import BuildOptions, BuildReport
from lambda_slim._install.distcache import usable_cache
from tests.helpers import copy_fixture, tree_digest

pytestmark = pytest.mark.usefixtures("offline_pip")


def build(project: Path, **options: Any) -> BuildReport:
    """A build that runs even when nothing changed (--force): these tests are about what a run takes from the cache."""
    return lambda_slim.build(project, BuildOptions(force=True, **options))


def sha(report: BuildReport) -> str:
    return report.artifacts[0].sha256


def entries(cache: Path) -> list[Path]:
    return sorted(path for path in (cache / "dists").glob("*/*") if not path.name.startswith(".tmp-"))


def test_a_cached_build_writes_the_same_zip_as_an_uncached_one(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("compiled-extension", tmp_path)
    uncached = build(project, cache=False)
    assert not private_cache.exists()
    first = build(project)
    stored = entries(private_cache)
    assert stored, "the build stored its distributions"
    digest = {entry: tree_digest(entry) for entry in stored}
    again = build(project)
    assert "from the cache" in again.lock_status
    assert sha(uncached) == sha(first) == sha(again)
    assert again.bytecode == first.bytecode and again.rules == first.rules
    # Stripping and slimming worked on links of the cached files: the cache itself did not change.
    assert {entry: tree_digest(entry) for entry in stored} == digest


def test_the_before_figures_are_the_same_however_the_distributions_were_installed(
    tmp_path: Path, private_cache: Path
) -> None:
    """Resolving installs slimdemo as asked for and slimdep as its dependency; a build from slim.lock asks for every
    pin; a warm build links what the first stored. pip marks what was asked for (REQUESTED), so the unslimmed tree
    differed by how it was installed: 1,325 files one build, 1,331 the next, for the same app."""
    project = copy_fixture("minimal", tmp_path)
    options = {"verify": False, "measure_runs": 0}
    resolved = build(project, **options)
    assert resolved.lock_status.startswith("slim.lock written")
    from_lock = build(project, cache=False, **options)
    from_cache = build(project, **options)
    assert "from the cache" in from_cache.lock_status
    assert resolved.before == from_lock.before == from_cache.before
    assert sha(resolved) == sha(from_lock) == sha(from_cache)


def test_cached_files_are_read_only(tmp_path: Path, private_cache: Path) -> None:
    build(copy_fixture("minimal", tmp_path))
    files = [path for entry in entries(private_cache) for path in (entry / "tree").rglob("*") if path.is_file()]
    assert files and all(path.stat().st_mode & 0o222 == 0 for path in files)


def test_cache_dir_option_wins_over_the_environment(tmp_path: Path, private_cache: Path) -> None:
    chosen = tmp_path / "chosen"
    build(copy_fixture("minimal", tmp_path), cache_dir=chosen)
    assert entries(chosen) and not entries(private_cache)


def test_a_damaged_entry_is_dropped_and_rebuilt(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    first = build(project)
    count = len(entries(private_cache))
    victim = next(path for entry in entries(private_cache) for path in (entry / "tree").rglob("*.py"))
    victim.chmod(0o644)
    victim.write_text("# truncated\n")
    again = build(project)
    assert sha(again) == sha(first)
    assert len(entries(private_cache)) == count  # the bad entry was replaced, not kept beside a new one
    assert all("truncated" not in path.read_text() for entry in entries(private_cache) for path in entry.rglob("*.py"))


def test_leftovers_of_a_killed_build_are_ignored_then_removed(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    first = build(project)
    # A build killed while storing an entry leaves only its private directory, never a half entry.
    entry = entries(private_cache)[0]
    half = entry.parent / ".tmp-deadbeef"
    (half / "tree").mkdir(parents=True)
    staging = private_cache / "tmp" / "build-killed"
    staging.mkdir()
    day_ago = time.time() - 2 * 24 * 3600
    for path in (half, staging):
        os.utime(path, (day_ago, day_ago))
    assert sha(build(project)) == sha(first)
    assert not half.exists() and not staging.exists()


def test_two_builds_filling_one_cache_at_once_agree(tmp_path: Path, private_cache: Path) -> None:
    projects = [copy_fixture("compiled-extension", tmp_path / str(n)) for n in range(2)]
    command = [sys.executable, "-m", "lambda_slim", "build", "--format", "json", "-q"]
    running = [subprocess.Popen([*command, str(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in projects]
    outputs = [process.communicate(timeout=300) for process in running]
    assert [process.returncode for process in running] == [0, 0], outputs
    [first, second] = [json.loads(out)["artifacts"][0]["sha256"] for out, _ in outputs]
    assert first == second
    assert not list((private_cache / "dists").glob("*/.tmp-*"))
    assert sha(build(projects[0])) == first


def test_an_unwritable_cache_warns_and_builds(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache should be")
    assert usable_cache(blocker / "cache") is None
    project = copy_fixture("minimal", tmp_path)
    report = build(project, cache_dir=blocker / "cache")
    assert any("cannot be written" in warning and "--cache-dir" in warning for warning in report.warnings)
    assert (project / "dist" / "function.zip").is_file()


def test_a_corrupted_cache_entry_is_never_shipped(tmp_path: Path, private_cache: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    build(project)
    pyc = f"slimdep/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    originals: dict[str, bytes] = {}
    for name, corrupt in [
        # Quietly wrong: the handler still runs, and greets wrongly.
        ("slimdemo/core.py", lambda data: data.replace(b"hello", b"jello")),
        # Loudly wrong, but in a module the handler does not import, which failed unslimmed too and so was "not
        # checked": the safety net must not be what catches a damaged cache.
        (pyc, lambda data: data[:16] + b"\0" + data[17:]),
    ]:
        victim = next(entry / "tree" / name for entry in entries(private_cache) if (entry / "tree" / name).is_file())
        originals[name] = victim.read_bytes()
        victim.chmod(0o644)
        victim.write_bytes(corrupt(originals[name]))
        assert victim.stat().st_size == len(originals[name]) and victim.read_bytes() != originals[name]

    report = build(project)
    with zipfile.ZipFile(project / "dist" / "function.zip") as archive:
        assert {name: archive.read(name) for name in originals} == originals
    damage = [warning for warning in report.warnings if "did not match" in warning]
    assert len(damage) == 2, report.warnings
    assert any("slimdemo" in warning and "slimdemo/core.py" in warning for warning in damage)
    assert any("slimdep" in warning and pyc in warning for warning in damage)
    assert report.verification is not None and not report.verification.skipped_modules, report.verification
    assert "from the cache" not in report.lock_status
