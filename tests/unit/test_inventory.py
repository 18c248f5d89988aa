"""scan_tree and friends: which distribution owns each file of an installed tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_slim._artifacts.inventory import (
    APP,
    UNKNOWN,
    FileEntry,
    Inventory,
    attribute_leftovers,
    dist_info_name,
    package_dirs_of,
    record_paths,
    scan_tree,
    source_of_bytecode,
)

ELF_HEADER = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00\x3e\x00" + bytes(44)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    return root


def record(*paths: str) -> str:
    return "".join(f"{path},sha256=x,1\n" for path in paths)


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    """An installed tree: two distributions with RECORDs, app code, compiled bytecode and a stray file."""
    return write(
        tmp_path / "site",
        {
            "foo_bar/__init__.py": "X = 1\n",
            "foo_bar/data.json": "{}",
            "foo_bar/__pycache__/__init__.cpython-311.pyc": b"pyc",
            "foo_bar/generated.cache": "written at import",
            "Foo_Bar-1.0.dist-info/METADATA": "Name: Foo_Bar\n",
            "Foo_Bar-1.0.dist-info/RECORD": record(
                "foo_bar/__init__.py",
                "foo_bar/data.json",
                "Foo_Bar-1.0.dist-info/METADATA",
                "Foo_Bar-1.0.dist-info/RECORD",
                "../../bin/foo",
            ),
            "six.py": "# six\n",
            "__pycache__/six.cpython-311.pyc": b"pyc",
            "six-1.16.0.dist-info/RECORD": record("six.py", "six-1.16.0.dist-info/RECORD"),
            "handler.py": "def handler(e, c): pass\n",
            "__pycache__/handler.cpython-311.pyc": b"pyc",
            "stray/notes.txt": "nobody's",
        },
    )


def owners(inventory: Inventory) -> dict[str, str]:
    return {entry.path: entry.distribution for entry in inventory.files}


def test_scan_tree_attributes_files_to_canonical_distribution_names(site: Path) -> None:
    assert owners(scan_tree(site, frozenset({"handler.py"}))) == {
        "Foo_Bar-1.0.dist-info/METADATA": "foo-bar",
        "Foo_Bar-1.0.dist-info/RECORD": "foo-bar",
        "__pycache__/handler.cpython-311.pyc": APP,
        "__pycache__/six.cpython-311.pyc": "six",
        "foo_bar/__init__.py": "foo-bar",
        "foo_bar/__pycache__/__init__.cpython-311.pyc": "foo-bar",
        "foo_bar/data.json": "foo-bar",
        "foo_bar/generated.cache": "foo-bar",
        "handler.py": APP,
        "six-1.16.0.dist-info/RECORD": "six",
        "six.py": "six",
        "stray/notes.txt": UNKNOWN,
    }


def test_scan_tree_is_sorted_with_sizes(site: Path) -> None:
    inventory = scan_tree(site)
    paths = [entry.path for entry in inventory.files]
    assert paths == sorted(paths)
    assert inventory.by_path["foo_bar/__init__.py"].size == len("X = 1\n")
    assert inventory.total_bytes == sum((site / path).stat().st_size for path in paths)


def test_without_app_paths_app_code_is_unknown(site: Path) -> None:
    assert owners(scan_tree(site))["handler.py"] == UNKNOWN


def test_package_dirs(site: Path) -> None:
    write(site, {"foo_bar/sub/__init__.py": "", "foo_bar/notapkg/x.py": ""})
    assert scan_tree(site).package_dirs == frozenset({"foo_bar", "foo_bar/sub"})


def test_executable_bit(tmp_path: Path) -> None:
    write(tmp_path, {"bin/run": "#!/bin/sh\n", "data.txt": "x"})
    os.chmod(tmp_path / "bin/run", 0o755)
    os.chmod(tmp_path / "data.txt", 0o644)
    inventory = scan_tree(tmp_path)
    assert inventory.by_path["bin/run"].executable
    assert not inventory.by_path["data.txt"].executable


def test_symlinks_are_not_files(tmp_path: Path) -> None:
    write(tmp_path, {"real.py": "x"})
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert [entry.path for entry in scan_tree(tmp_path).files] == ["real.py"]


def test_elf_is_read_for_shared_libraries_only(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/_x.so": ELF_HEADER, "pkg/libz.so.1": ELF_HEADER, "pkg/tool": ELF_HEADER, "pkg/_y.so": b"zz"})
    inventory = scan_tree(tmp_path)
    elf = inventory.by_path["pkg/_x.so"].elf
    assert elf is not None
    assert elf.machine == "x86_64"
    assert inventory.by_path["pkg/libz.so.1"].elf == elf
    assert inventory.by_path["pkg/tool"].elf is None
    assert inventory.by_path["pkg/_y.so"].elf is None


def test_distributions_groups_files(site: Path) -> None:
    groups = scan_tree(site, frozenset({"handler.py"})).distributions()
    assert sorted(groups) == sorted([APP, UNKNOWN, "foo-bar", "six"])
    assert {entry.path for entry in groups["six"]} == {
        "six.py",
        "__pycache__/six.cpython-311.pyc",
        "six-1.16.0.dist-info/RECORD",
    }


def test_file_entry_path_parts() -> None:
    entry = FileEntry("pkg/sub/mod.py", 1)
    assert (entry.name, entry.parent, entry.parts) == ("mod.py", "pkg/sub", ("pkg", "sub", "mod.py"))
    top = FileEntry("six.py", 1)
    assert (top.name, top.parent, top.parts) == ("six.py", "", ("six.py",))


@pytest.mark.parametrize(
    ("directory", "name"),
    [
        ("Foo_Bar-1.0.dist-info", "foo-bar"),
        ("zope.interface-6.0.dist-info", "zope-interface"),
        ("PyYAML-6.0.1.dist-info", "pyyaml"),
        ("typing_extensions-4.9.0.dist-info", "typing-extensions"),
    ],
)
def test_dist_info_name(directory: str, name: str) -> None:
    assert dist_info_name(directory) == name


def test_record_paths() -> None:
    text = 'pkg/a.py,sha256=x,1\n"pkg/with,comma.txt",,\n\n./pkg/./b.py,,\npkg/sub/../c.py,,\n,,\n'
    assert record_paths(text) == ["pkg/a.py", "pkg/with,comma.txt", "pkg/b.py", "pkg/c.py"]


def test_package_dirs_of() -> None:
    assert package_dirs_of(["a/__init__.py", "a/b/__init__.py", "__init__.py", "c/x.py"]) == {"a", "a/b"}


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("pkg/__pycache__/mod.cpython-311.pyc", "pkg/mod.py"),
        ("pkg/__pycache__/mod.cpython-311.opt-2.pyc", "pkg/mod.py"),
        ("a/b/__pycache__/__init__.cpython-312.pyc", "a/b/__init__.py"),
        ("__pycache__/six.cpython-311.pyc", "six.py"),
        ("pkg/mod.pyc", "pkg/mod.py"),
        ("pkg/mod.pyo", "pkg/mod.py"),
        ("mod.pyc", "mod.py"),
        ("pkg/mod.py", None),
        ("pkg/__pycache__/notes.txt", None),
        ("pkg/_x.so", None),
    ],
)
def test_source_of_bytecode(path: str, source: str | None) -> None:
    assert source_of_bytecode(path) == source


def test_leftover_pyc_inherits_its_source_owner_over_its_neighbours() -> None:
    entries = [
        FileEntry("ns/a.py", 1, "ns-a"),
        FileEntry("ns/b.py", 1, "ns-b"),
        FileEntry("ns/__pycache__/b.cpython-311.pyc", 1),
        FileEntry("ns/extra.txt", 1),
    ]
    assert [entry.distribution for entry in attribute_leftovers(entries)] == ["ns-a", "ns-b", "ns-b", "ns-a"]


def test_app_files_do_not_adopt_leftovers() -> None:
    entries = [FileEntry("mypkg/__init__.py", 1, APP), FileEntry("mypkg/cache.bin", 1)]
    assert attribute_leftovers(entries)[1].distribution == UNKNOWN


def test_leftover_keeps_its_other_fields() -> None:
    leftover = FileEntry("pkg/__pycache__/m.cpython-311.pyc", 7, UNKNOWN, True, None)
    result = attribute_leftovers([FileEntry("pkg/m.py", 1, "pkg"), leftover])[1]
    assert result == FileEntry("pkg/__pycache__/m.cpython-311.pyc", 7, "pkg", True, None)
