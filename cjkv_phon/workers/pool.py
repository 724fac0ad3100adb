"""One pool of worker processes ("lanes") for ``cjkv build-data`` and ``cjkv phonemize``.

Each lane is one process and one duplex ``Pipe`` (no ``Queue``: no feeder thread, no semaphores to
leak). What the pool gives both commands:

* **Workers die with the parent** and leave Ctrl-C to it (:mod:`~cjkv_phon.workers.lifetime`);
  leaving the pool by an exception -- an error, KeyboardInterrupt, SIGTERM unwound by
  :func:`~cjkv_phon.workers.lifetime.signals_as_interrupt`, a consumer that stopped -- kills the
  workers at once instead of waiting for their current task.
* **Set up once.** With ``fork`` (where safe) the parent runs ``prepare()`` once and the lanes
  inherit the result copy-on-write, with the heap frozen so that their collectors do not copy it;
  ``shared`` (e.g. the input batches) is inherited too, never pickled. With ``spawn`` (the fallback)
  ``shared`` is pickled once per lane and each lane runs ``start(shared)`` before it reports ready,
  so set-up never falls inside the work.
* **Arrow IPC.** A task's argument or result that is an Arrow table crosses the pipe as one IPC
  stream (``send_bytes``), not as a pickle: decoding it is zero-copy.

A task is ``fn(arg, report)``, or ``fn(shared, arg, report)`` in a pool with ``shared`` state;
``report(*payload)`` sends a progress message that the parent hands to ``on_progress`` while it
waits. ``fn`` and the hooks run in the workers: module-level functions (``spawn`` pickles them).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

import pyarrow as pa

from cjkv_phon.workers.lifetime import become_worker, choose_start_method, frozen_heap

Hook = Callable[[Any], Any]


# -- Arrow IPC and messages -----------------------------------------------------------------------
def to_ipc(table: pa.Table | pa.RecordBatch) -> pa.Buffer:
    """``table`` as one Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write(table)
    return sink.getvalue()


