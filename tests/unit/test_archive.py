"""write_zip: deterministic, normalised, atomic; and the size arithmetic the report relies on."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import stat
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lambda_slim._artifacts import zipwrite
from lambda_slim._artifacts.archive import Artifact, deflated_size, sha256_file, tree_files, write_zip, zip_overhead
from lambda_slim._errors import ArchiveError
from lambda_slim._inputs.config import ZIP_EPOCH

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z: an even second, which DOS times can hold exactly

FILES: dict[str, bytes] = {
    "handler.py": b"def handler(event, context):\n    return 42\n",
    "pkg/__init__.py": b"",
    "pkg/core.py": b"VALUE = 1\n" * 200,
    "pkg/sub/data.bin": random.Random(0).randbytes(3000),
    "pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n",
    "pkg.libs/libx.so": b"\x7fELF" + bytes(500),
    "bin/run": b"#!/bin/sh\necho hi\n",
    "caf\u00e9/men\u00fc.txt": "cr\u00e8me br\u00fbl\u00e9e\n".encode(),
}
EXECUTABLE = {"bin/run", "pkg.libs/libx.so"}


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def make_tree(root: Path, *, reverse: bool = False, mtime: int = EPOCH, private: bool = False) -> Path:
    """FILES below root, created in the given order, with the given mtime and a permissive or private umask."""
    with umask(0o077 if private else 0o022):
        for rel in sorted(FILES, reverse=reverse):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(FILES[rel])
            if rel in EXECUTABLE:
                path.chmod(0o700 if private else 0o755)
            os.utime(path, (mtime, mtime))
    return root


def build(tmp_path: Path, name: str = "out/function.zip", *, epoch: int = EPOCH, prefix: str = "") -> Artifact:
    root = tmp_path / "tree"
    if not root.exists():
        make_tree(root)
    return write_zip(root, tmp_path / name, kind="function", epoch=epoch, prefix=prefix)


def infos(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as opened:
        return opened.infolist()


def test_byte_identical_whatever_the_mtimes_umask_and_creation_order(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "first")
    second = make_tree(tmp_path / "second", reverse=True, mtime=EPOCH + 86_400 * 400 + 1, private=True)
    assert (second / "pkg/core.py").stat().st_mode & 0o077 == 0  # the trees really differ in permissions
    a = write_zip(first, tmp_path / "a.zip", kind="function", epoch=EPOCH)
    b = write_zip(second, tmp_path / "b.zip", kind="function", epoch=EPOCH)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.sha256 == b.sha256


def test_content_changes_change_the_zip(tmp_path: Path) -> None:
    before = build(tmp_path, "a.zip")
    (tmp_path / "tree/pkg/core.py").write_bytes(b"VALUE = 2\n" * 200)
    assert build(tmp_path, "b.zip").sha256 != before.sha256


def test_epoch_changes_the_zip(tmp_path: Path) -> None:
    assert build(tmp_path, "a.zip").sha256 != build(tmp_path, "b.zip", epoch=EPOCH + 2).sha256


def test_entries_are_sorted_files_only(tmp_path: Path) -> None:
    names = [info.filename for info in infos(build(tmp_path).path)]
    assert names == sorted(FILES)
    assert not [name for name in names if name.endswith("/")]


def test_entries_are_deflated_and_round_trip(tmp_path: Path) -> None:
    with zipfile.ZipFile(build(tmp_path).path) as opened:
        assert {info.filename: opened.read(info) for info in opened.infolist()} == FILES
        assert {info.compress_type for info in opened.infolist()} == {zipfile.ZIP_DEFLATED}


@pytest.mark.parametrize(
    ("epoch", "date_time"),
    [(ZIP_EPOCH, (1980, 1, 1, 0, 0, 0)), (EPOCH, (2023, 11, 14, 22, 13, 20))],
)
def test_every_timestamp_is_the_epoch(tmp_path: Path, epoch: int, date_time: tuple[int, ...]) -> None:
    assert {info.date_time for info in infos(build(tmp_path, epoch=epoch).path)} == {date_time}
    assert time.gmtime(epoch)[:6] == date_time


def test_permissions_are_normalised(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree", private=True)
    modes = {info.filename: info.external_attr >> 16 for info in infos(build(tmp_path).path)}
    assert modes == {name: 0o100755 if name in EXECUTABLE else 0o100644 for name in FILES}
    assert {info.create_system for info in infos(tmp_path / "out/function.zip")} == {3}


def test_prefix(tmp_path: Path) -> None:
    artifact = write_zip(
        make_tree(tmp_path / "tree"), tmp_path / "layer.zip", kind="layer", epoch=EPOCH, prefix="python/"
    )
    assert [info.filename for info in infos(artifact.path)] == [f"python/{name}" for name in sorted(FILES)]
    assert artifact.kind == "layer"


def test_no_zip64_for_small_archives(tmp_path: Path) -> None:
    data = build(tmp_path).path.read_bytes()
    assert b"PK\x06\x06" not in data  # zip64 end of central directory record
    assert b"PK\x06\x07" not in data  # zip64 end of central directory locator
    assert data[-22:-18] == b"PK\x05\x06"  # the classic end record, with no comment
    assert all(info.extra == b"" for info in infos(tmp_path / "out/function.zip"))


def test_artifact_describes_the_zip(tmp_path: Path) -> None:
    artifact = build(tmp_path)
    data = artifact.path.read_bytes()
    assert artifact.path == tmp_path / "out/function.zip"
    assert artifact.kind == "function"
    assert artifact.files == len(FILES)
    assert artifact.unzipped_bytes == sum(len(content) for content in FILES.values())
    assert artifact.zipped_bytes == len(data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest() == sha256_file(artifact.path)
    assert stat.S_IMODE(artifact.path.stat().st_mode) == 0o644


def test_code_sha256_is_base64_of_the_raw_digest(tmp_path: Path) -> None:
    artifact = build(tmp_path)
    digest = hashlib.sha256(artifact.path.read_bytes()).digest()
    assert artifact.code_sha256 == base64.b64encode(digest).decode()
    empty = Artifact(Path("x.zip"), "function", 0, 0, 0, hashlib.sha256(b"").hexdigest())
    assert empty.code_sha256 == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_empty_tree(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    artifact = write_zip(tmp_path / "empty", tmp_path / "e.zip", kind="function", epoch=EPOCH)
    assert (artifact.files, artifact.unzipped_bytes, artifact.zipped_bytes) == (0, 0, 22)
    assert infos(artifact.path) == []


def test_tree_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    (root / "emptydir").mkdir()
    (root / "dangling").symlink_to(root / "missing")
    assert tree_files(root) == sorted(FILES)


# --- atomic replacement -------------------------------------------------------------------------------------------


def previous_dest(tmp_path: Path) -> Path:
    dest = tmp_path / "out/function.zip"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"the previous build")
    return dest


def assert_untouched(dest: Path) -> None:
    assert dest.read_bytes() == b"the previous build"
    assert os.listdir(dest.parent) == [dest.name]  # no temporary file left behind


def test_a_file_removed_mid_way_leaves_the_previous_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = previous_dest(tmp_path)
    root = make_tree(tmp_path / "tree")
    real_deflate = zipwrite.deflate_file
    last = root / sorted(FILES)[-1]

    def removed_before_it_is_read(path: Path, **kwargs: Any) -> Any:
        if path == last:
            path.unlink()
        return real_deflate(path, **kwargs)

    monkeypatch.setattr(zipwrite, "deflate_file", removed_before_it_is_read)
    with pytest.raises(ArchiveError) as caught:
        write_zip(root, dest, kind="function", epoch=EPOCH)
    assert str(dest) in str(caught.value)
    assert_untouched(dest)


def test_an_unreadable_file_leaves_the_previous_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = previous_dest(tmp_path)
    root = make_tree(tmp_path / "tree")
    real_open = Path.open

    def refuse_core(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "core.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse_core)
    with pytest.raises(ArchiveError, match="Permission denied"):
        write_zip(root, dest, kind="function", epoch=EPOCH)
    assert_untouched(dest)


def test_an_interruption_leaves_the_previous_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = previous_dest(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(zipwrite, "deflate_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_zip(make_tree(tmp_path / "tree"), dest, kind="function", epoch=EPOCH)
    assert_untouched(dest)


def test_parallel_writing_gives_the_same_bytes_as_one_thread(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    entries = [zipwrite.Entry(rel, root / rel, 0o100644) for rel in tree_files(root)]
    written = []
    for workers in (1, 4):
        with (tmp_path / f"{workers}.zip").open("wb") as out:
            zipwrite.write_entries(out, entries, EPOCH, workers=workers)
        written.append((tmp_path / f"{workers}.zip").read_bytes())
    assert written[0] == written[1]


def test_large_entries_spill_to_disk_and_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwrite, "IN_MEMORY_BYTES", 1000)
    monkeypatch.setattr(zipwrite, "CHUNK_BYTES", 4096)
    root = make_tree(tmp_path / "tree")
    big = random.Random(2).randbytes(50_000)
    (root / "pkg/big.bin").write_bytes(big)
    spilled = zipwrite.deflate_file(root / "pkg/big.bin").spill
    assert spilled is not None
    spilled.close()  # the writer closes each spill once copied into the zip; here nothing copies it
    with zipfile.ZipFile(build(tmp_path).path) as opened:
        assert opened.testzip() is None
        assert opened.read("pkg/big.bin") == big


def test_zip64_end_records_past_65535_entries(tmp_path: Path) -> None:
    source = tmp_path / "one.txt"
    source.write_bytes(b"x")
    entries = [zipwrite.Entry(f"f{index:05}", source, 0o100644) for index in range(65_536)]
    with (tmp_path / "many.zip").open("wb") as out:
        zipwrite.write_entries(out, entries, EPOCH)
    data = (tmp_path / "many.zip").read_bytes()
    assert b"PK\x06\x06" in data[-200:] and b"PK\x06\x07" in data[-200:]
    with zipfile.ZipFile(tmp_path / "many.zip") as opened:
        names = opened.namelist()
        assert len(names) == 65_536 and names[-1] == "f65535"
        assert opened.read("f65535") == b"x"


def test_a_successful_write_replaces_the_previous_zip(tmp_path: Path) -> None:
    dest = previous_dest(tmp_path)
    artifact = build(tmp_path)
    assert artifact.path == dest
    assert zipfile.is_zipfile(dest)
    assert os.listdir(dest.parent) == [dest.name]


# --- sizes --------------------------------------------------------------------------------------------------------


def test_deflated_size_matches_the_zip_entries(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    words = [b"lambda", b"slim", b"wheel", b"layer", b"handler", b"event"]
    rng = random.Random(1)
    text = b" ".join(rng.choice(words) + str(rng.randrange(1000)).encode() for _ in range(60_000))
    # Text whose deflate size depends on the level, then incompressible bytes across the 1 MiB read blocks.
    (root / "pkg/big.bin").write_bytes(text + rng.randbytes(1_500_000))
    compressed = {info.filename: info.compress_size for info in infos(build(tmp_path).path)}
    assert compressed == {rel: deflated_size(root / rel) for rel in tree_files(root)}


def test_zip_overhead_plus_deflated_sizes_is_the_zip_size(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    artifact = build(tmp_path, prefix="python/")
    names = [f"python/{rel}" for rel in tree_files(root)]
    assert artifact.zipped_bytes == zip_overhead(names) + sum(deflated_size(root / rel) for rel in tree_files(root))


def test_zip_overhead_counts_names_in_utf8() -> None:
    assert zip_overhead([]) == 22
    assert zip_overhead(["a.py"]) == 22 + 76 + 2 * 4
    assert zip_overhead(["\u00e9.py"]) == 22 + 76 + 2 * 5
