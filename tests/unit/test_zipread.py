"""read_archive: a zip's members from its central directory, hostile archives refused before a byte is read."""

from __future__ import annotations

import random
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim._artifacts import zipread, zipwrite
from lambda_slim._artifacts.zipread import ArchiveError, read_archive

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z


def make_zip(path: Path, members: dict[str, bytes], **options: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = options.get("mode", 0o100644) << 16
            archive.writestr(info, data)
    return path


def refused(path: Path) -> str:
    with pytest.raises(ArchiveError) as caught:
        read_archive(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "name", ["../escaped.py", "pkg/../../escaped.py", "/etc/evil.py", "pkg\\..\\evil.py", "C:/evil.py", "c:evil.py"]
)
def test_a_name_that_would_land_outside_the_root_is_refused(tmp_path: Path, name: str) -> None:
    path = make_zip(tmp_path / "evil.zip", {"handler.py": b"x = 1\n", name: b"x"})
    assert f"holds unsafe entries, so it is not analysed: {name!r} would land outside its root" in refused(path)


def test_a_name_with_dots_inside_is_not_a_way_out(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "ok.zip", {"pkg/..hidden/a..b.py": b"x"})
    assert [member.name for member in read_archive(path).members] == ["pkg/..hidden/a..b.py"]


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "link.zip", {"pkg/link": b"/etc/passwd"}, mode=stat.S_IFLNK | 0o777)
    assert "'pkg/link' is a symbolic link" in refused(path)


def test_many_unsafe_entries_are_summarised(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "evil.zip", {f"/abs/{index}.py": b"x" for index in range(7)})
    message = refused(path)
    assert "'/abs/4.py'" in message and "'/abs/5.py'" not in message and "; and 2 more." in message


def test_more_entries_than_analysed_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipread, "MAX_MEMBERS", 3)
    assert read_archive(make_zip(tmp_path / "three.zip", {f"m{index}.py": b"" for index in range(3)}))
    assert "has 4 entries, more than the 3 analysed" in refused(
        make_zip(tmp_path / "four.zip", {f"m{index}.py": b"" for index in range(4)})
    )


def declare_size(path: Path, name: bytes, size: int) -> Path:
    """Make the central directory lie: `name` declares `size` bytes unzipped."""
    data = bytearray(path.read_bytes())
    record = next(
        offset
        for offset in range(len(data))
        if data[offset : offset + 4] == b"PK\x01\x02" and data[offset + 46 : offset + 46 + len(name)] == name
    )
    data[record + 24 : record + 28] = struct.pack("<L", size)
    path.write_bytes(bytes(data))
    return path


def test_a_member_declaring_more_than_a_member_may_is_a_bomb(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bomb.zip", {"handler.py": b"x = 1\n", "big.bin": b"small really"})
    declare_size(path, b"big.bin", zipread.MAX_MEMBER_BYTES + 1)
    message = refused(path)
    assert "looks like a zip bomb: 'big.bin' declares 1,073,741,825 bytes" in message
    assert "Nothing was read or extracted" in message


def test_a_member_may_not_declare_more_than_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipread, "MAX_MEMBER_BYTES", 1000)
    noise = random.Random(0).randbytes(1001)  # incompressible: only the size limit applies
    assert read_archive(make_zip(tmp_path / "ok.zip", {"noise.bin": noise[:1000]}))
    assert "'noise.bin' declares 1,001 bytes" in refused(make_zip(tmp_path / "big.zip", {"noise.bin": noise}))


def test_a_member_compressed_too_well_is_a_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipread, "RATIO_FLOOR", 10_000)
    monkeypatch.setattr(zipread, "MAX_RATIO", 50)
    assert read_archive(make_zip(tmp_path / "small.zip", {"zeros.bin": bytes(10_000)}))  # at the floor: allowed
    assert "looks like a zip bomb: 'zeros.bin'" in refused(
        make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(20_000)})
    )


