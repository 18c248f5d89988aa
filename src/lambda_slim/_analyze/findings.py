"""What a finished zip shows that a build should have prevented: each finding with the bytes at stake."""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambda_slim import _sizes
from lambda_slim._artifacts.elf import foreign_system, looks_like_shared_library
from lambda_slim._artifacts.inventory import APP, FileEntry, Inventory, bytecode_of, source_of_bytecode
from lambda_slim._artifacts.zipread import Archive, Member
from lambda_slim._inputs.target import Target
from lambda_slim._report.build_report import RuleSavings
from lambda_slim._sandbox.coldstart import COMPILE_MS_PER_SOURCE_MB, IMPORTED_SHARE
from lambda_slim._sizes import human
from lambda_slim._slimming.privatekeys import CHUNK, PEM_SUFFIXES, holds_private_key, private_key_in

RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
MATERIAL_COMPILE_MS = 5.0


@dataclass(frozen=True)
class Finding:
    kind: str  # a stable id, such as "bytecode-timestamp" or "limit-unzipped"
    severity: str  # "error": fails or breaks in Lambda; "warning": costs bytes or cold start; "info"
    bytes: int
    message: str
    paths: tuple[str, ...] = ()


def findings(
    archives: Sequence[Archive],
    inventory: Inventory,
    target: Target,
    compiled: frozenset[str],
    would_remove: Sequence[RuleSavings],
) -> list[Finding]:
    members = {m.path: (archive, m) for archive in archives for m in archive.members}
    found: list[Finding] = []
    total = sum(r.bytes for r in would_remove)
    if total:
        parts = ", ".join(f"{r.rule} {human(r.bytes)}" for r in would_remove)
        found.append(
            Finding(
                "would-remove",
                "warning",
                total,
                f"slim build's rules would remove {human(total)} ({100 * total / max(inventory.total_bytes, 1):.0f}% "
                f"of the unzipped bytes): {parts}.",
            )
        )
    found += _bytecode(inventory, target, compiled, members)
    found += _binaries(inventory, target, members)
    found += _bundled_runtime(inventory)
    found += _duplicates(archives)
    found += _repeated_names(archives)
    found += _private_keys(inventory, members)
    found += _limits(archives, inventory)
    return found


def _bytecode(
    inventory: Inventory, target: Target, compiled: frozenset[str], members: dict[str, tuple[Archive, Member]]
) -> list[Finding]:
    found = []
    other = [
        e
        for e in inventory.files
        if e.path.endswith(".pyc") and "/__pycache__/" in f"/{e.path}" and target.pyc_tag not in e.name
    ]
    if other:
        tags = sorted({e.name.split(".")[-2] for e in other if e.name.count(".") >= 2})
        found.append(
            Finding(
                "bytecode-other-version",
                "warning",
                sum(e.size for e in other),
                f"{len(other):,} pycs were compiled for {', '.join(tags)}, not {target.runtime} ({target.pyc_tag}): "
                "Python never reads them.",
                tuple(e.path for e in other[:10]),
            )
        )
    stale = [path for path in sorted(compiled) if not _pyc_valid_after_extraction(path, members)]
    sources = [e for e in inventory.files if e.path.endswith(".py")]
    without = [e for e in sources if bytecode_of(e.path, target.pyc_tag) not in compiled]
    stale_sources = {source for source in map(source_of_bytecode, stale) if source is not None}
    uncompiled_bytes = sum(e.size for e in without) + sum(
        inventory.by_path[s].size for s in stale_sources if s in inventory.by_path
    )
    compile_ms = COMPILE_MS_PER_SOURCE_MB * uncompiled_bytes / 1e6 * IMPORTED_SHARE
    if stale:
        found.append(
            Finding(
                "bytecode-timestamp",
                "warning",
                sum(inventory.by_path[p].size for p in stale),
                f"{len(stale):,} timestamp pycs record a source mtime or size that will not match once the zip is "
                "unpacked (zips keep 2-second DOS times, and many tools write fixed dates): Python ignores them and "
                "recompiles those modules at every cold start. slim build writes unchecked-hash pycs instead.",
                tuple(stale[:10]),
            )
        )
    if compile_ms < MATERIAL_COMPILE_MS:
        return found  # a handler module or two without a pyc costs nothing worth a finding
    if without:
        share = len(without) / max(len(sources), 1)
        found.append(
            Finding(
                "bytecode-missing" if share > 0.5 else "bytecode-partial",
                "warning",
                sum(e.size for e in without),
                f"{len(without):,} of {len(sources):,} modules ship without a pyc for {target.runtime}: each cold "
                "start compiles the ones it imports (Lambda's code directory is read-only, so nothing is kept).",
                tuple(e.path for e in without[:10]),
            )
        )
    if stale or without:
        found.append(
            Finding(
                "bytecode-cold-start",
                "warning",
                uncompiled_bytes,
                f"estimated cost of the missing or unusable bytecode: {compile_ms:,.0f} ms of compiling per cold start "
                "on one vCPU, which init has at every memory size up to ~3 GB (docs/coldstart.md#by-memory-size).",
            )
        )
    return found


