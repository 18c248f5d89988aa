"""`slim profile --format html` in a real headless browser: the import tree renders, collapsible, the deferrable
import marked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import copy_fixture, slim
from tests.integration.test_analyze_html import CHROMIUM_FLAGS, chromium  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("offline_pip")


def test_the_import_tree_renders_collapsible_with_the_lazy_import_marked(tmp_path: Path, chromium: str) -> None:  # noqa: F811
    project = copy_fixture("import-heavy-at-init", tmp_path)
    code, _, err = slim("build", str(project), "-q")
    assert code == 0, err
    page = tmp_path / "profile.html"
    code, _, err = slim("profile", str(project / "dist"), "--runs", "1", "--format", "html", "-o", str(page))
    assert code == 0, err
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # no CDN, no network

    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, "--user-data-dir=" + str(tmp_path / "browser"), "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The script ran: the handler's module is an open node holding its imports, report is marked deferrable.
    assert tag(dom.stdout, "handler") == ("details", {"open", 'class="node"'}), dom.stdout[-3000:]
    assert tag(dom.stdout, "report") == ("div", {'class="leaf node deferrable"'})
    assert tag(dom.stdout, "greeting") == ("div", {'class="leaf node"'})
    assert 'class="lazy"' in dom.stdout and "handler.py:4 import report → report" in dom.stdout
    assert 'class="distribution"' in dom.stdout and 'Import profile of <code id="handler">handler.handler' in dom.stdout


def tag(dom: str, module: str) -> tuple[str, set[str]]:
    """The element of a module's node and its attributes (but data-module), in whatever order the browser wrote."""
    found = re.search(
        rf'<(\w+)((?:\s+[\w-]+(?:="[^"]*")?)*\s+data-module="{re.escape(module)}"(?:\s+[\w-]+(?:="[^"]*")?)*)>', dom
    )
    assert found is not None, module
    attributes = {a.replace('=""', "") for a in re.findall(r'[\w-]+(?:="[^"]*")?', found.group(2))}
    return found.group(1), attributes - {f'data-module="{module}"'}
