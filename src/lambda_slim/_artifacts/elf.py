"""Just enough ELF to know a shared library's machine and whether it carries debug sections."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Protocol

ELF_MAGIC = b"\x7fELF"
MACHINES = {3: "i386", 62: "x86_64", 183: "aarch64", 40: "arm", 243: "riscv64", 21: "ppc64", 22: "s390x"}
# Magic numbers of shared libraries built for other systems than Linux.
FOREIGN_MAGIC = {
    b"\xcf\xfa\xed\xfe": "macos",
    b"\xce\xfa\xed\xfe": "macos",
    b"\xca\xfe\xba\xbe": "macos",
    b"MZ": "windows",
}


PAGE_SIZE = 4096
_PT_LOAD = 1


@dataclass(frozen=True)
class ElfInfo:
    machine: str
    has_debug: bool
    has_symtab: bool = False
    debug_bytes: int = 0  # what strip --strip-debug removes
    symtab_bytes: int = 0  # .symtab and .strtab: what --strip-unneeded removes besides the debug sections


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, position: int, whence: int = 0, /) -> int: ...


def looks_like_shared_library(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith((".so", ".pyd", ".dylib")) or ".so." in name


def elf_machine(header: bytes) -> str | None:
    """The machine an ELF file is built for, from its first 20 bytes; None when it is not ELF."""
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        return None
    (machine,) = struct.unpack_from("<H" if header[5] == 1 else ">H", header, 18)
    return MACHINES.get(machine, f"elf-machine-{machine}")


def read_elf(handle: Readable) -> ElfInfo | None:
    """Machine and debug sections of an ELF file, or None when it is not a (readable) ELF file."""
    header = handle.read(64)
    machine = elf_machine(header)
    if machine is None or len(header) < 52:
        return None
    is_64 = header[4] == 2
    endian = "<" if header[5] == 1 else ">"
    try:
        if is_64:
            (shoff,) = struct.unpack_from(endian + "Q", header, 40)
            shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", header, 58)
        else:
            (shoff,) = struct.unpack_from(endian + "I", header, 32)
            shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", header, 46)
        sections = _section_names(handle, endian, is_64, shoff, shentsize, shnum, shstrndx)
    except (struct.error, OSError, ValueError):
        sections = []
    debug_bytes = sum(size for name, size in sections if name.startswith((b".debug_", b".zdebug_")))
    symtab_bytes = sum(size for name, size in sections if name in (b".symtab", b".strtab"))
    has_symtab = any(name == b".symtab" and size > 0 for name, size in sections)
    return ElfInfo(machine, debug_bytes > 0, has_symtab, debug_bytes, symtab_bytes)


def loadable(handle: BinaryIO) -> bool:
    """Whether glibc's loader accepts the file's PT_LOAD segments.

    This is the check that fails with "ELF load command address/offset not properly aligned" after strip
    rewrites a library patchelf had edited (docs/lambda-facts.md#past-breakages); a stripped file that fails it is
    never shipped.
    """
    header = handle.read(64)
    if len(header) < 52 or header[:4] != ELF_MAGIC:
        return False
    is_64 = header[4] == 2
    endian = "<" if header[5] == 1 else ">"
    try:
        if is_64:
            (phoff,) = struct.unpack_from(endian + "Q", header, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 54)
            layout = endian + "IIQQQQQQ"  # type, flags, offset, vaddr, paddr, filesz, memsz, align
        else:
            (phoff,) = struct.unpack_from(endian + "I", header, 28)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 42)
            layout = endian + "IIIIIIII"  # type, offset, vaddr, paddr, filesz, memsz, flags, align
        handle.seek(phoff)
        table = handle.read(phentsize * phnum)
        if phnum == 0 or len(table) < phentsize * phnum:
            return False
        for index in range(phnum):
            fields = struct.unpack_from(layout, table, index * phentsize)
            if fields[0] != _PT_LOAD:
                continue
            offset, vaddr, align = (fields[2], fields[3], fields[7]) if is_64 else (fields[1], fields[2], fields[7])
            if align and (align & (align - 1) or align % PAGE_SIZE or (vaddr - offset) % align):
                return False
        return True
    except (struct.error, OSError):
        return False


def _section_names(
    handle: Readable, endian: str, is_64: bool, shoff: int, shentsize: int, shnum: int, shstrndx: int
) -> list[tuple[bytes, int]]:
    """(name, size) of every section."""
    if shoff == 0 or shnum == 0 or shstrndx >= shnum or shnum > 65_000:
        return []
    handle.seek(shoff)
    table = handle.read(shentsize * shnum)
    if len(table) < shentsize * shnum:
        return []
    offset_format, size_format, offset_at, size_at = ("Q", "Q", 24, 32) if is_64 else ("I", "I", 16, 20)

    def section(index: int) -> tuple[int, int, int]:
        base = index * shentsize
        (name,) = struct.unpack_from(endian + "I", table, base)
        (offset,) = struct.unpack_from(endian + offset_format, table, base + offset_at)
        (size,) = struct.unpack_from(endian + size_format, table, base + size_at)
        return name, offset, size

    _, names_offset, names_size = section(shstrndx)
    if names_size > 16 * 1024 * 1024:
        return []
    handle.seek(names_offset)
    names = handle.read(names_size)
    found = []
    for index in range(shnum):
        name_at, _, size = section(index)
        end = names.find(b"\0", name_at)
        found.append((names[name_at : end if end >= 0 else None], size))
    return found


def foreign_system(head: bytes) -> str | None:
    """'macos' or 'windows' for a binary built for that system, from its first bytes."""
    for magic, system in FOREIGN_MAGIC.items():
        if head.startswith(magic):
            return system
    return None


class ForwardReader:
    """seek/read over a stream best read once, front to back (a zip member being inflated).

    The last `window` bytes read stay available, so the usual ELF walk (header, section table near the end, the
    section-name table just before it) inflates each member once; a seek further back re-reads from the stream.
    """

    def __init__(self, raw: BinaryIO, window: int = 1 << 20) -> None:
        self._raw = raw
        self._window = window
        self._buffer = bytearray()  # the bytes [self._end - len(self._buffer), self._end) of the stream
        self._end = 0
        self._pos = 0

    def seek(self, position: int, whence: int = 0) -> int:
        self._pos = position
        return position

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise ValueError("ForwardReader reads a known number of bytes")
        while self._end < self._pos + size:
            chunk = self._raw.read(min(1 << 20, self._pos + size - self._end))
            if not chunk:
                break
            self._buffer += chunk
            self._end += len(chunk)
            if len(self._buffer) > self._window + (1 << 20):
                del self._buffer[: len(self._buffer) - self._window]
        start = self._end - len(self._buffer)
        if self._pos < start:
            self._raw.seek(self._pos)
            self._buffer = bytearray(self._raw.read(size))
            self._end = self._pos + len(self._buffer)
            start = self._pos
        data = bytes(self._buffer[self._pos - start : self._pos - start + size])
        self._pos += len(data)
        return data
