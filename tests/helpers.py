"""What test modules share that is not a fixture: the repository's paths, wheel and sdist writers, fixture-project
copies, and the one way the tests run `slim` through click's CliRunner."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "projects"
PY_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
MANYLINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    *,
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
    pure: bool = True,
) -> Path:
    """A minimal but valid wheel: the files, METADATA, WHEEL and a RECORD with real hashes."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {req}\n" for req in requires
    )
    wheel_meta = f"Wheel-Version: 1.0\nGenerator: lambda-slim-tests\nRoot-Is-Purelib: {str(pure).lower()}\n"
    wheel_meta += "".join(
        f"Tag: {py}-{abi}-{plat}\n"
        for py in tag.split("-")[0].split(".")
        for abi in tag.split("-")[1].split(".")
        for plat in tag.split("-")[2].split(".")
    )
    contents: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data for path, data in files.items()
    }
    contents[f"{dist_info}/METADATA"] = metadata.encode()
    contents[f"{dist_info}/WHEEL"] = wheel_meta.encode()
    contents[f"{dist_info}/top_level.txt"] = "\n".join(sorted({p.split("/")[0] for p in files})).encode() + b"\n"
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in contents.items())
    record += f"{dist_info}/RECORD,,\n"
    contents[f"{dist_info}/RECORD"] = record.encode()
    path = directory / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def write_sdist(directory: Path, name: str, version: str) -> Path:
    path = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        data = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


BUILD_BACKEND = REPO / "fixtures" / "build-backend" / "backend.py"


def write_buildable_sdist(
    directory: Path, name: str, version: str, *, tag: str = "py3-none-any", requires: tuple[str, ...] = ()
) -> Path:
    """An sdist pip builds offline: its build backend is in the sdist itself and needs nothing from an index.
    `tag` is the wheel's tag the build gives (a platform tag: a build that is not pure)."""
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = {list(requires)!r}\n'.replace("'", '"')
        + f'\n[tool.backend]\ntag = "{tag}"\n'
    )
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": pyproject,
        "backend.py": BUILD_BACKEND.read_text(),
        f"{name}/__init__.py": f"BUILT_FROM = 'the sdist of {name}'\n",
    }
    path = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{rel}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


_EXTENSION_SOURCE = r"""
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
"""


def compile_extension(workdir: Path) -> bytes | None:
    """A real CPython extension module built with debug info, or None when there is no C compiler."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        return None
    source = workdir / "speedups.c"
    source.write_text(_EXTENSION_SOURCE)
    output = workdir / "_speedups.so"
    include = sysconfig.get_paths()["include"]
    done = subprocess.run(
        [compiler, "-shared", "-fPIC", "-g", "-O1", f"-I{include}", str(source), "-o", str(output)],
        capture_output=True,
        check=False,
    )
    return output.read_bytes() if done.returncode == 0 else None


def copy_fixture(name: str, dest: Path) -> Path:
    """A fixture project copied out of the repository, so a build never writes into the checkout."""
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    return target


def lower_the_unzipped_limit(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Lambda's 262,144,000-byte limit, lowered for a test: every module reads it from _sizes when it uses it."""
    from lambda_slim import _sizes

    monkeypatch.setattr(_sizes, "UNZIPPED_LIMIT", limit)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def slim(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """`slim ARGS` in process, with `env` added to the environment: its exit code, stdout and stderr. An exception
    the CLI did not turn into a message propagates, so a crash fails the test with its traceback instead of passing
    for exit status 1."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def build_json(project: Path, *args: str) -> dict[str, Any]:
    """The JSON report of a `slim build PROJECT --format json --quiet ARGS` that must succeed."""
    code, out, err = slim("build", str(project), "--format", "json", "--quiet", *args)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def older_python(minor: int) -> str | None:
    """An interpreter of Python 3.<minor> on this machine, for the scripts that run on the target's Python (Lambda's
    runtimes start at 3.9), or None: `python3.X` on PATH when it runs (a pyenv shim may not), else pyenv's own."""
    candidates = [shutil.which(f"python3.{minor}")]
    candidates += sorted(map(str, Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[1])"], capture_output=True, text=True
        )
        if done.returncode == 0 and done.stdout.strip() == str(minor):
            return candidate
    return None


def snapshot_of_checkout(dest: Path) -> Path:
    """This repository's files at `dest`, without its git history, virtual environment and build leftovers."""
    ignored = shutil.ignore_patterns(".venv", ".git", "dist", "build", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(REPO, dest, ignore=ignored)
    return dest


def commit_all(directory: Path) -> str:
    """`directory` made a git repository of one commit holding all its files: that commit's sha."""
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=directory, check=True)
    subprocess.run([*git, "add", "-A"], cwd=directory, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=directory, check=True)
    return git_head(directory)


def git_head(directory: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Stage:
    name: str
    total: int | None
    unit: str
    steps: list[int] = field(default_factory=list)  # each advance, in order

    @property
    def done(self) -> int:
        return sum(self.steps)


@dataclass
class RecordingReporter:
    """A Reporter that keeps what it is told, stage by stage; `on_advance` runs on each advance (a test can make a
    child wait for it, to show the progress arrives while the child runs)."""

    stages: list[Stage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    on_advance: Callable[[], None] = lambda: None

    def stage(self, name: str, total: int | None = None, unit: str = "step") -> None:
        self.stages.append(Stage(name, total, unit))

    def advance(self, steps: int = 1) -> None:
        assert self.stages, "an advance before any stage"
        self.stages[-1].steps.append(steps)
        self.on_advance()

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def close(self) -> None:
        pass

    def summary(self) -> list[tuple[str, int | None, str, int]]:
        """(name, total, unit, done) of each stage."""
        return [(stage.name, stage.total, stage.unit, stage.done) for stage in self.stages]
