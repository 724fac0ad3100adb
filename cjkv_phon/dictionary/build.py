"""``build_dict``: MUSE -> English-pivot dictionaries with per-token transcriptions -> parquet + TSV.

For each pair ``S-T`` it writes ``<out>/<S>-<T>.parquet`` (DICTIONARY_SCHEMA, metadata with the MUSE
files' sha256, scheme, tool versions and config) and ``<out>/<S>-<T>.tsv`` in the paper's 4-column
layout (source, source IPA, target, target IPA; the IPA of a multi-token word joined with a space,
no header). Writes are atomic and the bytes depend only on inputs, config, tool versions and the git
commit, so reruns are idempotent. With ``report`` the coverage of the datasets by the dictionaries is
written to ``<out>/coverage.json``.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from cjkv_phon import atomic
from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.registry import PHONEMIZERS
from cjkv_phon.dictionary.coverage import coverage_report
from cjkv_phon.dictionary.lexicon import DictEntry, PivotDictionary, Side
from cjkv_phon.dictionary.muse import MuseFile
from cjkv_phon.dictionary.pivot import VALID_PAIRS, PivotEntry, parse_pair, pivot_pair
from cjkv_phon.dictionary.script import convention, script_counts
from cjkv_phon.provenance import config_hash, git_commit, package_versions
from cjkv_phon.recipes import config_to_dict
from cjkv_phon.schema import DICTIONARY_SCHEMA, SCHEMES, TASKS, check_table

log = logging.getLogger(__name__)

METADATA_KEY = b"cjkv_phon"
_TOOLS = ("cjkv-phon", "pyarrow", "opencc-python-reimplemented", "hanzidentifier")
# Languages whose MUSE words are checked for Traditional/Simplified script.
_HANZI_LANGS = ("zh", "ja")


@dataclass(frozen=True)
class BuildDictConfig:
    """Settings of one ``cjkv build-dict`` run (recipe: ``pipelines/build-dict.yaml``).

    Attributes:
        muse_dir: folder with ``en-X.txt`` / ``X-en.txt`` MUSE files.
        out_dir: where ``<src>-<tgt>.parquet``/``.tsv`` (and ``coverage.json``) are written.
        scheme: transcription scheme, as in build-data (``native`` or ``paper``).
        pairs: ordered pairs such as ``zh-vi``; any of the 12 CJKV pairs.
        use_reverse: also pivot through the X-en files (union with en-X).
        keep_identical: keep pairs whose sides are the same word (Latin copies such as aaa -> aaa).
        keep_noise: keep target words that are the English pivot word itself or are not in the target
            language's orthography (高潮 -> orgasm; ``dictionary.orthography``).
        skip_malformed: skip and count malformed MUSE lines instead of failing.
        max_entries: keep only the N best-supported entries of each pair (small builds for tests
            and smoke runs: common words, not the alphabetically first ones); None keeps all.
        report: also write the dataset coverage report.
        xtreme_dir: XTREME ``download/`` folder read by the coverage report.
        report_tasks: tasks the coverage report covers.
    """

    muse_dir: str = "../shared/data/muse"
    out_dir: str = "build/dictionaries"
    scheme: str = "native"
    pairs: tuple[str, ...] = ("zh-vi", "ja-ko")
    use_reverse: bool = False
    keep_identical: bool = False
    keep_noise: bool = False
    skip_malformed: bool = False
    max_entries: int | None = None
    report: bool = False
    xtreme_dir: str = "../shared/data/xtreme"
    report_tasks: tuple[str, ...] = TASKS

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}; valid: {', '.join(SCHEMES)}")
        if not self.pairs:
            raise ValueError("pairs is empty; give at least one of " + ", ".join(VALID_PAIRS))
        for pair in self.pairs:
            parse_pair(pair)
        if len(set(self.pairs)) != len(self.pairs):
            raise ValueError(f"pairs lists a pair twice: {list(self.pairs)}")
        if self.max_entries is not None and self.max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer or None, got {self.max_entries}")
        bad = [t for t in self.report_tasks if t not in TASKS]
        if bad or not self.report_tasks:
            raise ValueError(f"report_tasks {list(self.report_tasks)} must be a non-empty subset "
                             f"of {TASKS}")


@dataclass(frozen=True)
class PairSummary:
    """What was written for one pair, with the statistics printed at the end of a build."""

    pair: str
    entries: int
    sources: int
    targets: int
    mean_translations: float
    parquet: Path
    tsv: Path


@dataclass(frozen=True)
class BuildDictReport:
    """Result of ``build_dict``: per-pair summaries, MUSE script counts and the coverage rows."""

    pairs: tuple[PairSummary, ...]
    script_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    coverage: tuple[dict[str, Any], ...] = ()
    coverage_path: Path | None = None


# Phonemizer settings that read an input as one word in its own reading (a dictionary entry is a
# word, not a sentence): zh from pypinyin's phrase table alone (the sentence model reads isolated
# words worse, bench_cpp.py / G2P-TOOLS.md), ja with compounds unidic lacks read whole (閉包 heːhoː).
WORD_SETTINGS: dict[str, dict[str, Any]] = {"native/zh": {"context_model": False},
                                            "native/ja": {"words": True}}


def word_phonemizer(lang: str, scheme: str) -> Any:
    """The phonemizer that reads ``lang`` words as words (:data:`WORD_SETTINGS`), built once."""
    settings = WORD_SETTINGS.get(f"{scheme}/{lang}")
    if settings is None:
        return get_phonemizer(lang, scheme)
    key = (lang, scheme)
    if key not in _WORD_PHONEMIZERS:
        importlib.import_module(f"cjkv_phon.data.phonemize.{lang}")  # registers its classes
        _WORD_PHONEMIZERS[key] = PHONEMIZERS[f"{scheme}/{lang}"](**settings)
    return _WORD_PHONEMIZERS[key]


_WORD_PHONEMIZERS: dict[tuple[str, str], Any] = {}


class Transcriber:
    """Transcribes dictionary words per language, once per distinct word (cached across pairs).

    Each side is read as one word in its own reading (:func:`word_phonemizer`), given as the tokens
    the datasets would have (one per character for zh/ja), so the reading is split per token as
    theirs are.
    """

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self._cache: dict[tuple[str, str], Side] = {}
        self._not_ok: Counter[str] = Counter()

    def side(self, lang: str, word: str) -> Side:
        """The word tokenised like the datasets, with per-token IPA and Romanization."""
        key = (lang, word)
        if key not in self._cache:
            tokens = convention(lang).tokens(word)
            tr = word_phonemizer(lang, self.scheme).transcribe(tokens)
            self._not_ok.update(f"{lang}:{s}" for s in tr.status if s != "ok")
            self._cache[key] = Side(word, tokens, tuple(tr.ipa), tuple(tr.romanized))
        return self._cache[key]

    def versions(self, langs: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tool versions of the phonemizers used for ``langs``."""
        return {lang: word_phonemizer(lang, self.scheme).versions() for lang in sorted(set(langs))}

    def status_counts(self) -> dict[str, int]:
        """Tokens per non-``ok`` status (``lang:status``) seen so far, for the build log."""
        return dict(sorted(self._not_ok.items()))


