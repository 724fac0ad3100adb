"""``build_data``: sources -> sentences -> phonemizers -> one aligned parquet file per (task, lang, split).

Output: ``<out>/data/<task>/<lang>/<split>.parquet`` with :data:`~cjkv_phon.schema.SENTENCE_SCHEMA`,
then the release card and manifest (:mod:`cjkv_phon.data.release`). The settings, sources, plan and reports
are in :mod:`cjkv_phon.data.build_plan`, the up-to-date check in :mod:`cjkv_phon.data.build_state`,
reading a built file back in :mod:`cjkv_phon.data.release_reader`. Properties the code keeps:

* **All or nothing.** Every requested source is located before any work starts (a missing file names
  the path expected); files are written into a staging folder and moved into place only once every
  job has succeeded, so a malformed input in any job leaves the output folder as it was.
* **Deterministic.** No timestamps, fixed row groups and compression: a rebuild is byte-identical,
  whatever ``workers`` is (each file depends only on its own inputs).
* **Idempotent.** Each file's metadata holds a build state (input sha256s, the content settings, a
  fingerprint of the data code and tables, and of the installed packages); a rerun skips files whose
  state is unchanged and whose bytes still match the manifest (size, sha256), and logs "up to date";
  a damaged file is rebuilt (:mod:`cjkv_phon.data.integrity`).

Missing files: the recipe lists what to build; ``exclude`` names (task, lang, split) combinations
known to be absent (XTREME has no UDPOS Korean train), which are skipped with a log line. Any other
missing source raises ``FileNotFoundError`` naming the expected path.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import cjkv_phon
from cjkv_phon.atomic import atomic_path
from cjkv_phon.data.build_plan import (BuildDataConfig, BuildReport, FileReport, Job, plan_jobs,
                                       resolve_source)
from cjkv_phon.data.build_state import (code_fingerprint, env_fingerprint, is_up_to_date, job_state,
                                        read_states, write_states)
from cjkv_phon.data.features import hf_features_metadata, with_tag_ids
from cjkv_phon.data.input_rules import read_checks
from cjkv_phon.data.layout import apply_layout
from cjkv_phon.data.release import write_release
from cjkv_phon.data.release_reader import META_PREFIX
from cjkv_phon.data.sentences import Sentence
from cjkv_phon.data.staging import Staging, clean_stale_staging
from cjkv_phon.data.transcriber import Transcriber, aligned_columns, transcribe_sentences
from cjkv_phon.errors import NothingToBuild
from cjkv_phon.schema import SENTENCE_SCHEMA, STATUSES, check_sentence_rows
from cjkv_phon.workers.lifetime import signals_as_interrupt
from cjkv_phon.workers.pool import WorkerPool

log = logging.getLogger(__name__)

# Fixed writer settings: part of what makes a rebuild byte-identical.
ROW_GROUP_SIZE = 10_000
COMPRESSION = "zstd"


def _phonemizer(lang: str, scheme: str, cache: bool) -> Any:
    """The process-wide phonemizer (``get_phonemizer`` builds each once per process)."""
    # Imported here, not at module level, so an up-to-date rerun never loads the linguistic tools.
    from cjkv_phon.data.phonemize import get_phonemizer

    return get_phonemizer(lang, scheme, cache=cache)


def sentences_to_table(sentences: tuple[Sentence, ...], phonemizer: Any,
                       progress: Callable[[int, int], None] | None = None,
                       routed: Counter[str] | None = None) -> pa.Table:
    """Transcribe sentences into a table with ``SENTENCE_SCHEMA`` (checked by the caller).

    The token-aligned columns come from :mod:`cjkv_phon.data.transcriber` (transcribe, then align),
    the code path ``cjkv phonemize`` shares, so both give a sentence the same readings.
    ``progress(done, total)`` is called every :data:`PROGRESS_EVERY` sentences as they are transcribed.
    """
    tokens = [s.tokens for s in sentences]
    transcriptions = transcribe_sentences(phonemizer, tokens, ticks=lambda ts: _ticking(ts, progress))
    if routed is not None:  # tokens read as another language (script routing), by language
        routed.update(lang for t in transcriptions for lang in t.read_as if lang)
    aligned = aligned_columns(tokens, transcriptions)
    columns = {
        "id": _string_column([s.id for s in sentences]),
        "lang": _string_column([s.lang for s in sentences]),
        "task": _string_column([s.task for s in sentences]),
        "split": _string_column([s.split for s in sentences]),
        # Tags may be None (an unlabelled file): the nested conversion keeps those rows null.
        "tags": pa.array([list(s.tags) if s.tags is not None else None for s in sentences],
                         SENTENCE_SCHEMA.field("tags").type),
        **aligned,
    }
    return pa.Table.from_arrays([columns[name] for name in SENTENCE_SCHEMA.names],
                                schema=SENTENCE_SCHEMA)


PROGRESS_EVERY = 500


def _ticking(sentences: Sequence[Any], progress: Callable[[int, int], None] | None
             ) -> Iterator[Any]:
    """Yield ``sentences``, calling ``progress(done, total)`` every few hundred and at the end."""
    total = len(sentences)
    for i, sentence in enumerate(sentences, start=1):
        yield sentence
        if progress is not None and (i % PROGRESS_EVERY == 0 or i == total):
            progress(i, total)


def _string_column(values: list[str]) -> pa.Array:
    return pa.array(values, pa.string())


@dataclass(frozen=True)
class _Task:
    """Everything a worker process needs to build one file (picklable)."""

    job: Job
    source: Any
    cfg: BuildDataConfig
    state: str
    inputs: dict[str, str] = field(default_factory=dict)
    staging: str = ""


def _file_metadata(task: _Task, versions: dict[str, str], n_skipped: int,
                   n_normalised: int = 0, routed: dict[str, int] | None = None) -> dict[bytes, bytes]:
    """Parquet schema metadata: provenance (the build state is kept beside the release, ``build_state``)."""
    values = {
        "task": task.job.task, "lang": task.job.lang, "split": task.job.split,
        "scheme": task.cfg.scheme, "versions": versions, "source_sha256": task.inputs,
        "source_kind": task.source.kind, "cjkv_phon_version": cjkv_phon.__version__,
        "config": task.cfg.content_settings(task.job), "skipped": n_skipped,
        "normalisation": {"form": "NFC", "tokens_changed": n_normalised},
        "read_as_other_language": routed or {},
    }
    return {(META_PREFIX + k).encode(): json.dumps(v, sort_keys=True, ensure_ascii=False).encode()
            for k, v in values.items()}


def status_counts(table: pa.Table) -> Counter[str]:
    """How many tokens have each status, counted in Arrow (no per-token Python objects)."""
    counts = pc.value_counts(pc.list_flatten(table.column("status")))
    return Counter({row["values"]: row["counts"] for row in counts.to_pylist()})


def check_ok_is_ipa(table: pa.Table, lang: str, where: str) -> None:
    """The invariant of the release: no ``ok`` token holds a character that is not IPA.

    The phonemizers' entry point guarantees it (``ipa_symbols.enforce``); checking the written
    table as well (distinct values only, in Arrow) makes every build a test of it on all its data.

    Raises:
        ValueError: a bug let a non-IPA transcription through as ``ok`` (names up to 5 of them).
    """
    from cjkv_phon.data.phonemize.ipa_symbols import non_ipa_ok

    ipa, status = pc.list_flatten(table.column("ipa")), pc.list_flatten(table.column("status"))
    values = pc.unique(pc.filter(ipa, pc.equal(status, "ok"))).to_pylist()
    bad = non_ipa_ok(values, lang)
    if bad:
        raise ValueError(f"{where}: {len(bad)} non-IPA transcriptions marked ok, e.g. {bad[:5]}")


def build_file(task: _Task, report: Callable[..., None] | None = None) -> FileReport:
    """Read, transcribe, check and write one file into the staging folder (runs in a worker).

    ``report(key, done, total)`` receives the file's progress in sentences.
    """
    start = time.perf_counter()
    job, cfg = task.job, task.cfg
    read = task.source.read(job.task, job.lang, job.split, skip_malformed=cfg.skip_malformed,
                            max_sentences=cfg.max_sentences)
    read_checks(read, task.source.files(job.task, job.lang, job.split), allow_empty=cfg.allow_empty)
    phonemizer = _phonemizer(job.lang, cfg.scheme, cfg.cache)
    progress = (lambda done, total: report(job.key, done, total)) if report is not None else None
    routed: Counter[str] = Counter()
    sentences = apply_layout(read.sentences, cfg.layout, job.task, job.lang)   # before phonemizing: each
    table = sentences_to_table(sentences, phonemizer, progress, routed)         # character gets its own IPA
    where = f"{job.relpath} (from {task.source.kind} source)"
    check_sentence_rows(table, where)
    check_ok_is_ipa(table, job.lang, where)
    table = with_tag_ids(table, job.task)  # ner_tags / pos_tags as ClassLabel ids (data/features.py)
    table = table.replace_schema_metadata({
        **_file_metadata(task, phonemizer.versions(), len(read.skipped), read.normalised,
                         dict(sorted(routed.items()))),
        **hf_features_metadata(table.schema, job.task)})
    if read.normalised:
        log.info("%s: NFC normalisation changed %d tokens", job.relpath, read.normalised)
    with atomic_path(Path(task.staging) / job.relpath) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression=COMPRESSION,
                       use_dictionary=True, write_statistics=True)
    statuses = status_counts(table)
    return FileReport(job.task, job.lang, job.split, job.relpath, table.num_rows,
                      sum(statuses.values()), {s: statuses.get(s, 0) for s in STATUSES},
                      read.skipped, time.perf_counter() - start, normalised=read.normalised)


def _up_to_date_report(job: Job, path: Path) -> FileReport:
    """A report for a file left alone, with its counts read back from the file."""
    statuses = status_counts(pq.read_table(path, columns=["status"]))
    rows = pq.read_metadata(path).num_rows
    return FileReport(job.task, job.lang, job.split, job.relpath, rows, sum(statuses.values()),
                      {s: statuses.get(s, 0) for s in STATUSES}, up_to_date=True)


def _run_tasks(tasks: list[_Task], workers: int,
               on_file_done: Callable[[FileReport], None] | None,
               on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, FileReport]:
    """Build every task: in-process for one worker, else on ``workers`` single-process lanes."""
    done: dict[str, FileReport] = {}

    def finish(report: FileReport) -> None:
        done[f"{report.task}.{report.lang}.{report.split}"] = report
        if on_file_done is not None:
            on_file_done(report)

    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            finish(build_file(task, on_progress))
    else:
        _run_lanes(tasks, min(workers, len(tasks)), finish, on_progress)
    return done


def _next_task(pending: list[_Task], mine: set[str], anyone: set[str]) -> _Task:
    """Pick a lane's next file: its own languages first, then one nobody has loaded, then the largest.

    Building a phonemizer costs seconds to tens of seconds (dictionaries, MeCab, epitran), paid once
    per process and language; keeping a language on the lane that already loaded it avoids paying it
    again. ``pending`` is sorted largest first, so each rule takes the largest file it allows.
    """
    for rule in (lambda t: t.job.lang in mine, lambda t: t.job.lang not in anyone, lambda t: True):
        for task in pending:
            if rule(task):
                pending.remove(task)
                return task
    raise ValueError("no pending task")  # unreachable: callers check pending first


def _run_lanes(tasks: list[_Task], n_lanes: int, finish: Callable[[FileReport], None],
               on_progress: Callable[[str, int, int], None] | None = None) -> None:
    """Run tasks on ``n_lanes`` worker processes, choosing each lane's next file by language.

    The workers die with this process (:mod:`cjkv_phon.workers.pool`); on any error or interrupt they
    are killed at once, not waited for. Forked (where safe), they inherit the phonemizers of every
    language to build, set up once here; spawned, each builds those its files need.
    """
    loaded: list[set[str]] = [set() for _ in range(n_lanes)]
    pending = sorted(tasks, key=_input_size, reverse=True)
    readers = sorted({(t.job.lang, t.cfg.scheme, t.cfg.cache) for t in tasks})
    with WorkerPool(n_lanes, "cjkv-build-worker", prepare=lambda: [
            Transcriber(lang, scheme, cache=cache).setup() for lang, scheme, cache in readers]) as lanes:
        def submit(lane: int) -> None:
            task = _next_task(pending, loaded[lane], set().union(*loaded))
            loaded[lane].add(task.job.lang)
            lanes.submit(lane, build_file, task)

        for lane in range(n_lanes):
            if pending:
                submit(lane)
        while lanes.busy:
            lane, _, report = lanes.next_result(on_progress)
            finish(report)
            if pending:
                submit(lane)


def _input_size(task: _Task) -> int:
    return sum(p.stat().st_size for p in task.source.files(task.job.task, task.job.lang,
                                                           task.job.split))


def _promote(staging: Path, out: Path, relpaths: list[str]) -> None:
    """Move finished files from the staging folder into the release (each move is a rename)."""
    for rel in relpaths:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)


def build_data(cfg: BuildDataConfig,
               on_file_done: Callable[[FileReport], None] | None = None,
               on_plan: Callable[[list[Job]], None] | None = None,
               on_progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Build the phonemic release described by ``cfg``.

    Args:
        cfg: what to build and where.
        on_file_done: called with each file's report as it finishes (progress display).
        on_plan: called once with the planned files, before any work.
        on_progress: called with ``(job key, sentences done, sentences in file)`` while a file builds.

    Returns:
        A :class:`BuildReport` (never prints; the CLI renders it).

    Raises:
        FileNotFoundError: the source, or a file it should hold, is missing (nothing is written).
        InputError: a malformed input line, unless ``cfg.skip_malformed``; an empty source file,
            unless ``cfg.allow_empty`` (nothing is written).
        NothingToBuild: every requested combination is excluded.
    """
    start = time.perf_counter()
    source = resolve_source(cfg.source, cfg.hub_revision)
    jobs, excluded = plan_jobs(cfg, source)
    if not jobs:
        raise NothingToBuild(f"nothing to build: {', '.join(excluded)} "
                             f"{'is' if len(excluded) == 1 else 'are'} excluded by the recipe "
                             "(known absent from the source); ask for another task, language or split")
    if on_plan is not None:
        on_plan(jobs)
    out = cfg.release_dir
    clean_stale_staging(out)
    code, env = code_fingerprint(), env_fingerprint()
    tasks, fresh, recorded = [], {}, read_states(out)
    for job in jobs:
        inputs = source.fingerprint(job.task, job.lang, job.split)
        state = job_state(job, inputs, cfg, code, env)
        if is_up_to_date(out / job.relpath, state, out, job.relpath, recorded):
            log.info("%s is up to date", job.relpath)
            fresh[job.key] = _up_to_date_report(job, out / job.relpath)
            if on_file_done is not None:
                on_file_done(fresh[job.key])
        else:
            tasks.append(_Task(job, source, cfg, state, inputs))
    built = _build_staged(tasks, out, cfg.workers, on_file_done, on_progress) if tasks else {}
    reports = tuple({**fresh, **built}[job.key] for job in jobs)
    if not tasks:
        log.info("all %d files up to date in %s", len(jobs), out)
    wrote = bool(tasks) or not (out / "manifest.json").is_file()
    if wrote:
        write_release(out, cfg)
        write_states(out, {t.job.relpath: t.state for t in tasks})
    return BuildReport(str(out), reports, tuple(excluded), time.perf_counter() - start, wrote)


def _build_staged(tasks: list[_Task], out: Path, workers: int,
                  on_file_done: Callable[[FileReport], None] | None,
                  on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, FileReport]:
    """Build into a fresh, locked staging folder inside ``out``; promote only if every task succeeded.

    SIGTERM unwinds like Ctrl-C, so the workers are killed and the staging folder removed (stale
    folders of dead builds are removed when the next build starts, :mod:`cjkv_phon.data.staging`).
    """
    with signals_as_interrupt(), Staging(out) as staging:
        staged = [_Task(t.job, t.source, t.cfg, t.state, t.inputs, str(staging.path)) for t in tasks]
        reports = _run_tasks(staged, workers, on_file_done, on_progress)
        _promote(staging.path, out, [t.job.relpath for t in tasks])
        return reports
