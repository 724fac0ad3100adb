"""Where transcription runs: ``local`` processes on this machine, or ``ray`` (see ``ray_engine``).

An engine takes the input table cut into batches and yields the transcribed batches **in input
order**; a sentence's transcription depends only on the sentence (the phonemizers read it whole, and
their memo caches only store what they would compute anyway), so the output is the same whatever the
number of workers, the start method or the batch a sentence lands in.

``local`` (:mod:`~cjkv_phon.corpus.local_engine`): with one worker, in this process; with N, on the
worker pool (:mod:`cjkv_phon.workers.pool`). ``ray`` (:mod:`~cjkv_phon.corpus.ray_engine`) is
imported only when asked for. The engines register here, not in their own modules, so that this
registry imports them and they never import it back.
"""

from __future__ import annotations

from typing import Any, Iterator, Protocol

import pyarrow as pa

from cjkv_phon.corpus.engine_stats import EngineTimings, WorkerStats
from cjkv_phon.corpus.local_engine import LocalEngine
from cjkv_phon.data.transcriber import Transcriber
from cjkv_phon.registry import Registry

__all__ = ["ENGINES", "Engine", "EngineTimings", "LocalEngine", "WorkerStats", "make_engine"]


class Engine(Protocol):
    """Runs a Transcriber over ordered batches of a table."""

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]: ...


ENGINES: Registry[type] = Registry("engine")
ENGINES.register("local")(LocalEngine)


def make_engine(name: str, **options: Any) -> Any:
    """The engine registered as ``name`` (``local`` or ``ray``) with its options.

    Raises:
        KeyError: an unknown engine, listing the valid ones.
    """
    if name == "ray":
        from cjkv_phon.corpus.ray_engine import RayEngine  # Ray itself loads only when it runs

        ENGINES.register("ray")(RayEngine)
    return ENGINES[name](**options)
