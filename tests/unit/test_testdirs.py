"""imported_test_files: the files in test directories that import statements outside them reach."""

from __future__ import annotations

import ast

import pytest

from lambda_slim._artifacts.inventory import FileEntry, Inventory
from lambda_slim._slimming import testdirs
from lambda_slim._slimming.testdirs import imported_test_files, in_test_dir

TAG = "cpython-311"


def in_use(files: dict[str, str]) -> set[str]:
    inventory = Inventory(tuple(FileEntry(path, len(text)) for path, text in sorted(files.items())))
    return set(imported_test_files(inventory, lambda path: files[path].encode(), TAG))


def test_nothing_imports_the_tests() -> None:
    assert in_use({"pkg/__init__.py": "", "pkg/tests/__init__.py": "", "pkg/tests/test_a.py": "import pkg\n"}) == set()


def test_absolute_import_keeps_the_module_its_packages_and_their_pycs() -> None:
    found = in_use(
        {
            "pkg/core.py": "from pkg.test.client import Client\n",
            "pkg/test/__init__.py": "",
            "pkg/test/client.py": "class Client: pass\n",
            "pkg/test/other.py": "",
        }
    )
    assert found == {
        "pkg/test/__init__.py",
        "pkg/test/client.py",
        f"pkg/test/__pycache__/__init__.{TAG}.pyc",
        f"pkg/test/__pycache__/client.{TAG}.pyc",
    }


def test_imports_are_followed_through_test_modules_with_relative_imports() -> None:
    found = in_use(
        {
            "pkg/__init__.py": "from . import test\n",
            "pkg/test/__init__.py": "from .signals import READY\n",
            "pkg/test/signals.py": "from ..test import names\nfrom . import helpers\n",
            "pkg/test/names.py": "",
            "pkg/test/helpers.py": "",
            "pkg/test/unused.py": "",
        }
    )
    sources = {path for path in found if path.endswith(".py")}
    assert sources == {"pkg/test/__init__.py", "pkg/test/signals.py", "pkg/test/names.py", "pkg/test/helpers.py"}


def test_conftest_and_other_tests_do_not_count() -> None:
    files = {
        "pkg/conftest.py": "from pkg.tests.util import fixture\n",
        "pkg/tests/__init__.py": "",
        "pkg/tests/util.py": "",
        "pkg/other/tests/test_x.py": "from pkg.tests.util import fixture\n",
    }
    assert in_use(files) == set()


def test_another_distribution_importing_a_test_module_counts() -> None:
    # pandas imports numpy._core.tests._natype.
    files = {"otherpkg/x.py": "from numpy._core.tests._natype import pd_NA\n", "numpy/_core/tests/_natype.py": ""}
    assert "numpy/_core/tests/_natype.py" in in_use(files)


def test_unparsable_files_are_skipped() -> None:
    assert in_use({"pkg/bad.py": "def (:\n  tests", "pkg/tests/a.py": ""}) == set()


def test_in_test_dir() -> None:
    assert in_test_dir("pkg/tests/a.py") and in_test_dir("pkg/test/sub/b.py")
    assert not in_test_dir("pkg/testing/a.py") and not in_test_dir("tests.py") and not in_test_dir("pkg/test.py")


@pytest.mark.parametrize(
    "statement",
    [
        "from pkg.tests.util import helper",
        "from . import tests",
        "from .tests import util",
        "from . import (\n    other,  # (not this one)\n    tests,\n)",
        "from pkg import other, \\\n    tests",
        "from pkg.tests \\\n    import util",
        "import os; import pkg.tests.util",
        "import os, pkg.tests.util as helper",
        "if True: import pkg.tests.util",
        "def load():\n    import pkg.tests.util",
        "try:\n    pass\nexcept ImportError:\n    from pkg.tests import util",
        "try:\n    pass\nfinally:\n    from pkg.tests import util",
        "for _ in ():\n    pass\nelse:\n    from pkg.tests import util",
        "with open('x'):\n    from pkg.tests import util",
        "class Lazy:\n    def load(self):\n        if self:\n            from pkg.tests import util",
        "match 1:\n    case 1:\n        from pkg.tests import util",
    ],
)
def test_every_form_of_import_statement_is_followed(statement: str) -> None:
    # Only files whose bytes hold an import statement naming a test directory are parsed: each of these must.
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": statement + "\n",
        "pkg/tests/__init__.py": "",
        "pkg/tests/util.py": "",
    }
    assert f"pkg/tests/__pycache__/__init__.{TAG}.pyc" in in_use(files)


def test_only_files_whose_import_statements_name_a_test_directory_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parsing every source file that mentions "tests" took 1.4 s of `slim analyze` on pandas, numpy and pyarrow.
    parsed: list[str] = []

    class RecordingAst:  # not ast.parse itself: pytest parses with it too
        def __getattr__(self, name: str) -> object:
            return getattr(ast, name)

        def parse(self, source: bytes, filename: str) -> ast.Module:
            parsed.append(filename)
            return ast.parse(source, filename=filename)

    monkeypatch.setattr(testdirs, "ast", RecordingAst())
    files = {
        "pkg/__init__.py": "from pkg.core import run\n",
        "pkg/docs.py": '"""Run the tests with pytest; see tests/README."""\n# the test suite\ntests = []\n',
        "pkg/runner.py": "import os\nfrom pkg.testing import tester\n\ntest = tester(os.name)\n",
        "pkg/core.py": "import json\nfrom pkg.tests import util\n",
        "pkg/tests/__init__.py": "",
        "pkg/tests/util.py": "import json\n",
    }
    assert "pkg/tests/util.py" in in_use(files)
    assert sorted(parsed) == ["pkg/core.py", "pkg/tests/__init__.py", "pkg/tests/util.py"]
