"""How a worker process lives and dies, and how its parent starts it.

A worker must never outlive the command that started it, and must not get in its parent's way:

* it watches its parent (``PR_SET_PDEATHSIG`` on Linux, and a thread that polls ``getppid``
  everywhere), so a ``kill -9`` of the parent takes the workers with it within a fraction of a
  second (:func:`die_with_parent`);
* it ignores SIGINT: Ctrl-C reaches the whole foreground process group, and it is the parent's
  job to stop its workers and clean up (a traceback from every worker helps nobody);
* in the parent, SIGTERM and SIGHUP unwind like Ctrl-C (:func:`signals_as_interrupt`), so the
  ``finally`` clauses that kill the workers and remove half-written output run.

How workers start (:func:`choose_start_method`): ``fork`` where it is safe (Linux, no other Python
thread running), so the parent sets up once and the workers inherit it copy-on-write; else
``spawn``. Before forking, the parent's heap is frozen (:func:`frozen_heap`): a worker's collector
then never walks, and so never copies, the inherited tables.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

START_METHODS: tuple[str, ...] = ("auto", "fork", "spawn")
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


def become_worker(parent_pid: int) -> None:
    """What every worker does first: die with the parent, leave Ctrl-C to it."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def choose_start_method(method: str) -> str:
    """``fork`` or ``spawn`` for ``method`` (``auto``: fork on Linux when no other thread runs).

    Forking a process with other threads running can copy a lock another thread holds; ``spawn``
    is always safe but makes every worker re-import and re-build everything.

    Raises:
        ValueError: an unknown method, or ``fork`` where the platform has none.
    """
    if method not in START_METHODS:
        raise ValueError(f"unknown start method {method!r}; valid: {', '.join(START_METHODS)}")
    available = mp.get_all_start_methods()
    if method == "auto":
        safe = sys.platform.startswith("linux") and threading.active_count() == 1
        return "fork" if safe and "fork" in available else "spawn"
    if method not in available:
        raise ValueError(f"start method {method!r} is not available here (have {', '.join(available)})")
    return method


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything allocated so far moved out of the collector's reach while the block runs.

    Long-lived tables (the phonemizers') are then not walked by every full collection of a long
    run, and a forked worker does not copy them by touching them (see the module docstring).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
