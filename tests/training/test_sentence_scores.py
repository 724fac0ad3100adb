"""Per-sentence chunk counts on real PAN-X and UDPOS sentences: their sums are seqeval's F1, exactly."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from cjkv_phon.training.metrics import evaluate_tags
from cjkv_phon.training.sentence_scores import (SentenceCounts, decode, encode, f1_from_counts, read_counts,
                                                sentence_counts)
from tests.training.conftest import read_examples

PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")


def corrupt(tags: list[str], rng: random.Random, labels: tuple[str, ...]) -> list[str]:
    """A prediction with about a third of the tags replaced at random (ill-formed I- tags included)."""
    return [rng.choice(labels) if rng.random() < 0.35 else t for t in tags]


@pytest.mark.parametrize("lang", ["vi", "zh", "ko"])
def test_panx_counts_reproduce_seqeval_f1_exactly(built_data, lang):
    examples = read_examples(built_data, "panx", lang, "test")
    gold = [list(ex.tags) for ex in examples]
    rng = random.Random(7)
    for pred in (gold, [["O"] * len(g) for g in gold], [corrupt(g, rng, PANX_TAGS) for g in gold]):
        counts = sentence_counts([ex.id for ex in examples], gold, pred, "panx")
        assert counts.f1() == evaluate_tags(gold, pred, "panx")["f1"]
        # Every gold chunk opens with B- or with an I- after O/another type (seqeval's default mode; zh
        # gold has such I- tags).
        opens = sum(t.startswith("B-") or (t.startswith("I-") and p[2:] != t[2:])
                    for g in gold for p, t in zip(["O", *g], g))
        assert counts.counts[:, 2].sum() == opens > 0
    # The corrupted prediction is neither perfect nor empty: the check is not a trivial 100 or 0.
    assert 0 < counts.f1() < 100


def test_udpos_counts_are_tokens_and_reproduce_f1_and_accuracy(built_data):
    examples = read_examples(built_data, "udpos", "vi", "test")
    gold = [list(ex.tags) for ex in examples]
    labels = tuple(sorted({t for g in gold for t in g}))
    pred = [corrupt(g, random.Random(3), labels) for g in gold]
    counts = sentence_counts([ex.id for ex in examples], gold, pred, "udpos")
    scores = evaluate_tags(gold, pred, "udpos")
    assert counts.f1() == pytest.approx(scores["f1"], abs=1e-12) and counts.f1() == pytest.approx(scores["accuracy"])
    assert (counts.counts[:, 1] == counts.counts[:, 2]).all()
    assert list(counts.counts[:, 2]) == [len(g) for g in gold]


def test_encode_decode_round_trip_and_compact(built_data):
    examples = read_examples(built_data, "panx", "vi", "test")
    gold = [list(ex.tags) for ex in examples]
    counts = sentence_counts([ex.id for ex in examples], gold, gold, "panx")
    block = encode(counts)
    assert block["id_prefix"] == "panx.vi.test." and block["ids"].split()[:3] == ["0", "1", "2"]
    assert all(isinstance(v, str) for v in block.values())     # one line each in the pretty-printed record
    again = decode(json.loads(json.dumps(block)))
    assert again.ids == counts.ids and (again.counts == counts.counts).all()
    # Ids that are not <prefix><number> are kept whole.
    odd = SentenceCounts(("a-1", "b", "a-01"), np.array([[0, 0, 0], [1, 1, 2], [0, 1, 0]]))
    block = encode(odd)
    assert block["id_prefix"] == "" and decode(block).ids == odd.ids


def test_bad_blocks_are_refused_by_name():
    block = {"unit": "chunk", "id_prefix": "x.", "ids": "0 1", "correct": "1 0", "predicted": "1", "gold": "1 1"}
    with pytest.raises(ValueError, match=r"run7: predicted has 1 values for 2 sentence ids"):
        decode(block, "run7")
    with pytest.raises(ValueError, match="correct <= predicted"):
        decode({**block, "predicted": "0 0"}, "run7")
    with pytest.raises(ValueError, match="occurs more than once"):
        decode({**block, "ids": "0 0", "predicted": "1 1"})
    with pytest.raises(ValueError, match="contains whitespace"):
        encode(SentenceCounts(("a b",), np.zeros((1, 3), dtype=int)))
    with pytest.raises(ValueError, match="2 ids for 1 sentences"):
        sentence_counts(["a", "b"], [["O"]], [["O"]], "panx")


def test_old_records_have_no_counts_and_zero_division_is_zero():
    assert read_counts({"metrics": {}}, "target", "test") is None
    assert f1_from_counts(0, 0, 0) == 0.0 and f1_from_counts(0, 3, 2) == 0.0
    assert f1_from_counts(1, 2, 1) == pytest.approx(100 * 2 / 3)