def from_ipc(data: bytes | pa.Buffer) -> pa.Table:
    """The table of an Arrow IPC stream (zero-copy)."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _send(conn: Connection, header: tuple[Any, ...], payload: Any) -> None:
    """Send ``header`` with ``payload``: a table as IPC bytes after the header, anything else pickled."""
    if isinstance(payload, pa.Table):
        conn.send((*header, True, None))
        conn.send_bytes(to_ipc(payload))
    else:
        conn.send((*header, False, payload))


def _recv(conn: Connection) -> tuple[Any, ...]:
    """The next message sent by :func:`_send`, its table (if any) read back."""
    *header, is_table, payload = conn.recv()
    return (*header, from_ipc(conn.recv_bytes()) if is_table else payload)


# -- the worker side ------------------------------------------------------------------------------
def _worker_main(conn: Connection, parent_pid: int, shared: Any, start: Hook | None,
                 finish: Hook | None, parent_ends: list[Connection], forked: bool) -> None:
    """A lane: set up, say ``ready``, run tasks until told to stop, then say ``closed``.

    ``parent_ends``: the parent's ends of the pipes, which a forked worker inherited; closed here,
    so that the parent closing its end is seen (EOF) and the worker stops.
    """
    become_worker(parent_pid)
    for end in parent_ends:
        end.close()
    try:
        try:
            ready = start(shared) if start is not None else None
            if not forked:  # spawned: its own tables, out of its collector's way too
                gc.collect()
                gc.freeze()
        except Exception as err:  # noqa: BLE001 - a failed set-up goes back to the parent
            _send_error(conn, err)
            return
        _send(conn, ("ready",), ready)

        def report(*payload: Any) -> None:
            conn.send(("progress", payload, False, None))

        while True:
            message = conn.recv()
            if message is None:
                break
            key, fn, is_table, arg = message
            if is_table:
                arg = from_ipc(conn.recv_bytes())
            try:
                result = fn(arg, report) if shared is None else fn(shared, arg, report)
                _send(conn, ("done", key), result)
            except Exception as err:  # noqa: BLE001 - every failure goes back to the parent
                _send_error(conn, err)
        _send(conn, ("closed",), finish(shared) if finish is not None else None)
    except (EOFError, OSError):
        pass  # the parent closed the pipe or died: nothing to report
    finally:
        conn.close()


def _send_error(conn: Connection, err: Exception) -> None:
    tb = traceback.format_exc()
    try:
        conn.send(("error", err, tb, False, None))
    except Exception:  # noqa: BLE001 - an exception that does not pickle: send its text
        conn.send(("error", RuntimeError(f"{type(err).__name__}: {err}"), tb, False, None))


# -- the parent side ------------------------------------------------------------------------------
@dataclass
class _Lane:
    process: Any
    conn: Connection
    in_flight: int = 0
    ready: bool = False
    ready_payload: Any = None


class WorkerPool:
    """``n`` worker processes; use as a context manager.

    Leaving the block normally closes the pool (workers finish and exit); leaving it by an
    exception kills the workers at once.

    Args:
        n: lanes (processes).
        name: the processes' name (``ps``, ``multiprocessing.active_children``) and in messages.
        start_method: ``auto`` (fork where safe, else spawn), ``fork`` or ``spawn``.
        shared: state every worker holds (inherited with fork, pickled once per lane with spawn);
            None: tasks are ``fn(arg, report)``.
        prepare: run once in the parent before forking (fork only): the set-up the lanes inherit.
        start: ``start(shared)``, run in each lane before it reports ready; its result is what
            :meth:`ready` returns for that lane.
        finish: ``finish(shared)``, run in each lane when the pool closes; :meth:`close` returns
            the results.

    Attributes:
        method: the start method used (``fork`` or ``spawn``).
        setup_cpu_s: CPU seconds this process spent in ``prepare`` and freezing its heap.
    """

    def __init__(self, n: int, name: str, start_method: str = "auto", shared: Any = None,
                 prepare: Callable[[], Any] | None = None, start: Hook | None = None,
                 finish: Hook | None = None) -> None:
        self.name = name
        self.method = choose_start_method(start_method)
        self.lanes: list[_Lane] = []
        self._closed = False
        forked = self.method == "fork"
        ctx = mp.get_context(self.method)
        cpu = time.process_time()
        if forked and prepare is not None:
            prepare()
        try:
            with frozen_heap() if forked else nullcontext():
                self.setup_cpu_s = time.process_time() - cpu if forked else 0.0
                for _ in range(n):
                    mine, theirs = ctx.Pipe(duplex=True)
                    ends = [lane.conn for lane in self.lanes] + [mine] if forked else []
                    process = ctx.Process(target=_worker_main, daemon=True, name=name,
                                          args=(theirs, os.getpid(), shared, start, finish, ends, forked))
                    process.start()
                    theirs.close()
                    self.lanes.append(_Lane(process, mine))
        except BaseException:
            self.kill()
            raise

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()

    def ready(self) -> list[Any]:
        """Wait until every lane has set up; return what each lane's ``start`` returned.

        Optional: tasks may be submitted at once (they wait in the pipe until the lane is ready).
        """
        for i, lane in enumerate(self.lanes):
            if not lane.ready:
                self._mark_ready(lane, self._receive(i, "ready"))
        return [lane.ready_payload for lane in self.lanes]

    @staticmethod
    def _mark_ready(lane: _Lane, message: tuple[Any, ...]) -> None:
        lane.ready, lane.ready_payload = True, message[1]

    def submit(self, lane: int, fn: Callable[..., Any], arg: Any, key: Any = None) -> None:
        """Queue ``fn`` on ``arg`` on ``lane``; :meth:`next_result` returns ``key`` with its result."""
        _send(self.lanes[lane].conn, (key, fn), arg)
        self.lanes[lane].in_flight += 1

    def in_flight(self, lane: int) -> int:
        """Tasks sent to ``lane`` whose result has not been returned yet."""
        return self.lanes[lane].in_flight

    @property
    def busy(self) -> bool:
        """Whether any task is in flight."""
        return any(lane.in_flight for lane in self.lanes)

    def next_result(self, on_progress: Callable[..., None] | None = None) -> tuple[int, Any, Any]:
        """Wait for any task to finish; return ``(lane, key, result)`` or raise its exception.

        Progress messages that arrive meanwhile go to ``on_progress``. A worker that dies (killed,
        out of memory) is an error naming its exit code.
        """
        by_conn = {lane.conn: i for i, lane in enumerate(self.lanes)}
        while True:
            busy = [lane.conn for lane in self.lanes if lane.in_flight]
            if not busy:
                raise RuntimeError("no running task")
            for conn in wait(busy):
                lane = by_conn[conn]  # type: ignore[index]
                message = self._receive(lane, "progress", "done", "ready")
                if message[0] == "ready":
                    self._mark_ready(self.lanes[lane], message)
                    continue
                if message[0] == "progress":
                    if on_progress is not None:
                        on_progress(*message[1])
                    continue
                self.lanes[lane].in_flight -= 1
                return lane, message[1], message[2]

    def _receive(self, lane: int, *expected: str) -> tuple[Any, ...]:
        """The lane's next message (one of ``expected``); its error re-raised; a dead worker named."""
        process = self.lanes[lane].process
        try:
            message = _recv(self.lanes[lane].conn)
        except (EOFError, OSError):
            process.join(1)
            raise RuntimeError(f"{self.name} worker {process.pid} died (exit code "
                               f"{process.exitcode})") from None
        if message[0] == "error":
            err, tb = message[1], message[2]
            err.__cause__ = _RemoteTraceback(self.name, tb)
            raise err
        if message[0] not in expected:
            raise RuntimeError(f"{self.name} worker {process.pid} sent {message[0]!r}, "
                               f"expected {' or '.join(expected)}")
        return message

    def close(self) -> list[Any]:
        """Tell the workers to stop, wait for them; return what each lane's ``finish`` returned."""
        if self._closed:
            return []
        try:
            self.ready()  # a lane that got no task has its ready message still in the pipe
            for lane in self.lanes:
                lane.conn.send(None)
            finished = [self._receive(i, "closed")[1] for i in range(len(self.lanes))]
        except BaseException:
            self.kill()
            raise
        for lane in self.lanes:
            lane.process.join(5)
            if lane.process.is_alive():
                lane.process.kill()
                lane.process.join()
        self._close_conns()
        return finished

    def kill(self) -> None:
        """Kill every worker now (the caller removes their partial output)."""
        for lane in self.lanes:
            if lane.process.is_alive():
                lane.process.kill()
        for lane in self.lanes:
            lane.process.join()
        self._close_conns()

    def _close_conns(self) -> None:
        self._closed = True
        for lane in self.lanes:
            lane.conn.close()


class _RemoteTraceback(Exception):
    """Carries a worker's formatted traceback as the cause of the re-raised exception."""

    def __init__(self, name: str, tb: str) -> None:
        super().__init__(tb)
        self.name, self.tb = name, tb

    def __str__(self) -> str:
        return f"\n(in a {self.name} worker)\n{self.tb}"
