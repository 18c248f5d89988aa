"""`--explain` as data: each pattern's files with their outcome and why, for the command to print."""

from __future__ import annotations

from pathlib import Path

from lambda_slim._inputs.config import load_config
from lambda_slim._pipeline import project_settings
from lambda_slim._report.explain import ExplainedFile, Explanation, explain
from lambda_slim._slimming.rules import Decision
from tests.unit.test_report import report


def test_each_pattern_gets_the_builds_decisions_then_the_project_files_left_out(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n', encoding="utf-8")
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("notes\n", encoding="utf-8")
    decisions = (
        Decision("demo/tests/test_a.py", "remove", "tests"),
        Decision("demo/core.py", "keep"),
        Decision("demo/_speedups.so", "strip", "strip-binaries"),
        Decision("handler.py", "keep"),
    )
    project = project_settings(load_config(tmp_path))
    explained = explain(report(decisions=decisions), ["demo/*", "notes.md", "nothing/*"], project)
    assert [explanation.pattern for explanation in explained] == ["demo/*", "notes.md", "nothing/*"]
    assert explained[0] == Explanation(
        "demo/*",
        (
            ExplainedFile("removed", "demo/tests/test_a.py", "by rule tests"),
            ExplainedFile("kept", "demo/core.py", "(no rule applies)"),
            ExplainedFile("stripped", "demo/_speedups.so", "by rule strip-binaries"),
        ),
    )
    ((left_out,),) = [explained[1].files]
    assert left_out.outcome == "left out" and left_out.path == "notes.md" and left_out.why
    assert explained[2].files == ()  # the command says no file matches


def test_a_file_the_keep_list_kept_says_which_entry(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    decisions = (Decision("cffi/parse_c_type.h", "keep", "builtin-keep"),)
    ((kept,),) = [
        found.files
        for found in explain(report(decisions=decisions), ["cffi/*"], project_settings(load_config(tmp_path)))
    ]
    assert kept.outcome == "kept"
    assert kept.why.startswith("by rule builtin-keep: ") and kept.why != "by rule builtin-keep: "
