"""DistCache: keys, whole-or-absent entries, read-only files."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import pytest

from lambda_slim._inputs.target import Target
from lambda_slim._install.distcache import (
    CachedDist,
    Damaged,
    DistCache,
    compiler_identity,
    default_cache_dir,
    usable_cache,
)
from lambda_slim._install.install import forget_requested
from lambda_slim._install.resolve import Pin

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
    assert cache.lookup(key) == Damaged(("m.py",))
    assert not list((tmp_path / "cache/dists").glob("*/*/tree"))


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SLIM_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("SLIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lambda-slim"
    assert usable_cache(None) == DistCache(tmp_path / "xdg" / "lambda-slim")


def _installed_tree(root: Path) -> CachedDist:
    """What pip leaves for one wheel, plus the pyc compile adds: a module RECORD hashes, and a pyc it does not."""
    source = b"def greet(name):\n    return f'hello {name}'\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(source).digest()).rstrip(b"=").decode()
    files = {
        "demo/core.py": source,
        "demo/__pycache__/core.cpython-311.pyc": b"\xa7\r\r\n" + bytes(range(200)),
        "demo-1.0.dist-info/RECORD": f"demo/core.py,sha256={digest},{len(source)}\n"
        "demo-1.0.dist-info/RECORD,,\ndemo/__pycache__/core.cpython-311.pyc,,\n".encode(),
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return CachedDist(tuple((path, len(data)) for path, data in files.items()), (), ())


@pytest.mark.parametrize("victim", ["demo/core.py", "demo/__pycache__/core.cpython-311.pyc"])
def test_an_entry_with_one_byte_changed_at_the_same_size_is_dropped_and_rebuilt(tmp_path: Path, victim: str) -> None:
    tree = tmp_path / "tree"
    listing = _installed_tree(tree)
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    assert cache.store(key, tree, listing)
    stored = next((tmp_path / "cache/dists").glob(f"*/*/tree/{victim}"))
    original = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(original[:-3] + bytes([original[-3] ^ 1]) + original[-2:])
    assert stored.stat().st_size == len(original)

    assert cache.lookup(key) == Damaged((victim,))
    assert not list((tmp_path / "cache/dists").glob("*/*/tree"))
    # Rebuilt from a fresh install (its links were broken by the write above), the entry is whole again.
    fresh = tmp_path / "fresh"
    assert cache.store(key, fresh, _installed_tree(fresh))
    assert cache.lookup(key) == listing
    assert next((tmp_path / "cache/dists").glob(f"*/*/tree/{victim}")).read_bytes() == original


def test_an_entry_without_a_manifest_of_hashes_counts_as_damaged(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    listing = _installed_tree(tree)
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    assert cache.store(key, tree, listing)
    meta = next((tmp_path / "cache/dists").glob("*/*/meta.json"))
    # What an older lambda-slim wrote: sizes, no hashes.
    meta.write_text(json.dumps({"files": listing.files, "compiled": [], "failed": []}), encoding="utf-8")
    assert cache.lookup(key) == Damaged(())
    assert not list((tmp_path / "cache/dists").glob("*/*/tree"))


def test_a_file_that_does_not_match_its_record_is_not_cached(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    listing = _installed_tree(tree)
    (tree / "demo/core.py").write_bytes(b"def greet(name):\n    return f'jello {name}'\n")
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    assert not cache.store(key, tree, listing)
    assert cache.lookup(key) is None


def test_a_pyc_compile_wrote_over_one_the_wheel_shipped_is_cached(tmp_path: Path) -> None:
    # numpy's wheels ship pycs RECORD hashes; compile replaces them with unchecked-hash ones of our own.
    tree = tmp_path / "tree"
    listing = _installed_tree(tree)
    record = tree / "demo-1.0.dist-info/RECORD"
    record.write_text(record.read_text().replace("core.cpython-311.pyc,,", f"core.cpython-311.pyc,sha256={'A' * 43},9"))
    listing = CachedDist(listing.files, ("demo/__pycache__/core.cpython-311.pyc",), ())
    cache = DistCache(tmp_path / "cache")
    key = cache.key(PIN, TARGET, None)
    assert cache.store(key, tree, listing)
    assert cache.lookup(key) == listing


def test_requested_markers_and_their_record_rows_go_and_the_rest_of_record_stays_byte_for_byte(tmp_path: Path) -> None:
    dist_info = tmp_path / "pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "REQUESTED").write_bytes(b"")
    rows = [
        b"pkg/__init__.py,sha256=abc,3\r\n",
        b"pkg-1.0.dist-info/REQUESTED,,\r\n",
        b"pkg-1.0.dist-info/RECORD,,\r\n",
    ]
    (dist_info / "RECORD").write_bytes(b"".join(rows))
    forget_requested(tmp_path)
    assert not (dist_info / "REQUESTED").exists()
    assert (dist_info / "RECORD").read_bytes() == rows[0] + rows[2]
