"""Writing a zip whose entries are deflated in parallel: zlib releases the GIL, so threads use every core.

zipfile compresses one entry at a time on one core, which made writing the zip the longest stage of a build.
Here each file is deflated by a worker thread (largest first, so one big shared library does not finish last,
alone) while the writer puts entries into the zip in their sorted order as each is ready. A worker keeps at most
`IN_MEMORY_BYTES` of compressed data in memory and spills the rest to a temporary file, so memory stays flat
however large a package is.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from lambda_slim._errors import ArchiveError

COMPRESS_LEVEL = 6
CHUNK_BYTES = 1024 * 1024
IN_MEMORY_BYTES = 1024 * 1024
_MAX_32 = 0xFFFFFFFF
_MAX_16 = 0xFFFF
_VERSION = 20  # deflate
_VERSION_ZIP64 = 45
_UNIX = 3
_UTF8_NAME = 0x800


@dataclass(frozen=True)
class Entry:
    name: str
    source: Path
    mode: int  # st_mode bits for external_attr, such as 0o100644


@dataclass
class _Deflated:
    crc: int
    size: int
    compressed_size: int
    held: list[bytes]
    spill: IO[bytes] | None

    def write_to(self, out: BinaryIO) -> None:
        for part in self.held:
            out.write(part)
        if self.spill is not None:
            self.spill.seek(0)
            while block := self.spill.read(CHUNK_BYTES):
                out.write(block)
            self.spill.close()


def deflate_file(path: Path, *, discard: bool = False) -> _Deflated:
    """The raw deflate stream of a file, with its CRC-32 and size, read in chunks; `discard` keeps only sizes."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    result = _Deflated(0, 0, 0, [], None)

    def keep(data: bytes) -> None:
        result.compressed_size += len(data)
        if not data or discard:
            return
        if result.spill is None and result.compressed_size > IN_MEMORY_BYTES:
            # Closed by write_to, or by write_entries when it gives up.
            result.spill = tempfile.TemporaryFile(prefix="slim-zip-")  # noqa: SIM115
            for part in result.held:
                result.spill.write(part)
            result.held = []
        if result.spill is not None:
            result.spill.write(data)
        else:
            result.held.append(data)

    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            result.crc = zlib.crc32(block, result.crc)
            result.size += len(block)
            keep(compressor.compress(block))
    keep(compressor.flush())
    return result


def dos_date_time(epoch: int) -> tuple[int, int]:
    year, month, day, hour, minute, second = time.gmtime(epoch)[:6]
    return ((year - 1980) << 9) | (month << 5) | day, (hour << 11) | (minute << 5) | (second // 2)


def write_entries(
    out: BinaryIO,
    entries: Sequence[Entry],
    epoch: int,
    workers: int | None = None,
    zipped: Callable[[int], None] | None = None,
) -> int:
    """Write a whole zip of `entries`, in the given order, to `out`; return the total unzipped bytes. `zipped` is
    called, in this thread, with each entry's unzipped size once it is deflated: the progress of a stage counted in
    bytes."""
    dos_date, dos_time = dos_date_time(epoch)
    central: list[bytes] = []
    offset = 0
    unzipped = 0
    by_size = sorted(range(len(entries)), key=lambda i: -_size(entries[i].source))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures: dict[int, Future[_Deflated]] = {i: pool.submit(deflate_file, entries[i].source) for i in by_size}
        try:
            unreported = set(futures.values()) if zipped is not None else set()
            for index, entry in enumerate(entries):
                if zipped is not None:
                    _report_until_done(futures[index], unreported, zipped)
                deflated = futures.pop(index).result()
                if max(deflated.size, deflated.compressed_size, offset) >= _MAX_32:
                    raise ArchiveError(
                        f"{entry.name} does not fit in a zip of under 4 GiB; Lambda takes at most 250 MB unzipped "
                        "anyway: exclude what the function does not need."
                    )
                name = entry.name.encode("utf-8")
                flags = 0 if entry.name.isascii() else _UTF8_NAME
                sizes = (deflated.crc, deflated.compressed_size, deflated.size, len(name))
                local = struct.pack("<4s5H3L2H", b"PK\x03\x04", _VERSION, flags, 8, dos_time, dos_date, *sizes, 0)
                out.write(local + name)
                deflated.write_to(out)
                central.append(
                    struct.pack(
                        "<4s6H3L5H2L",
                        b"PK\x01\x02",
                        (_UNIX << 8) | _VERSION,
                        _VERSION,
                        flags,
                        8,
                        dos_time,
                        dos_date,
                        *sizes,
                        0,  # extra field
                        0,  # comment
                        0,  # disk
                        0,  # internal attributes
                        entry.mode << 16,
                        offset,
                    )
                    + name
                )
                offset += len(local) + len(name) + deflated.compressed_size
                unzipped += deflated.size
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures.values():
                if not future.cancelled() and future.exception() is None:
                    spill = future.result().spill
                    if spill is not None:
                        spill.close()
            raise
    _write_end(out, central, offset)
    return unzipped


def _report_until_done(
    awaited: Future[_Deflated], unreported: set[Future[_Deflated]], zipped: Callable[[int], None]
) -> None:
    """Wait for `awaited`, reporting the size of every file deflated meanwhile. The writer takes entries in name
    order and the workers the largest first, so counting as the writer goes would sit still until the largest
    files were done: this counts the work as it is done."""
    while True:
        # Once `awaited` is done, only what is done already is reported: the writer does not wait for the rest.
        done, _ = wait(unreported, timeout=0 if awaited.done() else None, return_when=FIRST_COMPLETED)
        for future in done:
            unreported.discard(future)
            if future.exception() is None:  # a file that failed is reported by the writer when it reaches it
                zipped(future.result().size)
        if awaited.done():
            return


def _write_end(out: BinaryIO, central: list[bytes], offset: int) -> None:
    """The central directory and its end record; ZIP64 records only when the count or offsets need them."""
    directory = b"".join(central)
    out.write(directory)
    count, size = len(central), len(directory)
    if count > _MAX_16 or offset >= _MAX_32 or size >= _MAX_32:
        end64_offset = offset + size
        out.write(
            struct.pack(
                "<4sQ2H2L4Q", b"PK\x06\x06", 44, _VERSION_ZIP64, _VERSION_ZIP64, 0, 0, count, count, size, offset
            )
        )
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64_offset, 1))
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, _MAX_16, _MAX_16, _MAX_32, _MAX_32, 0))
        return
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, offset, 0))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # write_entries reports it when it reads the file
