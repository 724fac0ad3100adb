"""Where transcription runs: ``local`` processes on this machine, or ``ray`` (see ``ray_engine``).

An engine takes the input table cut into batches and yields the transcribed batches **in input
order**; a sentence's transcription depends only on the sentence (the phonemizers read it whole, and
their memo caches only store what they would compute anyway), so the output is the same whatever the
number of workers or the batch a sentence lands in.

``local``: with one worker, in this process; with N, on N single-process lanes (spawned, so a
progress display's threads are not forked), each building its Transcriber once (its set-up is timed
apart from the transcription), then taking the next batch as soon as it has room for one (two in
flight per lane keeps a lane busy while its last result travels back).
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Iterator, Protocol

import pyarrow as pa

from cjkv_phon.data.transcriber import Transcriber, attach_columns
from cjkv_phon.registry import Registry

IN_FLIGHT_PER_LANE = 2


@dataclass
class EngineTimings:
    """Seconds an engine spent, filled in while it runs.

    Attributes:
        startup_s: from the engine's start until every worker had built its phonemizer (local), or
            until Ray was up (ray: ``ray.init``; its actors' set-up overlaps the first batches).
        versions: tool versions reported by the phonemizer (recorded in parquet outputs).
    """

    startup_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)


class Engine(Protocol):
    """Runs a Transcriber over ordered batches of a table."""

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]: ...


ENGINES: Registry[type] = Registry("engine")

# -- worker-process side: one Transcriber per process -----------------------------------------
_WORKER: Transcriber | None = None


def _setup_worker(transcriber: Transcriber) -> dict[str, str]:
    """Build this process's Transcriber (phonemizer included) once; return its tool versions."""
    global _WORKER
    _WORKER = transcriber.setup()
    return _WORKER.versions()


def _transcribe_batch(sentences: list[Any]) -> dict[str, pa.Array]:
    """Transcribe one batch in a worker (only the sentence column travels, not the whole batch)."""
    assert _WORKER is not None, "worker used before _setup_worker"
    return _WORKER.columns(sentences)


@ENGINES.register("local")
@dataclass(frozen=True)
class LocalEngine:
    """Processes on this machine (see the module docstring)."""

    workers: int = 1

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]:
        column = str(transcriber.input_column)
        if self.workers <= 1:
            start = time.perf_counter()
            timings.versions = transcriber.setup().versions()
            timings.startup_s = time.perf_counter() - start
            for batch in batches:
                yield transcriber(batch)
            return
        yield from self._lanes(transcriber, batches, column, timings)

    def _lanes(self, transcriber: Transcriber, batches: list[pa.Table], column: str,
               timings: EngineTimings) -> Iterator[pa.Table]:
        start = time.perf_counter()
        ctx = get_context("spawn")
        lanes = [ProcessPoolExecutor(max_workers=1, mp_context=ctx) for _ in range(self.workers)]
        try:
            versions = [lane.submit(_setup_worker, transcriber) for lane in lanes]
            timings.versions = [v.result() for v in versions][0]
            timings.startup_s = time.perf_counter() - start
            yield from _ordered(lanes, batches, column)
        finally:
            for lane in lanes:
                lane.shutdown(wait=True, cancel_futures=True)


def _ordered(lanes: list[ProcessPoolExecutor], batches: list[pa.Table],
             column: str) -> Iterator[pa.Table]:
    """Feed batches to the lanes as they free up; yield results in batch order."""
    running: dict[Future[dict[str, pa.Array]], tuple[int, int]] = {}
    load = [0] * len(lanes)
    done: dict[int, dict[str, pa.Array]] = {}
    next_in, next_out = 0, 0

    def feed() -> None:
        nonlocal next_in
        for lane in sorted(range(len(lanes)), key=lambda i: load[i]):
            while load[lane] < IN_FLIGHT_PER_LANE and next_in < len(batches):
                sentences = batches[next_in].column(column).to_pylist()
                running[lanes[lane].submit(_transcribe_batch, sentences)] = (next_in, lane)
                load[lane] += 1
                next_in += 1

    feed()
    while running:
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            index, lane = running.pop(future)
            load[lane] -= 1
            done[index] = future.result()
        feed()
        while next_out in done:
            yield attach_columns(batches[next_out], done.pop(next_out))
            next_out += 1


def make_engine(name: str, **options: Any) -> Any:
    """The engine registered as ``name`` (``local`` or ``ray``) with its options.

    Raises:
        KeyError: an unknown engine, listing the valid ones.
    """
    if name == "ray":
        from cjkv_phon.corpus import ray_engine  # noqa: F401  (registers "ray"; Ray itself loads later)
    return ENGINES[name](**options)

