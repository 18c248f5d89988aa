"""The safety net on small trees: what it puts back, what it never puts back, and what runs the trees see."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_slim._artifacts.inventory import Inventory, scan_tree
from lambda_slim._errors import VerifyError
from lambda_slim._sandbox.safety import (
    Restoration,
    SafetyResult,
    check_and_repair,
    clone_tree,
    with_restorations,
)
from lambda_slim._sandbox.trees import TreesUnderTest
from lambda_slim._slimming.rules import Decision
from lambda_slim._slimming.strip import StripResult

DEPENDENCY = {
    "dep/__init__.py": "from dep import core\n",
    "dep/core.py": "VALUE = 41\n",
    "dep/extra.py": "",
    "dep-1.0.dist-info/METADATA": "Name: dep\nVersion: 1.0\n",
    "dep-1.0.dist-info/RECORD": "dep/__init__.py,,\ndep/core.py,,\ndep/extra.py,,\ndep-1.0.dist-info/RECORD,,\n",
}
HANDLER = "import dep\n\ndef handler(event, context):\n    return dep.core.VALUE + event['n']\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def staged(
    tmp_path: Path,
    files: dict[str, str],
    handler: str | None = None,
    runtime_root: Path | None = None,
    environment: tuple[tuple[str, str], ...] = (),
) -> tuple[TreesUnderTest, Inventory]:
    """The unslimmed tree and its copy to slim, run by this Python; the inventory counts handler.py as the app's."""
    naive = write(tmp_path / "naive", files)
    clone_tree(naive, tmp_path / "slim")
    tag = f"{sys.version_info[0]}.{sys.version_info[1]}"
    trees = TreesUnderTest(naive, tmp_path / "slim", sys.executable, tag, handler, runtime_root, environment)
    return trees, scan_tree(naive, frozenset({"handler.py"}))


def remove(trees: TreesUnderTest, path: str, rule: str) -> tuple[Decision, ...]:
    (trees.slimmed / path).unlink()
    return (Decision(path, "remove", rule),)


def test_a_file_a_rule_removed_and_an_import_needs_is_put_back(tmp_path: Path) -> None:
    trees, before = staged(tmp_path, {"handler.py": HANDLER, **DEPENDENCY}, handler="handler.handler")
    decisions = remove(trees, "dep/core.py", "some-rule")
    result = check_and_repair(trees, before, decisions, {"n": 1})
    [restoration] = result.restorations
    assert (restoration.distribution, restoration.rule, restoration.files) == ("dep", "some-rule", ("dep/core.py",))
    assert (trees.slimmed / "dep/core.py").read_text() == "VALUE = 41\n"
    assert result.handler_checked and "dep" in result.checked_modules
    assert 'keep = ["dep/core.py"]' in restoration.message()


def test_a_file_no_import_needs_stays_removed(tmp_path: Path) -> None:
    trees, before = staged(tmp_path, {"handler.py": HANDLER, **DEPENDENCY}, handler="handler.handler")
    result = check_and_repair(trees, before, remove(trees, "dep/extra.py", "some-rule"), {"n": 1})
    assert result.restorations == ()
    assert not (trees.slimmed / "dep/extra.py").exists()


def test_what_the_users_exclude_removed_is_never_put_back(tmp_path: Path) -> None:
    trees, before = staged(tmp_path, {"handler.py": HANDLER, **DEPENDENCY}, handler="handler.handler")
    with pytest.raises(VerifyError) as caught:
        check_and_repair(trees, before, remove(trees, "dep/core.py", "user-exclude"), {"n": 1})
    assert "Your exclude patterns removed 1 file(s) (such as dep/core.py)" in caught.value.message
    assert not (trees.slimmed / "dep/core.py").exists()


def test_a_handler_the_unslimmed_install_lacks_is_named_with_where_it_was_set(tmp_path: Path) -> None:
    trees, before = staged(tmp_path, {"handler.py": HANDLER, **DEPENDENCY}, handler="handler.nope")
    with pytest.raises(VerifyError) as caught:
        check_and_repair(trees, before, (), {"n": 1}, handler_origin="--handler")
    assert caught.value.message.startswith("the handler handler.nope (--handler) is not in the package")


@pytest.mark.parametrize("with_runtime", [True, False])
def test_both_trees_see_the_runtime_stand_in(tmp_path: Path, with_runtime: bool) -> None:
    # A dependency that needs a package only the runtime has is checked with the stand-in, and skipped (it fails
    # unslimmed too) without it.
    runtime = write(tmp_path / "runtime", {"rtonly.py": ""})
    files = {"handler.py": "", **DEPENDENCY, "dep/__init__.py": "import rtonly\n"}
    trees, before = staged(tmp_path, files, runtime_root=runtime if with_runtime else None)
    result = check_and_repair(trees, before, ())
    assert ("dep" in result.checked_modules) is with_runtime
    assert ("dep" in result.skipped_modules) is not with_runtime


def test_both_trees_see_the_functions_environment(tmp_path: Path) -> None:
    files = {"handler.py": "", **DEPENDENCY, "dep/__init__.py": "import os\nTABLE = os.environ['TABLE_NAME']\n"}
    trees, before = staged(tmp_path, files, environment=(("TABLE_NAME", "orders"),))
    assert "dep" in check_and_repair(trees, before, ()).checked_modules
    trees, before = staged(tmp_path / "without", files)
    assert "dep" in check_and_repair(trees, before, ()).skipped_modules


def test_restored_files_are_kept_by_the_rule_restored_and_no_longer_count_as_stripped() -> None:
    decisions = (Decision("a/x.py", "remove", "r"), Decision("a/lib.so", "strip", "s"), Decision("b.py", "keep"))
    stripped = StripResult(1, (("a/lib.so", 100), ("c/lib.so", 5)), ("w",))
    restored = Restoration("a", "a", "r", ("a/x.py", "a/lib.so"), "ImportError")
    safety = SafetyResult(("a",), (), False, (restored,))
    kept, now_stripped = with_restorations(decisions, stripped, safety)
    assert kept == (Decision("a/x.py", "keep", "restored"), Decision("a/lib.so", "keep", "restored"), decisions[2])
    assert now_stripped == StripResult(1, (("c/lib.so", 5),), ("w",))
    assert with_restorations(decisions, stripped, SafetyResult((), (), False, ())) == (decisions, stripped)
