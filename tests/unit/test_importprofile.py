"""The import profile: -X importtime's lines parsed into a tree, modules owned by distribution, the lazy-import list
and its chains, on task roots written here and run by the probe as `slim profile` runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambda_slim._errors import VerifyError
from lambda_slim._report.importprofile import to_data, to_json, to_markdown, to_text
from lambda_slim._sandbox.importprofile import (
    STDLIB,
    ImportNode,
    ImportProfile,
    Owners,
    parse_importtime,
    profile_imports,
)
from lambda_slim._sandbox.runner import Layout, probe
from tests.helpers import older_python

# As Python 3.11 writes it: children first, two spaces deeper per level, a header, and the app's own stderr around.
IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |       pyarrow.lib
hello from the app
import time:        80 |        200 |     pyarrow
import time:       300 |        500 |   pandas
import time:        10 |         10 |   greeting
import time:        40 |        550 | handler
"""


def test_importtime_lines_become_the_import_tree() -> None:
    (handler,) = parse_importtime(IMPORTTIME.splitlines())
    assert (handler.module, handler.self_us, handler.cumulative_us) == ("handler", 40, 550)
    pandas, greeting = handler.children
    assert (pandas.module, greeting.module, greeting.children) == ("pandas", "greeting", ())
    (pyarrow,) = pandas.children
    assert pyarrow.module == "pyarrow" and [c.module for c in pyarrow.children] == ["pyarrow.lib"]


def test_a_cut_off_run_keeps_what_it_has() -> None:
    """No parent line at the end (the process died): the modules stand as roots instead of vanishing."""
    lines = IMPORTTIME.splitlines()[:4]
    assert [root.module for root in parse_importtime(lines)] == ["pyarrow"]
    assert parse_importtime(["import time: garbage", "", "slim-probe: x"]) == ()


def node(module: str, cumulative: float, distribution: str = "dist", *children: ImportNode) -> ImportNode:
    return ImportNode(module, distribution, cumulative / 2, cumulative, cumulative, children)


def test_modules_and_distributions_are_ranked_and_shared_of_init() -> None:
    tree = node(
        "handler", 100, "(app)", node("pandas", 80, "pandas", node("numpy", 30, "numpy")), node("re", 5, STDLIB)
    )
    profile = ImportProfile("handler.handler", 3, 100.0, 90.0, (tree,), (), None)
    assert [n.module for n in profile.modules()] == ["handler", "pandas", "numpy", "re"]
    assert profile.distributions()[0].name == "(app)" and profile.share(80) == 80.0
    assert profile.node("numpy") is not None and profile.node("scipy") is None


def test_without_events_the_lazy_import_list_says_it_needs_them() -> None:
    """No false green: without events nothing is judged deferrable, and every format says so."""
    profile = ImportProfile("handler.handler", 1, 10.0, 10.0, (node("handler", 10, "(app)"),), (), None)
    assert "needs events" in to_text(profile) and "needs events" in to_markdown(profile)
    data = to_data(profile)
    assert data["deferrable"] is None and "needs events" in data["deferrable_note"]
    assert "nothing to defer" not in to_text(profile)


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


SLOW = "import time\n_end = time.perf_counter() + {seconds}\nwhile time.perf_counter() < _end:\n    pass\n"

APP = {
    "handler.py": (
        '"""The app."""\n'
        "import json\n"
        "from shop import cart\n"
        "try:\n"
        "    import reports  # only the report action uses it\n"
        "except ImportError:\n"
        "    reports = None\n"
        "\n\n"
        "def handler(event, context):\n"
        "    if event.get('report'):\n"
        "        return reports.make()\n"
        "    return cart.total(event['items'])\n"
    ),
    "shop/__init__.py": "",
    "shop/cart.py": "def total(items):\n    return sum(items)\n",
    "reports.py": "import charts\n\n\ndef make():\n    return charts.draw()\n",
    # A dependency with its dist-info, as pip installs it: the profile names its owner from RECORD.
    "charts/__init__.py": SLOW.format(seconds=0.05) + "\n\ndef draw():\n    return 'chart'\n",
    "charts_lib-1.0.dist-info/RECORD": "charts/__init__.py,,\ncharts_lib-1.0.dist-info/RECORD,,\n",
}