def test_the_members_together_may_not_declare_too_much(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipread, "MAX_DECLARED_BYTES", 1000)
    assert read_archive(make_zip(tmp_path / "ok.zip", {"a.bin": bytes(500), "b.bin": bytes(500)}))
    message = refused(make_zip(tmp_path / "bomb.zip", {"a.bin": bytes(500), "b.bin": bytes(501)}))
    assert "declares 1,001 bytes unzipped" in message and "refusing it as a zip bomb" in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: path.write_bytes(b"not a zip at all\n" * 10), "is not a readable zip"),
        (lambda path: zipfile.ZipFile(path, "w").close(), "is an empty zip"),
        (lambda path: path.mkdir(), "is a directory: pass the zip file"),
        (lambda path: None, "does not exist"),
    ],
)
def test_what_is_not_a_zip_to_analyse_says_so(tmp_path: Path, make: Callable[[Path], object], expected: str) -> None:
    path = tmp_path / "input.zip"
    make(path)
    assert expected in refused(path)


def test_a_function_zips_members(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "function.zip", {"handler.py": b"x = 1\n", "pkg/": b"", "pkg/mod.py": b"y" * 100})
    archive = read_archive(path)
    assert archive.kind == "function" and not archive.zip64 and archive.zipped_bytes == path.stat().st_size
    assert [(member.name, member.path, member.size) for member in archive.members] == [
        ("handler.py", "handler.py", 6),
        ("pkg/mod.py", "pkg/mod.py", 100),  # directories are not members
    ]
    member = archive.members[1]
    assert member.compressed < member.size and member.mode == 0o100644
    assert archive.reader.read("pkg/mod.py", 10) == b"y" * 10


def test_a_layer_lands_below_python(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "layer.zip",
        {"python/lib/python3.12/site-packages/pkg/a.py": b"", "python/top.py": b"", "python/lib/other.py": b""},
    )
    archive = read_archive(path)
    assert archive.kind == "layer"
    assert [member.path for member in archive.members] == ["pkg/a.py", "top.py", "lib/other.py"]


def test_repeated_names_say_whether_their_content_differs(tmp_path: Path) -> None:
    path = tmp_path / "repeated.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as archive:
        for name, data in [("a.py", b"1"), ("a.py", b"1"), ("b.py", b"1"), ("b.py", b"2"), ("b.py", b"3")]:
            archive.writestr(name, data)
    repeated = read_archive(path).repeated_names
    assert [(r.name, r.copies, r.differ) for r in repeated] == [("a.py", 2, False), ("b.py", 3, True)]
    assert repeated[1].describe() == "b.py (3 entries, different content)"


def test_the_mtime_is_the_extended_timestamp_else_the_dos_time_as_utc(tmp_path: Path) -> None:
    path = tmp_path / "times.zip"
    with zipfile.ZipFile(path, "w") as archive:
        plain = zipfile.ZipInfo("plain.py", date_time=(2023, 11, 14, 22, 13, 20))
        archive.writestr(plain, b"")
        stamped = zipfile.ZipInfo("stamped.py", date_time=(1980, 1, 1, 0, 0, 0))
        unrelated = struct.pack("<HH", 0xCAFE, 2) + b"\0\0"
        stamped.extra = unrelated + struct.pack("<HHBL", 0x5455, 5, 1, EPOCH + 1)
        archive.writestr(stamped, b"")
    assert {member.name: member.mtime for member in read_archive(path).members} == {
        "plain.py": EPOCH,
        "stamped.py": EPOCH + 1,
    }


def test_zip64_is_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """By its end-of-central-directory locator, here written for a count over a (lowered) 16-bit limit."""
    source = tmp_path / "one.py"
    source.write_bytes(b"x = 1\n")
    monkeypatch.setattr(zipwrite, "_MAX_16", 2)
    with (tmp_path / "z64.zip").open("wb") as out:
        zipwrite.write_entries(out, [zipwrite.Entry(f"m{index}.py", source, 0o100644) for index in range(3)], EPOCH)
    archive = read_archive(tmp_path / "z64.zip")
    assert archive.zip64 and len(archive.members) == 3


def test_a_corrupt_member_is_an_archive_error_when_read(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("RECORD", b"demo/__init__.py,,\n" * 50)
    data = bytearray(path.read_bytes())
    data[data.find(b"demo/__init__")] ^= 0xFF  # the stored content no longer matches its CRC
    path.write_bytes(bytes(data))
    archive = read_archive(path)  # the central directory is intact: nothing is read yet
    with pytest.raises(ArchiveError, match="the entry 'RECORD' is corrupt"):
        archive.reader.read("RECORD", 10_000)
