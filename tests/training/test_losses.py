"""Auxiliary losses: hand-computed values, the seed code's three bugs, padding, masks and KLs."""

from __future__ import annotations

import math

import pytest
import torch

from cjkv_phon.training.losses import (align_loss, distill_kl, masked_lm_loss, sample_word_mask,
                                       symmetric_kl)

ZERO = torch.tensor(0.0)          # log_scale 0 -> scale exp(0) = 1


def random_batch(seed: int, batch: int = 3, words: int = 6, dim: int = 8):
    gen = torch.Generator().manual_seed(seed)
    orth = torch.randn(batch, words, dim, generator=gen)
    pe = orth + 0.3 * torch.randn(batch, words, dim, generator=gen)     # matched: pe_i close to orth_i
    lengths = torch.tensor([words, words - 2, 1][:batch])
    mask = torch.arange(words).expand(batch, words) < lengths.unsqueeze(1)
    return pe, orth, mask


def test_align_loss_hand_value():
    # Sentence 0: two tokens with orthogonal unit vectors, so sim = identity at scale 1 and each of
    # the 4 cross-entropies is -log(e / (e + 1)) = log(1 + e^-1) = 0.313262.
    # Sentence 1: one token -> log 1 = 0, but it counts in the mean over 3 real tokens.
    orth = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, True], [True, False]])
    expected = 2 * math.log(1 + math.exp(-1)) / 3
    assert align_loss(orth, orth, mask, ZERO).item() == pytest.approx(expected, abs=1e-6)


def test_align_loss_normalises_the_feature_axis():
    # Rescaling each token vector must not matter. The seed normalised over the sequence axis, which
    # changes the similarities when tokens have different norms.
    orth = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    pe = torch.tensor([[[3.0, 0.0], [0.0, 0.5]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    assert align_loss(pe, orth, mask, ZERO).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)


def test_align_loss_exponentiates_and_clamps_the_temperature():
    orth = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    # log_scale = log 2 -> scale 2 -> loss log(1 + e^-2); the seed's un-exponentiated use would give
    # log(1 + e^-0.693).
    got = align_loss(orth, orth, mask, torch.tensor(math.log(2.0))).item()
    assert got == pytest.approx(math.log(1 + math.exp(-2)), abs=1e-6)
    clamped = align_loss(orth, orth, mask, torch.tensor(math.log(1000.0)), max_scale=100.0)
    at_max = align_loss(orth, orth, mask, torch.tensor(math.log(100.0)), max_scale=100.0)
    assert clamped.item() == pytest.approx(at_max.item(), rel=1e-5)


def test_align_loss_gradient_reaches_log_scale():
    pe, orth, mask = random_batch(1)
    log_scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)
    pe.requires_grad_(True)
    align_loss(pe, orth, mask, log_scale).backward()
    assert log_scale.grad is not None and log_scale.grad.item() != 0.0
    assert torch.isfinite(pe.grad).all()


def test_align_loss_lower_for_matched_than_shuffled_pairs():
    pe, orth, mask = random_batch(2)
    shuffled = pe[:, torch.tensor([1, 2, 3, 0, 5, 4])]     # no token keeps its own pe in sentence 0
    log_scale = torch.tensor(math.log(10.0))
    matched = align_loss(pe, orth, mask, log_scale)
    mismatched = align_loss(shuffled, orth, mask, log_scale)
    assert torch.isfinite(matched) and matched.item() >= 0
    assert matched.item() < mismatched.item()


def test_align_loss_invariant_to_padding_garbage():
    pe, orth, mask = random_batch(3)
    base = align_loss(pe, orth, mask, ZERO)
    garbage = torch.full((3, 4, 8), float("nan"))
    garbage[:, :2] = 1e6
    pe_pad = torch.cat([pe, garbage], dim=1).requires_grad_(True)
    orth_pad = torch.cat([orth, -garbage], dim=1)
    mask_pad = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], dim=1)
    # Garbage also inside the original padding (sentences 1 and 2 are shorter than 6).
    pe_pad.data[~mask_pad] = float("nan")
    padded = align_loss(pe_pad, orth_pad, mask_pad, ZERO)
    assert padded.item() == pytest.approx(base.item(), abs=1e-6)
    padded.backward()
    assert torch.isfinite(pe_pad.grad).all() and pe_pad.grad[~mask_pad].abs().sum() == 0


