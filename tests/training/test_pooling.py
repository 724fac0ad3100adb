"""Subword <-> word pooling on hand-made tensors with hand-computed answers.

Layout used throughout (B=2, S=6, D=2, W=3):

    sentence 0: [CLS] w0 w1 w1 w1 [SEP]    -> word 0 has 1 subword, word 1 has 3, word 2 none
    sentence 1: [CLS] w0 w2 [SEP] pad pad  -> word 1 has no subword ("empty word"), word 2 has 1

Subword s of sentence b holds the vector (10*b + s, -(10*b + s)), so every expected value below can be
read off by hand.
"""

from __future__ import annotations

import pytest
import torch

from cjkv_phon.training.pooling import broadcast_to_subwords, first_pool, mean_pool

WORD_INDEX = torch.tensor([[-1, 0, 1, 1, 1, -1],
                           [-1, 0, 2, -1, -1, -1]])


def hidden(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[2, 6, 2]: subword s of sentence b is (10b + s, -(10b + s))."""
    base = torch.arange(6).unsqueeze(0) + torch.tensor([[0], [10]])
    return torch.stack([base, -base], dim=-1).to(dtype)


def test_mean_pool_hand_values():
    pooled, mask = mean_pool(hidden(), WORD_INDEX, 3)
    # Sentence 0: w0 = subword 1; w1 = mean of subwords 2, 3, 4 = 3; w2 empty.
    # Sentence 1: w0 = subword 11; w1 empty; w2 = subword 12.
    expected = torch.tensor([[[1.0, -1.0], [3.0, -3.0], [0.0, 0.0]],
                             [[11.0, -11.0], [0.0, 0.0], [12.0, -12.0]]])
    assert torch.equal(pooled, expected)
    assert mask.tolist() == [[True, True, False], [True, False, True]]


def test_first_pool_hand_values():
    pooled, mask = first_pool(hidden(), WORD_INDEX, 3)
    # First subwords: sentence 0 -> 1, 2 (not the mean 3); sentence 1 -> 11, (none), 12.
    expected = torch.tensor([[[1.0, -1.0], [2.0, -2.0], [0.0, 0.0]],
                             [[11.0, -11.0], [0.0, 0.0], [12.0, -12.0]]])
    assert torch.equal(pooled, expected)
    assert mask.tolist() == [[True, True, False], [True, False, True]]


def test_first_pool_does_not_assume_sorted_subwords():
    # A word whose pieces are not contiguous still takes its earliest piece.
    index = torch.tensor([[1, 0, 1, 0]])
    h = torch.arange(4.0).reshape(1, 4, 1)
    pooled, _ = first_pool(h, index, 2)
    assert pooled.flatten().tolist() == [1.0, 0.0]


def test_broadcast_to_subwords_hand_values():
    words = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                          [[7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]])
    out = broadcast_to_subwords(words, WORD_INDEX)
    expected = torch.tensor([[[0, 0], [1, 2], [3, 4], [3, 4], [3, 4], [0, 0]],
                             [[0, 0], [7, 8], [11, 12], [0, 0], [0, 0], [0, 0]]], dtype=torch.float32)
    assert torch.equal(out, expected)


def test_mean_pool_then_broadcast_round_trip_and_gradients():
    h = hidden().requires_grad_(True)
    pooled, _ = mean_pool(h, WORD_INDEX, 3)
    back = broadcast_to_subwords(pooled, WORD_INDEX)
    back.sum().backward()
    # d/dh of sum over subwords of their word's mean: each word contributes (n pieces) * (1/n) = 1 to
    # each of its pieces' coordinates, so the gradient is 1 on word pieces and 0 on specials/padding.
    expected = (WORD_INDEX >= 0).float().unsqueeze(-1).expand(2, 6, 2)
    assert torch.equal(h.grad, expected)


def test_mean_pool_keeps_bf16_dtype_and_accuracy():
    h = torch.full((1, 300, 1), 1.01, dtype=torch.bfloat16)
    pooled, _ = mean_pool(h, torch.zeros(1, 300, dtype=torch.long), 1)
    assert pooled.dtype == torch.bfloat16
    # Accumulated in float32, the mean of 300 equal values is that value (bf16 sums would drift).
    assert pooled.item() == h[0, 0, 0].item()


def test_out_of_range_word_index_is_rejected():
    with pytest.raises(ValueError, match="word 2 but num_words is 2"):
        mean_pool(hidden(), WORD_INDEX, 2)
    with pytest.raises(ValueError, match="hidden must be"):
        first_pool(hidden()[:, :5], WORD_INDEX, 3)


# Sentence 0 again, but subwords 2, 3, 4 are pieces each covering words 1 AND 2 (shared pieces of the
# natural tokenisation, issue 20): [CLS] w0 w1+w2 w1+w2 w1+w2 [SEP]. Sentence 1 unchanged.
WORD_LAST = torch.tensor([[-1, 0, 2, 2, 2, -1],
                          [-1, 0, 2, -1, -1, -1]])


def test_a_subword_covering_two_words_is_pooled_into_both_and_gets_their_mean():
    pooled, mask = mean_pool(hidden(), WORD_INDEX, 3, WORD_LAST)
    # w1 and w2 both own subwords 2, 3, 4: both get their mean 3 (w2 had no subword before)
    assert pooled[0, :, 0].tolist() == [1.0, 3.0, 3.0] and mask[0].tolist() == [True, True, True]
    assert pooled[1, :, 0].tolist() == [11.0, 0.0, 12.0]
    first, _ = first_pool(hidden(), WORD_INDEX, 3, WORD_LAST)
    assert first[0, :, 0].tolist() == [1.0, 2.0, 2.0]
    words = torch.tensor([[[1.0], [2.0], [4.0]], [[5.0], [6.0], [7.0]]])
    spread = broadcast_to_subwords(words, WORD_INDEX, WORD_LAST)
    assert spread[0, :, 0].tolist() == [0.0, 1.0, 3.0, 3.0, 3.0, 0.0]          # (2 + 4) / 2 on shared pieces
    assert torch.equal(broadcast_to_subwords(words, WORD_INDEX, WORD_INDEX), broadcast_to_subwords(words, WORD_INDEX))
