"""The probe that runs inside the sandbox interpreter: its functions in this process, then the file run by path as
runner.probe runs it, on this Python and on the oldest ones Lambda offers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_slim._sandbox import probe as probe_script
from lambda_slim._sandbox.runner import Layout, probe
from tests.helpers import older_python

SANDBOX_DIRECTORY = Path(probe_script.__file__).parent


def make(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A task root on this process's sys.path; the modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_missing_module_is_named_with_a_suggestion(app: Path) -> None:
    make(app, {"probe_app_handler.py": "def handler(event, context):\n    return 1\n"})
    assert probe_script.find_handler("probe_app_handlr.handler", [str(app)]) == (
        None,
        "no module named 'probe_app_handlr'; did you mean 'probe_app_handler'?",
    )
    assert probe_script.find_handler("unrelated.handler", [str(app)]) == (
        None,
        "no module named 'unrelated'",
    )


def test_a_missing_or_uncallable_function_is_named_with_a_suggestion(app: Path) -> None:
    make(app, {"probe_app_main.py": "def handler(event, context):\n    return 1\n\nhandle = 3\n"})
    assert probe_script.find_handler("probe_app_main.handlr", [str(app)]) == (
        None,
        "module 'probe_app_main' has no attribute 'handlr'; did you mean 'handler'?",
    )
    assert probe_script.find_handler("probe_app_main.handle", [str(app)]) == (
        None,
        "module 'probe_app_main' has no function (it is not callable) 'handle'; did you mean 'handler'?",
    )


def test_the_handler_is_found_by_dotted_or_slashed_path(app: Path) -> None:
    make(
        app, {"probe_app_pkg/__init__.py": "", "probe_app_pkg/main.py": "def handler(event, context):\n    return 2\n"}
    )
    for handler in ("probe_app_pkg.main.handler", "probe_app_pkg/main.handler"):
        function, missing = probe_script.find_handler(handler, [str(app)])
        assert missing is None and function is not None and function({}, None) == 2


def test_a_module_the_handler_imports_missing_is_the_apps_failure(app: Path) -> None:
    make(app, {"probe_app_needs.py": "import probe_app_not_installed\n"})
    with pytest.raises(ModuleNotFoundError, match="probe_app_not_installed"):
        probe_script.find_handler("probe_app_needs.handler", [str(app)])


def test_a_failure_shows_the_apps_frames_only(app: Path) -> None:
    """Neither the probe's frames (find_handler) nor the import machinery's: the app's, through the cause chain."""
    make(
        app,
        {
            "probe_app_broken.py": (
                "def setup():\n    raise ValueError('inner')\n\n\n"
                "try:\n    setup()\nexcept ValueError as exc:\n    raise RuntimeError('outer') from exc\n"
            )
        },
    )
    with pytest.raises(RuntimeError) as raised:
        probe_script.find_handler("probe_app_broken.handler", [str(app)])
    text = probe_script.failure(raised.value)
    assert 'probe_app_broken.py", line 2, in setup' in text
    assert 'probe_app_broken.py", line 8, in <module>' in text
    assert text.endswith("RuntimeError: outer")
    assert probe_script.__file__ not in text and "importlib" not in text


def test_the_context_carries_the_request() -> None:
    context = probe_script.Context(512, "request-1")
    assert (context.memory_limit_in_mb, context.aws_request_id) == (512, "request-1")
    assert context.function_name == "slim-verify" and context.get_remaining_time_in_millis() == 900000


def test_none_of_lambda_slims_modules_is_importable_in_the_sandbox(tmp_path: Path) -> None:
    """Run by path, a script's directory usually comes first on sys.path: the app's `runner` or `safety` must be
    its own, and lambda-slim's other modules must not be found at all."""
    siblings = sorted(path.stem for path in SANDBOX_DIRECTORY.glob("*.py") if path.stem not in ("runner", "safety"))
    task = make(
        tmp_path / "task",
        {
            "runner.py": "MINE = True\n",
            "safety.py": "MINE = True\n",
            "handler.py": (
                "import importlib.util, runner, safety\n"
                "def handler(event, context):\n"
                "    found = [name for name in event if importlib.util.find_spec(name) is not None]\n"
                "    return [runner.MINE, safety.MINE, found]\n"
            ),
        },
    )
    result = probe(Layout(task), sys.executable, handler="handler.handler", event=siblings)
    assert result.error is None, result.error
    assert result.result == [True, True, []]
    assert "probe" in siblings and "verify" in siblings  # the check above looked for them


def test_the_reference_workload_is_timed_and_leaves_the_interpreter_as_it_was(tmp_path: Path) -> None:
    """The host factor's reference runs in the process just before the import: it must import nothing, or the app's
    import would find those modules loaded and look cheaper than on Lambda."""
    task = make(
        tmp_path / "task",
        {"handler.py": "import sys\nLOADED = sorted(sys.modules)\ndef handler(event, context):\n    return LOADED\n"},
    )
    plain = probe(Layout(task), sys.executable, handler="handler.handler", event={})
    timed = probe(Layout(task), sys.executable, handler="handler.handler", event={}, reference=True)
    assert plain.error is None and timed.error is None, (plain.error, timed.error)
    assert plain.reference_ms is None
    assert timed.reference_ms is not None and timed.reference_ms > 1.0
    assert timed.result == plain.result


@pytest.mark.parametrize("minor", [9, 10])
def test_runs_on_the_oldest_lambda_pythons(tmp_path: Path, minor: int) -> None:
    """The probe is written for Python 3.9: it compiles and runs there, traced, and still hides its own frames."""
    python = older_python(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine")
    task = make(
        tmp_path / "task",
        {
            "handler.py": "import json\ndef handler(event, context):\n    return [event, context.memory_limit_in_mb]\n",
            "broken.py": "def setup():\n    raise RuntimeError('boom')\n\n\nsetup()\n",
        },
    )
    result = probe(
        Layout(task, python_tag=f"3.{minor}"), python, handler="handler.handler", event=1, trace=True, reference=True
    )
    assert result.error is None, result.error
    assert result.result == [1, 128]
    assert result.reference_ms is not None and result.reference_ms > 0
    assert str(task / "handler.py") in result.touched and probe_script.__file__ not in result.touched
    broken = probe(Layout(task), python, handler="broken.handler")
    assert broken.error is not None and 'broken.py", line 5, in <module>' in broken.error
    assert "probe.py" not in broken.error and "importlib" not in broken.error
