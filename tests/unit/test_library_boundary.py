"""The line between the library and the `slim` command: the library never prints, exits or imports click, each
default is defined once, and every report format the commands offer has its renderer."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import typing
from pathlib import Path

import click
import pytest

import lambda_slim
from lambda_slim._api import MEMORY_MB, BuildOptions, VerifyOptions, build_config
from lambda_slim._cli.build import build_command
from lambda_slim._cli.common import on_off
from lambda_slim._cli.main import main
from lambda_slim._cli.verify import verify_command
from lambda_slim._inputs.config import DEFAULT_ARCH, default, load_config
from lambda_slim._inputs.target import RUNTIMES

PACKAGE = Path(lambda_slim.__file__).parent
CLI_ONLY = ("click", "tqdm")


def library_modules() -> list[Path]:
    return sorted(
        path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in ("_cli", "__main__.py")
    )


def module_name(path: Path) -> str:
    return ".".join(("lambda_slim", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


def test_the_library_imports_neither_click_nor_tqdm() -> None:
    names = [module_name(path) for path in library_modules()]
    code = (
        f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
        f"print(sorted(name for name in {CLI_ONLY!r} if name in sys.modules))"
    )
    # A fresh interpreter: this one imported the CLI (and with it click) already.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = done.stdout.strip().splitlines()[-1]  # the last line: a module could print on import
    assert imported == "[]", f"the library imported the CLI's {imported}"


def is_program(tree: ast.Module) -> bool:
    """A file with an `if __name__ == "__main__":` block is a program run by path in another interpreter (the
    target's Python), where printing and exiting are how it answers."""
    return any(
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        for node in tree.body
    )


def prints_or_exits(tree: ast.AST) -> list[str]:
    """Each print(), exit(), quit(), sys.exit(), os._exit() and `raise SystemExit`, by line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else None
            if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
                name = f"{function.value.id}.{function.attr}"
            if name in ("print", "exit", "quit", "sys.exit", "os._exit"):
                found.append(f"{name}() on line {node.lineno}")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "SystemExit":
                found.append(f"raise SystemExit on line {node.lineno}")
    return found


def test_the_checker_finds_prints_and_exits() -> None:
    source = "import sys\nprint(1)\nsys.exit(2)\nraise SystemExit(3)\n"
    assert sorted(prints_or_exits(ast.parse(source))) == [
        "print() on line 2",
        "raise SystemExit on line 4",
        "sys.exit() on line 3",
    ]
    assert is_program(ast.parse('if __name__ == "__main__":\n    main()\n'))


def test_the_library_never_prints_nor_exits() -> None:
    offenders, programs = {}, []
    for path in library_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if is_program(tree):
            programs.append(module_name(path))
        elif found := prints_or_exits(tree):
            offenders[module_name(path)] = found
    assert not offenders, f"the library must return results and raise SlimError instead: {offenders}"
    # A program is exempt only because it is run by path, never imported: were it imported, its prints would be
    # the library's.
    for path in library_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                imported = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            assert not set(imported) & set(programs), f"{module_name(path)} imports a program: {imported}"


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "empty"\nversion = "0"\n', encoding="utf-8")
    return tmp_path


DEFAULTED = (
    "compile",
    "locked",
    "verify",
    "measure_runs",
    "measure_without_bytecode",
    "init_cpu",
    "layers",
    "external_layers",
    "external_layers_bytes",
    "layer_min_bytes",
    "cache",
    "installer",
    "runtime_provided",
    "prune",
)


def test_options_not_given_leave_the_loaders_defaults(empty_project: Path) -> None:
    from_options = build_config(empty_project, BuildOptions())
    assert from_options == load_config(empty_project, {})
    assert from_options.target.arch == DEFAULT_ARCH
    assert {name: getattr(from_options, name) for name in DEFAULTED} == {name: default(name) for name in DEFAULTED}


def test_the_help_shows_the_defaults_the_loader_applies() -> None:
    # The help of the flags that state their default, one line each however the terminal wraps them.
    help_text = " ".join(build_command.get_help(click.Context(build_command, terminal_width=1000)).split())
    shown = {
        f"Lambda architecture (default {DEFAULT_ARCH}).",
        f"Lambda runtime, {next(iter(RUNTIMES))} to {next(reversed(RUNTIMES))} (default:",
        f"Compile hash-based pycs (default {on_off(default('compile'))}).",
        f"the handler (default {on_off(default('verify'))}).",
        f"(default {default('measure_runs')}; 0: do not measure)",
        f"would cost (default {on_off(default('measure_without_bytecode'))}).",
        f"Resolve and install with {default('installer')} (default)",
        f"Use the per-distribution cache (default {on_off(default('cache'))}).",
    }
    assert {text for text in shown if text not in help_text} == set()
    memory = next(param for param in verify_command.params if param.name == "memory_mb")
    assert memory.default == VerifyOptions().memory_mb == MEMORY_MB[0]
    assert isinstance(memory.type, click.IntRange) and (memory.type.min, memory.type.max) == MEMORY_MB


def test_the_readme_states_the_same_defaults() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    stated = {
        f"`--runtime {next(iter(RUNTIMES))}`…`{next(reversed(RUNTIMES))}`",
        f"Lambda architecture (default `{DEFAULT_ARCH}`)",
        f"hash-based pycs (default {on_off(default('compile'))})",
        f"still import after slimming, and repair (default {on_off(default('verify'))})",
        f"(default {default('measure_runs')}; 0 skips measuring)",
        f"({on_off(default('measure_without_bytecode'))} by default:",
        f"resolve and install with {default('installer')} (default)",
        f"the memory size the REPORT line shows (default {VerifyOptions().memory_mb})",
    }
    assert {text for text in stated if text not in readme} == set()


@pytest.mark.parametrize("name", ["build", "verify", "analyze"])
def test_every_report_format_has_a_renderer(name: str) -> None:
    command = main.commands[name]
    format_param = next(param for param in command.params if param.name == "fmt")
    assert isinstance(format_param.type, click.Choice) and command.callback is not None
    formats = typing.get_args(typing.get_type_hints(command.callback)["fmt"])
    renderers = importlib.import_module(f"lambda_slim._cli.{name}").RENDERERS
    assert tuple(format_param.type.choices) == formats == tuple(renderers)
