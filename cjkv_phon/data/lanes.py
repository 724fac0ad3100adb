"""Worker processes ("lanes") that die with their parent, and signals that unwind like Ctrl-C.

A build runs its files on a few long-lived worker processes. They must never outlive the build:

* a worker watches its parent (``PR_SET_PDEATHSIG`` on Linux, and a thread that polls ``getppid``
  everywhere), so a ``kill -9`` of the parent takes the workers with it within a fraction of a second;
* a worker ignores SIGINT: Ctrl-C reaches the whole foreground process group, and it is the parent's
  job to stop its workers and clean up (a traceback from every worker helps nobody);
* the parent talks to each worker over one ``Pipe`` (no ``Queue``: no semaphores to leak), and on any
  exception -- including KeyboardInterrupt and SIGTERM, see :func:`signals_as_interrupt` -- kills its
  workers at once instead of waiting for their current file.

A worker runs ``fn(arg, report)``; ``report(*payload)`` sends a progress message to the parent, which
hands it to the ``on_progress`` callback while it waits for results.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterator

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.2


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) turned into the same unwinding as Ctrl-C.

    Attributes:
        signum: the signal received; the CLI exits with ``128 + signum``, the shell convention.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextmanager
def signals_as_interrupt(signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise :class:`Interrupted`, so ``finally`` clauses run.

    Python's default for SIGTERM is to die on the spot: no cleanup, workers orphaned, staging left
    behind. Only the main thread may install handlers; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit as soon as ``parent_pid`` is gone (called first thing in a worker)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watch thread below still covers it
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(_POLL_S)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _lane_main(conn: Connection, parent_pid: int) -> None:
    """A worker's loop: receive ``(fn, arg)``, run it, send ``("done", result)`` or ``("error", ...)``."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def report(*payload: Any) -> None:
        conn.send(("progress", payload))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe or died
            return
        if message is None:
            return
        fn, arg = message
        try:
            conn.send(("done", fn(arg, report)))
        except Exception as err:  # noqa: BLE001 - every failure goes back to the parent
            try:
                conn.send(("error", err, traceback.format_exc()))
            except Exception:  # noqa: BLE001 - an unpicklable exception: send its text
                conn.send(("error", RuntimeError(f"{type(err).__name__}: {err}"), traceback.format_exc()))


class Lanes:
    """``n`` worker processes (spawned, so a caller's threads and locks are never copied).

    Use as a context manager; leaving it normally stops the workers, leaving it by an exception
    kills them at once.
    """

    def __init__(self, n: int) -> None:
        ctx = get_context("spawn")
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        for _ in range(n):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_lane_main, args=(child_end, os.getpid()), daemon=True,
                               name="cjkv-build-worker")
            proc.start()
            child_end.close()
            self.procs.append(proc)
            self.conns.append(parent_end)
        self.busy: dict[int, bool] = {i: False for i in range(n)}

    def __enter__(self) -> "Lanes":
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()

    def submit(self, lane: int, fn: Callable[[Any, Callable[..., None]], Any], arg: Any) -> None:
        """Start ``fn(arg, report)`` on an idle lane."""
        self.conns[lane].send((fn, arg))
        self.busy[lane] = True

    def next_result(self, on_progress: Callable[..., None] | None = None) -> tuple[int, Any]:
        """Wait for any busy lane to finish; return ``(lane, result)`` or raise its exception.

        Progress messages that arrive meanwhile go to ``on_progress``. A worker that dies (killed,
        out of memory) is an error naming its exit code.
        """
        while True:
            busy = [self.conns[i] for i, b in self.busy.items() if b]
            if not busy:
                raise RuntimeError("no running task")
            for conn in wait(busy):
                lane = self.conns.index(conn)  # type: ignore[arg-type]
                try:
                    kind, *rest = conn.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    self.procs[lane].join(1)
                    raise RuntimeError(f"build worker {self.procs[lane].pid} died (exit code "
                                       f"{self.procs[lane].exitcode})") from None
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(*rest[0])
                    continue
                self.busy[lane] = False
                if kind == "error":
                    err, tb = rest
                    err.__cause__ = _RemoteTraceback(tb)
                    raise err
                return lane, rest[0]

    def close(self) -> None:
        """Ask idle workers to exit and wait for them."""
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._close_conns()

    def kill(self) -> None:
        """Kill every worker now (their partial output is in a staging folder the caller removes)."""
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
        for proc in self.procs:
            proc.join()
        self._close_conns()

    def _close_conns(self) -> None:
        for conn in self.conns:
            conn.close()


class _RemoteTraceback(Exception):
    """Carries a worker's formatted traceback as the cause of the re-raised exception."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f"\n(in the build worker)\n{self.tb}"
