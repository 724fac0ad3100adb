"""Tagging metrics as the paper reports them: seqeval micro precision/recall/F1, plus token accuracy.

Scale: every value is a percentage in 0..100, the way the paper's tables print F1 (e.g. 52.28).

- **NER (panx):** seqeval on the IOB2 tags in its *default* mode (``mode=None``), which is what the paper
  used and what conlleval does: an ``I-X`` that follows ``O`` or another type opens a new chunk instead
  of being discarded. Strict mode (``mode="strict", scheme=IOB2``) would score such ill-formed
  predictions as wrong. With the CRF's IOB2 constraints on, the decoder never produces them and the two
  modes agree; a softmax tagger (``use_crf=False``) can produce them, and then they differ.
- **POS (udpos):** the paper reports "F1 as reported by seqeval". Fed raw UPOS tags, seqeval reads the
  first letter as a chunk prefix ('NOUN' -> prefix 'N', type 'OUN'; 'INTJ' -> an inside tag of type
  'NTJ') and merges neighbours into chunks, so gold NOUN NOUN vs predicted NOUN SYM scores F1 0 although
  half the tags are right. We therefore turn every tag into its own one-token chunk (``NOUN`` ->
  ``B-NOUN``), so each token is one chunk and micro precision = recall = F1 = token accuracy whenever
  gold and prediction have the same lengths (which we require). Accuracy is returned as well.
  **The paper's own UDPOS number is seqeval on the raw tags** (issue 20, item 7), misparse and all, so
  it is returned too, as ``seqeval_raw_f1``: the only UDPOS figure comparable with the paper's tables.
  ``METRIC_LABELS`` names every key per task; results records carry them (``metric_labels``).
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from cjkv_phon.errors import check_choice
from cjkv_phon.schema import TASKS

log = logging.getLogger(__name__)

Tags = list[list[str]]


def _as_is(tags: Tags) -> Tags:
    """NER tags are already IOB2 chunks (copied into lists: seqeval rejects tuples and arrays)."""
    return [list(sentence) for sentence in tags]


def _single_token_chunks(tags: Tags) -> Tags:
    """One chunk per token: ``NOUN`` -> ``B-NOUN``, so two adjacent NOUNs stay two chunks."""
    return [[f"B-{tag}" for tag in sentence] for sentence in tags]


# How each task's tags become seqeval chunks; a new task adds one entry.
TO_CHUNKS: dict[str, Callable[[Tags], Tags]] = {"panx": _as_is, "udpos": _single_token_chunks}

# What each metric key means, per task (recorded in results.json; the leaderboard prints them).
METRIC_LABELS: dict[str, dict[str, str]] = {
    "panx": {"f1": "seqeval micro F1 over IOB2 entities (default mode)", "precision": "seqeval micro precision",
             "recall": "seqeval micro recall", "accuracy": "token accuracy"},
    "udpos": {"f1": "token accuracy (seqeval over one-token chunks: P = R = F1 = accuracy)",
              "precision": "= f1", "recall": "= f1", "accuracy": "token accuracy",
              "seqeval_raw_f1": "seqeval micro F1 over raw UPOS tags (the paper's UDPOS metric: 'NOUN NOUN' "
                                "is read as one chunk of type 'OUN')"},
}


def seqeval_raw_f1(gold: Tags, pred: Tags) -> float:
    """seqeval's default-mode micro F1 (0..100) on the tags exactly as given, the way the paper scored
    UDPOS: raw UPOS tags are read as prefix + type and equal neighbours merge (module docstring)."""
    with warnings.catch_warnings():        # "NOUN seems not to be NE tag": the misparse is the point
        warnings.simplefilter("ignore")
        return 100.0 * float(f1_score(_as_is(gold), _as_is(pred), zero_division=0))


def _check(gold: Tags, pred: Tags, task: str) -> None:
    """Raise ``ValueError`` for an unknown task or gold/prediction lists that do not line up."""
    check_choice("task", task, TASKS)
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags but pred has {len(p)}")


def token_accuracy(gold: Tags, pred: Tags) -> float:
    """Percentage of tokens whose predicted tag equals the gold tag (0.0 when there are no tokens)."""
    total = sum(len(g) for g in gold)
    correct = sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p))
    return 100.0 * correct / total if total else 0.0


def evaluate_tags(gold: Tags, pred: Tags, task: str) -> dict[str, float]:
    """Micro precision, recall, F1 (seqeval) and token accuracy, all in 0..100.

    Args:
        gold: gold tag strings per sentence, e.g. ``[["B-PER", "I-PER", "O"], ...]``.
        pred: predicted tag strings, the same lengths as ``gold``.
        task: ``panx`` or ``udpos`` (see the module docstring for how each is scored).

    Returns:
        ``{"precision", "recall", "f1", "accuracy"}``, plus ``seqeval_raw_f1`` for udpos (the paper's
        metric); ``METRIC_LABELS[task]`` says what each is.

    Raises:
        ValueError: unknown task, or a sentence whose gold and predicted lengths differ (named by index).
    """
    _check(gold, pred, task)
    if not any(len(sentence) for sentence in gold):
        log.warning("evaluate_tags got no tokens to score; every metric is 0")
        return {name: 0.0 for name in METRIC_LABELS[task]}
    chunks_gold, chunks_pred = TO_CHUNKS[task](gold), TO_CHUNKS[task](pred)
    # zero_division=0: a split with no gold or no predicted chunk scores 0 instead of warning.
    scores = {name: fn(chunks_gold, chunks_pred, zero_division=0)
              for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score))}
    result = {name: 100.0 * float(value) for name, value in scores.items()}
    result["accuracy"] = token_accuracy(gold, pred)
    if task == "udpos":
        result["seqeval_raw_f1"] = seqeval_raw_f1(gold, pred)
    return result


def per_label_f1(gold: Tags, pred: Tags, task: str) -> dict[str, float]:
    """F1 (0..100) of each chunk type: ``PER``/``ORG``/``LOC`` for panx, each UPOS tag for udpos.

    Types that appear only in the predictions are included (with F1 0), since they cost precision.
    """
    _check(gold, pred, task)
    if not any(len(sentence) for sentence in gold):
        return {}
    report = classification_report(TO_CHUNKS[task](gold), TO_CHUNKS[task](pred), output_dict=True,
                                   zero_division=0)
    return {label: 100.0 * float(row["f1-score"]) for label, row in report.items()
            if not label.endswith(" avg")}
