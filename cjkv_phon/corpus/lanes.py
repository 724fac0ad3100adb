"""The local engine's worker processes: N lanes, each one process and one pipe, fed batch by batch.

Why it is built this way (issue 12: 2 workers were no faster than 1):

* **Set-up once, before the work.** With ``fork`` (the default on Linux when this process runs no
  other Python thread) the parent builds the Transcriber once -- phonemizer tables, the phonemizers
  its language routes other scripts to, and the lazily loaded tables, through a warm-up sentence
  (:data:`~cjkv_phon.data.transcriber.WARM_UP_TOKENS`) -- and the lanes inherit it, copy-on-write:
  no worker re-imports the tools or rebuilds a table, and nothing is loaded mid-stream. With
  ``spawn`` (other platforms, or a threaded parent, where forking is unsafe) each lane builds its own
  copy once, before it reports ready, so set-up never falls inside the throughput either.
* **Nothing big crosses a pipe twice.** A forked lane already holds the input batches; a task is
  one integer. A spawned lane gets the batch as Arrow IPC bytes (the slice only). Results come back
  as one Arrow IPC stream per batch: decoding it in the parent is zero-copy, so the parent's serial
  share is receiving, writing and counting.
* **The inherited heap stays shared.** Before forking, the parent moves every object it holds
  into the collector's permanent generation (``gc.freeze``): a worker's collections then never
  walk (and so never write to, and copy) the inherited phonemizer tables -- hundreds of MB that
  would otherwise be copied page by page into each worker as its collector touched them.
* **No helper threads in the parent.** The parent sends tasks and waits on the lanes' pipes itself
  (``multiprocessing.connection.wait``), two tasks in flight per lane, so a lane starts its next
  batch while its last result travels back; every CPU second the parent spends is its own work.

Every lane measures, with ``time.process_time`` (CPU seconds of that process, which other load on
the machine does not inflate the way it does wall-clock time), its set-up and each batch, and the
memo entries each batch added (:func:`~cjkv_phon.data.phonemize.memo_entries`: units it computed,
not found cached). N lanes each compute the units they see, so shared units are computed N times;
the per-worker figures show that cost. Output order is the input's, whatever lane made a batch.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Iterator

import pyarrow as pa

try:
    import resource
except ImportError:  # not on Windows: no page-fault counts
    resource = None  # type: ignore[assignment]

from cjkv_phon.data.transcriber import Transcriber, attach_columns

START_METHODS: tuple[str, ...] = ("auto", "fork", "spawn")
IN_FLIGHT_PER_LANE = 2


@dataclass
class WorkerStats:
    """What one worker did; CPU seconds are ``time.process_time`` in that process.

    Attributes:
        pid: the worker's process id (the parent's own for the 1-worker engine).
        start_method: ``inline`` (the 1-worker engine, in this process), ``fork`` or ``spawn``.
        inherited_setup: the Transcriber was already built when the worker started (fork).
        setup_cpu_s: set-up done in the worker itself (0 where inherited).
        batches, sentences: the work it did.
        transcribe_cpu_s: CPU seconds inside its batches (segmenting, transcribing, Arrow columns).
        memo_misses: memo entries its batches added (distinct units it had to compute).
        page_faults: minor page faults during its batches (copy-on-write copies of inherited
            memory show here).
        built_mid_stream: phonemizers it built after set-up (0 unless a table was missed there).
    """

    pid: int
    start_method: str
    inherited_setup: bool = False
    setup_cpu_s: float = 0.0
    batches: int = 0
    sentences: int = 0
    transcribe_cpu_s: float = 0.0
    memo_misses: int = 0
    page_faults: int = 0
    built_mid_stream: int = 0

    def add_batch(self, sentences: int, cpu_s: float, misses: int, faults: int) -> None:
        """Count one batch."""
        self.batches += 1
        self.sentences += sentences
        self.transcribe_cpu_s += cpu_s
        self.memo_misses += misses
        self.page_faults += faults


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


def transcribe_batch(transcriber: Transcriber, batch: pa.Table, column: str,
                     stats: WorkerStats) -> dict[str, pa.Array]:
    """One batch's four columns, counted into ``stats`` (CPU seconds and memo misses)."""
    from cjkv_phon.data.phonemize import memo_entries

    before, faults, start = memo_entries(), _minor_faults(), time.process_time()
    columns = transcriber.columns(batch.column(column).to_pylist())
    stats.add_batch(batch.num_rows, time.process_time() - start, memo_entries() - before,
                    _minor_faults() - faults)
    return columns


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else 0


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


