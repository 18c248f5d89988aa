"""Work a build starts early and collects when it needs it: the runtime stand-in installs while pip resolves, and
the zips are written while the cold start is measured.

The stand-in and the resolution wait on the network and on their own pip process, so on any machine with a second
core they overlap almost entirely, where one after the other they added ~3 s to every cold build.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Generic, TypeVar

from lambda_slim._subprocess import end_children

T = TypeVar("T")


class Background(Generic[T]):
    """`work` running in a thread of its own; `result()` waits for it and returns (or raises) what it did."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._future: Future[T] = Future()
        self._thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._future.set_result(work())
        except BaseException as exc:  # handed to whoever waits for the result
            self._future.set_exception(exc)

    def result(self) -> T:
        return self._future.result()

    def wait(self, timeout: float) -> bool:
        """Whether the work has ended, after waiting for it at most `timeout` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def succeeded(self) -> T | None:
        """What the work returned, when it has ended without raising; else None, without waiting."""
        if self._future.done() and self._future.exception() is None:
            return self._future.result()
        return None

    def abandon(self) -> None:
        """Interrupt the programs the work runs and wait for it to end: nothing it wrote is still being written
        when the build's scratch directory goes. What it returns or raises then is of no interest."""
        if self._thread.is_alive() and self._thread.ident is not None:
            end_children(self._thread.ident)
        self._thread.join()


# The nice value of background work that must not slow what runs beside it: the lowest priority there is.
LOWEST_PRIORITY = 19


def yield_to_other_work() -> None:
    """Give the calling thread, and the threads it starts, the lowest CPU priority: work it does then takes only
    the CPU others leave idle. On Linux a nice value belongs to a thread and new threads inherit it; elsewhere
    (where a thread id is no process id) this does nothing, and the work runs at the build's priority."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class Tally:
    """A count one thread adds to while another reads it: bytes written in the background, shown as progress by the
    thread that owns the progress bar (a reporter is not shared between threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self, amount: int) -> None:
        with self._lock:
            self._value += amount

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


@contextlib.contextmanager
def in_background(work: Callable[[], T], name: str) -> Iterator[Background[T]]:
    """`work` runs while the body does, and has ended when the block is left: abandoned when the body failed or
    never asked for its result."""
    task = Background(work, name)
    try:
        yield task
    finally:
        task.abandon()
