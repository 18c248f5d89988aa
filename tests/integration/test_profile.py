"""`slim profile` on a built fixture: a slow import at init that the event never uses is named with its app line,
and moving it into the handler lowers the measured init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lambda_slim
from lambda_slim import ImportProfile, ProfileOptions
from tests.helpers import copy_fixture, slim

pytestmark = pytest.mark.usefixtures("offline_pip")


def built(tmp_path: Path, handler_source: str | None = None) -> Path:
    project = copy_fixture("import-heavy-at-init", tmp_path)
    if handler_source is not None:
        (project / "handler.py").write_text(handler_source)
    code, _, err = slim("build", str(project), "-q")
    assert code == 0, err
    return project


def test_the_slow_import_is_deferrable_and_moving_it_lowers_init(tmp_path: Path) -> None:
    project = built(tmp_path / "at-init")
    profile = lambda_slim.profile(project / "dist", ProfileOptions(runs=3))
    assert isinstance(profile, ImportProfile) and profile.events == ("event.json",)  # [tool.slim] event
    report = profile.node("report")
    assert report is not None and report.distribution == "(app)" and report.cumulative_ms >= 250
    assert profile.deferrable is not None
    assert [(d.module, d.chain) for d in profile.deferrable] == [("report", ("handler.py:4 import report", "report"))]

    source = (project / "handler.py").read_text()
    moved = source.replace("import report  #", "#").replace(
        "        return report.summary(event)", "        import report\n\n        return report.summary(event)"
    )
    assert moved != source
    lazy = built(tmp_path / "moved", moved)
    after = lambda_slim.profile(lazy / "dist", ProfileOptions(runs=3))
    assert after.node("report") is None and after.deferrable == ()
    assert after.min_init_ms < profile.min_init_ms - 200  # the 300 ms the import took left init
    # The same with verify's own measure of init, which times the import without -X importtime.
    before_init = lambda_slim.verify(project / "dist").init_ms
    after_init = lambda_slim.verify(lazy / "dist").init_ms
    assert before_init is not None and after_init is not None and after_init < before_init - 200


def test_the_cli_says_the_list_needs_events_and_writes_json(tmp_path: Path) -> None:
    project = built(tmp_path)
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace('event = "event.json"', "")
    )
    code, out, err = slim("profile", str(project / "dist"), "--runs", "1")
    assert code == 0, err
    assert "report (app)" in out and "handler.py:4 import report -> report" in out
    assert "the lazy-import list needs events" in out and "nothing to defer" not in out
    code, out, err = slim(
        "profile", str(project / "dist"), "--runs", "2", "--event", str(project / "event.json"), "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["runs"] == 2 and data["tree"][0]["module"] == "handler"
    assert [d["module"] for d in data["deferrable"]] == ["report"]
    code, out, err = slim("profile", str(project / "dist"), "--runs", "1", "--format", "markdown")
    assert code == 0 and out.startswith("## Import profile of `handler.handler`")


def test_a_report_path_that_cannot_be_written_is_a_message_before_profiling(tmp_path: Path) -> None:
    """-o as build and analyze take it: checked before the work, written atomically, never a traceback."""
    project = built(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, out, err = slim("profile", str(project / "dist"), "--runs", "1", "-o", str(blocked / "profile.txt"))
    assert code == 2 and out == ""
    assert f"cannot write the report to {blocked / 'profile.txt'} (-o/--output)" in err
    written = tmp_path / "reports" / "profile.json"  # a missing directory is made, as for build's -o
    code, out, err = slim("profile", str(project / "dist"), "--runs", "1", "--format", "json", "-o", str(written))
    assert code == 0 and out == "", err
    assert json.loads(written.read_text())["runs"] == 1


def test_a_profile_without_a_handler_says_how_to_name_one(tmp_path: Path) -> None:
    project = built(tmp_path)
    zip_copy = tmp_path / "elsewhere" / "function.zip"
    zip_copy.parent.mkdir()
    zip_copy.write_bytes((project / "dist" / "function.zip").read_bytes())
    code, _, err = slim("profile", "--zip", str(zip_copy))
    assert code == 2 and "needs a handler" in err and "--handler" in err


def test_check_holds_a_module_to_max_import_ms(tmp_path: Path) -> None:
    project = built(tmp_path)
    code, out, err = slim("check", str(project), "--max-import-ms", "report=5000", "--max-import-ms", "greeting=1000")
    assert code == 0, out + err
    assert "import of report: " in out and "within budget" in out
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.slim.budget]\nmax-import-ms = { report = 100 }\n")
    code, out, _ = slim("check", str(project))
    assert code == 1
    assert "OVER BUDGET max-import-ms: report " in out and "(least of " in out


def test_a_measured_build_lists_its_slowest_imports(tmp_path: Path) -> None:
    project = copy_fixture("import-heavy-at-init", tmp_path)
    code, out, err = slim("build", str(project), "--format", "json", "-q", "--measure-runs", "2")
    assert code == 0, err
    slowest = json.loads(out)["slowest_imports"]
    assert slowest[0]["module"] == "report" and slowest[0]["distribution"] == "(app)"
    assert slowest[0]["cumulative_ms"] >= 250 and slowest[0]["share_percent"] > 90
    assert "handler" not in [item["module"] for item in slowest]  # the handler's own module is the whole init
    # The build has the event ([tool.slim] event): the app's import no invocation used is the first next step.
    step = json.loads(out)["next_steps"][0]
    assert step["kind"] == "deferrable-import" and step["ms"] >= 250 and step["bytes"] is None
    assert step["message"].startswith("move `handler.py:4 import report` into the code that needs it")
    code, out, err = slim("build", str(project), "-q", "--measure-runs", "0", "--force")
    assert code == 0 and "slowest imports" not in out
