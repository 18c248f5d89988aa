"""imported_test_files: the files in test directories that import statements outside them reach."""

from __future__ import annotations

from lambda_slim._artifacts.inventory import FileEntry, Inventory
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
