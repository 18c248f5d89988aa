"""_background: work a build starts early (the runtime stand-in's install) and collects later, or abandons."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_slim import _subprocess
from lambda_slim._background import in_background


def test_the_work_runs_beside_the_body_and_its_result_comes_back() -> None:
    started = threading.Event()

    def work() -> str:
        started.set()
        return "done"

    with in_background(work, "test") as task:
        assert started.wait(10), "the work did not start before its result was asked for"
        assert task.result() == "done"


def test_what_the_work_raises_is_raised_where_the_result_is_asked_for() -> None:
    def work() -> None:
        raise ValueError("no stand-in")

    with in_background(work, "test") as task, pytest.raises(ValueError, match="no stand-in"):
        task.result()


def test_a_failed_body_interrupts_the_works_program_and_waits_for_it(tmp_path: Path) -> None:
    """A resolve that fails must not wait for the stand-in's pip to finish, nor leave it writing into the build's
    scratch directory: the program the work runs is interrupted, and it has ended when the block is left."""
    pid_file = tmp_path / "pid"
    outcome: list[int] = []

    def work() -> None:
        done = _subprocess.capture(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"])
        outcome.append(done.returncode)

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="resolve failed"), in_background(work, "test"):
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError("resolve failed")
    assert outcome and outcome[0] != 0, "the block was left before the work ended"
    assert time.monotonic() - started < 30, "the work's program ran to its end"


def test_only_the_works_own_programs_are_interrupted(tmp_path: Path) -> None:
    """end_children(thread) leaves alone what other threads run: the main thread's pip goes on."""
    others: list[int] = []
    marker = tmp_path / "other"
    other = threading.Thread(
        target=lambda: others.append(_subprocess.capture(["sh", "-c", f"touch {marker}; sleep 1; exit 7"]).returncode)
    )
    other.start()
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with in_background(lambda: _subprocess.capture(["sleep", "60"]), "test"):
        time.sleep(0.2)
    other.join(10)
    assert others == [7]


@pytest.fixture()
def sigint_not_ignored() -> Iterator[None]:
    """Started as a background job of a shell script, pytest has SIGINT ignored, every child inherits that, and
    sh's trap cannot undo it: a handler of this process's own is reset to the default in its children."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_not_ignored")
def test_a_child_the_signal_handler_interrupted_is_not_interrupted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a build: the signal handler interrupts every child, then the build's failure abandons the
    background work, whose pip must not get a second SIGINT (that cuts its own clean-up short)."""
    monkeypatch.setattr(_subprocess, "_GRACE_SECONDS", 1.0)
    count = tmp_path / "interrupts"
    script = f"trap 'echo int >> {count}' INT; touch {tmp_path / 'ready'}; while :; do sleep 0.05; done"
    worker = threading.Thread(target=lambda: _subprocess.capture(["sh", "-c", script]))
    worker.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _subprocess.end_children()  # the signal handler's
    time.sleep(0.3)
    assert worker.ident is not None
    _subprocess.end_children(worker.ident)  # the abandoned background work's
    worker.join(10)  # SIGKILL after the grace period ends it
    assert count.read_text().splitlines() == ["int"]
