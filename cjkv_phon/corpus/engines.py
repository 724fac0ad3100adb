"""Where transcription runs: ``local`` processes on this machine, or ``ray`` (see ``ray_engine``).

An engine takes the input table cut into batches and yields the transcribed batches **in input
order**; a sentence's transcription depends only on the sentence (the phonemizers read it whole, and
their memo caches only store what they would compute anyway), so the output is the same whatever the
number of workers, the start method or the batch a sentence lands in.

``local``: with one worker, in this process; with N, on N worker processes
(:mod:`~cjkv_phon.corpus.lanes`: forked from a parent that set up once where that is safe, else
spawned and set up once each, before any work), fed batch by batch, two in flight per worker.
Both record per-worker CPU seconds and memo misses (:class:`~cjkv_phon.corpus.lanes.WorkerStats`),
the figures that explain the scaling where wall-clock time is disturbed by other load.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

import pyarrow as pa

from cjkv_phon.corpus.lanes import (START_METHODS, WorkerStats, frozen_heap, run_lanes,
                                    transcribe_batch)
from cjkv_phon.data.transcriber import Transcriber, attach_columns
from cjkv_phon.registry import Registry


@dataclass
class EngineTimings:
    """Seconds an engine spent, filled in while it runs.

    Attributes:
        startup_s: from the engine's start until every worker had built its phonemizer (local), or
            until Ray was up (ray: ``ray.init``; its actors' set-up overlaps the first batches).
        versions: tool versions reported by the phonemizer (recorded in parquet outputs).
        start_method: local engine: ``inline`` (1 worker), ``fork`` or ``spawn``.
        setup_cpu_s: CPU seconds of the set-up done in this (the parent) process.
        workers: local engine: each worker's :class:`~cjkv_phon.corpus.lanes.WorkerStats`, filled
            as the run finishes (empty for ray).
    """

    startup_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    start_method: str = ""
    setup_cpu_s: float = 0.0
    workers: list[WorkerStats] = field(default_factory=list)


class Engine(Protocol):
    """Runs a Transcriber over ordered batches of a table."""

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]: ...


ENGINES: Registry[type] = Registry("engine")


@ENGINES.register("local")
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
        with frozen_heap():  # full collections skip the phonemizer tables (see lanes.frozen_heap)
            timings.startup_s = time.perf_counter() - start
            timings.setup_cpu_s = time.process_time() - cpu  # the collection before freezing too
            timings.start_method = "inline"
            stats = WorkerStats(os.getpid(), "inline")
            timings.workers = [stats]
            for batch in batches:
                yield attach_columns(batch, transcribe_batch(transcriber, batch, column, stats))


def make_engine(name: str, **options: Any) -> Any:
    """The engine registered as ``name`` (``local`` or ``ray``) with its options.

    Raises:
        KeyError: an unknown engine, listing the valid ones.
    """
    if name == "ray":
        from cjkv_phon.corpus import ray_engine  # noqa: F401  (registers "ray"; Ray itself loads later)
    return ENGINES[name](**options)

