"""Which transcriptions may choose the phonemic vocabulary of a zero-shot run: never a target label,
never a target dev or test split.

The IPA symbols added to the vocabulary (``vocab.extend_vocab``), the pieces of PE's own table
(``phonemic_embedding``) or the phoneme segment inventory (``phoneme_symbols.SegmentEncoder``) decide
which sounds get a row of their own; a symbol outside them falls on the unknown row. Choosing them from
the target TEST transcriptions would let the test set shape the model. A zero-shot run may see:

* the source training and dev sentences (``source-train``, ``source-dev``), labels and all;
* ALL unlabelled target-language text the release holds outside its dev and test splits: the target
  TRAIN split of every task (``target-train:panx (unlabelled)``, ``target-train:udpos (unlabelled)``),
  whose tags are never read;
* the pivot dictionary's target-language side (``dictionary:<src>-<tgt> target side``), when the run's
  dictionary folder holds it.

Issue 20: with the target train split of the run's own task only, UDPOS ja->ko (XTREME has no Korean
UD train split) left 37.5% of the Korean test IPA pieces on the unknown row of PhoneXL's PE table;
PAN-X ko train text and the dictionary's Korean side bring it under 2% (``benchmarks/pe_unknown_share.py``).
Every system that reads phonemes gets the same sources, whether or not it uses the dictionary.

``results.json`` records the list under ``phoneme_vocabulary.symbols_from`` and the share of PE pieces
on the unknown row per evaluated split under ``phoneme_vocabulary.unknown_share``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import pyarrow.parquet as pq

from cjkv_phon.schema import TASKS
from cjkv_phon.training.batches import Example

log = logging.getLogger(__name__)

Transcribed = tuple[Sequence[str], Sequence[str]]     # (per-token transcription, per-token language)


def target_text_sources(data_dir: str, target_lang: str, column: str, source_lang: str | None = None,
                        dictionary_dir: str | None = None) -> list[tuple[str, Path, str]]:
    """``(name, file, column)`` of every unlabelled target-language text a zero-shot run may read.

    The target train split of each task in ``data_dir``, then the dictionary side in ``target_lang``
    of ``<dictionary_dir>/<src>-<tgt>.parquet`` (or of the reverse file), where present.
    """
    out = []
    for task in TASKS:
        path = Path(data_dir) / task / target_lang / "train.parquet"
        if path.is_file():
            out.append((f"target-train:{task} (unlabelled)", path, column))
    if dictionary_dir is not None and source_lang is not None:
        for src, tgt, side in ((source_lang, target_lang, "target"), (target_lang, source_lang, "source")):
            path = Path(dictionary_dir) / f"{src}-{tgt}.parquet"
            if path.is_file():
                out.append((f"dictionary:{source_lang}-{target_lang} target side", path, f"{side}_{column}"))
                break
    return out


def zero_shot_transcriptions(data_dir: str, task: str, target_lang: str, column: str,
                             train: Sequence[Example], source_dev: Sequence[Example],
                             source_lang: str | None = None, dictionary_dir: str | None = None,
                             ) -> tuple[list[Transcribed], list[str]]:
    """The transcriptions a zero-shot run may choose symbols from, and the names of their sources.

    Args:
        data_dir: the release's ``data/`` folder.
        task: the run's task (kept for the call's readability; every task's target train is read).
        target_lang: the target language.
        column: ``ipa`` or ``romanized``.
        train, source_dev: the run's source examples.
        source_lang, dictionary_dir: locate the pivot dictionary (its target side is included).
    """
    seen: list[Transcribed] = [(ex.phonemes, ex.langs) for ex in (*train, *source_dev)]
    sources = ["source-train", "source-dev"]
    for name, path, col in target_text_sources(data_dir, target_lang, column, source_lang, dictionary_dir):
        rows = [r for r in pq.read_table(path, columns=[col]).column(col).to_pylist() if r]
        seen += [(r, (target_lang,) * len(r)) for r in rows]
        sources.append(name)
    if len(sources) == 2:
        log.info("no unlabelled %s text in %s: phoneme symbols come from the source side only", target_lang, data_dir)
    return seen, sources
