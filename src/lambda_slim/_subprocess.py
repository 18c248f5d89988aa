"""The one way lambda-slim runs other programs: logged, captured, and turned into a SlimError on failure."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import SlimError, ToolError

log = logging.getLogger("lambda_slim")

_MAX_DETAIL_CHARS = 6000
# How long an interrupted child has to clean up (pip removes its temporary directories) before it is killed.
_GRACE_SECONDS = 5.0
# The children running now, by pid (each leads its own process group), the thread that started each, and those
# already interrupted.
_running: dict[int, subprocess.Popen[str]] = {}
_started_by: dict[int, int] = {}
_interrupted: set[int] = set()


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    hint: str = "",
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    error: type[SlimError] = ToolError,
    timeout: float | None = None,
    input: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd`, returning its captured output; raise `error` with the output attached when it fails.

    `what` says in words what the command was for ("resolving dependencies"), so the error reads as a
    sentence; `hint` says how to fix the usual causes. `on_line`: see capture.
    """
    args = [os.fspath(part) for part in cmd]
    log.debug("running: %s", mask_credentials(shlex.join(args)))
    try:
        done = capture(args, cwd=cwd, env=env, timeout=timeout, input=input, on_line=on_line)
    except FileNotFoundError as exc:
        raise error(f"{what} failed: {args[0]} was not found. {hint}".strip()) from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what} failed: {args[0]} did not finish within {timeout:.0f} s. {hint}".strip()) from exc
    if done.returncode != 0:
        # Shown to the user: an installer that echoes an index URL must not show its password.
        output = mask_credentials((done.stdout + done.stderr).strip())
        raise error(
            f"{what} failed ({Path(args[0]).name} exited with status {done.returncode}). {hint}".strip(),
            details=output,
        )
    return done


def capture(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    input: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """subprocess.run with the output captured, the child in a process group of its own: when this process is
    interrupted (an exception, a signal: see end_children), the child and whatever it started are ended with it.

    The child's TMPDIR is a directory of its own, removed once the child has ended: pip cleans up its temporary
    directories only when it has time to, and one killed after the grace period would leave them in /tmp.

    With `on_line`, each line the child writes (stdout or stderr, without its newline) is passed to it as soon as
    it is written, in the calling thread, so progress is reported while the child runs; the output is still
    captured whole. An exception it raises ends the child, as any interruption does."""
    with (
        tempfile.TemporaryDirectory(prefix="slim-child-", ignore_cleanup_errors=True) as private_tmp,
        subprocess.Popen(
            args,
            cwd=cwd,
            env={**(os.environ if env is None else env), "TMPDIR": private_tmp},
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        ) as process,
    ):
        _running[process.pid] = process
        _started_by[process.pid] = threading.get_ident()
        try:
            if on_line is None:
                stdout, stderr = process.communicate(input, timeout=timeout)
            else:
                stdout, stderr = _stream(process, input, timeout, on_line)
        except BaseException:
            _end(process)
            raise
        finally:
            _running.pop(process.pid, None)
            _started_by.pop(process.pid, None)
            _interrupted.discard(process.pid)
    return subprocess.CompletedProcess(list(args), process.returncode, stdout, stderr)


_EOF = None  # what a reader thread puts in the queue when its pipe has ended


def _stream(
    process: subprocess.Popen[str], input: str | None, timeout: float | None, on_line: Callable[[str], None]
) -> tuple[str, str]:
    """communicate(), line by line: a thread per pipe reads lines into a queue, and this thread hands them to
    `on_line` (a reporter need not be thread-safe). Raises TimeoutExpired as communicate does."""
    assert process.stdout is not None and process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    captured: tuple[list[str], list[str]] = ([], [])
    threads = [
        threading.Thread(target=_read_lines, args=(pipe, into, lines), daemon=True)
        for pipe, into in zip((process.stdout, process.stderr), captured, strict=True)
    ]
    if input is not None:
        assert process.stdin is not None
        threads.append(threading.Thread(target=_write_input, args=(process.stdin, input), daemon=True))
    for thread in threads:
        thread.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    open_pipes = 2
    while open_pipes:
        try:
            line = lines.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise subprocess.TimeoutExpired(process.args, timeout or 0.0) from None
        if line is _EOF:
            open_pipes -= 1
        else:
            on_line(line.rstrip("\r\n"))
    process.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
    for thread in threads:
        thread.join()
    return "".join(captured[0]), "".join(captured[1])


def _read_lines(pipe: IO[str], into: list[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in pipe:
            into.append(line)
            lines.put(line)
    except (ValueError, OSError):
        pass  # the pipe closed under it: the child was ended, and what it wrote no longer matters
    finally:
        lines.put(_EOF)


def _write_input(pipe: IO[str], text: str) -> None:
    with contextlib.suppress(BrokenPipeError), pipe:  # a child that exits without reading its input
        pipe.write(text)


def end_children(thread: int | None = None) -> None:
    """Interrupt every running child's process group as Ctrl-C would, or only those `thread` (an ident) started;
    kill what is left after a grace period. For a signal handler: it does not wait (the threads waiting on their
    children see them end)."""
    # A thread's children already interrupted (by the signal handler's call) are not interrupted again: a second
    # SIGINT would cut pip's own clean-up short.
    ended = [
        pid for pid in list(_running) if thread is None or (_started_by.get(pid) == thread and pid not in _interrupted)
    ]
    for pid in ended:
        process = _running.get(pid)
        if process is not None:
            _interrupted.add(pid)
            _signal_group(process, signal.SIGINT)
    timer = threading.Timer(_GRACE_SECONDS, _kill_children, args=(ended,))
    timer.daemon = True
    timer.start()


def _kill_children(pids: list[int]) -> None:
    for pid in pids:
        process = _running.get(pid)
        if process is not None:
            _signal_group(process, signal.SIGKILL)


def _end(process: subprocess.Popen[str]) -> None:
    if process.pid not in _interrupted:  # a second SIGINT would cut pip's own clean-up short
        _signal_group(process, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_GRACE_SECONDS)
    _signal_group(process, signal.SIGKILL)  # what ignored the interrupt, and what the child left running
    process.wait()


def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def tail(text: str, limit: int = _MAX_DETAIL_CHARS) -> str:
    """The end of a long output, where tools put the actual error: what a user is shown of it."""
    return text if len(text) <= limit else "...\n" + text[-limit:]