def _pyc_valid_after_extraction(pyc: str, members: dict[str, tuple[Archive, Member]]) -> bool:
    """Hash pycs always are; a timestamp pyc only when its recorded mtime and size match the unpacked source."""
    archive, member = members[pyc]
    header = archive.reader.read(member.name, 16)
    if len(header) < 16:
        return False
    flags, mtime, size = struct.unpack("<III", header[4:16])
    if int(flags) & 0b01:
        return True
    source = source_of_bytecode(pyc)
    if source is None or source not in members:
        return False
    source_member = members[source][1]
    return bool(mtime == source_member.mtime & 0xFFFFFFFF and size == source_member.size & 0xFFFFFFFF)


def _binaries(inventory: Inventory, target: Target, members: dict[str, tuple[Archive, Member]]) -> list[Finding]:
    found = []
    libraries = [e for e in inventory.files if looks_like_shared_library(e.path)]
    wrong_machine = [e for e in libraries if e.elf is not None and e.elf.machine != target.machine]
    foreign: dict[str, list[str]] = defaultdict(list)
    for entry in libraries:
        if entry.elf is None:
            archive, member = members[entry.path]
            system = foreign_system(archive.reader.read(member.name, 8))
            if system:
                foreign[system].append(entry.path)
    musl = [e for e in libraries if "musl" in e.name]
    if wrong_machine:
        machines = sorted({e.elf.machine for e in wrong_machine if e.elf is not None})
        found.append(
            Finding(
                "binary-architecture",
                "error",
                sum(e.size for e in wrong_machine),
                f"{len(wrong_machine)} shared libraries are built for {', '.join(machines)}, not {target.machine} "
                f"({target.arch}): importing them fails in Lambda. Build with --arch matching the function.",
                tuple(e.path for e in wrong_machine[:10]),
            )
        )
    for system, paths in sorted(foreign.items()):
        found.append(
            Finding(
                f"binary-{system}",
                "error",
                sum(inventory.by_path[p].size for p in paths),
                f"{len(paths)} shared libraries are {system} binaries, which Linux cannot load: the package was "
                "built on a developer machine. slim build installs Linux wheels for the target.",
                tuple(paths[:10]),
            )
        )
    if musl:
        found.append(
            Finding(
                "binary-musl",
                "error",
                sum(e.size for e in musl),
                f"{len(musl)} shared libraries are built for musl (Alpine), and Lambda's Amazon Linux uses glibc.",
                tuple(e.path for e in musl[:10]),
            )
        )
    # auditwheel's *.libs/ libraries are left alone: strip breaks them, so their symbols are not at stake.
    symbols = [
        e
        for e in libraries
        if e.elf is not None
        and (e.elf.symtab_bytes or e.elf.debug_bytes)
        and not any(part.endswith(".libs") for part in e.parts[:-1])
    ]
    if symbols:
        found.append(
            Finding(
                "binary-symbols",
                "warning",
                sum(e.elf.symtab_bytes + e.elf.debug_bytes for e in symbols if e.elf is not None),
                f"{len(symbols)} shared libraries carry symbol tables or debug sections that nothing reads at run "
                "time (slim build strips them, leaving auditwheel's *.libs/ directories alone).",
                tuple(e.path for e in symbols[:10]),
            )
        )
    return found


def _bundled_runtime(inventory: Inventory) -> list[Finding]:
    bundled = [e for e in inventory.files if e.distribution in RUNTIME_PROVIDED]
    if not bundled:
        return []
    names = sorted({e.distribution for e in bundled})
    return [
        Finding(
            "runtime-provided",
            "info",
            sum(e.size for e in bundled),
            f"{', '.join(names)} are bundled, and the Python runtimes provide them too. Bundling pins the version "
            "(AWS recommends it when you need a fixed one); leaving them out saves these bytes.",
        )
    ]