def best_supported(entries: Sequence[PivotEntry], n: int) -> list[PivotEntry]:
    """The ``n`` entries with the highest support (ties: source, target), kept in the input's order."""
    ranked = sorted(range(len(entries)),
                    key=lambda i: (-entries[i].support, entries[i].source, entries[i].target))
    return [entries[i] for i in sorted(ranked[:n])]


def transcribe_entries(entries: Sequence[PivotEntry], source_lang: str, target_lang: str,
                       transcriber: Transcriber) -> list[DictEntry]:
    """Attach tokens and transcriptions to pivot entries (order kept)."""
    return [DictEntry(transcriber.side(source_lang, e.source), transcriber.side(target_lang, e.target),
                      e.pivots, e.support) for e in entries]


def dictionary_from_pivot(entries: Sequence[PivotEntry], pair: str,
                          scheme: str = "native") -> PivotDictionary:
    """An in-memory PivotDictionary for ``entries`` (e.g. a small subset for tests), transcribed."""
    src, tgt = parse_pair(pair)
    return PivotDictionary(src, tgt, transcribe_entries(entries, src, tgt, Transcriber(scheme)))


def dictionary_table(entries: Sequence[DictEntry], source_lang: str, target_lang: str,
                     metadata: dict[str, Any]) -> pa.Table:
    """Entries as a DICTIONARY_SCHEMA table carrying ``metadata`` as JSON under ``cjkv_phon``."""
    cols: dict[str, list] = {f.name: [] for f in DICTIONARY_SCHEMA}
    for e in entries:
        for prefix, side in (("source", e.source), ("target", e.target)):
            cols[prefix].append(side.word)
            cols[f"{prefix}_tokens"].append(list(side.tokens))
            cols[f"{prefix}_ipa"].append(list(side.ipa))
            cols[f"{prefix}_romanized"].append(list(side.romanized))
        cols["source_lang"].append(source_lang)
        cols["target_lang"].append(target_lang)
        cols["pivots"].append(list(e.pivots))
        cols["support"].append(e.support)
    blob = json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
    schema = DICTIONARY_SCHEMA.with_metadata({METADATA_KEY: blob})
    table = pa.Table.from_pydict(cols, schema=schema)
    check_table(table, DICTIONARY_SCHEMA, f"{source_lang}-{target_lang} dictionary")
    return table


