"""Named slimming rules: which files of the installed dependencies are not needed at run time, and why.

Every decision names the rule that made it, so the report and `--explain` can say why a file went. Rules only
ever touch dependencies; the app's own files are chosen by include/exclude. The order of precedence:
user `keep` > user `exclude` > the built-in keep-list > the built-in rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import pathspec

from lambda_slim._artifacts.inventory import APP, FileEntry, Inventory, source_of_bytecode
from lambda_slim._errors import ConfigError
from lambda_slim._slimming.awsservices import service_of
from lambda_slim._slimming.testdirs import imported_test_files, in_test_dir

Action = Literal["keep", "remove", "strip"]
BuiltinRuleName = Literal[
    "bytecode",
    "tests",
    "type-stubs",
    "c-sources",
    "installer-metadata",
    "console-scripts",
    "docs",
    "runtime-provided",
    "aws-services",
    "symbol-tables",
    "debug-symbols",
]
# What else decides a file: the user's keep and exclude patterns, the built-in keep-list, the safety net putting
# back what broke an import, and --prune traced. A closed set: there are no user-defined rules, only patterns.
RuleName = Literal[BuiltinRuleName, "user-keep", "user-exclude", "builtin-keep", "restored", "traced"]

SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd", ".pxi")
# dist-info files only installers read; METADATA, entry_points.txt, top_level.txt and licenses stay, because
# importlib.metadata.version() and entry-point lookups at import time need them (docs/lambda-facts.md#past-breakages).
INSTALLER_ONLY_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json"})
DOC_DIRS = frozenset({"docs", "doc", "examples", "example"})

# Files the rules would remove that some package reads at run time. Each entry says who needs it.
BUILTIN_KEEP: tuple[tuple[str, str], ...] = (
    (
        "numpy/_core/tests/__init__.py",
        "numpy._core.tests._natype is imported outside numpy's test suite (numpy PR #28936)",
    ),
    (
        "numpy/_core/tests/_natype.py",
        "numpy._core.tests._natype is imported outside numpy's test suite (numpy PR #28936)",
    ),
    ("cffi/*.h", "cffi compiles C declarations at run time in ffi.verify() and needs its own headers"),
)


@dataclass(frozen=True)
class Decision:
    path: str
    action: Action
    rule: RuleName | None = None  # the rule (or keep entry) that decided; None: kept by default


@dataclass(frozen=True)
class RuleContext:
    inventory: Inventory
    pyc_tag: str  # "cpython-311": bytecode of other versions is dead weight
    compiled: frozenset[str]  # pycs lambda-slim compiled itself: they follow their source
    tests_in_use: frozenset[str] = frozenset()  # files in test directories that run-time code imports
    aws_services: frozenset[str] | None = None  # the AWS services whose models stay; None: all of them
    runtime_provided: frozenset[str] = frozenset()  # distributions Lambda's runtime provides, left out

    @cached_property
    def dirs_with_python(self) -> frozenset[str]:
        dirs: set[str] = set()
        for entry in self.inventory.files:
            if entry.path.endswith(".py"):
                parts = entry.parts[:-1]
                dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return frozenset(dirs)


@dataclass(frozen=True)
class Rule:
    name: BuiltinRuleName
    action: Action
    description: str
    applies: Callable[[FileEntry, RuleContext], bool]
    strip_flags: tuple[str, ...] = ()  # for "strip" rules: what strip is told to remove


def _in_test_dir(entry: FileEntry, context: RuleContext) -> bool:
    return in_test_dir(entry.path) and entry.path not in context.tests_in_use


def _stale_bytecode(entry: FileEntry, context: RuleContext) -> bool:
    if not entry.path.endswith((".pyc", ".pyo")) or entry.path in context.compiled:
        return False
    in_cache = entry.parent.endswith("__pycache__")
    source = source_of_bytecode(entry.path)
    if not in_cache:
        # A legacy pyc beside its source is ignored by Python; without a source it *is* the module: keep it.
        return source in context.inventory.by_path
    return True  # from the wheel: other Python versions, timestamps that cannot survive a zip, or no source


def _type_stub(entry: FileEntry, _: RuleContext) -> bool:
    return (
        entry.name.endswith(".pyi")
        or entry.name == "py.typed"
        or (entry.parts[0].endswith("-stubs") and len(entry.parts) > 1)
    )


def _c_source(entry: FileEntry, _: RuleContext) -> bool:
    return entry.name.endswith(SOURCE_SUFFIXES)


def _installer_metadata(entry: FileEntry, _: RuleContext) -> bool:
    return len(entry.parts) == 2 and entry.parts[0].endswith(".dist-info") and entry.name in INSTALLER_ONLY_METADATA


def _console_script(entry: FileEntry, _: RuleContext) -> bool:
    return entry.parts[0] == "bin" and entry.python_script


def _strippable(entry: FileEntry) -> bool:
    # auditwheel's *.libs/ directories hold libraries patchelf rewrote; strip breaks them ("ELF load command
    # address/offset not page-aligned", numpy.libs: docs/lambda-facts.md#past-breakages), so they are never
    # touched. Elsewhere a stripped library is also checked the way glibc's loader checks it before it replaces
    # the original.
    return entry.elf is not None and not any(part.endswith(".libs") for part in entry.parts[:-1])


def _symbol_table(entry: FileEntry, _: RuleContext) -> bool:
    return _strippable(entry) and entry.elf is not None and entry.elf.has_symtab


def _debug_symbols(entry: FileEntry, _: RuleContext) -> bool:
    return _strippable(entry) and entry.elf is not None and entry.elf.has_debug


def _runtime_provided(entry: FileEntry, context: RuleContext) -> bool:
    return entry.distribution in context.runtime_provided


def _unused_aws_service(entry: FileEntry, context: RuleContext) -> bool:
    if context.aws_services is None:
        return False
    service = service_of(entry.path)
    return service is not None and service not in context.aws_services


def _docs_dir(entry: FileEntry, context: RuleContext) -> bool:
    parts = entry.parts[:-1]
    for depth, part in enumerate(parts):
        if part in DOC_DIRS:
            directory = "/".join(parts[: depth + 1])
            # boto3 imports boto3.docs: a directory holding any Python is code, not documentation.
            return not (directory in context.inventory.package_dirs or directory in context.dirs_with_python)
    return False


BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("bytecode", "remove", "bytecode from wheels: other Python versions, timestamp pycs, orphans", _stale_bytecode),
    Rule("tests", "remove", "test packages (`tests` and `test` directories)", _in_test_dir),
    Rule(
        "type-stubs", "remove", "type stubs (*.pyi, py.typed, *-stubs packages): read by type checkers only", _type_stub
    ),
    Rule("c-sources", "remove", "C, C++ and Cython sources and headers: needed to build, not to run", _c_source),
    Rule(
        "installer-metadata",
        "remove",
        "dist-info files only installers read (RECORD, WHEEL, INSTALLER, ...)",
        _installer_metadata,
    ),
    Rule(
        "console-scripts",
        "remove",
        "console scripts in bin/: their #! line names the build machine's Python, so they cannot run in Lambda",
        _console_script,
    ),
    Rule("docs", "remove", "documentation and example directories that hold no Python", _docs_dir),
    Rule(
        "runtime-provided",
        "remove",
        "boto3, botocore, s3transfer, jmespath and what only they need: the runtime ships them "
        "([tool.slim] runtime-provided)",
        _runtime_provided,
    ),
    Rule(
        "aws-services",
        "remove",
        "botocore and boto3 models of AWS services the app does not use ([tool.slim] aws-services)",
        _unused_aws_service,
    ),
    # .symtab is for debuggers and linkers; the loader and Python's dlsym(PyInit_*) use .dynsym, which stays.
    Rule(
        "symbol-tables",
        "strip",
        "static symbol tables and debug sections of shared libraries (strip --strip-unneeded, never in *.libs/)",
        _symbol_table,
        ("--strip-unneeded",),
    ),
    Rule(
        "debug-symbols",
        "strip",
        "debug sections of shared libraries (strip --strip-debug, never in *.libs/)",
        _debug_symbols,
        ("--strip-debug",),
    ),
)
RULE_NAMES = tuple(rule.name for rule in BUILTIN_RULES)


def rule_descriptions() -> dict[str, str]:
    """Each built-in rule's description by name, keyed by str so a report can add the names of other deciders."""
    return {rule.name: rule.description for rule in BUILTIN_RULES}


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    user_keep: pathspec.GitIgnoreSpec
    user_exclude: pathspec.GitIgnoreSpec
    builtin_keep: tuple[tuple[pathspec.GitIgnoreSpec, str], ...]


