"""binaries: reading just enough ELF (machine, debug sections, symbol table) and glibc's PT_LOAD alignment check."""

from __future__ import annotations

import io
import platform
import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from lambda_slim._artifacts.elf import ElfInfo, foreign_system, loadable, looks_like_shared_library, read_elf

PT_LOAD, PT_DYNAMIC = 1, 2
PAGE = 0x1000
Segment = tuple[int, int, int, int]  # type, offset, vaddr, align
Section = tuple[bytes, int]  # name, size


def elf(
    *,
    bits: int = 64,
    endian: str = "<",
    machine: int = 62,
    segments: Sequence[Segment] = ((PT_LOAD, 0, 0, PAGE),),
    sections: Sequence[Section] = (),
) -> bytes:
    """An ELF file with the given program headers and (empty-bodied) section headers, laid out as a linker would."""
    is_64 = bits == 64
    header_size, ph_size, sh_size = (64, 56, 64) if is_64 else (52, 32, 40)
    phoff = header_size
    names = b"\0" + b"".join(name + b"\0" for name, _ in sections) + b".shstrtab\0"
    names_at = phoff + ph_size * len(segments)
    shoff = names_at + len(names) if sections else 0
    shnum = len(sections) + 2 if sections else 0  # null section, the given ones, .shstrtab

    ident = b"\x7fELF" + bytes([2 if is_64 else 1, 1 if endian == "<" else 2, 1]) + bytes(9)
    layout = "HHIQQQIHHHHHH" if is_64 else "HHIIIIIHHHHHH"
    fields = (3, machine, 1, 0, phoff, shoff, 0, header_size, ph_size, len(segments), sh_size, shnum, max(shnum - 1, 0))
    data = ident + struct.pack(endian + layout, *fields)
    for kind, offset, vaddr, align in segments:
        if is_64:
            data += struct.pack(endian + "IIQQQQQQ", kind, 5, offset, vaddr, vaddr, 0x100, 0x100, align)
        else:
            data += struct.pack(endian + "IIIIIIII", kind, offset, vaddr, vaddr, 0x100, 0x100, 5, align)
    data += names
    if sections:
        section_layout = endian + ("IIQQQQIIQQ" if is_64 else "IIIIIIIIII")
        data += struct.pack(section_layout, *[0] * 10)
        name_at = 1
        for name, size in sections:
            data += struct.pack(section_layout, name_at, 1, 0, 0, 0, size, 0, 0, 1, 0)
            name_at += len(name) + 1
        data += struct.pack(section_layout, name_at, 3, 0, 0, names_at, len(names), 0, 0, 1, 0)
    return data


def info(data: bytes) -> ElfInfo | None:
    return read_elf(io.BytesIO(data))


def can_load(data: bytes) -> bool:
    return loadable(io.BytesIO(data))


# --- read_elf on crafted files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_sections_are_read(bits: int, endian: str) -> None:
    data = elf(bits=bits, endian=endian, sections=[(b".text", 10), (b".debug_info", 300), (b".symtab", 48)])
    assert info(data) == ElfInfo("x86_64", has_debug=True, has_symtab=True, debug_bytes=300, symtab_bytes=48)


@pytest.mark.parametrize(
    ("sections", "has_debug", "has_symtab"),
    [
        ([(b".text", 10), (b".dynsym", 48)], False, False),
        ([(b".zdebug_line", 10)], True, False),
        ([(b".debug_info", 0), (b".symtab", 0)], False, False),
        ([(b".gnu_debuglink", 16)], False, False),
        ([(b".symtab", 24), (b".strtab", 8)], False, True),
    ],
)
def test_debug_and_symtab_detection(sections: list[Section], has_debug: bool, has_symtab: bool) -> None:
    result = info(elf(sections=sections))
    assert result is not None
    assert (result.has_debug, result.has_symtab) == (has_debug, has_symtab)


@pytest.mark.parametrize(
    ("machine", "name"), [(62, "x86_64"), (183, "aarch64"), (3, "i386"), (9999, "elf-machine-9999")]
)
def test_machine(machine: int, name: str) -> None:
    result = info(elf(machine=machine))
    assert result is not None
    assert result.machine == name


def test_no_section_table_means_no_debug() -> None:
    assert info(elf()) == ElfInfo("x86_64", has_debug=False, has_symtab=False)


def test_section_table_past_the_end_is_ignored() -> None:
    data = elf(sections=[(b".debug_info", 300)])
    assert info(data[: len(data) - 10]) == ElfInfo("x86_64", has_debug=False, has_symtab=False)


@pytest.mark.parametrize("data", [b"", b"\x7fEL", b"\x7fELF" + bytes(40), b"MZ" + bytes(200), bytes(range(256)) * 4])
def test_garbage_and_truncated_headers(data: bytes) -> None:
    assert info(data) is None
    assert can_load(data) is False