# -- the worker side ------------------------------------------------------------------------------
def _to_ipc(table: pa.Table | pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write(table)
    return sink.getvalue()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _lane_main(conn: Connection, transcriber: Transcriber, batches: list[pa.Table] | None,
               column: str, method: str, parent_ends: list[Connection]) -> None:
    """A worker: set up (unless inherited), say ready, then transcribe tasks until told to stop.

    ``parent_ends``: the parent's ends of the pipes, which a forked worker inherited; closed here,
    so that the parent closing its end is seen (EOF) and the worker stops.

    Messages to the parent: ``("ready", versions, stats)``, then per task ``("batch", index)``
    followed by the result's IPC bytes, ``("done", stats)`` at the end, or ``("error", exception)``.
    """
    from cjkv_phon.data.phonemize import built_phonemizers

    for end in parent_ends:
        end.close()
    try:
        stats = WorkerStats(os.getpid(), method, inherited_setup=transcriber.is_set_up)
        start = time.process_time()
        versions = transcriber.setup().versions()
        if not stats.inherited_setup:  # spawned: its own tables, out of its collector's way too
            gc.collect()
            gc.freeze()
        stats.setup_cpu_s = 0.0 if stats.inherited_setup else time.process_time() - start
        built = built_phonemizers()
        conn.send(("ready", versions, stats))
        while (task := conn.recv()) is not None:
            index, payload = task
            batch = batches[index] if payload is None else _from_ipc(payload)  # type: ignore[index]
            columns = transcribe_batch(transcriber, batch, column, stats)
            conn.send(("batch", index))
            conn.send_bytes(_to_ipc(pa.table(columns)))
        stats.built_mid_stream = built_phonemizers() - built
        conn.send(("done", stats))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the parent closed the pipe (its consumer stopped, or an interrupt): nothing to report
    except BaseException as err:  # noqa: BLE001 -- every failure goes back to the parent, which raises it
        try:
            conn.send(("error", err))
        except (OSError, EOFError):
            pass
        except Exception:  # an exception that does not pickle: send its text
            conn.send(("error", RuntimeError(f"worker {os.getpid()}: {err!r}")))
    finally:
        conn.close()


# -- the parent side ------------------------------------------------------------------------------
@dataclass
class _Lane:
    process: Any
    conn: Connection
    stats: WorkerStats | None = None
    in_flight: int = 0


def _receive(lane: _Lane) -> tuple[Any, ...]:
    """The lane's next message; its exception re-raised; a vanished worker named."""
    try:
        message = lane.conn.recv()
    except EOFError:
        raise RuntimeError(f"phonemize worker {lane.process.pid} exited (code "
                           f"{lane.process.exitcode}) without an answer") from None
    if message[0] == "error":
        raise message[1]
    return message


def run_lanes(transcriber: Transcriber, batches: list[pa.Table], column: str, workers: int,
              method: str, timings: Any) -> Iterator[pa.Table]:
    """Transcribe ``batches`` on ``workers`` lanes; yield them transcribed, in order.

    ``timings`` (an :class:`~cjkv_phon.corpus.engines.EngineTimings`) gets ``startup_s`` (until
    every lane is ready), the parent's set-up CPU, the tool versions and each lane's
    :class:`WorkerStats` (filled when the lanes have finished).
    """
    started = time.perf_counter()
    method = choose_start_method(method)
    timings.start_method = method
    ctx = mp.get_context(method)
    cpu = time.process_time()
    if method == "fork":  # set up once here; the lanes inherit it
        transcriber.setup()
    lanes: list[_Lane] = []
    finished = False
    try:
        with frozen_heap():  # the forked lanes' collectors leave the inherited tables alone
            timings.setup_cpu_s = time.process_time() - cpu if method == "fork" else 0.0
            for _ in range(workers):
                mine, theirs = ctx.Pipe(duplex=True)
                fork = method == "fork"
                ends = [lane.conn for lane in lanes] + [mine] if fork else []
                process = ctx.Process(target=_lane_main, daemon=True, name="cjkv-phonemize",
                                      args=(theirs, transcriber, batches if fork else None, column,
                                            method, ends))
                process.start()
                theirs.close()
                lanes.append(_Lane(process, mine))
        for lane in lanes:
            _, timings.versions, lane.stats = _receive(lane)
        timings.startup_s = time.perf_counter() - started
        yield from _ordered(lanes, batches, method == "fork")
        for lane in lanes:
            lane.conn.send(None)
        for lane in lanes:
            _, lane.stats = _receive(lane)
        timings.workers = [lane.stats for lane in lanes]
        finished = True
    finally:
        for lane in lanes:
            lane.conn.close()
            if not finished:  # an error, an interrupt or a consumer that stopped: no more work
                lane.process.terminate()
            lane.process.join()


def _ordered(lanes: list[_Lane], batches: list[pa.Table], inherited: bool) -> Iterator[pa.Table]:
    """Keep every lane fed; yield results in batch order as they complete."""
    next_in, next_out = 0, 0
    done: dict[int, pa.Table] = {}

    def feed() -> None:
        nonlocal next_in
        for lane in sorted(lanes, key=lambda lane: lane.in_flight):
            while lane.in_flight < IN_FLIGHT_PER_LANE and next_in < len(batches):
                lane.conn.send((next_in, None if inherited else _to_ipc(batches[next_in]).to_pybytes()))
                lane.in_flight += 1
                next_in += 1

    feed()
    by_conn = {lane.conn: lane for lane in lanes}
    while next_out < len(batches):
        for conn in wait([lane.conn for lane in lanes if lane.in_flight]):
            lane = by_conn[conn]  # type: ignore[index]
            _, index = _receive(lane)
            done[index] = _from_ipc(lane.conn.recv_bytes())
            lane.in_flight -= 1
        feed()
        while next_out in done:
            result = done.pop(next_out)
            yield attach_columns(batches[next_out], {name: result.column(name) for name in result.schema.names})
            next_out += 1
