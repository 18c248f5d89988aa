from __future__ import annotations

import sys
from pathlib import Path

from lambda_slim._sandbox.runner import Layout, probe, read_only, top_level_modules


def make(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_top_level_modules(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "handler.py": "",
            "pkg/__init__.py": "",
            "ns/sub/mod.py": "",  # a namespace package
            "_ext.cpython-311-x86_64-linux-gnu.so": "",
            "pkg-1.0.dist-info/METADATA": "",
            "numpy.libs/libx.so": "",
            "bin/tool": "",
            "data/readme.txt": "",  # no Python: not a module
            "not-a-name.py": "",
        },
    )
    assert top_level_modules(tmp_path) == ["_ext", "handler", "ns", "pkg"]


def test_layout_paths_follow_lambda_order(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "task", tmp_path / "opt", "3.12")
    assert layout.sys_path() == [
        str(tmp_path / "task"),
        str(tmp_path / "opt" / "python" / "lib" / "python3.12" / "site-packages"),
        str(tmp_path / "opt" / "python"),
    ]


def test_probe_is_isolated_and_invokes(tmp_path: Path) -> None:
    task = make(
        tmp_path / "task",
        {
            "handler.py": (
                "import os, sys\n"
                "def handler(event, context):\n"
                "    return {'event': event, 'root': os.environ['LAMBDA_TASK_ROOT'],\n"
                "            'site': [p for p in sys.path if 'site-packages' in p],\n"
                "            'bytecode': sys.dont_write_bytecode, 'memory': context.memory_limit_in_mb}\n"
            ),
            "layer_only.py": "",
        },
    )
    result = probe(Layout(task), sys.executable, handler="handler.handler", event={"x": 1}, memory_mb=512)
    assert result.error is None, result.error
    assert result.result == {"event": {"x": 1}, "root": str(task), "site": [], "bytecode": True, "memory": 512}
    assert result.init_ms is not None and result.duration_ms is not None and result.max_memory_mb > 0
    assert not (task / "__pycache__").exists()


def test_probe_reports_module_failures_and_crashes(tmp_path: Path) -> None:
    task = make(
        tmp_path / "task", {"good.py": "", "bad.py": "import missing_thing\n", "dies.py": "import os\nos._exit(3)\n"}
    )
    result = probe(Layout(task), sys.executable, modules=["good", "bad"])
    assert result.failed_modules.keys() == {"bad"}
    assert "No module named 'missing_thing'" in result.failed_modules["bad"]
    crashed = probe(Layout(task), sys.executable, modules=["dies"])
    assert crashed.error is not None and "exited with status 3" in crashed.error


def test_without_bytecode_every_module_compiles(tmp_path: Path) -> None:
    task = make(tmp_path / "task", {"mod.py": "import sys\nVALUE = 1\n"})
    import py_compile

    py_compile.compile(str(task / "mod.py"), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    # A pyc that would crash if used shows whether the probe read it.
    pyc = next((task / "__pycache__").iterdir())
    pyc.write_bytes(pyc.read_bytes()[:16] + b"garbage")
    assert probe(Layout(task), sys.executable, modules=["mod"]).failed_modules
    assert not probe(Layout(task), sys.executable, modules=["mod"], bytecode=False).failed_modules


def test_read_only_restores_permissions(tmp_path: Path) -> None:
    make(tmp_path, {"a/b.py": ""})
    with read_only([tmp_path]):
        assert not (tmp_path / "a" / "b.py").stat().st_mode & 0o222
    assert (tmp_path / "a" / "b.py").stat().st_mode & 0o200


def test_wrong_handler_shows_only_the_apps_frames(tmp_path: Path) -> None:
    """Issue 13, case 13: what is missing, with a suggestion; an app's failure with its own frames, never the
    probe's (probe.py) or the import machinery's."""
    task = make(
        tmp_path / "task",
        {
            "handler.py": "def handler(event, context):\n    return 1\n",
            "broken.py": "import json\n\n\ndef setup():\n    raise RuntimeError('boom')\n\n\nsetup()\n",
            "app/main.py": "def handler(event, context):\n    return 2\n",
        },
    )
    layout = Layout(task)
    missing = probe(layout, sys.executable, handler="handler.handle")
    assert missing.missing == "module 'handler' has no attribute 'handle'; did you mean 'handler'?"
    assert missing.error == missing.missing
    unknown = probe(layout, sys.executable, handler="handlr.handler")
    assert unknown.missing == "no module named 'handlr'; did you mean 'handler'?"
    broken = probe(layout, sys.executable, handler="broken.handler")
    assert broken.missing is None and broken.error is not None
    assert 'broken.py", line 8, in <module>' in broken.error and "RuntimeError: boom" in broken.error
    assert "probe.py" not in broken.error and "importlib" not in broken.error
    # Lambda's runtime reads path/module.function too.
    assert probe(layout, sys.executable, handler="app/main.handler", event={}).result == 2


def test_a_failed_imports_summary_leaves_out_the_carets() -> None:
    """A build summarised `index: ^^^^^^^^^^^^^ / ModuleNotFoundError: No module named 'common'`."""
    from lambda_slim._sandbox.safety import _last_lines

    error = (
        'Traceback (most recent call last):\n  File "/var/task/index.py", line 1, in <module>\n'
        "    from common import x\n    ^^^^^^^^^^^^^^^^^^^^\nModuleNotFoundError: No module named 'common'\n"
    )
    assert _last_lines(error) == "from common import x / ModuleNotFoundError: No module named 'common'"