def tsv_text(entries: Sequence[DictEntry]) -> str:
    """The paper's 4-column layout: source, source IPA, target, target IPA (IPA tokens space-joined)."""
    rows = ((e.source.word, " ".join(e.source.ipa), e.target.word, " ".join(e.target.ipa))
            for e in entries)
    return "".join("\t".join(row) + "\n" for row in rows)


def _write_pair(cfg: BuildDictConfig, pair: str, entries: list[DictEntry],
                metadata: dict[str, Any]) -> PairSummary:
    """Write one pair's parquet and TSV atomically and summarise it."""
    src, tgt = parse_pair(pair)
    out = Path(cfg.out_dir)
    parquet, tsv = out / f"{pair}.parquet", out / f"{pair}.tsv"
    table = dictionary_table(entries, src, tgt, metadata)
    with atomic.atomic_path(parquet) as tmp:
        pq.write_table(table, tmp)
    atomic.write_text(tsv, tsv_text(entries))
    sources = len({e.source.word for e in entries})
    targets = len({e.target.word for e in entries})
    mean = len(entries) / sources if sources else 0.0
    log.info("%s: %d entries, %d sources, %.2f translations per source -> %s",
             pair, len(entries), sources, mean, parquet)
    return PairSummary(pair, len(entries), sources, targets, round(mean, 4), parquet, tsv)


def _muse_scripts(files: Sequence[MuseFile]) -> dict[str, dict[str, int]]:
    """Script counts of the CJK side of each zh/ja MUSE file (reported: MUSE zh is Traditional)."""
    out = {}
    for muse in files:
        lang, words = ((muse.tgt, [t for _, t in muse.pairs]) if muse.src == "en"
                       else (muse.src, [s for s, _ in muse.pairs]))
        if lang in _HANZI_LANGS:
            out[muse.path.name] = script_counts(dict.fromkeys(words))
    return out


def build_pair(cfg: BuildDictConfig, pair: str,
               transcriber: Transcriber) -> tuple[PairSummary, PivotDictionary, dict[str, Any]]:
    """Pivot, transcribe and write one pair; returns its summary, dictionary and parquet metadata."""
    src, tgt = parse_pair(pair)
    noise: dict[str, int] = {}
    pivoted, files = pivot_pair(cfg.muse_dir, pair, use_reverse=cfg.use_reverse,
                                skip_malformed=cfg.skip_malformed, keep_identical=cfg.keep_identical,
                                keep_noise=cfg.keep_noise, stats=noise)
    if cfg.max_entries is not None:
        pivoted = best_supported(pivoted, cfg.max_entries)
    entries = transcribe_entries(pivoted, src, tgt, transcriber)
    # The output folder is left out so that a build's bytes do not depend on where it is written.
    settings = {k: v for k, v in config_to_dict(cfg).items() if k != "out_dir"}
    metadata = {
        "pair": pair, "scheme": cfg.scheme, "config": settings, "config_hash": config_hash(settings),
        "muse": {m.path.name: {"sha256": m.sha256, "pairs": len(m.pairs), "skipped": m.skipped}
                 for m in files},
        "muse_scripts": _muse_scripts(files),
        "noise_filter": noise,
        "versions": {"tools": package_versions(_TOOLS), "phonemizers": transcriber.versions([src, tgt])},
        "git_commit": git_commit(),
    }
    summary = _write_pair(cfg, pair, entries, metadata)
    return summary, PivotDictionary(src, tgt, entries, summary.parquet), metadata


def build_dict(cfg: BuildDictConfig) -> BuildDictReport:
    """Build every pair of ``cfg`` (and the coverage report if asked); returns what was written."""
    transcriber = Transcriber(cfg.scheme)
    summaries, dictionaries, scripts = [], {}, {}
    for pair in cfg.pairs:
        summary, dictionary, metadata = build_pair(cfg, pair, transcriber)
        summaries.append(summary)
        dictionaries[pair] = dictionary
        scripts.update(metadata["muse_scripts"])
    if transcriber.status_counts():
        log.info("transcription statuses other than ok: %s", transcriber.status_counts())
    coverage: tuple[dict[str, Any], ...] = ()
    coverage_path = None
    if cfg.report:
        coverage = tuple(coverage_report(dictionaries, cfg.xtreme_dir, tasks=cfg.report_tasks))
        coverage_path = atomic.write_json(Path(cfg.out_dir) / "coverage.json",
                                          {"config": config_to_dict(cfg), "rows": list(coverage)})
    return BuildDictReport(tuple(summaries), dict(sorted(scripts.items())), coverage, coverage_path)
