"""Which transcriptions may choose the phonemic vocabulary of a zero-shot run: never a test split.

The IPA symbols added to the vocabulary (``vocab.extend_vocab``) or the phoneme segment inventory
(``phoneme_symbols.SegmentEncoder``) decide which sounds get a row of their own. Choosing them from
the target TEST transcriptions would let the test set shape the model. A zero-shot run may see:

* the source training and dev sentences (``source-train``, ``source-dev``), labels and all;
* unlabelled target-language text: the target TRAIN split's transcriptions (``target-train
  (unlabelled)``), whose tags are never read. PAN-X and UDPOS vi/ko have train splits; where the
  built data has none, the symbols come from the source side only (logged).

The target dev and test splits are never read here. ``results.json`` records the list under
``phoneme_vocabulary.symbols_from``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import pyarrow.parquet as pq

from cjkv_phon.training.batches import Example

log = logging.getLogger(__name__)

Transcribed = tuple[Sequence[str], Sequence[str]]     # (per-token transcription, per-token language)


def zero_shot_transcriptions(data_dir: str, task: str, target_lang: str, column: str,
                             train: Sequence[Example], source_dev: Sequence[Example]
                             ) -> tuple[list[Transcribed], list[str]]:
    """The transcriptions a zero-shot run may choose symbols from, and the names of their sources."""
    seen: list[Transcribed] = [(ex.phonemes, ex.langs) for ex in (*train, *source_dev)]
    sources = ["source-train", "source-dev"]
    path = Path(data_dir) / task / target_lang / "train.parquet"
    if path.is_file():
        table = pq.read_table(path, columns=[column])
        rows = [r for r in table.column(column).to_pylist() if r]
        seen += [(r, (target_lang,) * len(r)) for r in rows]
        sources.append("target-train (unlabelled)")
    else:
        log.info("no %s: phoneme symbols come from the source side only", path)
    return seen, sources
