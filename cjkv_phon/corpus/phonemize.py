"""``phonemize``: read a corpus, transcribe it with a :class:`Transcriber` on an engine, write it.

The stages are the modules beside this one: :mod:`~cjkv_phon.corpus.inputs` (text lines, JSONL,
parquet, datasets folders -> one Arrow table and its sentence column), the engines
(:mod:`~cjkv_phon.corpus.engines`: local processes; :mod:`~cjkv_phon.corpus.ray_engine`: Ray Data),
and :mod:`~cjkv_phon.corpus.outputs` (JSONL, parquet, TSV, atomic). The readings are build-data's:
the Transcriber takes the same path (:func:`~cjkv_phon.data.transcriber.transcribe_sentences`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

import cjkv_phon
from cjkv_phon.atomic import check_target
from cjkv_phon.corpus.engines import EngineTimings, make_engine
from cjkv_phon.corpus.inputs import CorpusInput, read_input
from cjkv_phon.workers.lifetime import START_METHODS
from cjkv_phon.corpus.outputs import SUFFIXES, open_output, output_format
from cjkv_phon.data.segment import TOKENIZATIONS, default_tokenization
from cjkv_phon.data.transcriber import OUTPUT_COLUMNS, Transcriber
from cjkv_phon.errors import InputError, check_choice
from cjkv_phon.schema import LANGS, SCHEMES, STATUSES

ENGINE_NAMES: tuple[str, ...] = ("local", "ray")
# A batch is held in memory several times over (input, transcription, Arrow copies) and sent whole to
# a worker; a million sentences is far past any speed gain (benchmarks/bench_phonemize.py).
MAX_BATCH_SIZE = 1_000_000


@dataclass(frozen=True)
class PhonemizeConfig:
    """Settings of one ``cjkv phonemize`` run.

    Attributes:
        lang: the language of the text (zh ja ko vi).
        input: a file, a folder (parquet shards or a datasets ``save_to_disk`` folder) or ``-``.
        output: the output file; None writes to stdout. With ``--engine ray`` and parquet, a path
            without the ``.parquet`` suffix is a folder of shards written by Ray.
        format: ``jsonl``, ``parquet`` or ``tsv``; None: from the output's suffix (stdout: tsv).
        scheme: ``native`` or ``paper``.
        tokenize: ``chars``, ``words`` or ``pretokenized``; None: pretokenized for a tokens column,
            else the PAN-X convention (chars for zh/ja, words for ko/vi).
        column: the sentence column of a table input (None: ``tokens`` if present, else ``text``).
        split: the split of a ``DatasetDict`` folder.
        engine: ``local`` or ``ray``.
        workers: local processes (the output does not depend on it).
        start_method: how local workers start: ``auto`` (fork where safe, else spawn), ``fork``
            or ``spawn`` (see :mod:`~cjkv_phon.workers.lifetime`; the output does not depend on it).
        batch_size: sentences per batch sent to a worker or actor.
        ray_address: an existing Ray cluster (None: a new local Ray).
        ray_cpus: CPUs (and actors) of the local Ray (None: all of the machine's).
        overwrite_columns: let the transcription replace input columns of the same names (``ipa``,
            ``romanized``, ``status``, and ``tokens`` when it is not the sentence column); without it
            such an input is an error, since every other input column is carried through unchanged.
        allow_empty: accept an input without sentences (an empty output); without it, an error.
    """

    lang: str
    input: str = "-"
    output: str | None = None
    format: str | None = None
    scheme: str = "native"
    tokenize: str | None = None
    column: str | None = None
    split: str | None = None
    engine: str = "local"
    workers: int = 1
    start_method: str = "auto"
    batch_size: int = 500
    ray_address: str | None = None
    ray_cpus: int | None = None
    overwrite_columns: bool = False
    allow_empty: bool = False

    def __post_init__(self) -> None:
        check_choice("language", self.lang, LANGS)
        check_choice("scheme", self.scheme, SCHEMES)
        if self.tokenize is not None:
            check_choice("tokenization", self.tokenize, TOKENIZATIONS)
        check_choice("engine", self.engine, ENGINE_NAMES)
        check_choice("start method", self.start_method, START_METHODS)
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE:,}, got {self.batch_size}")
        output_format(self.output, self.format) if not self.shards else None

    @property
    def shards(self) -> bool:
        """Whether the output is a folder of parquet shards (Ray writes it)."""
        return (self.engine == "ray" and self.output is not None and self.format == "parquet"
                and Path(self.output).suffix not in SUFFIXES)


@dataclass(frozen=True)
class PhonemizeReport:
    """What a run did: counts and timings (seconds).

    Attributes:
        status_counts: tokens per status, over the whole output.
        timings: ``read_s`` (reading and checking the input), ``startup_s`` (the engine's set-up,
            see :class:`~cjkv_phon.corpus.engines.EngineTimings`), ``first_batch_s`` (engine start
            to the first batch written: set-up plus one batch), ``steady_s`` (the rest of the run,
            from the first batch written to the last), ``total_s``; and
            ``steady_sentences_per_s``, the sentences after the first batch over ``steady_s``.
        cpu: CPU seconds (``time.process_time`` of each process: other load on the machine
            disturbs them far less than wall-clock time), local engine only -- see
            :func:`cpu_accounting`.
    """

    input: str
    output: str | None
    format: str
    engine: str
    tokenize: str
    sentences: int
    tokens: int
    status_counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, Any] = field(default_factory=dict)


def resolve_tokenize(cfg: PhonemizeConfig, corpus: CorpusInput) -> str:
    """The tokenization of this input: the asked one, or pretokenized for lists, else PAN-X's.

    Raises:
        InputError: token lists with ``chars``/``words`` (a list is never re-segmented).
    """
    is_lists = pa.types.is_list(corpus.table.schema.field(corpus.column).type) or \
        pa.types.is_large_list(corpus.table.schema.field(corpus.column).type)
    tokenize = cfg.tokenize or ("pretokenized" if is_lists else default_tokenization(cfg.lang))
    if is_lists and tokenize != "pretokenized":
        raise InputError(f"column {corpus.column!r} holds token lists; use --tokenize pretokenized "
                         f"(got {tokenize})", corpus.path)
    return tokenize


def check_columns(cfg: PhonemizeConfig, corpus: CorpusInput) -> None:
    """Refuse an input whose columns the transcription would silently replace (see the config).

    Raises:
        InputError: naming the columns, unless ``cfg.overwrite_columns``.
    """
    clash = [c for c in OUTPUT_COLUMNS if c in corpus.table.schema.names and c != corpus.column]
    if clash and not cfg.overwrite_columns:
        raise InputError(f"input column(s) {', '.join(clash)} would be replaced by the transcription "
                         "(other columns are carried through): rename them, or pass --overwrite-columns",
                         "<stdin>" if corpus.path == "-" else corpus.path)
    if corpus.table.num_rows == 0 and not cfg.allow_empty:
        raise InputError("no sentences to transcribe (pass --allow-empty to write an empty output)",
                         "<stdin>" if corpus.path == "-" else corpus.path)


def _batches(table: pa.Table, size: int) -> list[pa.Table]:
    return [table.slice(i, size) for i in range(0, table.num_rows, size)]


def _count(table: pa.Table, counts: Counter[str]) -> None:
    values = pc.value_counts(pc.list_flatten(table.column("status")))
    counts.update({row["values"]: row["counts"] for row in values.to_pylist()})


def phonemize(cfg: PhonemizeConfig, on_batch: Callable[[int], None] | None = None,
              engine: Any = None) -> PhonemizeReport:
    """Run ``cfg``: read, transcribe, write; never prints (the CLI renders the report).

    Args:
        cfg: what to read, how to transcribe, where to write.
        on_batch: called with the number of sentences in each batch written (progress).
        engine: an engine object to use instead of the one ``cfg`` names (the benchmark reuses one).

    Raises:
        FileNotFoundError: a missing input.
        InputError: a malformed input (file, line or row, value); nothing is written.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    if cfg.output is not None and not cfg.shards:       # before any work: where the output goes
        if Path(cfg.output).is_dir():
            raise ValueError(f"--output {cfg.output} is a folder; give a file (a folder of parquet "
                             "shards is written by --engine ray --format parquet)")
        check_target(cfg.output)
    corpus = read_input(cfg.input, cfg.column, cfg.split)
    check_columns(cfg, corpus)
    tokenize = resolve_tokenize(cfg, corpus)
    transcriber = Transcriber(cfg.lang, cfg.scheme, tokenize, corpus.column)
    read_s, read_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    owned = engine is None
    if engine is None:
        engine = (make_engine("ray", address=cfg.ray_address, num_cpus=cfg.ray_cpus)
                  if cfg.engine == "ray" else make_engine("local", workers=cfg.workers,
                                                          start_method=cfg.start_method))
    try:
        return _run(cfg, corpus, tokenize, transcriber, engine, on_batch,
                    (start, cpu_start, read_s, read_cpu_s))
    finally:
        if owned and hasattr(engine, "close"):
            engine.close()       # a local Ray this run started is stopped with its actors


def _run(cfg: PhonemizeConfig, corpus: CorpusInput, tokenize: str, transcriber: Transcriber, engine: Any,
         on_batch: Callable[[int], None] | None, clock: tuple[float, float, float, float]) -> PhonemizeReport:
    """Transcribe ``corpus`` on ``engine`` and write the output (``phonemize`` after reading)."""
    start, cpu_start, read_s, read_cpu_s = clock
    if cfg.shards:
        return _write_shards(cfg, corpus, transcriber, engine, start, read_s)
    fmt = output_format(cfg.output, cfg.format)
    timings = EngineTimings()
    counts: Counter[str] = Counter()
    engine_start = time.perf_counter()
    first_at, first_n, n = None, 0, 0
    results = engine.run(transcriber, _batches(corpus.table, cfg.batch_size), timings)

    def meta() -> dict[str, Any]:
        return {"lang": cfg.lang, "scheme": cfg.scheme, "tokenize": tokenize, "column": corpus.column,
                "versions": timings.versions, "cjkv_phon_version": cjkv_phon.__version__}

    empty = _output_schema(corpus.table.schema)
    # The metadata is asked for at the first row group: by then the engine knows the tool versions.
    with open_output(cfg.output, fmt, meta, empty) as write:
        for batch in results:
            write(batch)
            _count(batch, counts)
            n += batch.num_rows
            if first_at is None:
                first_at, first_n = time.perf_counter(), batch.num_rows
            if on_batch is not None:
                on_batch(batch.num_rows)
    end = time.perf_counter()
    report = _report(cfg, fmt, tokenize, n, counts, timings, read_s, engine_start, first_at,
                     first_n, end, start)
    if timings.workers:
        report.cpu.update(cpu_accounting(timings, time.process_time() - cpu_start, read_cpu_s))
    return report


def cpu_accounting(timings: EngineTimings, parent_cpu_s: float, read_cpu_s: float) -> dict[str, Any]:
    """Where the CPU seconds of a local run went: reading, set-up, each worker's batches, the parent.

    ``parent_serial_cpu_s`` is the parent's CPU outside reading, set-up and transcription (cutting
    batches, sending them, receiving and merging results, writing, counting), done while the
    workers transcribe. On C idle cores, N workers get through the batches in about
    ``max(max worker CPU, (sum of worker CPU + parent serial) / C)`` seconds, against
    ``worker CPU + parent serial`` for the 1-worker engine (which transcribes in the parent):
    the model ``benchmarks/bench_phonemize.py`` reports beside the wall-clock figures.
    """
    workers = timings.workers
    inline = sum(w.transcribe_cpu_s for w in workers if w.start_method == "inline")
    return {
        "start_method": timings.start_method,
        "parent_cpu_s": round(parent_cpu_s, 4),
        "parent_read_cpu_s": round(read_cpu_s, 4),
        "parent_setup_cpu_s": round(timings.setup_cpu_s, 4),
        "parent_serial_cpu_s": round(parent_cpu_s - read_cpu_s - timings.setup_cpu_s - inline, 4),
        "worker_setup_cpu_s": [round(w.setup_cpu_s, 4) for w in workers],
        "worker_transcribe_cpu_s": [round(w.transcribe_cpu_s, 4) for w in workers],
        "worker_sentences": [w.sentences for w in workers],
        "worker_batches": [w.batches for w in workers],
        "worker_memo_misses": [w.memo_misses for w in workers],
        "worker_page_faults": [w.page_faults for w in workers],
        "worker_inherited_setup": [w.inherited_setup for w in workers],
        "worker_built_mid_stream": [w.built_mid_stream for w in workers],
    }


def _output_schema(schema: pa.Schema) -> pa.Schema:
    """The output schema for an input schema: its columns, then the transcription columns."""
    listed = pa.list_(pa.string())
    fields = [f if f.name not in OUTPUT_COLUMNS else pa.field(f.name, listed) for f in schema]
    names = {f.name for f in fields}
    return pa.schema([*fields, *(pa.field(c, listed) for c in OUTPUT_COLUMNS if c not in names)])


def _report(cfg: PhonemizeConfig, fmt: str, tokenize: str, n: int, counts: Counter[str],
            timings: EngineTimings, read_s: float, engine_start: float, first_at: float | None,
            first_n: int, end: float, start: float) -> PhonemizeReport:
    first_at = first_at or end
    steady = end - first_at
    times = {"read_s": read_s, "startup_s": timings.startup_s, "first_batch_s": first_at - engine_start,
             "steady_s": steady, "total_s": end - start,
             "steady_sentences_per_s": (n - first_n) / steady if steady > 0 else 0.0}
    return PhonemizeReport(cfg.input, cfg.output, fmt, cfg.engine, tokenize, n,
                           sum(counts.values()), {s: counts.get(s, 0) for s in STATUSES},
                           {k: round(v, 4) for k, v in times.items()})


def _write_shards(cfg: PhonemizeConfig, corpus: CorpusInput, transcriber: Transcriber, engine: Any,
                  start: float, read_s: float) -> PhonemizeReport:
    """Ray reads parquet and writes parquet shards; the report is counted from the shards."""
    import pyarrow.parquet as pq

    engine_start = time.perf_counter()
    if corpus.kind == "parquet":
        inputs = list(corpus.files)
    else:  # other inputs were read here: stage them as one parquet file beside the output
        inputs = [str(Path(str(cfg.output)).with_name(f".{Path(str(cfg.output)).name}.input.parquet"))]
        pq.write_table(corpus.table, inputs[0])
    try:
        shards = engine.write_shards(transcriber, inputs, str(cfg.output), cfg.batch_size)
    finally:
        if corpus.kind != "parquet":
            Path(inputs[0]).unlink(missing_ok=True)
    counts: Counter[str] = Counter()
    n = 0
    for shard in shards:
        table = pq.read_table(shard, columns=["status"])
        _count(table, counts)
        n += table.num_rows
    end = time.perf_counter()
    return _report(cfg, "parquet", transcriber.tokenize or "", n, counts, EngineTimings(), read_s,
                   engine_start, None, 0, end, start)
