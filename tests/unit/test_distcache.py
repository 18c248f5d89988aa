"""DistCache: keys, whole-or-absent entries, read-only files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_slim.distcache import CachedDist, DistCache, compiler_identity, default_cache_dir, usable_cache
from lambda_slim.resolve import Pin
from lambda_slim.target import Target

PIN = Pin("demo", "1.0", ("a" * 64,))
TARGET = Target("python3.11", "x86_64")


def test_key_changes_with_everything_that_changes_the_tree(tmp_path: Path) -> None:
    cache = DistCache(tmp_path)
    base = cache.key(PIN, TARGET, "python-a")
    assert cache.key(PIN, TARGET, "python-a") == base
    assert cache.key(Pin("demo", "1.0", ("b" * 64,)), TARGET, "python-a") != base
    assert cache.key(PIN, Target("python3.12", "x86_64"), "python-a") != base
    assert cache.key(PIN, Target("python3.11", "arm64"), "python-a") != base
    assert cache.key(PIN, TARGET, "python-b") != base
    assert cache.key(PIN, TARGET, None) != base


def test_compiler_identity_names_the_binary() -> None:
    assert compiler_identity(sys.executable).startswith(str(Path(sys.executable).resolve()))


def test_store_then_lookup_round_trips_and_files_are_read_only(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "demo").mkdir(parents=True)
    (tree / "demo/__init__.py").write_text("X = 1\n")
    listing = CachedDist((("demo/__init__.py", 6),), (), ())
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    assert cache.lookup(key) is None
    assert cache.store(key, tree, listing)
    assert cache.lookup(key) == listing
    dest = tmp_path / "dest"
    cache.link_into(key, listing, dest)
    assert (dest / "demo/__init__.py").read_text() == "X = 1\n"
    assert (dest / "demo/__init__.py").stat().st_mode & 0o222 == 0


def test_an_entry_whose_files_changed_is_dropped(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "m.py").write_text("X = 1\n")
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    cache.store(key, tree, CachedDist((("m.py", 6),), (), ()))
    stored = next((tmp_path / "cache/dists").glob("*/*/tree/m.py"))
    stored.chmod(0o644)
    stored.write_text("X = 22\n")
    assert cache.lookup(key) is None
    assert not list((tmp_path / "cache/dists").glob("*/*/tree"))


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SLIM_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("SLIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lambda-slim"
    assert usable_cache(None) == DistCache(tmp_path / "xdg" / "lambda-slim")
