"""Length-aware batching: deterministic per seed, every example once, less padding; evaluation keeps order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.batches import Collator, split_examples
from cjkv_phon.training.bucketing import epoch_batches, eval_batches, padding_stats, subword_length
from cjkv_phon.training.model import ModelSettings, PhoneXLModel
from cjkv_phon.training.evaluation import predict_tags
from tests.training.conftest import read_examples


@pytest.fixture()
def real_lengths(built_data, tiny_backbone) -> tuple[Collator, list, list[int]]:
    collator = Collator(tiny_backbone("tiny-xlmr").tokenizer, PANX_LABELS, 128)
    chunks = split_examples(read_examples(built_data, "panx", "zh", "train")
                            + read_examples(built_data, "panx", "vi", "train"), collator)
    return collator, chunks, [subword_length(collator, c) for c in chunks]


def test_training_batches_are_deterministic_per_seed_and_cover_every_example_once(real_lengths):
    _, _, lengths = real_lengths
    a = epoch_batches(lengths, 4, (1, 0, 0), bucket=4)
    assert a == epoch_batches(lengths, 4, (1, 0, 0), bucket=4)                # same seed, same batches
    assert a != epoch_batches(lengths, 4, (1, 0, 1), bucket=4)                # next epoch, new batches
    assert a != epoch_batches(lengths, 4, (2, 0, 0), bucket=4)                # other seed, new batches
    for bucket in (1, 4, 1000):
        batches = epoch_batches(lengths, 4, (1, 0, 0), bucket)
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
        assert len(batches) == -(-len(lengths) // 4) and all(1 <= len(b) <= 4 for b in batches)
    # bucket 1 is plain shuffled slicing: the order the trainer used before length-aware batching.
    order = np.random.default_rng([1, 0, 0]).permutation(len(lengths)).tolist()
    assert epoch_batches(lengths, 4, (1, 0, 0), 1) == [order[k:k + 4] for k in range(0, len(order), 4)]
    # Sorting within buckets still shuffles: the first batch is not always the shortest sentences.
    firsts = {tuple(epoch_batches(lengths, 4, (1, 0, e), 4)[0]) for e in range(5)}
    assert len(firsts) == 5


def test_bucketed_batches_carry_less_padding_than_random_ones(real_lengths):
    collator, chunks, lengths = real_lengths

    def real_ratio(bucket: int) -> float:
        real = slots = 0
        for batch in epoch_batches(lengths, 8, (1, 0, 0), bucket):
            r, s = padding_stats(collator.collate([chunks[i] for i in batch]).attention_mask)
            real, slots = real + r, slots + s
        return real / slots

    assert real_ratio(16) > real_ratio(1) + 0.1


def test_eval_batches_are_sorted_by_length_and_cover_every_example_once():
    lengths = [3, 9, 1, 9, 4]
    batches = eval_batches(lengths, 2)
    assert batches == [[1, 3], [4, 0], [2]]
    with pytest.raises(ValueError):
        eval_batches(lengths, 0)


def test_evaluation_returns_every_sentence_in_its_input_order_whatever_the_batching(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, max_subwords=12)          # long sentences are split
    examples = read_examples(built_data, "panx", "zh", "dev") + read_examples(built_data, "panx", "vi", "dev")
    assert len(split_examples(examples, collator)) > len(examples)
    torch.manual_seed(0)
    model = PhoneXLModel(bb.model, PANX_LABELS, ModelSettings(use_pe=False, use_le=False, with_mlm_head=False))
    # Each sentence alone (no batching, no sorting) is the reference.
    alone = [predict_tags(model, collator, [ex], 1)[0] for ex in examples]
    assert len({tuple(p) for p in alone}) > 1                                  # not one constant output
    for batch_size in (1, 3, 64, 1000):
        got = predict_tags(model, collator, examples, batch_size)
        assert got == alone
        assert [len(p) for p in got] == [len(ex.tokens) for ex in examples]
    reversed_input = predict_tags(model, collator, examples[::-1], 7)
    assert reversed_input == alone[::-1]


def test_evaluation_takes_chunks_of_a_sentence_as_inputs(built_data, tiny_backbone):
    """xtune labels dict-MT views of chunked training examples: inputs that share a sentence id and
    start at chunk 1. Each is predicted as itself (one tag per token), in any order."""
    bb = tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, max_subwords=12)
    chunks = split_examples(read_examples(built_data, "panx", "zh", "dev"), collator)
    later = [c for c in chunks if c.chunk > 0]
    assert later and len({c.id for c in later}) < len(later) + len([c for c in chunks if c.chunk == 0])
    torch.manual_seed(0)
    model = PhoneXLModel(bb.model, PANX_LABELS, ModelSettings(use_pe=False, use_le=False, with_mlm_head=False))
    alone = [predict_tags(model, collator, [c], 1)[0] for c in chunks]
    assert predict_tags(model, collator, chunks, 8) == alone
    assert [len(p) for p in alone] == [len(c.tokens) for c in chunks]
    assert predict_tags(model, collator, later[::-1], 3) == [alone[chunks.index(c)] for c in later[::-1]]
