"""Tagging metrics on small hand-made examples; every expected value is counted by hand below."""

from __future__ import annotations

import warnings

import pytest
from seqeval.metrics import f1_score

from cjkv_phon.training.metrics import METRIC_LABELS, evaluate_tags, per_label_f1, seqeval_raw_f1, token_accuracy

# NER, three sentences.
#   s0 gold PER(0-1) LOC(3)       pred PER(0-1) ORG(3)
#   s1 gold ORG(0-2)              pred ORG(0-1)            (boundary wrong -> no credit)
#   s2 gold PER(0-1)              pred I-PER I-PER         (default mode: chunk PER(0-1) -> credit;
#                                                           strict IOB2 would reject it)
# Gold chunks 4, predicted chunks 4, correct 2 -> P = R = F1 = 50.
# Tokens 10; wrong: s0[3], s1[2], s2[0] -> accuracy 7/10 = 70.
NER_GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"], ["B-PER", "I-PER"]]
NER_PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O"], ["I-PER", "I-PER"]]

# POS, two sentences: 5 tokens, 1 wrong (VERB -> NOUN). Adjacent NOUN NOUN must stay two chunks.
POS_GOLD = [["NOUN", "VERB", "PUNCT"], ["ADJ", "NOUN", "NOUN"]]
POS_PRED = [["NOUN", "NOUN", "PUNCT"], ["ADJ", "NOUN", "NOUN"]]


def test_ner_hand_counted():
    got = evaluate_tags(NER_GOLD, NER_PRED, "panx")
    assert got == pytest.approx({"precision": 50.0, "recall": 50.0, "f1": 50.0, "accuracy": 70.0})


def test_ner_precision_and_recall_differ_when_chunk_counts_differ():
    # Gold PER(0-1); pred PER(0-1) + LOC(3): P = 1/2, R = 1/1, F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
    got = evaluate_tags([["B-PER", "I-PER", "O", "O"]], [["B-PER", "I-PER", "O", "B-LOC"]], "panx")
    assert got == pytest.approx({"precision": 50.0, "recall": 100.0, "f1": 200 / 3, "accuracy": 75.0})


def test_ner_per_label():
    # PER: gold 2, pred 2, correct 2 -> 100. LOC: gold 1, pred 0 -> 0. ORG: gold 1, pred 2, correct 0 -> 0.
    assert per_label_f1(NER_GOLD, NER_PRED, "panx") == pytest.approx({"PER": 100.0, "LOC": 0.0, "ORG": 0.0})


def test_pos_f1_equals_accuracy_and_the_papers_raw_seqeval_is_reported_beside_it():
    # 6 tokens, 1 wrong -> 5/6 for accuracy and (one chunk per token) for P, R and F1.
    # Raw seqeval (the paper's metric): gold chunks NOUN | VERB | PUNCT, ADJ | NOUN NOUN (merged) = 5;
    # predicted NOUN NOUN (merged) | PUNCT, ADJ | NOUN NOUN = 4; right: PUNCT, ADJ, NOUN NOUN = 3.
    # P 3/4, R 3/5 -> F1 = 2 * 0.75 * 0.6 / 1.35 = 2/3.
    got = evaluate_tags(POS_GOLD, POS_PRED, "udpos")
    assert got == pytest.approx({"precision": 500 / 6, "recall": 500 / 6, "f1": 500 / 6,
                                 "accuracy": 500 / 6, "seqeval_raw_f1": 200 / 3})
    assert set(METRIC_LABELS["udpos"]) == set(got) and "paper" in METRIC_LABELS["udpos"]["seqeval_raw_f1"]
    assert set(METRIC_LABELS["panx"]) == set(evaluate_tags(NER_GOLD, NER_PRED, "panx"))


def test_pos_raw_tags_would_be_misparsed_by_seqeval():
    # Why udpos tags are converted: on raw tags seqeval reads 'NOUN' as prefix 'N', type 'OUN', and
    # merges the two gold NOUNs into one chunk, so one right tag in two scores F1 0 instead of 50.
    gold, pred = [["NOUN", "NOUN"]], [["NOUN", "SYM"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert f1_score(gold, pred) == 0.0
    # Converted: gold NOUN(0) NOUN(1), pred NOUN(0) SYM(1); 1 of 2 right -> P = R = F1 = 50. The
    # paper's raw reading is reported beside it, labelled, with its 0.
    assert evaluate_tags(gold, pred, "udpos") == pytest.approx(
        {"precision": 50.0, "recall": 50.0, "f1": 50.0, "accuracy": 50.0, "seqeval_raw_f1": 0.0})
    assert seqeval_raw_f1(gold, pred) == 0.0 and seqeval_raw_f1(gold, gold) == 100.0


def test_pos_per_label():
    # NOUN: gold 3, pred 4, correct 3 -> P 3/4, R 1, F1 = 2 * 0.75 / 1.75 = 6/7.
    got = per_label_f1(POS_GOLD, POS_PRED, "udpos")
    assert got == pytest.approx({"NOUN": 600 / 7, "VERB": 0.0, "PUNCT": 100.0, "ADJ": 100.0})


def test_mismatched_lengths_name_the_sentence():
    with pytest.raises(ValueError, match="sentence 1: gold has 4 tags but pred has 3"):
        evaluate_tags(NER_GOLD, [NER_PRED[0], NER_PRED[1][:3], NER_PRED[2]], "panx")
    with pytest.raises(ValueError, match="3 sentences but pred has 2"):
        evaluate_tags(NER_GOLD, NER_PRED[:2], "panx")
    with pytest.raises(ValueError, match="'xnli'"):
        evaluate_tags(NER_GOLD, NER_PRED, "xnli")


def test_no_entities_and_no_tokens_score_zero_without_crashing():
    assert evaluate_tags([["O", "O"]], [["O", "O"]], "panx") == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 100.0})
    assert evaluate_tags([], [], "udpos") == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 0.0,
                                              "seqeval_raw_f1": 0.0}
    assert token_accuracy([["A"]], [["B"]]) == 0.0
