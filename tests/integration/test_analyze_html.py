"""The HTML report in a real headless browser (Debian's chromium): it renders, and the treemap has its nodes."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    return found


def test_html_report_renders_a_treemap(tmp_path: Path, chromium: str) -> None:
    package = tmp_path / "function.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", "import bigpkg\n")
        archive.writestr("bigpkg/__init__.py", "x = 1\n" * 5000)
        archive.writestr("bigpkg/tests/test_big.py", "def test():\n    pass\n" * 3000)
        archive.writestr("bigpkg-1.0.dist-info/RECORD", "bigpkg/__init__.py,,\nbigpkg/tests/test_big.py,,\n")
        archive.writestr("smallpkg/__init__.py", "y = 2\n" * 100)
        archive.writestr("smallpkg-2.0.dist-info/RECORD", "smallpkg/__init__.py,,\n")
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["analyze", str(package), "--format", "html", "-o", str(report)])
    assert result.exit_code == 0, result.stderr
    assert "http://" not in report.read_text() and "https://" not in report.read_text()  # no CDN, no network

    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The script ran: the treemap's nodes and the findings rows exist in the rendered DOM.
    assert 'class="node" data-name="bigpkg"' in dom.stdout
    assert 'class="node" data-name="smallpkg"' in dom.stdout
    assert 'data-name="(app)"' in dom.stdout
    assert 'class="finding"' in dom.stdout and "slim build would remove" in dom.stdout

    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, *profile, f"--screenshot={screenshot}", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
