"""Reading any deployment zip safely: the central directory only, refusing hostile archives before reading a
byte of their content, and the few member bytes analysis needs (RECORD files, ELF and pyc headers) read with
bounded memory. Nothing is ever extracted."""

from __future__ import annotations

import calendar
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lambda_slim._errors import ArchiveError

# Beyond these an archive is refused as a zip bomb: Lambda itself accepts at most 262,144,000 bytes unzipped.
MAX_MEMBERS = 200_000
MAX_DECLARED_BYTES = 4 * 1024**3
MAX_MEMBER_BYTES = 1024**3
MAX_RATIO = 1000  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 10 * 1024 * 1024
_SITE_PACKAGES = re.compile(r"^python/lib/python3\.\d+/site-packages/")
_EXTENDED_TIMESTAMP = 0x5455
_DRIVE = re.compile(r"^[A-Za-z]:")


class MemberReader:
    """Reads members of one zip, parsing its central directory once (not once per member read)."""

    def __init__(self, archive_path: Path) -> None:
        self.path = archive_path
        try:
            self._zip = zipfile.ZipFile(archive_path)
        except (FileNotFoundError, IsADirectoryError):
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, struct.error, EOFError) as exc:
            raise ArchiveError(
                f"{archive_path} is not a readable zip ({exc}): it is truncated, corrupt, or not a zip at all."
            ) from exc

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self._zip.infolist()

    def read(self, name: str, limit: int) -> bytes:
        """At most `limit` bytes of a member, inflated; a corrupt member is an ArchiveError."""
        try:
            with self._zip.open(name) as member:
                return member.read(limit)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise ArchiveError(f"{self.path}: the entry {name!r} is corrupt ({exc}).") from exc

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(name)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
            raise ArchiveError(f"{self.path}: the entry {name!r} is corrupt ({exc}).") from exc

    def extract_all(self, dest: Path) -> None:
        """Unpack every member into `dest`: only for an archive read_archive has already checked."""
        try:
            self._zip.extractall(dest)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise ArchiveError(f"{self.path} could not be unpacked ({exc}).") from exc

    def close(self) -> None:
        self._zip.close()


@dataclass(frozen=True)
class Member:
    name: str  # the entry's name in the zip
    path: str  # where it lands on sys.path's root: layers' python/ (and site-packages) prefix taken off
    size: int
    compressed: int
    crc: int
    mtime: int  # what the file's mtime is after extraction (extended timestamp if present, else the DOS time)
    mode: int


@dataclass(frozen=True)
class RepeatedName:
    """An entry name the zip holds more than once: unzippers differ on which copy wins."""

    name: str
    copies: int
    differ: bool  # the copies' content differs (by CRC and size), so which one is unpacked matters

    def describe(self) -> str:
        return f"{self.name} ({self.copies} entries, {'different' if self.differ else 'same'} content)"


@dataclass(frozen=True)
class Archive:
    path: Path
    kind: str  # "function" or "layer"
    zipped_bytes: int
    members: tuple[Member, ...]
    zip64: bool
    reader: MemberReader = field(compare=False, repr=False)
    repeated_names: tuple[RepeatedName, ...] = ()


def read_archive(path: Path) -> Archive:
    """The members of a zip, from its central directory, after checking that nothing in it is hostile."""
    try:
        size = path.stat().st_size
        reader = MemberReader(path)
        infos = reader.infolist()
    except FileNotFoundError as exc:
        raise ArchiveError(f"{path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise ArchiveError(f"{path} is a directory: pass the zip file.") from exc
    files = [info for info in infos if not info.is_dir()]
    if not files:
        raise ArchiveError(f"{path} is an empty zip: there is nothing to deploy or analyse.")
    _refuse_hostile(path, infos)
    layer = all(info.filename.startswith("python/") for info in files)
    members = []
    for info in files:
        landed = info.filename
        if layer:
            landed = _SITE_PACKAGES.sub("", landed).removeprefix("python/")
        members.append(
            Member(
                info.filename,
                landed,
                info.file_size,
                info.compress_size,
                info.CRC,
                _mtime(info),
                info.external_attr >> 16,
            )
        )
    kind = "layer" if layer else "function"
    return Archive(path, kind, size, tuple(members), _uses_zip64(path, infos), reader, _repeated_names(files))


def _repeated_names(files: list[zipfile.ZipInfo]) -> tuple[RepeatedName, ...]:
    copies: dict[str, list[tuple[int, int]]] = {}
    for info in files:
        copies.setdefault(info.filename, []).append((info.CRC, info.file_size))
    return tuple(
        RepeatedName(name, len(contents), len(set(contents)) > 1)
        for name, contents in sorted(copies.items())
        if len(contents) > 1
    )


def _refuse_hostile(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(f"{path} has {len(infos):,} entries, more than the {MAX_MEMBERS:,} analysed: refusing it.")
    unsafe = []
    declared = 0
    for info in infos:
        name = info.filename
        # String tests, not PurePosixPath (a tenth of reading a 6,600-entry central directory): "/" starts an
        # absolute path, and ".." climbs out wherever it is a whole component.
        if name.startswith("/") or ".." in name.split("/") or "\\" in name or _DRIVE.match(name) or "\0" in name:
            unsafe.append(f"{name!r} would land outside its root, the directory it is unpacked in")
        elif stat.S_ISLNK(info.external_attr >> 16):
            unsafe.append(f"{name!r} is a symbolic link")
        declared += info.file_size
        if info.file_size > MAX_MEMBER_BYTES or (
            info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise ArchiveError(
                f"{path} looks like a zip bomb: {name!r} declares {info.file_size:,} bytes from "
                f"{info.compress_size:,} compressed. Nothing was read or extracted."
            )
    if declared > MAX_DECLARED_BYTES:
        raise ArchiveError(
            f"{path} declares {declared:,} bytes unzipped, far beyond any Lambda package (262,144,000 bytes): "
            "refusing it as a zip bomb. Nothing was read or extracted."
        )
    if unsafe:
        shown = "; ".join(unsafe[:5]) + (f"; and {len(unsafe) - 5} more" if len(unsafe) > 5 else "")
        raise ArchiveError(f"{path} holds unsafe entries, so it is not analysed: {shown}.")


def _mtime(info: zipfile.ZipInfo) -> int:
    """The extended-timestamp mtime unzip restores when present, else the 2-second DOS time read as UTC."""
    extra = info.extra
    offset = 0
    while offset + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + length]
        if tag == _EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 1:
            return int(struct.unpack_from("<I", body, 1)[0])
        offset += 4 + length
    return calendar.timegm((*info.date_time, 0, 0, 0))


def _uses_zip64(path: Path, infos: list[zipfile.ZipInfo]) -> bool:
    if any(info.file_size > 0xFFFFFFFE or info.compress_size > 0xFFFFFFFE for info in infos) or len(infos) > 0xFFFE:
        return True
    with path.open("rb") as handle:
        handle.seek(0, 2)
        end = handle.tell()
        handle.seek(max(0, end - 66_000))
        tail = handle.read()
    return b"PK\x06\x07" in tail  # the ZIP64 end-of-central-directory locator
