"""The run's sentences: source training examples and the four evaluation sets, read from built parquet.

Kept apart from the loop because every path into training (``train``, the benchmarks, the tests that
build a run without training it) must see exactly the same sentences: the same fixed subsample, the same
label check, the same IOB repair. The pivot dictionary and the provenance of the phoneme symbols are
read here too, since they are also part of what a run is given, not of how it trains.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cjkv_phon.errors import InputError
from cjkv_phon.schema import LABELS
from cjkv_phon.training.batches import Example, examples_from_table
from cjkv_phon.training.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class RunData:
    """The run's sentences: source training examples and the four evaluation sets."""

    train: list[Example]
    evals: dict[tuple[str, str], list[Example]]


def load_run_data(cfg: TrainConfig, require_phonemes: bool) -> RunData:
    """Source train + source/target dev/test as examples, with their label sets checked.

    Raises:
        InputError: a tag outside the task's label set, which the source and target must share.
    """
    from cjkv_phon.data.release_reader import load_split   # the data stage, imported where it is used

    def read(lang: str, split: str, limit: int | None) -> list[Example]:
        where = str(Path(cfg.data_dir) / cfg.task / lang / f"{split}.parquet")   # load_split's layout
        examples = examples_from_table(load_split(cfg.data_dir, cfg.task, lang, split),
                                       cfg.phonemes, where, require_phonemes)
        examples = [ex for ex in examples if ex.tokens]          # a CRF needs at least one token
        check_labels(examples, LABELS[cfg.task], where)
        return subsample(examples, limit)

    train = read(cfg.source_lang, "train", cfg.max_train_sentences)
    source_test = cfg.max_test_sentences if cfg.max_source_test_sentences is None else cfg.max_source_test_sentences
    limits = {("source", "dev"): cfg.max_eval_sentences, ("target", "dev"): cfg.max_eval_sentences,
              ("source", "test"): source_test, ("target", "test"): cfg.max_test_sentences}
    evals = {(side, split): read(lang, split, limits[(side, split)])
             for side, lang in (("source", cfg.source_lang), ("target", cfg.target_lang))
             for split in ("dev", "test")}
    log.info("data: %d training sentences; eval %s", len(train),
             {f"{s}-{p}": len(v) for (s, p), v in evals.items()})
    return RunData(train, evals)


def check_labels(examples: Sequence[Example], labels: Sequence[str], where: str) -> None:
    """Raise ``InputError`` (file, row, tag) for a tag outside ``labels`` or a sentence without tags."""
    known = set(labels)
    for row, ex in enumerate(examples, start=1):
        if ex.tags is None:
            raise InputError(f"sentence {ex.id!r} has no tags; training and evaluation need gold tags",
                             path=where, line=row)
        bad = sorted(set(ex.tags) - known)
        if bad:
            raise InputError(f"sentence {ex.id!r}: label sets differ: tags not in the source label set "
                             f"{list(labels)}", path=where, line=row, value=bad)


def repair_iob(tags: Sequence[str]) -> tuple[str, ...]:
    """Gold training tags with ill-formed ``I-X`` (after ``O`` or another type) read as ``B-X``.

    PAN-X has such tags (``O I-PER`` in ``panx.zh.train.9``), and so does a chunk of a split sentence
    that starts inside an entity. seqeval's default mode, our metric, reads them the same way; the
    constrained CRF forbids them, so left as they are each would add a constant 10^4 to the logged loss
    without changing any gradient. Tag sets without ``I-`` are unchanged.
    """
    out, prev = [], "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag if tag.startswith(("B-", "I-")) else "O"
    return tuple(out)


def subsample(examples: list[Example], limit: int | None) -> list[Example]:
    """At most ``limit`` examples, the same ones every run (a fixed-seed sample kept in file order)."""
    if limit is None or len(examples) <= limit:
        return examples
    keep = sorted(random.Random(0).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def load_dictionary(cfg: TrainConfig):
    """The pivot dictionary ``<dictionary_dir>/<src>-<tgt>.parquet`` (or the reverse file)."""
    from cjkv_phon.dictionary.lexicon import PivotDictionary
    folder = Path(cfg.dictionary_dir)
    for name in (f"{cfg.source_lang}-{cfg.target_lang}", f"{cfg.target_lang}-{cfg.source_lang}"):
        if (folder / f"{name}.parquet").is_file():
            return PivotDictionary.load(folder / f"{name}.parquet")
    raise InputError(f"no pivot dictionary for {cfg.pair}: looked for {cfg.pair}.parquet; build it with "
                     f"`cjkv build-dict --pair {cfg.pair}` or set --dictionary-dir", path=folder)


def symbol_sources(cfg: TrainConfig) -> list[str]:
    """The splits the run's phoneme symbols were chosen from (``vocab_sources``), for results.json."""
    target_train = Path(cfg.data_dir) / cfg.task / cfg.target_lang / "train.parquet"
    return ["source-train", "source-dev"] + (["target-train (unlabelled)"] if target_train.is_file() else [])
