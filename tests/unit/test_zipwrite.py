"""write_entries: the bytes of a zip depend on the entries alone, not on which deflation finishes first.

test_archive covers write_zip over a tree (mtimes, umask, creation order, permissions, spilling, ZIP64 past
65,535 entries); these are the writer's own promises."""

from __future__ import annotations

import random
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_slim._artifacts import zipwrite
from lambda_slim._errors import ArchiveError

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z


def entries(root: Path) -> list[zipwrite.Entry]:
    """Files of very different sizes, in the order given, which is not by size."""
    rng = random.Random(3)
    contents = {
        "small.py": b"x = 1\n",
        "big.bin": rng.randbytes(300_000),
        "pkg/text.txt": b"lambda slim " * 5000,
        "empty": b"",
        "r\u00e9sum\u00e9.txt": "caf\u00e9".encode(),
        "tool": b"#!/bin/sh\n",
    }
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return [zipwrite.Entry(name, root / name, 0o100755 if name == "tool" else 0o100644) for name in contents]


def write(path: Path, items: list[zipwrite.Entry], workers: int | None = None, epoch: int = EPOCH) -> bytes:
    with path.open("wb") as out:
        zipwrite.write_entries(out, items, epoch, workers=workers)
    return path.read_bytes()


def test_the_bytes_do_not_depend_on_which_deflation_finishes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = entries(tmp_path)
    expected = write(tmp_path / "one-thread.zip", items, workers=1)
    real_deflate = zipwrite.deflate_file
    delays = iter([0.05, 0.0, 0.03, 0.01, 0.04, 0.02])
    lock = threading.Lock()

    def in_another_order(path: Path, **options: Any) -> Any:
        with lock:
            delay = next(delays)
        time.sleep(delay)
        return real_deflate(path, **options)

    monkeypatch.setattr(zipwrite, "deflate_file", in_another_order)
    assert write(tmp_path / "threads.zip", items, workers=6) == expected


def test_entries_keep_the_given_order_with_their_content(tmp_path: Path) -> None:
    items = entries(tmp_path)
    write(tmp_path / "a.zip", items)
    with zipfile.ZipFile(tmp_path / "a.zip") as opened:
        assert opened.namelist() == [entry.name for entry in items]
        assert all(opened.read(entry.name) == entry.source.read_bytes() for entry in items)
        assert opened.testzip() is None


def test_every_entry_has_the_epochs_time_and_its_mode(tmp_path: Path) -> None:
    items = entries(tmp_path)
    for item in items:  # the files' own times and modes are not the entries'
        item.source.chmod(0o600)
    write(tmp_path / "a.zip", items)
    with zipfile.ZipFile(tmp_path / "a.zip") as opened:
        infos = opened.infolist()
    assert {info.date_time for info in infos} == {(2023, 11, 14, 22, 13, 20)}
    assert [info.external_attr >> 16 for info in infos] == [entry.mode for entry in items]
    assert {(info.create_system, info.compress_type) for info in infos} == {(3, zipfile.ZIP_DEFLATED)}


def test_dos_times_keep_even_seconds() -> None:
    assert zipwrite.dos_date_time(EPOCH + 1) == zipwrite.dos_date_time(EPOCH)
    assert zipwrite.dos_date_time(EPOCH + 2) != zipwrite.dos_date_time(EPOCH)
    assert zipwrite.dos_date_time(315_532_800) == ((0 << 9) | (1 << 5) | 1, 0)  # 1980-01-01, DOS's first day


def test_only_non_ascii_names_are_flagged_utf8(tmp_path: Path) -> None:
    write(tmp_path / "a.zip", entries(tmp_path))
    with zipfile.ZipFile(tmp_path / "a.zip") as opened:
        flagged = {info.filename for info in opened.infolist() if info.flag_bits & 0x800}
    assert flagged == {"r\u00e9sum\u00e9.txt"}


def test_returns_the_unzipped_bytes(tmp_path: Path) -> None:
    items = entries(tmp_path)
    with (tmp_path / "a.zip").open("wb") as out:
        assert zipwrite.write_entries(out, items, EPOCH) == sum(entry.source.stat().st_size for entry in items)


def test_discarding_keeps_the_sizes_only(tmp_path: Path) -> None:
    source = entries(tmp_path)[2].source
    kept, discarded = zipwrite.deflate_file(source), zipwrite.deflate_file(source, discard=True)
    assert (discarded.crc, discarded.size, discarded.compressed_size) == (kept.crc, kept.size, kept.compressed_size)
    assert discarded.held == [] and discarded.spill is None and kept.held


def test_zip64_end_records_only_past_the_16_bit_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwrite, "_MAX_16", 6)  # as if 65,535 were 6
    at_limit = write(tmp_path / "six.zip", entries(tmp_path))
    assert b"PK\x06\x06" not in at_limit and at_limit[-22:-18] == b"PK\x05\x06"
    items = entries(tmp_path)
    past = write(tmp_path / "seven.zip", [*items, zipwrite.Entry("again.py", items[0].source, 0o100644)])
    assert b"PK\x06\x06" in past[-120:] and b"PK\x06\x07" in past[-120:]
    with zipfile.ZipFile(tmp_path / "seven.zip") as opened:
        assert len(opened.namelist()) == 7 and opened.testzip() is None


def test_an_entry_past_4_gib_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwrite, "_MAX_32", 200_000)  # as if 4 GiB were 200 kB: big.bin crosses it
    with pytest.raises(ArchiveError, match=r"big\.bin does not fit in a zip of under 4 GiB"):
        write(tmp_path / "a.zip", entries(tmp_path))