def test_the_profile_names_owners_chains_and_what_no_invocation_used(tmp_path: Path) -> None:
    task = write(tmp_path / "task", APP)
    layout = Layout(task)
    profile = profile_imports(layout, sys.executable, "handler.handler", runs=2, events=[("cart.json", {"items": [1]})])
    assert profile.runs == 2 and [root.module for root in profile.roots] == ["handler"]
    charts = profile.node("charts")
    assert charts is not None and charts.distribution == "charts-lib" and charts.cumulative_ms >= 50
    assert profile.node("shop.cart") is not None and profile.node("shop.cart").distribution == "(app)"  # type: ignore[union-attr]
    assert profile.chains["charts"] == ("handler.py:5 import reports", "reports.py:1 import charts", "charts")
    assert profile.deferrable is not None
    assert [(d.module, d.chain) for d in profile.deferrable] == [
        ("reports", ("handler.py:5 import reports", "reports"))
    ]
    assert profile.deferrable[0].cumulative_ms >= 50
    assert profile.init_ms >= profile.deferrable[0].cumulative_ms
    # With the report action too, every import is used by one event or the other: nothing is left to defer.
    events = [("cart.json", {"items": [1]}), ("report.json", {"report": 1})]
    used = profile_imports(layout, sys.executable, "handler.handler", runs=1, events=events)
    assert used.deferrable == ()
    assert "nothing to defer" in to_text(used)
    data = json.loads(to_json(profile))
    assert data["tree"][0]["module"] == "handler" and data["deferrable"][0]["module"] == "reports"
    assert "handler.py:5 import reports -> reports" in to_text(profile)


def test_an_import_in_a_nested_package_is_found_by_its_relative_import_and_by_name_first(tmp_path: Path) -> None:
    task = write(
        tmp_path / "task",
        {
            "app/__init__.py": "",
            "app/main.py": "import app\nfrom . import heavy\n\n\ndef handler(event, context):\n    return 1\n",
            "app/heavy.py": "X = 1\n",
        },
    )
    profile = profile_imports(Layout(task), sys.executable, "app.main.handler", runs=1, events=[("e", {})])
    assert profile.deferrable is not None
    assert [d.chain for d in profile.deferrable] == [("app/main.py:2 from . import heavy", "app.heavy")]


