"""Per-sentence chunk counts: what a paired bootstrap over test sentences needs, without the text.

Predictions (``predictions/*.jsonl``) copy the data (tokens and gold tags), so they are never committed.
The results record instead carries, for every evaluated split, each sentence's id and three integers,
the same counts seqeval's micro average sums:

* ``correct``: chunks predicted with the gold type, start and end;
* ``predicted``: chunks in the prediction;
* ``gold``: chunks in the gold tags.

Chunks are read exactly as ``metrics.evaluate_tags`` reads them (``metrics.TO_CHUNKS``): IOB2 entities
for PAN-X, one chunk per token for UDPOS (so there ``predicted == gold == tokens`` and ``correct`` is the
number of right tags; the F1 is the token accuracy). seqeval joins sentences with an ``O`` between them,
so no chunk crosses a sentence and the per-sentence counts sum to its totals: ``f1_from_counts`` of the
summed counts is the recorded F1, to the last bit (tested).

In ``results.json`` (``sentence_counts[side][split]``), kept compact because the record is pretty-printed
one value per line::

    {"unit": "chunk", "id_prefix": "panx.vi.test.", "ids": "0 17 23 ...",
     "correct": "1 0 2 ...", "predicted": "1 1 2 ...", "gold": "1 0 3 ..."}

``ids`` holds the part after ``id_prefix`` of each sentence id, space-separated (ids never contain
spaces; one without the prefix-plus-number form is stored whole, with ``id_prefix`` empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from cjkv_phon.training.metrics import TO_CHUNKS, Tags, _check

FIELDS: tuple[str, ...] = ("correct", "predicted", "gold")


@dataclass(frozen=True)
class SentenceCounts:
    """Chunk counts of one evaluated split, one entry per sentence, in evaluation order.

    Attributes:
        ids: sentence ids (unique).
        counts: integer array of shape (sentences, 3): correct, predicted, gold chunks.
    """

    ids: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        if self.counts.shape != (len(self.ids), len(FIELDS)):
            raise ValueError(f"counts has shape {self.counts.shape}; expected ({len(self.ids)}, 3)")
        if len(set(self.ids)) != len(self.ids):
            dup = next(i for i in self.ids if self.ids.count(i) > 1)
            raise ValueError(f"sentence id {dup!r} occurs more than once")

    def f1(self) -> float:
        """Micro F1 (0..100) of the whole split, as seqeval computes it from the summed counts."""
        correct, predicted, gold = (int(v) for v in self.counts.sum(axis=0))
        return f1_from_counts(correct, predicted, gold)


def f1_from_counts(correct: float, predicted: float, gold: float) -> float:
    """seqeval's micro F1 from summed counts, in 0..100, with its zero-division rule (0).

    The operations are seqeval's own (precision and recall first, then ``2pr / (p + r)``), so the
    result equals ``evaluate_tags(...)["f1"]`` exactly, not only to rounding.
    """
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    denom = 1.0 * precision + recall
    return 100.0 * ((1 + 1.0) * precision * recall / denom) if denom else 0.0


def sentence_counts(ids: Sequence[str], gold: Tags, pred: Tags, task: str) -> SentenceCounts:
    """Per-sentence (correct, predicted, gold) chunk counts of one split.

    Raises:
        ValueError: unknown task, or gold/prediction lengths that differ (as ``evaluate_tags``), or
            ids that do not match the sentences one to one.
    """
    _check(gold, pred, task)
    if len(ids) != len(gold):
        raise ValueError(f"{len(ids)} ids for {len(gold)} sentences")
    chunks_gold, chunks_pred = TO_CHUNKS[task](gold), TO_CHUNKS[task](pred)
    rows = []
    for g, p in zip(chunks_gold, chunks_pred):
        true, found = set(get_entities(g)), set(get_entities(p))
        rows.append((len(true & found), len(found), len(true)))
    return SentenceCounts(tuple(ids), np.asarray(rows, dtype=np.int64).reshape(len(rows), len(FIELDS)))


def _split_prefix(ids: Sequence[str]) -> tuple[str, list[str]]:
    """The common ``prefix`` of ids of the form ``<prefix><number>`` and their numbers; else ``("", ids)``."""
    if not ids:
        return "", []
    prefix = ids[0].rstrip("0123456789")
    rests = [i[len(prefix):] for i in ids]
    if all(i.startswith(prefix) and r.isdigit() and str(int(r)) == r for i, r in zip(ids, rests)):
        return prefix, rests
    return "", list(ids)


def encode(scores: SentenceCounts) -> dict[str, str]:
    """The compact JSON form of ``scores`` (see the module docstring)."""
    bad = next((i for i in scores.ids if not i or any(ch.isspace() for ch in i)), None)
    if bad is not None:
        raise ValueError(f"sentence id {bad!r} is empty or contains whitespace; it cannot be stored")
    prefix, rests = _split_prefix(scores.ids)
    out = {"unit": "chunk", "id_prefix": prefix, "ids": " ".join(rests)}
    for k, name in enumerate(FIELDS):
        out[name] = " ".join(str(int(v)) for v in scores.counts[:, k])
    return out


def decode(block: dict[str, Any], where: str = "sentence_counts") -> SentenceCounts:
    """``SentenceCounts`` from its JSON form.

    Raises:
        ValueError: a missing field, a non-integer count, or columns of different lengths (``where``
            names the block, e.g. the file and side/split).
    """
    missing = [k for k in ("id_prefix", "ids", *FIELDS) if k not in block]
    if missing:
        raise ValueError(f"{where}: lacks {missing}")
    ids = tuple(block["id_prefix"] + rest for rest in str(block["ids"]).split())
    columns = []
    for name in FIELDS:
        try:
            values = [int(v) for v in str(block[name]).split()]
        except ValueError as exc:
            raise ValueError(f"{where}: {name}: {exc}") from None
        if len(values) != len(ids):
            raise ValueError(f"{where}: {name} has {len(values)} values for {len(ids)} sentence ids")
        columns.append(values)
    counts = np.asarray(columns, dtype=np.int64).T.reshape(len(ids), len(FIELDS))
    if (counts < 0).any() or (counts[:, 0] > counts[:, 1:].min(axis=1)).any():
        raise ValueError(f"{where}: counts must be >= 0 with correct <= predicted and correct <= gold")
    return SentenceCounts(ids, counts)


def read_counts(record: dict[str, Any], side: str, split: str, where: str = "results") -> SentenceCounts | None:
    """The recorded counts of ``side``/``split`` of a results record; None for records that lack them
    (runs from before they were recorded)."""
    block = record.get("sentence_counts", {}).get(side, {}).get(split)
    return None if block is None else decode(block, f"{where}: sentence_counts.{side}.{split}")
