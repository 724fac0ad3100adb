"""What the engines measure: the run's timings and each local worker's CPU accounting.

Its own module so that every engine (:mod:`~cjkv_phon.corpus.local_engine`,
:mod:`~cjkv_phon.corpus.ray_engine`) and the registry that names them
(:mod:`~cjkv_phon.corpus.engines`) can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class EngineTimings:
    """Seconds an engine spent, filled in while it runs.

    Attributes:
        startup_s: from the engine's start until every worker had built its phonemizer (local), or
            until Ray was up (ray: ``ray.init``; its actors' set-up overlaps the first batches).
        versions: tool versions reported by the phonemizer (recorded in parquet outputs).
        start_method: local engine: ``inline`` (1 worker), ``fork`` or ``spawn``.
        setup_cpu_s: CPU seconds of the set-up done in this (the parent) process.
        workers: local engine: each worker's :class:`WorkerStats`, filled as the run finishes
            (empty for ray).
    """

    startup_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    start_method: str = ""
    setup_cpu_s: float = 0.0
    workers: list[WorkerStats] = field(default_factory=list)
