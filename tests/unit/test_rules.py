"""decide(): every built-in rule by name, bytecode handling, app files and the order of precedence."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from lambda_slim._artifacts.elf import ElfInfo
from lambda_slim._artifacts.inventory import APP, FileEntry, Inventory, package_dirs_of
from lambda_slim._errors import ConfigError
from lambda_slim._slimming.rules import RULE_NAMES, decide, explain, ruleset

PYC_TAG = "cpython-311"
DEBUG_ELF = ElfInfo("x86_64", has_debug=True, has_symtab=False)
SYMTAB_ELF = ElfInfo("x86_64", has_debug=True, has_symtab=True)
STRIPPED_ELF = ElfInfo("x86_64", has_debug=False, has_symtab=False)

Outcome = tuple[str, str | None]  # (action, rule)


def entry(path: str, dist: str = "pkg", elf: ElfInfo | None = None) -> FileEntry:
    return FileEntry(path, 100, dist, elf is not None, elf)


def inventory(entries: Iterable[FileEntry | str]) -> Inventory:
    files = tuple(item if isinstance(item, FileEntry) else entry(item) for item in entries)
    return Inventory(files, package_dirs_of(f.path for f in files))


def outcomes(
    entries: Iterable[FileEntry | str],
    *,
    keep: Iterable[str] = (),
    exclude: Iterable[str] = (),
    disabled: Iterable[str] = (),
    compiled: Iterable[str] = (),
) -> dict[str, Outcome]:
    decisions = decide(inventory(entries), ruleset(keep, exclude, disabled), PYC_TAG, frozenset(compiled))
    return {d.path: (d.action, d.rule) for d in decisions}


def outcome(path: str, *others: FileEntry | str, **options: Iterable[str]) -> Outcome:
    """The decision for `path` in an inventory of it and `others`."""
    return outcomes([path, *others], **options)[path]


KEPT: Outcome = ("keep", None)


def removed(rule: str) -> Outcome:
    return ("remove", rule)


def test_rule_names() -> None:
    assert set(RULE_NAMES) == {
        "bytecode",
        "tests",
        "type-stubs",
        "c-sources",
        "console-scripts",
        "installer-metadata",
        "docs",
        "aws-services",
        "runtime-provided",
        "symbol-tables",
        "debug-symbols",
    }


def test_one_decision_per_file_in_inventory_order() -> None:
    paths = ["b/x.py", "a/tests/t.py", "a/__init__.py", "a/x.pyi"]
    decisions = decide(inventory(paths), ruleset(), PYC_TAG)
    assert [d.path for d in decisions] == paths


def test_plain_module_is_kept() -> None:
    assert outcome("pkg/core.py", "pkg/__init__.py") == KEPT


# --- tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["pkg/tests/test_core.py", "pkg/test/data.json", "pkg/sub/tests/conftest.py"])
def test_tests_rule(path: str) -> None:
    assert outcome(path) == removed("tests")


@pytest.mark.parametrize("path", ["pkg/testing/util.py", "pkg/tests.py", "pkg/test_utils.py", "pkg/pytests/x.py"])
def test_tests_rule_needs_a_directory_named_tests(path: str) -> None:
    assert outcome(path) == KEPT


# --- type stubs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["pkg/core.pyi", "pkg/py.typed", "boto3-stubs/__init__.pyi", "boto3-stubs/METADATA.json"]
)
def test_type_stubs_rule(path: str) -> None:
    assert outcome(path) == removed("type-stubs")


@pytest.mark.parametrize("path", ["pkg/stubs/helper.py", "pkg-stubs", "mypkg/typed.py"])
def test_type_stubs_rule_leaves_code(path: str) -> None:
    assert outcome(path) == KEPT


# --- C sources ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["pkg/_speedups.c", "pkg/include/pkg.h", "pkg/core.pyx", "pkg/core.pxd", "pkg/src/x.cpp", "pkg/x.hpp"]
)
def test_c_sources_rule(path: str) -> None:
    assert outcome(path) == removed("c-sources")


@pytest.mark.parametrize("path", ["pkg/data.hdf", "pkg/core.py", "pkg/_speedups.cpython-311-x86_64-linux-gnu.so"])
def test_c_sources_rule_leaves_other_files(path: str) -> None:
    assert outcome(path) == KEPT


# --- installer metadata -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json"])
def test_installer_metadata_is_removed(name: str) -> None:
    assert outcome(f"pkg-1.0.dist-info/{name}") == removed("installer-metadata")


@pytest.mark.parametrize(
    "path",
    [
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/entry_points.txt",
        "pkg-1.0.dist-info/top_level.txt",
        "pkg-1.0.dist-info/licenses/LICENSE",
        "pkg-1.0.dist-info/LICENSE.txt",
        "pkg/RECORD",
        "pkg-1.0.dist-info/licenses/RECORD",
    ],
)
def test_metadata_read_at_run_time_is_kept(path: str) -> None:
    assert outcome(path) == KEPT


# --- docs ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["pkg/docs/guide.md", "pkg/doc/api.rst", "pkg/examples/example.txt", "pkg/example/img/a.png"]
)
def test_docs_without_python_are_removed(path: str) -> None:
    assert outcome(path, "pkg/__init__.py") == removed("docs")


def test_docs_package_is_kept() -> None:
    # boto3 imports boto3.docs.
    files = ["boto3/__init__.py", "boto3/docs/__init__.py", "boto3/docs/method.py", "boto3/docs/data.txt"]
    assert set(outcomes(files).values()) == {KEPT}


def test_docs_dir_with_python_below_it_is_kept() -> None:
    files = ["pkg/docs/readme.md", "pkg/docs/sub/conf.py"]
    assert outcomes(files) == {path: KEPT for path in files}


def test_docs_decision_is_per_directory() -> None:
    result = outcomes(["pkg/docs/__init__.py", "pkg/docs/a.txt", "pkg/examples/b.txt"])
    assert result["pkg/docs/a.txt"] == KEPT
    assert result["pkg/examples/b.txt"] == removed("docs")


# --- shared libraries ---------------------------------------------------------------------------------------------


def lib(path: str, elf: ElfInfo | None) -> Outcome:
    return outcomes([entry(path, elf=elf)])[path]


def test_debug_sections_are_stripped() -> None:
    assert lib("pkg/_x.so", DEBUG_ELF) == ("strip", "debug-symbols")


def test_symbol_tables_are_stripped() -> None:
    assert lib("pkg/_x.cpython-311-x86_64-linux-gnu.so", SYMTAB_ELF) == ("strip", "symbol-tables")


def test_debug_symbols_when_symbol_tables_is_disabled() -> None:
    path = "pkg/_x.so"
    result = outcomes([entry(path, elf=SYMTAB_ELF)], disabled=["symbol-tables"])
    assert result[path] == ("strip", "debug-symbols")


def test_stripped_library_is_kept() -> None:
    assert lib("pkg/_x.so", STRIPPED_ELF) == KEPT


def test_strip_rules_need_an_elf_entry() -> None:
    assert lib("pkg/_x.so", None) == KEPT


@pytest.mark.parametrize(
    "path", ["numpy.libs/libopenblas-r0.so", "pkg/.libs/libz.so.1", "scipy/scipy.libs/libgfortran.so.5"]
)
@pytest.mark.parametrize("elf", [DEBUG_ELF, SYMTAB_ELF])
def test_libraries_under_a_libs_directory_are_never_stripped(path: str, elf: ElfInfo) -> None:
    assert lib(path, elf) == KEPT


# --- bytecode -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pyc",
    [
        "pkg/__pycache__/core.cpython-311.pyc",
        "pkg/__pycache__/core.cpython-39.pyc",
        "pkg/__pycache__/core.cpython-311.opt-1.pyc",
        "pkg/__pycache__/gone.cpython-311.pyc",
        "__pycache__/six.cpython-311.pyc",
    ],
)
def test_wheel_shipped_pycache_is_removed(pyc: str) -> None:
    assert outcome(pyc, "pkg/core.py", "six.py") == removed("bytecode")


def test_legacy_sourceless_pyc_is_kept() -> None:
    assert outcome("pkg/secret.pyc", "pkg/__init__.py") == KEPT


@pytest.mark.parametrize("pyc", ["pkg/core.pyc", "pkg/core.pyo"])
def test_legacy_pyc_beside_its_source_is_removed(pyc: str) -> None:
    assert outcome(pyc, "pkg/core.py") == removed("bytecode")


def test_compiled_pyc_is_kept_with_its_source() -> None:
    pyc = "pkg/__pycache__/core.cpython-311.pyc"
    assert outcome(pyc, "pkg/core.py", compiled=[pyc]) == KEPT


def test_compiled_pyc_is_removed_with_its_source_by_the_same_rule() -> None:
    pyc = "pkg/tests/__pycache__/test_core.cpython-311.pyc"
    result = outcomes([pyc, "pkg/tests/test_core.py"], compiled=[pyc])
    assert result[pyc] == result["pkg/tests/test_core.py"] == removed("tests")


def test_compiled_pyc_follows_a_user_exclude() -> None:
    pyc = "pkg/__pycache__/big.cpython-311.pyc"
    assert outcome(pyc, "pkg/big.py", compiled=[pyc], exclude=["pkg/big.py"]) == removed("user-exclude")


def test_compiled_pyc_follows_a_keep() -> None:
    pyc = "numpy/_core/tests/__pycache__/_natype.cpython-311.pyc"
    assert outcome(pyc, "numpy/_core/tests/_natype.py", compiled=[pyc]) == ("keep", "builtin-keep")


def test_wheel_pyc_does_not_follow_its_source() -> None:
    pyc = "pkg/__pycache__/core.cpython-311.pyc"
    assert outcome(pyc, "pkg/core.py", compiled=["pkg/__pycache__/other.cpython-311.pyc"]) == removed("bytecode")


# --- app files ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app_entry",
    [
        entry("tests/test_handler.py", APP),
        entry("mypkg/tests/test_x.py", APP),
        entry("mypkg/core.pyi", APP),
        entry("mypkg/py.typed", APP),
        entry("mypkg/ext.c", APP),
        entry("mypkg/docs/guide.md", APP),
        entry("mypkg/legacy.pyc", APP),
        entry("mypkg/_native.so", APP, elf=SYMTAB_ELF),
    ],
)
def test_app_files_are_never_touched_by_builtin_rules(app_entry: FileEntry) -> None:
    result = outcomes([app_entry, entry("mypkg/legacy.py", APP)], exclude=["mypkg/", "tests/"])
    assert result[app_entry.path] == KEPT


def test_user_keep_applies_to_app_files_too() -> None:
    assert outcomes([entry("mypkg/x.md", APP)], keep=["*.md"])["mypkg/x.md"] == ("keep", "user-keep")


# --- precedence ---------------------------------------------------------------------------------------------------


def test_user_keep_beats_user_exclude() -> None:
    assert outcome("pkg/tests/fixture.json", keep=["pkg/tests/"], exclude=["pkg/tests/"]) == ("keep", "user-keep")


def test_user_keep_beats_builtin_rules() -> None:
    assert outcome("pkg/core.pyi", keep=["*.pyi"]) == ("keep", "user-keep")


def test_user_exclude_removes_what_no_rule_would() -> None:
    assert outcome("pkg/big_table.dat", exclude=["*.dat"]) == removed("user-exclude")


def test_builtin_keep_beats_rules() -> None:
    result = outcomes(
        [
            "numpy/_core/tests/__init__.py",
            "numpy/_core/tests/_natype.py",
            "numpy/_core/tests/test_umath.py",
            "cffi/parse_c_type.h",
            "other/parse_c_type.h",
        ]
    )
    assert result == {
        "numpy/_core/tests/__init__.py": ("keep", "builtin-keep"),
        "numpy/_core/tests/_natype.py": ("keep", "builtin-keep"),
        "numpy/_core/tests/test_umath.py": removed("tests"),
        "cffi/parse_c_type.h": ("keep", "builtin-keep"),
        "other/parse_c_type.h": removed("c-sources"),
    }


def test_user_exclude_beats_builtin_keep() -> None:
    assert outcome("numpy/_core/tests/_natype.py", exclude=["numpy/_core/tests/"]) == removed("user-exclude")


def test_the_first_matching_rule_names_the_decision() -> None:
    assert outcome("pkg/tests/helper.c") == removed("tests")
    assert outcome("pkg/docs/api.pyi") == removed("type-stubs")


def test_explain_says_who_needs_a_kept_file() -> None:
    rules = ruleset()
    assert "numpy" in explain("numpy/_core/tests/_natype.py", rules)
    assert "cffi" in explain("cffi/parse_c_type.h", rules)
    assert explain("pkg/core.py", rules) == ""


# --- disable-rules ------------------------------------------------------------------------------------------------


def test_disabled_rule_does_not_apply() -> None:
    files = ["pkg/tests/test_a.py", "pkg/core.pyi"]
    assert outcomes(files, disabled=["tests"]) == {
        "pkg/tests/test_a.py": KEPT,
        "pkg/core.pyi": removed("type-stubs"),
    }


def test_next_rule_applies_when_the_first_is_disabled() -> None:
    assert outcome("pkg/tests/helper.c", disabled=["tests"]) == removed("c-sources")


def test_every_rule_can_be_disabled() -> None:
    files = [
        "pkg/tests/t.py",
        "pkg/x.pyi",
        "pkg/x.c",
        "pkg-1.0.dist-info/RECORD",
        "pkg/docs/a.md",
        "pkg/__pycache__/x.cpython-311.pyc",
        entry("pkg/_x.so", elf=SYMTAB_ELF),
    ]
    assert set(outcomes(files, disabled=RULE_NAMES).values()) == {KEPT}


def test_unknown_rule_name_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        ruleset(disabled=["test", "docs", "stubs"])
    message = str(caught.value)
    assert "stubs, test" in message
    for name in RULE_NAMES:
        assert name in message


def test_console_scripts_with_a_python_shebang_are_removed_but_binaries_stay() -> None:
    script = FileEntry("bin/f2py", 100, "numpy", True, None, python_script=True)
    binary = FileEntry("bin/tool", 100, "tool", True, None, python_script=False)
    inside_package = FileEntry("pkg/bin/run", 100, "pkg", True, None, python_script=True)
    assert outcome("bin/f2py", script) == removed("console-scripts")
    assert outcome("bin/tool", binary) == KEPT
    assert outcome("pkg/bin/run", inside_package) == KEPT


def test_the_rule_name_types_are_the_rules_and_deciders_there_are() -> None:
    from typing import get_args

    from lambda_slim._slimming import prune
    from lambda_slim._slimming.rules import BuiltinRuleName, RuleName, rule_descriptions

    assert get_args(BuiltinRuleName) == RULE_NAMES  # in the order the rules run
    assert tuple(rule_descriptions()) == RULE_NAMES
    assert set(get_args(RuleName)) - set(RULE_NAMES) == {"user-keep", "user-exclude", "builtin-keep", "restored",
                                                          prune.RULE}  # fmt: skip
    files = ["pkg/__init__.py", "pkg/keep_me.pyi", "pkg/drop.py", "pkg/tests/test_x.py", "numpy/_core/tests/_natype.py"]
    decided = decide(inventory(files), ruleset(keep=["pkg/keep_me.pyi"], exclude=["pkg/drop.py"]), PYC_TAG)
    assert {d.rule for d in decided} == {None, "user-keep", "user-exclude", "tests", "builtin-keep"}
    assert {d.rule for d in decided} - {None} <= set(get_args(RuleName))