def _duplicates(archives: Sequence[Archive]) -> list[Finding]:
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for archive in archives:
        for member in archive.members:
            if member.size >= 1024:
                groups[(member.crc, member.size)].append(member.path)
    copies = [(size, paths) for (_crc, size), paths in groups.items() if len(paths) > 1]
    if not copies:
        return []
    wasted = sum(size * (len(paths) - 1) for size, paths in copies)
    copies.sort(key=lambda item: -item[0] * (len(item[1]) - 1))
    shown = tuple(" = ".join(paths[:3]) for _size, paths in copies[:5])
    return [
        Finding(
            "duplicates",
            "info",
            wasted,
            f"{len(copies)} files are shipped more than once with the same content ({human(wasted)} in the copies).",
            shown,
        )
    ]


def _repeated_names(archives: Sequence[Archive]) -> list[Finding]:
    repeated = [r for archive in archives for r in archive.repeated_names]
    if not repeated:
        return []
    differ = sum(1 for r in repeated if r.differ)
    return [
        Finding(
            "duplicate-names",
            "error" if differ else "warning",
            0,
            f"{len(repeated)} entry {'name is' if len(repeated) == 1 else 'names are'} in a zip more than once "
            f"({differ} with different content): which copy "
            "Lambda unpacks is up to its unzipper, and slim verify refuses such a zip. Rebuild it so each name is "
            "written once.",
            tuple(r.describe() for r in repeated[:10]),
        )
    ]


def _private_keys(inventory: Inventory, members: dict[str, tuple[Archive, Member]]) -> list[Finding]:
    """Decided by names, reading only PEM-named entries and the app's own small files, so analyze stays fast."""

    def content_check(entry: FileEntry) -> Callable[[], bool] | None:
        if not entry.path.lower().endswith(PEM_SUFFIXES) and (entry.distribution != APP or entry.size > CHUNK):
            return None
        archive, member = members[entry.path]
        return lambda: holds_private_key(archive.reader.read(member.name, CHUNK))

    keys = [e for e in inventory.files if private_key_in(e.path, content_check(e)) is not None]
    if not keys:
        return []
    return [
        Finding(
            "private-keys",
            "error",
            sum(e.size for e in keys),
            f"{len(keys)} files hold a private key, readable by anyone who can read the function's code: load keys "
            "at run time (Secrets Manager, SSM Parameter Store). slim build refuses them unless a keep pattern "
            "allows them.",
            tuple(e.path for e in keys[:10]),
        )
    ]


def _limits(archives: Sequence[Archive], inventory: Inventory) -> list[Finding]:
    found = []
    for archive in archives:
        if archive.zipped_bytes > _sizes.DIRECT_UPLOAD_LIMIT:
            found.append(
                Finding(
                    "limit-direct-upload",
                    "warning",
                    archive.zipped_bytes - _sizes.DIRECT_UPLOAD_LIMIT,
                    f"{archive.path.name} is {human(archive.zipped_bytes)} zipped, over the 50 MiB a direct upload "
                    "allows: deploy it through S3, or split heavy dependencies into layers (slim build --layers auto).",
                )
            )
        if archive.zip64:
            found.append(
                Finding(
                    "zip64",
                    "warning",
                    0,
                    f"{archive.path.name} uses ZIP64 extensions, which Lambda has been reported to fail to unzip "
                    "intermittently; lambda-slim writes ZIP64 only when an archive needs it.",
                )
            )
    if inventory.total_bytes > _sizes.UNZIPPED_LIMIT:
        found.append(
            Finding(
                "limit-unzipped",
                "error",
                inventory.total_bytes - _sizes.UNZIPPED_LIMIT,
                f"{inventory.total_bytes:,} bytes unzipped: "
                f"{inventory.total_bytes - _sizes.UNZIPPED_LIMIT:,} over Lambda's "
                f"{_sizes.UNZIPPED_LIMIT:,}-byte limit for a function and its layers. Lambda will refuse it.",
            )
        )
    layers = sum(1 for a in archives if a.kind == "layer")
    if layers > _sizes.MAX_LAYERS:
        found.append(
            Finding(
                "limit-layers",
                "error",
                0,
                f"{layers} layers: Lambda attaches at most {_sizes.MAX_LAYERS} to a function.",
            )
        )
    return found
