"""Shared fixtures: a session-built find-links directory of tiny wheels, so builds run offline. Plain helpers are in
tests/helpers.py."""

from __future__ import annotations

import inspect
import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    MANYLINUX,
    PY_TAG,
    compile_extension,
    copy_fixture,
    write_buildable_sdist,
    write_sdist,
    write_wheel,
)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every wheel the offline tests install, built once per session."""
    house = tmp_path_factory.mktemp("wheelhouse")
    write_wheel(
        house,
        "slimdemo",
        "1.0",
        {
            "slimdemo/__init__.py": "from slimdemo.core import greet\n",
            "slimdemo/core.py": "def greet(name):\n    return f'hello {name}'\n",
            "slimdemo/core.pyi": "def greet(name: str) -> str: ...\n",
            "slimdemo/py.typed": "",
            "slimdemo/tests/__init__.py": "",
            "slimdemo/tests/test_core.py": "def test_greet():\n    assert True\n" * 50,
            "slimdemo/docs/guide.md": "# guide\n" * 100,
            "slimdemo/include/slimdemo.h": "int x;\n" * 100,
        },
        requires=("slimdep>=1",),
    )
    write_wheel(house, "slimdep", "1.0", {"slimdep/__init__.py": "VALUE = 1\n"})
    write_wheel(house, "slimdep", "2.0", {"slimdep/__init__.py": "VALUE = 2\n"})
    write_wheel(house, "devonly", "1.0", {"devonly/__init__.py": ""})
    write_wheel(house, "testonly", "1.0", {"testonly/__init__.py": ""})
    write_wheel(
        house,
        "metaimport",
        "1.0",
        {
            # As packages that check their own version at import do (pkg_resources.require raises likewise).
            "metaimport/__init__.py": "from importlib.metadata import version\n"
            "__version__ = version('metaimport')\n"
            "if __version__ is None:\n"
            "    raise ImportError('metaimport needs its metadata')\n"
        },
    )
    write_wheel(
        house,
        "docspkg",
        "1.0",
        {
            "docspkg/__init__.py": "from docspkg import docs\n",
            "docspkg/docs/__init__.py": "TOPICS = ['a']\n",
            "docspkg/examples/example.txt": "not code\n",
        },
    )
    write_wheel(
        house,
        "owntests",
        "1.0",
        {
            # A package that imports from its own tests package at run time, by a name in a string: the rules
            # cannot see it (they follow import statements), so the build's safety net has to put it back.
            "owntests/__init__.py": (
                "import importlib\n\nMARKER = importlib.import_module('owntests.tests.helpers').MARKER\n"
            ),
            "owntests/tests/__init__.py": "",
            "owntests/tests/helpers.py": "MARKER = 'needed at run time'\n",
            "owntests/tests/test_owntests.py": "def test_marker():\n    pass\n",
        },
    )
    write_wheel(
        house,
        "runtimetest",
        "1.0",
        {
            # Like django.test: run-time code in a directory named test, imported by the package; and real tests.
            "runtimetest/__init__.py": "from runtimetest.core import ready\n",
            "runtimetest/core.py": "from runtimetest.test import signals\n\nready = signals.READY\n",
            "runtimetest/test/__init__.py": "from .signals import READY\n",
            "runtimetest/test/signals.py": "from . import names\n\nREADY = names.READY\n",
            "runtimetest/test/names.py": "READY = 'ready'\n",
            "runtimetest/test/unused.py": "UNUSED = True\n",
            "runtimetest/tests/__init__.py": "",
            "runtimetest/tests/test_core.py": "def test_ready():\n    pass\n" * 40,
        },
    )
    # Shaped like botocore: a model directory per service, and shared files beside them.
    write_wheel(
        house,
        "botocore",
        "0.0.1",
        {
            "botocore/__init__.py": "",
            "botocore/data/endpoints.json": "{}",
            "botocore/data/s3/2006-03-01/service-2.json": '{"operations": {}}' * 50,
            "botocore/data/ec2/2016-11-15/service-2.json": '{"operations": {}}' * 500,
            "botocore/data/sts/2011-06-15/service-2.json": '{"operations": {}}' * 20,
        },
        requires=("onlyforboto", "sharedlib"),
    )
    # The runtime-provided family, shaped like boto3's: what only it needs goes with it, a shared dependency stays.
    write_wheel(house, "boto3", "0.0.1", {"boto3/__init__.py": "import botocore, s3transfer\nVERSION = 'bundled'\n"},
                requires=("botocore", "s3transfer", "jmespath"))  # fmt: skip
    write_wheel(house, "s3transfer", "0.0.1", {"s3transfer/__init__.py": ""}, requires=("botocore",))
    write_wheel(house, "jmespath", "0.0.1", {"jmespath/__init__.py": ""})
    write_wheel(house, "onlyforboto", "1.0", {"onlyforboto/__init__.py": ""})
    write_wheel(house, "sharedlib", "1.0", {"sharedlib/__init__.py": "SHARED = True\n"})
    # A development tool named like the real one, with a dependency only it needs: neither belongs in a function.
    write_wheel(house, "pytest", "0.0.1", {"pytest/__init__.py": "", "_pytest/main.py": "X = 1\n" * 500},
                requires=("devtooldep",))  # fmt: skip
    write_wheel(house, "devtooldep", "1.0", {"devtooldep/__init__.py": "Y = 2\n" * 300})
    write_wheel(house, "appclient", "1.0", {"appclient/__init__.py": "import sharedlib\n"}, requires=("sharedlib",))
    write_wheel(
        house,
        "tracedpkg",
        "1.0",
        {
            "tracedpkg/__init__.py": "",
            "tracedpkg/used.py": (
                "import json, os\n\nDATA = open(os.path.join(os.path.dirname(__file__), 'data.json')).read()\n\n\n"
                "def run():\n    return json.loads(DATA)\n"
            ),
            "tracedpkg/data.json": '{"answer": 42}',
            "tracedpkg/unused.py": "X = 1\n" * 1000,
            "tracedpkg/optional.txt": "present\n",
            # Plugin discovery: the directory is listed, so all of it stays, imported or not.
            "tracedpkg/plugins/__init__.py": (
                "import os\n\nNAMES = sorted(n for n in os.listdir(os.path.dirname(__file__)) if n.endswith('.py'))\n"
            ),
            "tracedpkg/plugins/alpha.py": "",
            "tracedpkg/plugins/beta.py": "",
            # Formats loaded by a computed name: the event picks one, so every format stays.
            "tracedpkg/formats/__init__.py": (
                "import importlib\n\n\ndef load(name):\n"
                "    return importlib.import_module(f'tracedpkg.formats.{name}').NAME\n"
            ),
            "tracedpkg/formats/csv.py": "NAME = 'csv'\n",
            "tracedpkg/formats/xml.py": "NAME = 'xml'\n",
            "tracedpkg/static/__init__.py": "",
            "tracedpkg/static/helper.py": "import json\n",
            "tracedpkg/static/other.py": "",
        },
    )
    # 300 KB that does not compress: with the unzipped limit lowered in a test, one distribution over it.
    write_wheel(house, "bigdist", "1.0", {"bigdist/__init__.py": "", "bigdist/blob.bin": os.urandom(300_000)})
    # Named like the real cffi, whose headers the built-in keep-list protects from the c-sources rule.
    write_wheel(house, "cffi", "0.0.1", {"cffi/__init__.py": "", "cffi/parse_c_type.h": "struct x;\n"})
    write_sdist(house, "onlysdist", "1.0")
    write_wheel(
        house, "macosonly", "1.0", {"macosonly/__init__.py": ""}, tag=f"{PY_TAG}-{PY_TAG}-macosx_11_0_arm64", pure=False
    )
    extension = compile_extension(house)
    if extension is not None:
        write_wheel(
            house,
            "fastext",
            "1.0",
            {
                "fastext/__init__.py": "from fastext._speedups import answer\n",
                f"fastext/_speedups{sysconfig.get_config_var('EXT_SUFFIX')}": extension,
                "fastext.libs/libhelper-1a2b3c4d.so": extension,
            },
            tag=f"{PY_TAG}-{PY_TAG}-{MANYLINUX}",
            pure=False,
        )
    # Dependencies behind environment markers, to be judged for the Lambda target rather than the build machine.
    for name in ("armonly", "x86only", "newpy", "oldpy", "patchrelease"):
        write_wheel(house, name, "1.0", {f"{name}/__init__.py": ""})
    write_wheel(
        house,
        "crossdep",
        "1.0",
        {"crossdep/__init__.py": ""},
        requires=(
            'armonly ; platform_machine == "aarch64"',
            'x86only ; platform_machine == "x86_64"',
            'newpy ; python_version >= "3.12"',
            'oldpy ; python_version < "3.12"',
        ),
    )
    # The dev group of the lock-file fixture projects (fixtures/projects/*-lock-project): it must never ship.
    write_wheel(house, "devtoolonly", "1.0", {"devtoolonly/__init__.py": ""})
    # Published only as sdists that build offline: a pure one (in place of the unbuildable onlysdist above), one
    # whose build gives a wheel for this machine, and a pure one with a dependency of its own.
    write_buildable_sdist(house, "onlysdist", "1.0")
    write_buildable_sdist(house, "nativesdist", "1.0", tag=f"{PY_TAG}-{PY_TAG}-linux_x86_64")
    write_buildable_sdist(house, "sdistwithdep", "2.0", requires=("slimdep>=2",))
    # An index project named like the monorepo's local library: a build must never ship it.
    write_wheel(house, "shared", "9.9", {"shared/__init__.py": "ORIGIN = 'the index'\n"})
    write_wheel(house, "common", "9.9", {"common/__init__.py": "ORIGIN = 'the index'\n"})
    return house


@pytest.fixture(scope="session")
def shared_runtime_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the network tests' builds keep the runtime stand-in (boto3, botocore ... from PyPI, ~100 MB with their
    bytecode): installed by the first build that verifies, found by the rest, as in a user's cache."""
    return tmp_path_factory.mktemp("runtime-set")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """Each test its own per-distribution cache: tests neither share entries nor write to ~/.cache. A network test
    shares one thing, the runtime stand-in, unless it asks for this fixture to prepare or inspect its cache."""
    cache = tmp_path / "slim-cache"
    monkeypatch.setenv("SLIM_CACHE_DIR", str(cache))
    if (
        request.node.get_closest_marker("network")
        and "private_cache" not in inspect.signature(request.function).parameters
    ):
        cache.mkdir()
        (cache / "runtime").symlink_to(request.getfixturevalue("shared_runtime_set"), target_is_directory=True)
    return cache


@pytest.fixture()
def offline_pip(wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees only the session's wheelhouse: no index, no machine-wide pip configuration."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_CONSTRAINT", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # uv reads its own settings: an empty index, the wheelhouse, and no uv.toml of the machine.
    empty_index = wheelhouse.parent / "empty-index"
    empty_index.mkdir(exist_ok=True)
    monkeypatch.setenv("UV_INDEX_URL", empty_index.as_uri())
    monkeypatch.setenv("UV_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.delenv("UV_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("UV_DEFAULT_INDEX", raising=False)
    return wheelhouse


@pytest.fixture()
def one_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip and uv see one pure wheel, slimdemo 1.0, and nothing else: quicker than the session's whole wheelhouse."""
    house = tmp_path / "wheels"
    house.mkdir()
    write_wheel(house, "slimdemo", "1.0", {"slimdemo/__init__.py": "", "slimdemo/core.py": "VALUE = 1\n"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
    return house


@pytest.fixture()
def project_factory(tmp_path: Path) -> Iterator[object]:
    def make(name: str) -> Path:
        return copy_fixture(name, tmp_path)

    yield make
