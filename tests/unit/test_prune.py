"""Traced pruning on small trees: what no run touched goes, what a run or a rule needs stays, results must hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambda_slim._artifacts.inventory import scan_tree
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.target import Target
from lambda_slim._sandbox.safety import clone_tree
from lambda_slim._sandbox.trees import TreesUnderTest
from lambda_slim._slimming.prune import RULE, Trace, event_files, prune_decisions, prune_traced
from lambda_slim._slimming.rules import Decision, ruleset

TARGET = Target("python3.11", "x86_64")
FILES = {
    "handler.py": "import dep\n\ndef handler(event, context):\n    return dep.core.VALUE + event['n']\n",
    "dep/__init__.py": "from dep import core\n",
    "dep/core.py": "VALUE = 41\n",
    "dep/unused.py": "",
    "dep/data/table.csv": "a,b\n",
    "dep-1.0.dist-info/METADATA": "Name: dep\nVersion: 1.0\n",
    "dep-1.0.dist-info/RECORD": (
        "dep/__init__.py,,\ndep/core.py,,\ndep/unused.py,,\ndep/data/table.csv,,\ndep-1.0.dist-info/RECORD,,\n"
    ),
}


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def trees_of(tmp_path: Path, files: dict[str, str], handler: str | None = "handler.handler") -> TreesUnderTest:
    naive = write(tmp_path / "naive", files)
    clone_tree(naive, tmp_path / "slim")
    tag = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return TreesUnderTest(naive, tmp_path / "slim", sys.executable, tag, handler)


def event(tmp_path: Path, n: int = 1) -> Path:
    path = tmp_path / "events" / f"e{n}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"n": n}))
    return path


def prune(trees: TreesUnderTest, events: list[Path], keep: tuple[str, ...] = ()) -> set[str]:
    current = scan_tree(trees.slimmed, frozenset({"handler.py"}))
    decisions = prune_traced(trees, current, events, ruleset(keep, (), ()), TARGET)
    assert all(d.action == "remove" and d.rule == RULE for d in decisions)
    return {d.path for d in decisions}


def test_what_no_run_touched_goes_and_what_one_did_stays(tmp_path: Path) -> None:
    trees = trees_of(tmp_path, FILES)
    assert prune(trees, [event(tmp_path)]) == {"dep/unused.py", "dep/data/table.csv"}
    assert not (trees.slimmed / "dep/unused.py").exists()
    assert (trees.slimmed / "dep/core.py").exists() and (trees.slimmed / "dep-1.0.dist-info/RECORD").exists()
    assert (trees.unslimmed / "dep/unused.py").exists()  # the unslimmed tree is what the checks compare against


def test_the_users_keep_patterns_stay(tmp_path: Path) -> None:
    trees = trees_of(tmp_path, FILES)
    assert prune(trees, [event(tmp_path)], keep=("dep/data/",)) == {"dep/unused.py"}


def test_a_file_a_run_reads_stays(tmp_path: Path) -> None:
    files = {
        **FILES,
        "dep/core.py": "import pathlib\nVALUE = len((pathlib.Path(__file__).parent / 'data/table.csv').read_text())\n",
    }
    trees = trees_of(tmp_path, files)
    assert prune(trees, [event(tmp_path)]) == {"dep/unused.py"}


def test_a_handler_and_an_event_are_needed(tmp_path: Path) -> None:
    for trees, events in (
        (trees_of(tmp_path / "a", FILES, handler=None), [event(tmp_path)]),
        (trees_of(tmp_path / "b", FILES), []),
    ):
        with pytest.raises(ConfigError, match="--prune traced needs the handler"):
            prune(trees, events)


def test_an_events_pattern_that_matches_nothing_is_refused(tmp_path: Path) -> None:
    single = event(tmp_path, 1)
    event(tmp_path, 2)
    assert event_files(tmp_path, ["events/*.json"], single) == [single, tmp_path / "events" / "e2.json"]
    with pytest.raises(ConfigError, match=r"\[tool.slim\] events pattern 'missing/\*.json' matches no file"):
        event_files(tmp_path, ["missing/*.json"], None)


def test_decisions_keep_the_pyc_of_a_touched_source_and_the_listed_directories(tmp_path: Path) -> None:
    trees = trees_of(tmp_path, {**FILES, "dep/__pycache__/core.cpython-311.pyc": "", "dep/plugins/a.py": ""})
    inventory = scan_tree(trees.slimmed, frozenset({"handler.py"}))
    traced = Trace((), frozenset({"dep/core.py"}), frozenset({"dep/plugins"}))
    removed = {d.path for d in prune_decisions(inventory, traced, ruleset((), (), ()), TARGET.pyc_tag)}
    assert removed == {"dep/__init__.py", "dep/unused.py", "dep/data/table.csv"}
    assert Decision("handler.py", "remove", RULE) not in prune_decisions(
        inventory, Trace((), frozenset(), frozenset()), ruleset((), (), ()), TARGET.pyc_tag
    )
