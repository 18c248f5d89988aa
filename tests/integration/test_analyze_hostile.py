"""Hostile or broken zips: a clear message and exit status, nothing extracted, nothing written but -o."""

from __future__ import annotations

import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from tests.helpers import slim


def good_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", "def handler(e, c):\n    return 1\n" * 50)
        archive.writestr("pkg/__init__.py", "x = 1\n")
    return path


def listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_refused(workdir: Path, path: Path, *expected: str) -> None:
    before = listing(workdir)
    code, out, err = slim("analyze", str(path))
    assert code == 1, out
    for text in expected:
        assert text in err
    assert listing(workdir) == before
    assert not (workdir.parent / "escaped.py").exists()


def test_path_traversal_and_absolute_names(workdir: Path) -> None:
    path = workdir / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../escaped.py", "x")
        archive.writestr("/etc/evil.py", "x")
    check_refused(workdir, path, "unsafe entries", "'../escaped.py' would land outside", "'/etc/evil.py'")


def test_symlink_entry(workdir: Path) -> None:
    path = workdir / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("pkg/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    check_refused(workdir, path, "'pkg/link' is a symbolic link")


def test_zip_bomb_declared_size(workdir: Path) -> None:
    path = good_zip(workdir / "bomb.zip")
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (0xFFFFFF00).to_bytes(4, "little")  # declares ~4 GiB uncompressed
    path.write_bytes(bytes(data))
    check_refused(workdir, path, "looks like a zip bomb", "Nothing was read or extracted")


def test_zip_bomb_ratio(workdir: Path) -> None:
    path = workdir / "ratio.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(64 * 1024 * 1024))
    check_refused(workdir, path, "looks like a zip bomb", "zeros.bin")


def test_truncated(workdir: Path) -> None:
    path = good_zip(workdir / "cut.zip")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    check_refused(workdir, path, "is not a readable zip", "truncated, corrupt, or not a zip")


def test_corrupt_member_that_must_be_read(workdir: Path) -> None:
    path = workdir / "corrupt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo-1.0.dist-info/RECORD", "demo/__init__.py,,\n" * 500)
    data = bytearray(path.read_bytes())
    start = data.find(b"RECORD") + len(b"RECORD")
    for i in range(start + 4, start + 40):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    check_refused(workdir, path, "is corrupt")


def test_not_a_zip(workdir: Path) -> None:
    path = workdir / "notes.txt"
    path.write_text("not a zip at all\n" * 100)
    check_refused(workdir, path, "is not a readable zip")


def test_empty_zip(workdir: Path) -> None:
    path = workdir / "empty.zip"
    zipfile.ZipFile(path, "w").close()
    check_refused(workdir, path, "is an empty zip")


def test_missing_file(workdir: Path) -> None:
    check_refused(workdir, workdir / "nope.zip", "does not exist")


def test_zip64_is_read_and_reported(workdir: Path) -> None:
    path = workdir / "z64.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("handler.py", "w", force_zip64=True) as out,
    ):
        out.write(b"x = 1\n")
    code, out, _ = slim("analyze", str(path), "--format", "json")
    assert code == 0
    assert "zip64" in out


def test_only_output_is_written(workdir: Path) -> None:
    path = good_zip(workdir / "ok.zip")
    before = listing(workdir)
    code, _, err = slim("analyze", str(path), "--format", "html", "-o", str(workdir / "report.html"))
    assert code == 0, err
    assert listing(workdir) - before == {"report.html"}
    assert os.path.getsize(workdir / "report.html") > 1000


def test_a_pipe_given_as_output_is_written_to_not_replaced(workdir: Path) -> None:
    """`-o /dev/stdout` or `-o /dev/null` must reach the device: the atomic rename used for files would replace it
    with a regular file (as root, /dev/null itself). A FIFO stands in for the device here."""
    fifo = workdir / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    try:
        code, _, err = slim("analyze", str(good_zip(workdir / "ok.zip")), "--format", "json", "-o", str(fifo))
        reader.join(timeout=30)
    finally:
        if reader.is_alive():  # the report went elsewhere: let the reader's open() return
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received and '"schema"' in received[0]


def test_bad_runtime_is_a_usage_error(workdir: Path) -> None:
    code, _, err = slim("analyze", str(good_zip(workdir / "ok.zip")), "--runtime", "python2.7")
    assert code == 2
    assert err.startswith("error: --runtime python2.7 is not a Lambda runtime: choose one of ")
