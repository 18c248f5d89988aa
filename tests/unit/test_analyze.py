"""slim analyze on zips built in the test: findings, attribution, and the same rule engine as the build."""

from __future__ import annotations

import importlib.util
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from lambda_slim._analyze.analysis import analyze, category
from lambda_slim._analyze.render import to_data, to_html, to_markdown, to_text
from lambda_slim._artifacts.inventory import FileEntry, source_of_bytecode
from tests.key_samples import pem, service_account_json

MAGIC = importlib.util.MAGIC_NUMBER


def make_zip(path: Path, members: dict[str, bytes], times: dict[str, tuple[int, ...]] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(times or {}).get(name, (2024, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def elf(machine: int, sections: dict[bytes, int] | None = None) -> bytes:
    """A 64-bit little-endian ELF with the named sections of the given sizes (contents zero)."""
    sections = {b"": 0, **(sections or {}), b".shstrtab": 0}
    names = b"\0".join(sections) + b"\0"
    name_offsets, offset = [], 0
    for name in sections:
        name_offsets.append(offset)
        offset += len(name) + 1
    body = bytearray(64) + names
    shoff = len(body)
    table = bytearray()
    for index, (name, size) in enumerate(sections.items()):
        section_offset, section_size = (64, len(names)) if name == b".shstrtab" else (0, size)
        table += struct.pack("<IIQQQQIIQQ", name_offsets[index], 1, 0, 0, section_offset, section_size, 0, 0, 1, 0)
    header = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9))
    header += struct.pack(
        "<HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, 64, 56, 0, 64, len(sections), len(sections) - 1
    )
    body[:64] = header
    return bytes(body + table)


def pyc(flags: int, mtime: int = 0, size: int = 0) -> bytes:
    return MAGIC + struct.pack("<III", flags, mtime, size) + b"\xe3" + bytes(20)


RECORD = "".join(
    f"{path},,\n"
    for path in (
        "demo/__init__.py",
        "demo/tests/test_x.py",
        "demo/x.pyi",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/RECORD",
    )
)


def test_sizes_attribution_and_would_remove(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "function.zip",
        {
            "handler.py": b"import demo\n",
            "demo/__init__.py": b"x = 1\n" * 100,
            "demo/tests/test_x.py": b"def test():\n    pass\n" * 200,
            "demo/x.pyi": b"x: int\n" * 50,
            "demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: 1.0\n",
            "demo-1.0.dist-info/RECORD": RECORD.encode(),
        },
    )
    report = analyze([path], "python3.11")
    owners = {g.name for g in report.distributions}
    assert owners == {"demo", "(app)"}
    rules = {r.rule: r.bytes for r in report.would_remove}
    assert rules["tests"] == len(b"def test():\n    pass\n" * 200)
    assert rules["type-stubs"] == len(b"x: int\n" * 50)
    assert "installer-metadata" in rules
    assert report.would_remove_bytes == sum(rules.values())
    assert {g.name for g in report.categories} >= {"python", "tests", "stubs", "metadata"}


def test_bytecode_findings(tmp_path: Path) -> None:
    source = b"x = 1\n" * 2000
    members = {
        "pkg/__init__.py": b"",
        "pkg/a.py": source,
        "pkg/b.py": source,
        "pkg/__pycache__/a.cpython-311.pyc": pyc(0, mtime=12345, size=len(source)),  # mtime will not match
        "pkg/__pycache__/b.cpython-311.pyc": pyc(0b01),  # hash-based: fine
        "pkg/__pycache__/a.cpython-39.pyc": pyc(0b01),
    }
    members.update({f"pkg/m{i}.py": source for i in range(20)})  # no pycs at all
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    kinds = {f.kind: f for f in report.findings}
    assert kinds["bytecode-timestamp"].paths == ("pkg/__pycache__/a.cpython-311.pyc",)
    assert kinds["bytecode-other-version"].paths == ("pkg/__pycache__/a.cpython-39.pyc",)
    # pkg/__init__.py and the 20 m*.py have no pyc for 3.11; a.py has a stale one, b.py a good one.
    assert "21 of 23 modules" in kinds["bytecode-missing"].message
    assert kinds["bytecode-cold-start"].bytes > 0


def test_a_timestamp_pyc_that_matches_the_unpacked_mtime_is_valid(tmp_path: Path) -> None:
    source = b"y = 2\n"
    # 2024-01-01 00:00:00 UTC, the DOS time the source is stored with.
    members = {"m.py": source, "__pycache__/m.cpython-311.pyc": pyc(0, mtime=1704067200, size=len(source))}
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    assert "bytecode-timestamp" not in {f.kind for f in report.findings}


def test_binary_findings(tmp_path: Path) -> None:
    members = {
        "fast/_a.cpython-311-x86_64-linux-gnu.so": elf(62, {b".symtab": 5000, b".strtab": 3000, b".debug_info": 7000}),
        "arm/_b.cpython-311-aarch64-linux-gnu.so": elf(183),
        "mac/_c.cpython-311-darwin.so": b"\xcf\xfa\xed\xfe" + bytes(100),
        "alp/_d.cpython-311-x86_64-linux-musl.so": elf(62),
        "fast.libs/libz-1234.so": elf(62, {b".symtab": 9000}),
    }
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    kinds = {f.kind: f for f in report.findings}
    assert kinds["binary-architecture"].paths == ("arm/_b.cpython-311-aarch64-linux-gnu.so",)
    assert kinds["binary-macos"].paths == ("mac/_c.cpython-311-darwin.so",)
    assert kinds["binary-musl"].paths == ("alp/_d.cpython-311-x86_64-linux-musl.so",)
    # Only what strip would take, and never from *.libs/.
    assert kinds["binary-symbols"].bytes == 15000
    assert {r.rule: r.bytes for r in report.would_remove}["symbol-tables"] == 15000


def test_a_libs_directory_library_counts_for_the_architecture(tmp_path: Path) -> None:
    # Only the header of a *.libs/ library is read (its sections are never at stake): its machine still counts.
    members = {"pkg.libs/libz-1234.so": elf(183, {b".symtab": 9000}), "pkg.libs/libq-1.so": elf(183)}
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    assert report.arch == "arm64"
    assert "binary-symbols" not in {f.kind for f in report.findings} and not report.would_remove


def test_runtime_provided_duplicates_and_limits(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 40
    members = {
        "boto3/__init__.py": b"x" * 2000,
        "boto3-1.0.dist-info/RECORD": b"boto3/__init__.py,,\n",
        "a/data.bin": blob,
        "b/data.bin": blob,
    }
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    kinds = {f.kind: f for f in report.findings}
    assert kinds["runtime-provided"].bytes == 2000 + len(members["boto3-1.0.dist-info/RECORD"])  # its dist-info too
    assert kinds["duplicates"].bytes == len(blob)
    assert "limit-unzipped" not in kinds


def test_layers_are_read_under_python(tmp_path: Path) -> None:
    function = make_zip(tmp_path / "function.zip", {"handler.py": b"import lib\n"})
    layer = make_zip(tmp_path / "layer.zip", {"python/lib/__init__.py": b"", "python/lib/tests/t.py": b"x" * 100})
    report = analyze([function, layer], "python3.11")
    assert [a.kind for a in report.archives] == ["function", "layer"]
    assert {r.rule for r in report.would_remove} == {"tests"}
    assert any(e[0] == "layer" and e[2] == "lib/tests/t.py" for e in report.entries)


def test_category() -> None:
    assert category(FileEntry("a/tests/x.py", 1)) == "tests"
    assert category(FileEntry("a/x.pyc", 1)) == "bytecode"
    assert category(FileEntry("a/x.h", 1)) == "sources/headers"
    assert category(FileEntry("a-1.dist-info/METADATA", 1)) == "metadata"
    assert category(FileEntry("a/x.json", 1)) == "data"


@pytest.mark.parametrize("runtime", ["python3.12", "python3.11"])
def test_runtime_given_or_detected(tmp_path: Path, runtime: str) -> None:
    members = {"m.py": b"", "__pycache__/m.cpython-312.pyc": pyc(1)}
    report = analyze([make_zip(tmp_path / "f.zip", members)], runtime if runtime == "python3.11" else None)
    assert report.runtime == runtime


def zip_with_repeated_names(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """A zip that names an entry twice: zipfile writes it, with a warning, as some tools do silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def test_analyze_flags_duplicate_entry_names(tmp_path: Path) -> None:
    package = zip_with_repeated_names(
        tmp_path / "f.zip",
        [
            ("handler.py", b"def handler(e, c):\n    return 1\n"),
            ("handler.py", b"def handler(e, c):\n    return 2\n"),
            ("lib/util.py", b"x = 1\n"),
            ("lib/util.py", b"x = 1\n"),
        ],
    )
    kinds = {f.kind: f for f in analyze([package], "python3.11").findings}
    clash = kinds["duplicate-names"]
    assert clash.severity == "error"  # which handler.py Lambda gets is up to its unzipper
    assert clash.paths == ("handler.py (2 entries, different content)", "lib/util.py (2 entries, same content)")


def test_analyze_reports_private_keys(tmp_path: Path) -> None:
    members = {
        "handler.py": b"def handler(e, c):\n    return 1\n",
        "service-account.json": service_account_json().encode(),
        "certifi/cacert.pem": (pem("CERTIFICATE") * 20).encode(),
        "certifi/__init__.py": b"",
        "app/keys/server.pem": pem("EC PRIVATE KEY").encode(),
        "app/deploy/id_rsa": b"anything: the name says what it is",
        "app/deploy/id_rsa.pub": b"ssh-rsa AAAA",
        "lib/data/big.json": service_account_json().encode() + b" " * 100_000,  # not read: not the app's own
    }
    kinds = {f.kind: f for f in analyze([make_zip(tmp_path / "f.zip", members)], "python3.11").findings}
    keys = kinds["private-keys"]
    assert keys.severity == "error"
    assert set(keys.paths) == {"app/deploy/id_rsa", "app/keys/server.pem", "service-account.json"}


def slimmed_zip(path: Path) -> Path:
    """Shaped like a zip lambda-slim built: no RECORD anywhere, dist-info directories with METADATA and (some)
    top_level.txt, pycs beside their sources, the handler's at the root."""
    metadata = {
        "pydantic_core-2.0.dist-info": None,  # the import name spelled as the distribution's
        "PyYAML-6.0.dist-info": "_yaml\nyaml\n",  # top_level.txt names both packages
        "python_dateutil-2.9.dist-info": None,  # dateutil: the only distribution whose name ends so
        "opentelemetry_api-1.0.dist-info": None,  # opentelemetry: the only one whose name starts so
        "numpy-2.0.dist-info": "numpy\n",  # and numpy.libs, auditwheel's directory
        "typing_extensions-4.0.dist-info": None,  # a single module at the root
        "protobuf-5.0.dist-info": "google\n",  # google is a namespace package two distributions share
        "google_auth-2.0.dist-info": "google\n",
    }
    members: dict[str, bytes] = {}
    for directory, top_level in metadata.items():
        name, version = directory.removesuffix(".dist-info").rsplit("-", 1)
        members[f"{directory}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        members[f"{directory}/licenses/LICENSE"] = b"MIT"
        if top_level is not None:
            members[f"{directory}/top_level.txt"] = top_level.encode()
    for source in (
        "handler.py",
        "typing_extensions.py",
        "pydantic_core/__init__.py",
        "yaml/__init__.py",
        "_yaml/__init__.py",
        "dateutil/parser.py",
        "opentelemetry/trace/__init__.py",
        "numpy/__init__.py",
        "google/protobuf/message.py",
        "google/auth/credentials.py",
        "mystery/__init__.py",
    ):
        members[source] = b"x = 1\n"
        directory, _, module = source.rpartition("/")
        members[f"{directory + '/' if directory else ''}__pycache__/{module[:-3]}.cpython-311.pyc"] = pyc(1)
    members["numpy.libs/libopenblas.so"] = b"not really a library"
    members["numpy-2.0.dist-info/entry_points.txt"] = b"[console_scripts]\nf2py = numpy.f2py.f2py2e:main\n"
    members["bin/f2py"] = members["bin/undeclared"] = b"#!/usr/bin/python3\n"
    return make_zip(path, members)


def test_a_zip_without_record_is_attributed_from_its_dist_info_directories(tmp_path: Path) -> None:
    report = analyze([slimmed_zip(tmp_path / "function.zip")], "python3.11")
    owners = {entry[2]: entry[1] for entry in report.entries}
    assert {g.name for g in report.distributions} == {
        "(app)",
        "(unknown)",
        "google-auth",
        "numpy",
        "opentelemetry-api",
        "protobuf",
        "pydantic-core",
        "python-dateutil",
        "pyyaml",
        "typing-extensions",
    }
    sources = {path: owner for path, owner in owners.items() if path.endswith(".py")}
    assert sources == {
        "handler.py": "(app)",
        "typing_extensions.py": "typing-extensions",
        "pydantic_core/__init__.py": "pydantic-core",
        "yaml/__init__.py": "pyyaml",
        "_yaml/__init__.py": "pyyaml",
        "dateutil/parser.py": "python-dateutil",
        "opentelemetry/trace/__init__.py": "opentelemetry-api",
        "numpy/__init__.py": "numpy",
        "google/protobuf/message.py": "protobuf",
        "google/auth/credentials.py": "google-auth",
        # No distribution says it owns mystery/: the top-level table names it, not the distribution table.
        "mystery/__init__.py": "(unknown)",
    }
    # A pyc is its source's, the handler's at the root too; a dist-info directory's files are its distribution's.
    assert all(
        owner == owners[source_of_bytecode(path) or ""] for path, owner in owners.items() if path.endswith(".pyc")
    )
    assert owners["__pycache__/handler.cpython-311.pyc"] == "(app)"
    assert owners["numpy.libs/libopenblas.so"] == owners["numpy-2.0.dist-info/licenses/LICENSE"] == "numpy"
    assert owners["bin/f2py"] == "numpy" and owners["bin/undeclared"] == "(unknown)"  # by entry_points.txt
    assert "mystery" in {g.name for g in report.top_level}


def test_no_findings_means_no_findings_heading_or_table(tmp_path: Path) -> None:
    report = analyze(
        [make_zip(tmp_path / "f.zip", {"handler.py": b"def handler(e, c):\n    return 1\n"})], "python3.11"
    )
    assert report.findings == ()
    text, markdown, page = to_text(report), to_markdown(report), to_html(report)
    assert "\nfindings\n" not in text and "\nno findings: none of the checks flagged anything\n" in text
    assert "| finding |" not in markdown and "\nNo findings: none of the checks flagged anything\n" in markdown
    assert "<h2>Findings</h2>" not in page and 'id="findings"' not in page
    assert "<p>No findings: none of the checks flagged anything</p>" in page
    assert to_data(report)["findings"] == []  # JSON keeps the key: its schema is the same for every zip


def test_findings_have_their_heading_and_table(tmp_path: Path) -> None:
    members = {"handler.py": b"x = 1\n", "a/data.bin": bytes(5000), "b/data.bin": bytes(5000)}
    report = analyze([make_zip(tmp_path / "f.zip", members)], "python3.11")
    assert report.findings
    assert "\nfindings\n" in to_text(report) and "| finding | at stake |" in to_markdown(report)
    assert "<h2>Findings</h2>" in to_html(report) and "no findings" not in to_html(report).lower()