# --- loadable on crafted files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_aligned_segments_are_loadable(bits: int, endian: str) -> None:
    segments = [(PT_LOAD, 0, 0, PAGE), (PT_LOAD, 0x1F00, 0x201F00, 0x200000), (PT_DYNAMIC, 0x1F10, 0x201F10, 8)]
    assert can_load(elf(bits=bits, endian=endian, segments=segments))


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_misaligned_vaddr_offset_is_not_loadable(bits: int, endian: str) -> None:
    # (vaddr - offset) % align == 0x100: "ELF load command address/offset not properly aligned".
    segments = [(PT_LOAD, 0, 0, PAGE), (PT_LOAD, 0x1000, 0x2100, PAGE)]
    assert not can_load(elf(bits=bits, endian=endian, segments=segments))


@pytest.mark.parametrize("align", [0x1800, 0x800, 3])
def test_alignment_must_be_a_power_of_two_page_multiple(align: int) -> None:
    assert not can_load(elf(segments=[(PT_LOAD, 0, 0, align)]))


def test_only_load_segments_are_checked() -> None:
    assert can_load(elf(segments=[(PT_LOAD, 0, 0, PAGE), (PT_DYNAMIC, 0x10, 0x123, PAGE)]))


def test_no_program_headers_is_not_loadable() -> None:
    assert not can_load(elf(segments=[]))


def test_truncated_program_headers_are_not_loadable() -> None:
    data = elf(segments=[(PT_LOAD, 0, 0, PAGE), (PT_LOAD, 0x1000, 0x201000, PAGE)])
    assert can_load(data)
    assert not can_load(data[: 64 + 56 + 10])


# --- real files ---------------------------------------------------------------------------------------------------


def host_machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def system_elf() -> Path:
    for candidate in ("/bin/ls", "/usr/bin/ls", "/bin/sh"):
        path = Path(candidate).resolve()
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            return path
    pytest.skip("no ELF executable on this system")


def test_system_binary() -> None:
    with system_elf().open("rb") as handle:
        result = read_elf(handle)
        handle.seek(0)
        assert loadable(handle)
    assert result is not None
    assert result.machine == host_machine()


def test_truncated_system_binary(tmp_path: Path) -> None:
    data = system_elf().read_bytes()
    assert info(data[:40]) is None
    assert not can_load(data[:64])


@pytest.fixture(scope="module")
def shared_libs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """libanswer.so built three ways: with -g, plain, and stripped with -s."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    workdir = tmp_path_factory.mktemp("elf")
    source = workdir / "answer.c"
    source.write_text("static int helper(int x) { return x * 2; }\nint answer(void) { return helper(21); }\n")
    built = {}
    for name, flags in {"debug": ["-g"], "plain": [], "stripped": ["-s"]}.items():
        output = workdir / f"libanswer-{name}.so"
        done = subprocess.run(
            [compiler, "-shared", "-fPIC", "-O1", *flags, str(source), "-o", str(output)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot build a shared library: {done.stderr.decode(errors='replace')[-300:]}")
        built[name] = output.read_bytes()
    return built


@pytest.mark.parametrize(
    ("build", "has_debug", "has_symtab"),
    [("debug", True, True), ("plain", False, True), ("stripped", False, False)],
)
def test_compiled_shared_library(shared_libs: dict[str, bytes], build: str, has_debug: bool, has_symtab: bool) -> None:
    data = shared_libs[build]
    found = info(data)
    assert found is not None
    assert (found.machine, found.has_debug, found.has_symtab) == (host_machine(), has_debug, has_symtab)
    assert (found.symtab_bytes > 0) == has_symtab and (found.debug_bytes > 0) == has_debug
    assert can_load(data)


def test_forward_reader_reads_a_stream_once_and_agrees(shared_libs: dict[str, bytes]) -> None:
    import io

    from lambda_slim._artifacts.elf import ForwardReader, read_elf

    class CountingStream(io.BytesIO):
        seeks = 0

        def seek(self, position: int, whence: int = 0) -> int:
            CountingStream.seeks += 1
            return super().seek(position, whence)

    data = shared_libs["debug"]
    stream = CountingStream(data)
    assert read_elf(ForwardReader(stream, window=1 << 20)) == read_elf(io.BytesIO(data))
    assert CountingStream.seeks == 0  # the section names sat in the window: no second pass


# --- names and foreign binaries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pkg/_x.cpython-311-x86_64-linux-gnu.so", True),
        ("numpy.libs/libopenblas64_p-r0.so", True),
        ("pkg.libs/libz-abc.so.1.2.13", True),
        ("pkg/_x.pyd", True),
        ("pkg/_x.dylib", True),
        ("pkg/_x.py", False),
        ("pkg/song.sox", False),
        ("pkg/so/readme", False),
    ],
)
def test_looks_like_shared_library(path: str, expected: bool) -> None:
    assert looks_like_shared_library(path) is expected


@pytest.mark.parametrize(
    ("head", "system"),
    [
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "macos"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "macos"),
        (b"MZ\x90\x00", "windows"),
        (b"\x7fELF\x02\x01\x01", None),
        (b"", None),
    ],
)
def test_foreign_system(head: bytes, system: str | None) -> None:
    assert foreign_system(head) == system