def ruleset(keep: Iterable[str] = (), exclude: Iterable[str] = (), disabled: Iterable[str] = ()) -> RuleSet:
    disabled = set(disabled)
    unknown = disabled - set(RULE_NAMES)
    if unknown:
        raise ConfigError(
            f"disable-rules names unknown rule(s) {', '.join(sorted(unknown))}: the rules are {', '.join(RULE_NAMES)}."
        )
    return RuleSet(
        rules=tuple(rule for rule in BUILTIN_RULES if rule.name not in disabled),
        user_keep=pathspec.GitIgnoreSpec.from_lines(list(keep)),
        user_exclude=pathspec.GitIgnoreSpec.from_lines(list(exclude)),
        builtin_keep=tuple((pathspec.GitIgnoreSpec.from_lines([pattern]), reason) for pattern, reason in BUILTIN_KEEP),
    )


def decide(
    inventory: Inventory,
    rules: RuleSet,
    pyc_tag: str,
    compiled: frozenset[str] = frozenset(),
    read: Callable[[str], bytes] | None = None,
    aws_services: frozenset[str] | None = None,
    runtime_provided: frozenset[str] = frozenset(),
    tests_in_use: frozenset[str] | None = None,
) -> tuple[Decision, ...]:
    """One decision per file. A pyc lambda-slim compiled follows its source: removed with it, by the same rule.

    `read` gives a file's content, to find the test directories run-time code imports (without it, none are),
    unless `tests_in_use` says which files those are (analyze finds them while it inflates shared libraries)."""
    in_use = tests_in_use
    if in_use is None:
        in_use = imported_test_files(inventory, read, pyc_tag) if read is not None else frozenset()
    context = RuleContext(inventory, pyc_tag, compiled, in_use, aws_services, runtime_provided)
    decisions: dict[str, Decision] = {}
    followers = []
    for entry in inventory.files:
        source = source_of_bytecode(entry.path) if entry.path in compiled else None
        if source is not None and source in inventory.by_path:
            followers.append((entry.path, source))
            continue
        decisions[entry.path] = _decide_one(entry, rules, context)
    for path, source in followers:
        decided = decisions[source]
        action: Action = "remove" if decided.action == "remove" else "keep"
        decisions[path] = Decision(path, action, decided.rule)
    return tuple(decisions[entry.path] for entry in inventory.files)


def _decide_one(entry: FileEntry, rules: RuleSet, context: RuleContext) -> Decision:
    if rules.user_keep.match_file(entry.path):
        return Decision(entry.path, "keep", "user-keep")
    if entry.distribution == APP:
        return Decision(entry.path, "keep")
    if rules.user_exclude.match_file(entry.path):
        return Decision(entry.path, "remove", "user-exclude")
    for rule in rules.rules:
        if rule.applies(entry, context):
            for spec, _reason in rules.builtin_keep:
                if spec.match_file(entry.path):
                    return Decision(entry.path, "keep", "builtin-keep")
            return Decision(entry.path, rule.action, rule.name)
    return Decision(entry.path, "keep")


def explain(path: str, rules: RuleSet) -> str:
    """Why a keep-list entry protects `path`, for `--explain`."""
    for spec, reason in rules.builtin_keep:
        if spec.match_file(path):
            return reason
    return ""
