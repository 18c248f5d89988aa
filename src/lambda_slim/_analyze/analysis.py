"""`slim analyze`: what is in any deployment zip (from any tool), and what slimming it would save.

It reads the central directories (zipread), turns them into the same FileEntry inventory the build uses,
runs the build's own rule engine on it, and adds findings only a finished zip can show.
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lambda_slim._analyze.findings import Finding, findings
from lambda_slim._artifacts.elf import ElfInfo, ForwardReader, elf_machine, looks_like_shared_library, read_elf
from lambda_slim._artifacts.inventory import (
    APP,
    UNKNOWN,
    FileEntry,
    Inventory,
    MetadataOwners,
    attribute_leftovers,
    bytecode_of,
    dist_info_name,
    package_dirs_of,
    record_paths,
    source_of_bytecode,
)
from lambda_slim._artifacts.zipread import Archive, Member, read_archive
from lambda_slim._errors import ArchiveError
from lambda_slim._inputs.target import Target, arch_of_machines, runtime_of_pycs
from lambda_slim._report.build_report import RuleSavings
from lambda_slim._sandbox.coldstart import ColdStart, cold_start, estimate
from lambda_slim._slimming.rules import Decision, decide, rule_descriptions, ruleset
from lambda_slim._slimming.testdirs import imported_test_files


@dataclass(frozen=True)
class Group:
    name: str
    files: int
    unzipped_bytes: int
    zipped_bytes: int


@dataclass(frozen=True)
class AnalyzeReport:
    archives: tuple[Archive, ...]
    runtime: str
    arch: str
    files: int
    unzipped_bytes: int
    zipped_bytes: int
    distributions: tuple[Group, ...]
    top_level: tuple[Group, ...]
    categories: tuple[Group, ...]
    would_remove: tuple[RuleSavings, ...]
    findings: tuple[Finding, ...]
    coldstart: ColdStart
    entries: tuple[tuple[str, str, str, int, int], ...]  # (archive kind, distribution, path, unzipped, zipped)

    @property
    def would_remove_bytes(self) -> int:
        return sum(r.bytes for r in self.would_remove)


def analyze(paths: Sequence[Path], runtime: str | None = None) -> AnalyzeReport:
    archives = tuple(read_archive(path) for path in paths)
    functions = [a for a in archives if a.kind == "function"]
    if len(functions) > 1:
        raise ArchiveError(
            f"{len(functions)} of the zips are function zips (files at the root): pass one function zip and its "
            "layers (whose files sit under python/)."
        )
    where = {member.path: (archive, member.name) for archive in archives for member in archive.members}
    runtime = runtime or runtime_of_pycs(sorted(where)) or "python3.11"

    def read(path: str) -> bytes:
        archive, name = where[path]
        return _read(archive, name, 64 * 1024 * 1024)

    pyc_tag = Target(runtime, "x86_64").pyc_tag  # the runtime's alone: the architecture comes from the ELF headers
    entries, compressed, elf_by_path, tests_in_use = _inventory(archives, read, pyc_tag)
    target = Target(runtime, arch_of_machines(info.machine for info in elf_by_path.values()))
    inventory = Inventory(tuple(entries), package_dirs_of(e.path for e in entries))
    compiled = _valid_target_pycs(inventory, target)
    decisions = decide(inventory, ruleset(), target.pyc_tag, compiled, tests_in_use=tests_in_use)
    removable = would_remove(inventory, decisions)
    found = findings(archives, inventory, target, compiled, removable)
    uncompiled = sum(
        e.size
        for e in inventory.files
        if e.path.endswith(".py") and bytecode_of(e.path, target.pyc_tag) not in compiled
    )
    zipped = sum(a.zipped_bytes for a in archives)
    package = estimate(zipped, inventory.total_bytes, len(inventory.files), uncompiled)
    kind_of = {m.path: a.kind for a in archives for m in a.members}
    return AnalyzeReport(
        archives=archives,
        runtime=target.runtime,
        arch=target.arch,
        files=len(inventory.files),
        unzipped_bytes=inventory.total_bytes,
        zipped_bytes=zipped,
        distributions=_groups(inventory, compressed, lambda e: e.distribution),
        top_level=_groups(inventory, compressed, lambda e: e.parts[0] if len(e.parts) > 1 else "(top-level files)"),
        categories=_groups(inventory, compressed, category),
        would_remove=removable,
        findings=tuple(found),
        coldstart=cold_start(None, package),
        entries=tuple(
            (kind_of.get(e.path, "function"), e.distribution, e.path, e.size, compressed.get(e.path, 0))
            for e in inventory.files
        ),
    )


def category(entry: FileEntry) -> str:
    name = entry.name
    if any(part in ("tests", "test") for part in entry.parts[:-1]):
        return "tests"
    if name.endswith((".pyc", ".pyo")):
        return "bytecode"
    if name.endswith(".pyi") or name == "py.typed" or entry.parts[0].endswith("-stubs"):
        return "stubs"
    if name.endswith((".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd", ".pxi")):
        return "sources/headers"
    if entry.elf is not None or looks_like_shared_library(entry.path):
        return "shared libraries"
    if entry.parts[0].endswith((".dist-info", ".egg-info")):
        return "metadata"
    if name.endswith(".py"):
        return "python"
    return "data"


def _inventory(
    archives: Sequence[Archive], read: Callable[[str], bytes], pyc_tag: str
) -> tuple[list[FileEntry], dict[str, int], dict[str, ElfInfo], frozenset[str]]:
    """The entries, their compressed sizes, the ELF headers of the shared libraries, and the files in test
    directories that run-time code imports."""
    # Reading a library's section table inflates all of it (the table sits at the end): most of the time analyze
    # takes. Two workers inflate (zlib releases the GIL) while this thread reads what needs no ELF header.
    elf_jobs = [
        (archive, member)
        for archive in archives
        for member in archive.members
        if looks_like_shared_library(member.path)
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        elf_results = pool.map(lambda job: _elf(*job), elf_jobs)  # all submitted now, collected below
        owners, top_level_names, scripts = _dist_info(archives)
        paths = sorted(member.path for archive in archives for member in archive.members)
        tests_in_use = imported_test_files(Inventory(tuple(FileEntry(path, 0) for path in paths)), read, pyc_tag)
        elf_by_path = {member.path: info for (_, member), info in zip(elf_jobs, elf_results, strict=True) if info}
    compressed = {member.path: member.compressed for archive in archives for member in archive.members}
    entries = []
    for archive in archives:
        for member in archive.members:
            first_line = _read(archive, member.name, 256).split(b"\n", 1)[0] if member.path.startswith("bin/") else b""
            entries.append(
                FileEntry(
                    member.path,
                    member.size,
                    owners.get(member.path, UNKNOWN),
                    bool(member.mode & 0o111),
                    elf_by_path.get(member.path),
                    first_line.startswith(b"#!") and b"python" in first_line,
                )
            )
    entries.sort(key=lambda e: e.path)
    unclaimed = MetadataOwners(top_level_names, scripts)
    return [_unclaimed(e, unclaimed) for e in attribute_leftovers(entries)], compressed, elf_by_path, tests_in_use


def _dist_info(archives: Sequence[Archive]) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """Who owns each file the RECORDs list; every top-level dist-info directory with the names its top_level.txt
    lists; and which dist-info directory declares each console script (entry_points.txt)."""
    owners: dict[str, str] = {}
    top_level_names: dict[str, list[str]] = {}
    scripts: dict[str, str] = {}
    for archive in archives:
        for member in archive.members:
            directory, _, name = member.path.partition("/")
            if not directory.endswith(".dist-info") or not name:
                continue
            names = top_level_names.setdefault(directory, [])
            if name == "RECORD":
                text = _read(archive, member.name, 64 * 1024 * 1024).decode("utf-8", "replace")
                for recorded in record_paths(text):
                    owners[recorded] = dist_info_name(directory)
            elif name == "top_level.txt":
                names += _read(archive, member.name, 1024 * 1024).decode("utf-8", "replace").split()
            elif name == "entry_points.txt":
                text = _read(archive, member.name, 1024 * 1024).decode("utf-8", "replace")
                scripts.update(dict.fromkeys(_script_names(text), directory))
    return owners, top_level_names, scripts


def _script_names(entry_points: str) -> list[str]:
    """The console and GUI script names an entry_points.txt declares (`name = module:function` lines)."""
    names, section = [], ""
    for line in entry_points.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section in ("console_scripts", "gui_scripts") and "=" in line:
            names.append(line.split("=", 1)[0].strip())
    return names


def _unclaimed(entry: FileEntry, owners: MetadataOwners) -> FileEntry:
    """A file no RECORD claims (lambda-slim's own zips ship none): the distribution its dist-info directories point
    to; else at the top of the zip it is the app's own code, and deeper nobody's that the zip can name (its top
    directory is an import name, not a distribution: the top-level table lists those)."""
    if entry.distribution != UNKNOWN:
        return entry
    owner = owners.owner(entry.path)
    if owner is None:
        source = source_of_bytecode(entry.path) or entry.path
        owner = APP if "/" not in source else UNKNOWN
    return dataclasses.replace(entry, distribution=owner)


def _read(archive: Archive, name: str, limit: int) -> bytes:
    return archive.reader.read(name, limit)


def _elf(archive: Archive, member: Member) -> ElfInfo | None:
    try:
        with archive.reader.open(member.name) as raw:
            if any(part.endswith(".libs") for part in member.path.split("/")[:-1]):
                # auditwheel's *.libs/ libraries are never stripped, so neither the rules nor the findings look at
                # their sections: the machine, in the first bytes, is all analyze needs (numpy.libs holds 28 MB).
                header = raw.read(64)
                machine = elf_machine(header)
                return ElfInfo(machine, has_debug=False) if machine is not None and len(header) >= 52 else None
            return read_elf(ForwardReader(raw))  # type: ignore[arg-type]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{archive.path}: the entry {member.name!r} is corrupt ({exc}).") from exc


def _valid_target_pycs(inventory: Inventory, target: Target) -> frozenset[str]:
    """pycs of the runtime's version beside their source: the ones a build would keep (and recompile)."""
    return frozenset(
        bytecode_of(e.path, target.pyc_tag)
        for e in inventory.files
        if e.path.endswith(".py") and bytecode_of(e.path, target.pyc_tag) in inventory.by_path
    )


def would_remove(inventory: Inventory, decisions: Sequence[Decision]) -> tuple[RuleSavings, ...]:
    """What the decisions would take off the inventory, by rule: removed files whole, stripped ones their sections
    (the build's next steps count what a setting would remove with it too)."""
    descriptions = rule_descriptions()
    files: dict[str, int] = defaultdict(int)
    size: dict[str, int] = defaultdict(int)
    for decision in decisions:
        path, action, rule = decision.path, decision.action, decision.rule
        if rule is None or action == "keep":
            continue
        entry = inventory.by_path[path]
        if action == "remove":
            saved = entry.size
        else:  # strip: what the sections strip would drop weigh
            elf = entry.elf
            saved = (
                0
                if elf is None
                else (elf.debug_bytes + elf.symtab_bytes if rule == "symbol-tables" else elf.debug_bytes)
            )
        if saved:
            files[rule] += 1
            size[rule] += saved
    return tuple(
        RuleSavings(rule, descriptions.get(rule, rule), files[rule], size[rule])
        for rule in sorted(size, key=lambda r: (-size[r], r))
    )


def _groups(inventory: Inventory, compressed: dict[str, int], key: Callable[[FileEntry], str]) -> tuple[Group, ...]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in inventory.files:
        name = key(entry)
        totals[name][0] += 1
        totals[name][1] += entry.size
        totals[name][2] += compressed.get(entry.path, 0)
    groups = [Group(name, *values) for name, values in totals.items()]
    return tuple(sorted(groups, key=lambda g: (-g.unzipped_bytes, g.name)))
