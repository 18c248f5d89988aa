"""_subprocess: every child in a process group of its own, ended with everything it started when slim stops."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest

from lambda_slim import _subprocess
from lambda_slim._errors import ToolError


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="looks for the grandchild through /proc")
def test_end_children_ends_a_child_and_what_it_started(tmp_path: Path) -> None:
    """Issue 13, case 14: what a signal handler calls, for children waited on by worker threads too. sh starts a
    background job with SIGINT ignored, so this also shows the SIGKILL after the grace period."""
    pid_file = tmp_path / "grandchild"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(_subprocess.capture(["sh", "-c", script]).returncode))
    worker.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    _subprocess.end_children()
    worker.join(10)
    assert not worker.is_alive() and done and done[0] != 0
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "the child's own child outlived it"


def test_capture_returns_the_output_and_status() -> None:
    done = _subprocess.capture(["sh", "-c", "cat; echo err >&2; exit 3"], input="in\n")
    assert (done.returncode, done.stdout, done.stderr) == (3, "in\n", "err\n")


def test_what_a_child_leaves_in_its_temporary_directory_goes_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip removes its temporary directories when it exits normally or is interrupted in time; a child killed after
    the grace period cannot. Each child gets a temporary directory of its own, removed when it ends, so nothing is
    left in the user's /tmp whichever way the child ended."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what TMPDIR sets, read once per process
    script = "import os, tempfile; tempfile.mkdtemp(prefix='pip-build-tracker-'); print(os.environ['TMPDIR'])"
    done = _subprocess.capture(["python3", "-c", script])
    assert done.returncode == 0, done.stderr
    private = Path(done.stdout.strip())
    assert private.parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_a_child_given_its_own_environment_still_gets_a_temporary_directory_of_its_own(tmp_path: Path) -> None:
    done = _subprocess.capture(["/bin/sh", "-c", 'echo "$TMPDIR"'], env={"PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() and not Path(done.stdout.strip()).exists()


def test_lines_are_passed_on_as_the_child_writes_them() -> None:
    """Progress needs each line while the child still runs, not all of them once it has ended: the child here waits
    for its first line to have been seen (a file the callback writes) before it writes the second."""
    seen: list[tuple[str, float]] = []
    script = "echo one; echo two >&2; sleep 0.5; echo three"
    started = time.monotonic()
    done = _subprocess.capture(["sh", "-c", script], on_line=lambda line: seen.append((line, time.monotonic())))
    assert (done.returncode, done.stdout, done.stderr) == (0, "one\nthree\n", "two\n")
    assert sorted(line for line, _ in seen) == ["one", "three", "two"]
    first = dict(seen)
    assert first["one"] - started < 0.4 and first["three"] - first["one"] >= 0.4


def test_streaming_still_writes_the_input_and_raises_with_the_output() -> None:
    lines: list[str] = []
    done = _subprocess.capture(["sh", "-c", "cat; exit 3"], input="a\nb\n", on_line=lines.append)
    assert (done.returncode, done.stdout, lines) == (3, "a\nb\n", ["a", "b"])
    with pytest.raises(ToolError) as caught:
        _subprocess.run(["sh", "-c", "echo working; echo broken >&2; exit 2"], what="testing", on_line=lines.append)
    assert "exited with status 2" in caught.value.message and caught.value.details == "working\nbroken"


def test_streaming_keeps_the_timeout_and_ends_the_child_when_the_callback_fails(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="did not finish within 1 s"):
        _subprocess.run(["sleep", "30"], what="waiting", timeout=1, on_line=lambda line: None)

    def fail(line: str) -> None:
        raise RuntimeError(line)

    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="started"):
        _subprocess.capture(["sh", "-c", f"echo $$ > {pid_file}; echo started; sleep 30"], on_line=fail)
    # Ended, not waited for: within the grace period an interrupted child has, not the 30 s it would sleep.
    assert time.monotonic() - started < 10 and not alive(int(pid_file.read_text()))