@pytest.mark.parametrize("minor", [None, 9, 10])
def test_the_probe_times_the_handlers_import_and_records_calls(tmp_path: Path, minor: int | None) -> None:
    """On the oldest Pythons Lambda offers too: the marks frame the handler's import (its own module included,
    though importlib imports it), and calls names the modules whose functions the invocation ran."""
    python = sys.executable if minor is None else older_python(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine")
    handler = (
        "import importlib, used, unused\nlazy = importlib.import_module('lazy')\n\n"
        "def handler(e, c):\n    return used.f()\n"
    )
    task = write(tmp_path / "task", {"handler.py": handler, "lazy.py": "import json\n"})
    write(task, {"used.py": "def f():\n    return 2\n", "unused.py": "def g():\n    return 3\n"})
    layout = Layout(task, python_tag=f"3.{minor or sys.version_info[1]}")
    timed = probe(layout, python, handler="handler.handler", importtime=True)
    assert timed.error is None, timed.error
    tree = parse_importtime(timed.import_lines)
    assert [root.module for root in tree] == ["handler"]
    # importlib.import_module's module too, though importlib imports past the C import -X importtime times.
    assert [child.module for child in tree[0].children] == ["used", "unused", "lazy"]
    assert timed.module_files["used"] == str(task / "used.py")
    called = probe(layout, python, handler="handler.handler", event={}, calls=True)
    assert called.result == 2 and "used" in called.called and "unused" not in called.called


def test_owners_of_a_slimmed_tree_without_records(tmp_path: Path) -> None:
    """A slimmed zip keeps no RECORD: top_level.txt, else the distribution's name, else a name ending in the
    import name (python-dateutil owns dateutil); what no dist-info claims at the task root is the app's."""
    task = write(
        tmp_path / "task",
        {
            "yaml/__init__.py": "",
            "PyYAML-6.0.dist-info/top_level.txt": "_yaml\nyaml\n",
            "pydantic_core/__init__.py": "",
            "pydantic_core-2.0.dist-info/METADATA": "",
            "dateutil/tz/__init__.py": "",
            "python_dateutil-2.9.dist-info/METADATA": "",
            "opentelemetry/trace/__init__.py": "",
            "opentelemetry_api-1.3.dist-info/METADATA": "",
            "handler.py": "",
        },
    )
    owners = Owners(Layout(task))
    assert owners.of(str(task / "yaml/__init__.py")) == "pyyaml"
    assert owners.of(str(task / "pydantic_core/__init__.py")) == "pydantic-core"
    assert owners.of(str(task / "dateutil/tz/__init__.py")) == "python-dateutil"
    assert owners.of(str(task / "opentelemetry/trace/__init__.py")) == "opentelemetry-api"
    assert owners.of(str(task / "handler.py")) == "(app)"
    assert owners.of("/usr/lib/python3.11/json/__init__.py") == STDLIB and owners.of(None) == STDLIB


def test_a_module_imported_twice_is_listed_once_at_its_slowest() -> None:
    twice = node("handler", 100, "(app)", node("ext", 60, "x", node("pkg", 50, "x", node("ext", 10, "x"))))
    profile = ImportProfile("handler.handler", 1, 100.0, 100.0, (twice,), (), None)
    assert [(n.module, n.cumulative_ms) for n in profile.modules()] == [
        ("handler", 100),
        ("ext", 60),
        ("pkg", 50),
    ]


def test_the_events_ride_on_the_timed_runs_and_the_runs_go_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: no process of its own for an event while a timed run can invoke the handler once its import is
    timed; only the events beyond the runs get one. And the runs go one per core, as the measurement's do."""
    import lambda_slim._sandbox.importprofile as importprofile

    task = write(tmp_path / "task", APP)
    started: list[tuple[bool, bool]] = []
    batches: list[int] = []
    real_side_by_side = importprofile.side_by_side

    def counted(layout: Layout, interpreter: str, **options: object) -> object:
        started.append((bool(options["importtime"]), options["event"] is not None))
        return probe(layout, interpreter, **options)  # type: ignore[arg-type]

    def batched(probes: list[object]) -> object:
        batches.append(len(probes))
        return real_side_by_side(probes)  # type: ignore[arg-type]

    monkeypatch.setattr(importprofile, "probe", counted)
    monkeypatch.setattr(importprofile, "side_by_side", batched)
    monkeypatch.setattr(importprofile.os, "cpu_count", lambda: 2)
    events = [("cart.json", {"items": [1]}), ("report.json", {"report": 1}), ("again.json", {"items": []})]
    profile = profile_imports(Layout(task), sys.executable, "handler.handler", runs=2, events=events)
    assert sorted(started) == [(False, True), (True, True), (True, True)]
    assert batches == [2, 1]
    assert profile.runs == 2 and profile.deferrable == ()  # the report event, on a timed run, used reports


def test_a_handler_that_imports_but_fails_on_the_event_is_said_to_fail_on_it(tmp_path: Path) -> None:
    task = write(tmp_path / "task", {"handler.py": "def handler(event, context):\n    raise KeyError('items')\n"})
    with pytest.raises(VerifyError, match=r"fails on broken\.json"):
        profile_imports(Layout(task), sys.executable, "handler.handler", runs=1, events=[("broken.json", {})])
    (task / "handler.py").write_text("import missing_module\n")
    with pytest.raises(VerifyError, match="does not import"):
        profile_imports(Layout(task), sys.executable, "handler.handler", runs=1, events=[("broken.json", {})])
