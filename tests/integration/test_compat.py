"""The compatibility corpus in CI: a small, fast subset, built from PyPI (the whole corpus: compat/run.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from compat.check import check, module_file, module_names
from compat.run import corpus

# Small distributions, each with something the rules act on: compiled extensions (strip), tests, type stubs.
CI_SUBSET = ("pyyaml", "pyjwt", "orjson", "jinja2", "python-dateutil")


def pinned(name: str) -> str:
    for requirement, _ in corpus():
        if requirement.split("==")[0].split("[")[0].lower() == name:
            return requirement
    raise AssertionError(f"{name} is not in compat/corpus.txt")


@pytest.mark.network
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the corpus targets python3.11")
@pytest.mark.parametrize("name", CI_SUBSET)
def test_corpus_distribution_imports_the_same_slimmed(name: str, tmp_path: Path) -> None:
    outcome = check(pinned(name), tmp_path)
    assert outcome.passed, "\n".join(outcome.failures)
    assert outcome.modules_checked > 0 and outcome.distributions > 0
    assert outcome.slim_bytes <= outcome.naive_bytes


def test_corpus_is_pinned_and_large_enough() -> None:
    entries = corpus()
    assert len(entries) >= 40
    assert all("==" in requirement for requirement, _ in entries)
    assert all(category for _, category in entries)


def test_modules_are_found_from_files(tmp_path: Path) -> None:
    files = ["pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py", "pkg/_ext.cpython-311-x86_64-linux-gnu.so",
             "top.py", "ns/part.py", "not-a-module/x.py", "pkg/data.txt", "pkg-1.0.dist-info/METADATA"]  # fmt: skip
    for path in files:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert module_names(tmp_path) == {"pkg", "pkg.sub", "pkg.sub.mod", "pkg._ext", "top", "ns.part"}
    assert module_file(tmp_path, "pkg._ext") is not None and module_file(tmp_path, "pkg.gone") is None
