"""The ``local`` engine: in this process (1 worker), or N lanes of the worker pool fed batch by batch.

The lanes are :class:`cjkv_phon.workers.pool.WorkerPool`'s (shared with build-data: they die with
this process, leave Ctrl-C to it, and are killed at once on any error or interrupt).

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

import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pyarrow as pa

try:
    import resource
except ImportError:  # not on Windows: no page-fault counts
    resource = None  # type: ignore[assignment]

from cjkv_phon.corpus.engine_stats import EngineTimings, WorkerStats
from cjkv_phon.data.transcriber import Transcriber, attach_columns
from cjkv_phon.workers.lifetime import START_METHODS, choose_start_method, frozen_heap
from cjkv_phon.workers.pool import WorkerPool

IN_FLIGHT_PER_LANE = 2


@dataclass(frozen=True)
class LocalEngine:
    """Processes on this machine (see the module docstring).

    Attributes:
        workers: processes transcribing (1: this process).
        start_method: ``auto`` (fork on Linux when this process runs no other thread, else spawn),
            ``fork`` or ``spawn``; the output does not depend on it.
    """

    workers: int = 1
    start_method: str = "auto"

    def __post_init__(self) -> None:
        if self.start_method not in START_METHODS:
            raise ValueError(f"unknown start method {self.start_method!r}; valid: {', '.join(START_METHODS)}")

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]:
        column = str(transcriber.input_column)
        if self.workers > 1:
            yield from run_lanes(transcriber, batches, column, self.workers, self.start_method, timings)
            return
        start, cpu = time.perf_counter(), time.process_time()
        timings.versions = transcriber.setup().versions()
        with frozen_heap():  # full collections skip the phonemizer tables (see frozen_heap)
            timings.startup_s = time.perf_counter() - start
            timings.setup_cpu_s = time.process_time() - cpu  # the collection before freezing too
            timings.start_method = "inline"
            stats = WorkerStats(os.getpid(), "inline")
            timings.workers = [stats]
            for batch in batches:
                yield attach_columns(batch, transcribe_batch(transcriber, batch, column, stats))


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


# -- what runs in a lane (module level: spawn pickles them by name) --------------------------------
@dataclass
class _LaneState:
    """What a lane holds: the Transcriber, the batches (forked lanes only) and its counts."""

    transcriber: Transcriber
    batches: list[pa.Table] | None
    column: str
    method: str
    stats: WorkerStats | None = None
    built: int = field(default=0)


def _lane_start(state: _LaneState) -> tuple[dict[str, str], WorkerStats]:
    """Set up (unless inherited); return the tool versions and the lane's stats so far."""
    from cjkv_phon.data.phonemize import built_phonemizers

    stats = WorkerStats(os.getpid(), state.method, inherited_setup=state.transcriber.is_set_up)
    start = time.process_time()
    versions = state.transcriber.setup().versions()
    stats.setup_cpu_s = 0.0 if stats.inherited_setup else time.process_time() - start
    state.stats, state.built = stats, built_phonemizers()
    return versions, stats


def _lane_batch(state: _LaneState, batch: int | pa.Table, _report: Any) -> pa.Table:
    """One batch (an index into the inherited batches, or the batch itself) transcribed."""
    table = state.batches[batch] if isinstance(batch, int) else batch  # type: ignore[index]
    columns = transcribe_batch(state.transcriber, table, state.column, state.stats)  # type: ignore[arg-type]
    return pa.table(columns)


def _lane_finish(state: _LaneState) -> WorkerStats:
    from cjkv_phon.data.phonemize import built_phonemizers

    state.stats.built_mid_stream = built_phonemizers() - state.built  # type: ignore[union-attr]
    return state.stats  # type: ignore[return-value]


# -- the parent side ------------------------------------------------------------------------------
def run_lanes(transcriber: Transcriber, batches: list[pa.Table], column: str, workers: int,
              method: str, timings: EngineTimings) -> Iterator[pa.Table]:
    """Transcribe ``batches`` on ``workers`` lanes; yield them transcribed, in order.

    ``timings`` gets ``startup_s`` (until every lane is ready), the parent's set-up CPU, the tool
    versions and each lane's :class:`WorkerStats` (filled when the lanes have finished).
    """
    started = time.perf_counter()
    method = choose_start_method(method)  # forked lanes inherit the batches; spawned ones get slices
    forked = method == "fork"
    state = _LaneState(transcriber, batches if forked else None, column, method)
    with WorkerPool(workers, "cjkv-phonemize", method, shared=state, prepare=transcriber.setup,
                    start=_lane_start, finish=_lane_finish) as pool:
        timings.start_method, timings.setup_cpu_s = pool.method, pool.setup_cpu_s
        timings.versions = [versions for versions, _ in pool.ready()][-1]
        timings.startup_s = time.perf_counter() - started
        yield from _ordered(pool, batches, forked)
        timings.workers = pool.close()


def _ordered(pool: WorkerPool, batches: list[pa.Table], inherited: bool) -> Iterator[pa.Table]:
    """Keep every lane fed; yield results in batch order as they complete."""
    next_in, next_out = 0, 0
    done: dict[int, pa.Table] = {}

    def feed() -> None:
        nonlocal next_in
        for lane in sorted(range(len(pool.lanes)), key=pool.in_flight):
            while pool.in_flight(lane) < IN_FLIGHT_PER_LANE and next_in < len(batches):
                pool.submit(lane, _lane_batch, next_in if inherited else batches[next_in], key=next_in)
                next_in += 1

    feed()
    while next_out < len(batches):
        _, index, result = pool.next_result()
        done[index] = result
        feed()
        while next_out in done:
            result = done.pop(next_out)
            yield attach_columns(batches[next_out], {name: result.column(name) for name in result.schema.names})
            next_out += 1
