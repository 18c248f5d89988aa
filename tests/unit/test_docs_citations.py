"""Facts the code relies on are cited from docs/ in this repository, and every citation leads somewhere.

A comment such as `(docs/lambda-facts.md#past-breakages)` must name a file that exists and a heading in it, so a
reader can check the fact; nothing cites files outside the repository (the shared notes it was first written in).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"(?<![\w/])docs/([\w.-]+\.md)(?:#([\w-]+))?")
SOURCES = sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "tests").rglob("*.py"))


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def citations() -> list[tuple[str, str, str | None]]:
    found = []
    for path in SOURCES:
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(REPO)), match.group(1), match.group(2)))
    return found


def test_the_code_cites_facts_from_docs() -> None:
    assert any(cited == "lambda-facts.md" for _, cited, _ in citations())


@pytest.mark.parametrize(("where", "document", "anchor"), citations())
def test_each_citation_names_a_document_and_heading_that_exist(where: str, document: str, anchor: str | None) -> None:
    path = REPO / "docs" / document
    assert path.is_file(), f"{where} cites docs/{document}, which does not exist"
    if anchor is not None:
        assert anchor in anchors(path.read_text(encoding="utf-8")), f"{where} cites a heading docs/{document} lacks"


def test_nothing_cites_notes_outside_the_repository() -> None:
    outside = [str(p.relative_to(REPO)) for p in SOURCES + sorted((REPO / "docs").glob("*.md"))]
    offenders = [
        where
        for where in outside
        if where != "tests/unit/test_docs_citations.py" and "LAMBDA_FACTS" in (REPO / where).read_text("utf-8")
    ]
    assert offenders == []
