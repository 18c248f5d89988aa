"""The package's layout is the one README's architecture section shows, and only the public API is public."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import lambda_slim

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(lambda_slim.__file__).parent


def architecture_block() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- architecture: begin -->\n(.*?)<!-- architecture: end -->", readme, flags=re.S)
    assert found, "README has no architecture block"
    return found.group(1)


def named_subpackages() -> list[str]:
    return re.findall(r"^\s+(_?\w+)/\s", architecture_block(), flags=re.M)


def subpackages_on_disk() -> set[str]:
    return {init.parent.name for init in PACKAGE.glob("*/__init__.py")}


def test_each_subpackage_readme_names_exists() -> None:
    named = named_subpackages()
    assert len(named) >= 8
    assert [name for name in named if name not in subpackages_on_disk()] == []


def test_readme_names_every_subpackage_once() -> None:
    named = named_subpackages()
    assert sorted(named) == sorted(subpackages_on_disk())


def test_top_level_modules_readme_names_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Architecture") :]
    section = section[: section.index("\n## ")] if "\n## " in section else section
    named = set(re.findall(r"`(_\w+\.py)`", section))
    assert named, "the architecture section names no top-level module"
    assert sorted(name for name in named if not (PACKAGE / name).is_file()) == []


def test_only_the_package_itself_is_public() -> None:
    """pypa/build's and pypa/installer's convention: a module whose dotted path has no `_`-prefixed part is API."""
    public = [
        module.name
        for module in pkgutil.walk_packages([str(PACKAGE)], prefix="lambda_slim.")
        if not any(part.startswith("_") for part in module.name.split(".")[1:])
    ]
    assert public == []