def test_align_loss_decreases_under_optimisation():
    pe, orth, mask = random_batch(4)
    pe = torch.randn(pe.shape, generator=torch.Generator().manual_seed(9)).requires_grad_(True)
    log_scale = torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.Adam([pe, log_scale], lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = align_loss(pe, orth, mask, log_scale)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_align_loss_bf16_autocast_is_float32():
    pe, orth, mask = random_batch(5)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        got = align_loss(pe.bfloat16(), orth.bfloat16(), mask, ZERO)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(align_loss(pe, orth, mask, ZERO).item(), abs=1e-2)


def test_sample_word_mask_counts_and_determinism():
    lengths = torch.tensor([10, 3, 0, 1, 6])
    mask = torch.arange(10).expand(5, 10) < lengths.unsqueeze(1)
    chosen = sample_word_mask(mask, 0.25, torch.Generator().manual_seed(0))
    # round(2.5) = 2 (half to even), round(0.75) = 1, empty -> 0, round(0.25) = 0 -> at least 1,
    # round(1.5) = 2.
    assert chosen.sum(dim=1).tolist() == [2, 1, 0, 1, 2]
    assert not (chosen & ~mask).any()
    again = sample_word_mask(mask, 0.25, torch.Generator().manual_seed(0))
    assert torch.equal(chosen, again)
    assert sample_word_mask(mask, 0.0).sum() == 0
    assert torch.equal(sample_word_mask(mask, 1.0), mask)
    with pytest.raises(ValueError, match="1.5"):
        sample_word_mask(mask, 1.5)


def test_sample_word_mask_is_uniform_over_tokens():
    mask = torch.ones(4000, 5, dtype=torch.bool)
    chosen = sample_word_mask(mask, 0.2, torch.Generator().manual_seed(1))   # 1 of 5 per sentence
    freq = chosen.float().mean(dim=0)
    # Each position should be picked 1/5 of the time; 4000 draws give a standard error of ~0.0063.
    assert torch.allclose(freq, torch.full((5,), 0.2), atol=0.03)


def test_masked_lm_loss_values_and_empty_batches():
    logits = torch.zeros(3, 4, requires_grad=True)
    labels = torch.tensor([1, -100, 3])
    # Uniform logits over 4 classes: cross-entropy log 4 at each of the 2 counted positions.
    assert masked_lm_loss(logits, labels).item() == pytest.approx(math.log(4), abs=1e-6)
    empty = masked_lm_loss(torch.zeros(0, 4, requires_grad=True), torch.zeros(0, dtype=torch.long))
    ignored = masked_lm_loss(logits, torch.full((3,), -100))
    for loss in (empty, ignored):
        assert loss.item() == 0.0 and loss.dtype == torch.float32
        loss.backward()                       # must be part of a graph, not a constant


def test_symmetric_kl_hand_value_and_identity():
    # p = (0.5, 0.5), q = (0.25, 0.75): sum (p - q)(log p - log q) = 0.25 ln 2 - 0.25 ln(2/3) = 0.25 ln 3.
    p = torch.log(torch.tensor([[[0.5, 0.5], [0.1, 0.9]]]))
    q = torch.log(torch.tensor([[[0.25, 0.75], [float("nan"), 0.0]]]))   # second position masked out
    mask = torch.tensor([[True, False]])
    assert symmetric_kl(p, q, mask).item() == pytest.approx(0.25 * math.log(3), abs=1e-6)
    same, other, everywhere = torch.randn(2, 3, 5), torch.randn(2, 3, 5), torch.ones(2, 3, dtype=torch.bool)
    assert symmetric_kl(same, same.clone(), everywhere).item() == pytest.approx(0.0, abs=1e-7)
    assert symmetric_kl(same, other, everywhere).item() > 0


def test_distill_kl_hand_value_and_identity():
    # teacher (1, 0), student uniform over 2: KL = 1 * ln(1 / 0.5) = ln 2 (the 0 log 0 term is 0).
    student = torch.zeros(1, 1, 2, requires_grad=True)
    loss = distill_kl(student, torch.tensor([[[1.0, 0.0]]]), torch.ones(1, 1, dtype=torch.bool))
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)
    loss.backward()
    assert student.grad.abs().sum() > 0
    logits = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, False, False, False]])
    assert distill_kl(logits, logits.softmax(-1), mask).item() == pytest.approx(0.0, abs=1e-6)
    assert distill_kl(logits, torch.zeros(2, 4, 3), torch.zeros(2, 4, dtype=torch.bool)).item() == 0.0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_losses_match_cpu():
    device = torch.device("cuda")
    pe, orth, mask = random_batch(6)
    expected = align_loss(pe, orth, mask, ZERO)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        got = align_loss(pe.to(device).bfloat16(), orth.to(device).bfloat16(), mask.to(device),
                         ZERO.to(device))
    assert got.dtype == torch.float32 and got.item() == pytest.approx(expected.item(), abs=1e-2)
    # A generator on the CPU still drives a mask on the GPU, reproducibly.
    chosen = sample_word_mask(mask.to(device), 0.5, torch.Generator().manual_seed(0))
    assert chosen.device.type == "cuda"
    assert torch.equal(chosen.cpu(), sample_word_mask(mask, 0.5, torch.Generator().manual_seed(0)))
