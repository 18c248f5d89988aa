"""A build that is stopped leaves nothing behind (issue 13, case 14): SIGTERM ends pip and removes the build's
temporary directories as Ctrl-C does, and what a killed build left in dist/ goes with the next build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main
from tests.helpers import copy_fixture
from tests.local_index import QuietHTTPServer

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds pip's process through /proc")


@pytest.fixture()
def stalling_index() -> Iterator[tuple[str, threading.Event]]:
    """A find-links URL on 127.0.0.1 that never answers while the test runs: pip waits on it, and the event says
    that it has started to."""
    asked = threading.Event()
    release = threading.Event()

    class Stall(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            release.wait(60)
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = QuietHTTPServer(("127.0.0.1", 0), Stall)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", asked
    release.set()
    server.shutdown()
    server.server_close()


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_ends_pip_and_removes_the_temporary_directories(
    tmp_path: Path, stalling_index: tuple[str, threading.Event]
) -> None:
    url, asked = stalling_index
    project = copy_fixture("minimal", tmp_path)
    tmpdir, cache = tmp_path / "tmp", tmp_path / "cache"
    tmpdir.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "SLIM_CACHE_DIR": str(cache),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": url,
        "PIP_CONFIG_FILE": os.devnull,
    }
    build = subprocess.Popen(
        [sys.executable, "-m", "lambda_slim", "build", str(project), "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert asked.wait(60), "pip never asked the index"
        children = descendants(build.pid)
        assert children, "pip is not running under slim"
        assert any((cache / "tmp").iterdir()) or any(tmpdir.iterdir()), "no scratch directory to clean up"
        build.send_signal(signal.SIGTERM)
        _, stderr = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    # 143 = 128 + SIGTERM, as a shell reports a process that SIGTERM ended, but after cleaning up.
    assert build.returncode == 143, stderr
    assert "terminated by SIGTERM" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], "pip outlived slim"
    assert sorted(p.name for p in tmpdir.iterdir()) == []
    assert sorted(p.name for p in (cache / "tmp").iterdir()) == []
    assert not (project / "dist").exists() or sorted(p.name for p in (project / "dist").iterdir()) == []


def plant_leftovers(dist: Path) -> None:
    """What a build killed while writing its zips leaves in dist/."""
    (dist / ".slim-k1ll3d").mkdir(parents=True)
    (dist / ".slim-k1ll3d" / "function.zip").write_bytes(b"half a zip")
    (dist / ".slim-manifest.json.abc123.tmp").write_text("{")


@pytest.mark.usefixtures("offline_pip")
def test_scratch_a_killed_build_left_in_dist_is_removed_by_the_next_build(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    dist = project / "dist"
    plant_leftovers(dist)
    (dist / "mine.txt").write_text("not slim's: stays\n")
    expected = [".slim-build.json", "function.zip", "mine.txt", "slim-manifest.json"]
    args = ["build", str(project), "--format", "json", "--measure-runs", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dist.iterdir()) == expected
    # Also when nothing changed and the next build reuses the last one's artifacts.
    plant_leftovers(dist)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "nothing changed since the last build" in result.stdout
    assert sorted(p.name for p in dist.iterdir()) == expected
