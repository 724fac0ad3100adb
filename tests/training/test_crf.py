"""The CRF against brute-force enumeration of all K^T tag paths.

For short sequences every path can be scored directly (start + emissions + transitions + end, with the
constraint penalty), so the exact log-likelihood is the log-softmax of the gold path's score over all
paths and the Viterbi path is the arg-max. The forward algorithm and Viterbi must reproduce both.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from cjkv_phon.schema import PANX_LABELS, UDPOS_LABELS
from cjkv_phon.training.crf import CRF, FORBIDDEN, bio_constraints


def path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> float:
    """Score of one path over one unpadded sequence, written out term by term."""
    start = crf.start.detach().double().masked_fill(~crf.allowed_start, FORBIDDEN)
    trans = crf.transitions.detach().double().masked_fill(~crf.allowed, FORBIDDEN)
    total = start[path[0]] + emissions[0, path[0]].double()
    for t in range(1, len(path)):
        total = total + trans[path[t - 1], path[t]] + emissions[t, path[t]].double()
    return float(total + crf.end.detach().double()[path[-1]])


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> dict[tuple[int, ...], float]:
    """Score of every path of ``length`` over the first ``length`` emission rows."""
    return {p: path_score(crf, emissions[:length], p)
            for p in itertools.product(range(crf.num_tags), repeat=length)}


def random_crf(k: int, constrained: bool, gen: torch.Generator) -> CRF:
    """A CRF with random (not near-zero) scores; constrained ones forbid a random third of moves."""
    allowed = allowed_start = None
    if constrained:
        allowed = torch.rand(k, k, generator=gen) > 0.33
        allowed[:, 0] = True                      # tag 0 always reachable: some path stays allowed
        allowed_start = torch.rand(k, generator=gen) > 0.33
        allowed_start[0] = True
    crf = CRF(k, allowed, allowed_start)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return crf


CASES = [(k, lengths, constrained)
         for k in (3, 4, 5)
         for lengths in ((4, 2, 1), (3, 3), (1,))
         for constrained in (False, True)]


@pytest.mark.parametrize("k,lengths,constrained", CASES)
def test_log_likelihood_and_viterbi_match_brute_force(k, lengths, constrained):
    gen = torch.Generator().manual_seed(1000 * k + 10 * len(lengths) + constrained)
    crf = random_crf(k, constrained, gen)
    batch, t_max = len(lengths), max(lengths)
    emissions = torch.randn(batch, t_max, k, generator=gen)
    tags = torch.randint(0, k, (batch, t_max), generator=gen)
    mask = torch.arange(t_max).expand(batch, t_max) < torch.tensor(lengths).unsqueeze(1)
    tags = tags.masked_fill(~mask, -100)          # padding labels must be ignored, not indexed

    log_lik = crf(emissions, tags, mask)
    decoded = crf.decode(emissions, mask)
    for b, n in enumerate(lengths):
        scores = brute_force(crf, emissions[b], n)
        log_z = torch.logsumexp(torch.tensor(list(scores.values()), dtype=torch.float64), 0)
        gold = tuple(tags[b, :n].tolist())
        assert log_lik[b].item() == pytest.approx(scores[gold] - log_z.item(), rel=1e-6, abs=1e-3)
        best = max(scores, key=scores.get)
        assert decoded[b] == list(best)


@pytest.mark.parametrize("constrained", [False, True])
def test_probabilities_of_all_paths_sum_to_one(constrained):
    gen = torch.Generator().manual_seed(7)
    k, length = 4, 3
    crf = random_crf(k, constrained, gen)
    emissions = torch.randn(1, length, k, generator=gen).expand(k ** length, length, k)
    paths = torch.tensor(list(itertools.product(range(k), repeat=length)))
    mask = torch.ones(k ** length, length, dtype=torch.bool)
    total = crf(emissions, paths, mask).double().exp().sum()
    assert total.item() == pytest.approx(1.0, abs=1e-4)


def test_gradients_reach_parameters_and_emissions():
    gen = torch.Generator().manual_seed(3)
    crf = CRF(len(PANX_LABELS), *bio_constraints(PANX_LABELS))
    emissions = torch.randn(2, 5, len(PANX_LABELS), generator=gen, requires_grad=True)
    tags = torch.tensor([[1, 2, 0, 0, 5], [0, 3, 4, 0, 0]])
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    crf.nll(emissions, tags, mask).backward()
    for grad in (emissions.grad, crf.start.grad, crf.end.grad, crf.transitions.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # Padded emissions take no part in the likelihood.
    assert emissions.grad[1, 3:].abs().sum() == 0


def test_reductions_relate_as_documented():
    gen = torch.Generator().manual_seed(5)
    crf = CRF(3)
    emissions = torch.randn(2, 4, 3, generator=gen)
    tags = torch.randint(0, 3, (2, 4), generator=gen)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    per_seq = -crf(emissions, tags, mask)
    assert crf.nll(emissions, tags, mask, "sum").item() == pytest.approx(per_seq.sum().item())
    assert crf.nll(emissions, tags, mask).item() == pytest.approx(per_seq.mean().item())
    assert crf.nll(emissions, tags, mask, "token_mean").item() == pytest.approx(per_seq.sum().item() / 6)
    with pytest.raises(ValueError, match="'median'"):
        crf.nll(emissions, tags, mask, "median")


def test_bio_constraints_for_panx_labels():
    allowed, allowed_start = bio_constraints(PANX_LABELS)
    ids = {lab: i for i, lab in enumerate(PANX_LABELS)}
    # Hand-checked IOB2 rules: I-PER only after B-PER/I-PER; I-* never first; B-*/O anywhere.
    assert allowed[ids["B-PER"], ids["I-PER"]] and allowed[ids["I-PER"], ids["I-PER"]]
    assert not allowed[ids["O"], ids["I-PER"]]
    assert not allowed[ids["B-LOC"], ids["I-PER"]]
    assert not allowed[ids["I-ORG"], ids["I-LOC"]]
    assert allowed[ids["I-ORG"], ids["B-LOC"]] and allowed[ids["O"], ids["O"]]
    assert allowed_start.tolist() == [not lab.startswith("I-") for lab in PANX_LABELS]
    # 3 I- columns each allow exactly 2 predecessors; the 4 other columns allow all 7.
    assert int(allowed.sum()) == 3 * 2 + 4 * 7


def test_pos_labels_are_unconstrained():
    allowed, allowed_start = bio_constraints(UDPOS_LABELS)   # INTJ must not be read as an I- tag
    assert bool(allowed.all()) and bool(allowed_start.all())


def test_constrained_decoding_never_breaks_iob2():
    gen = torch.Generator().manual_seed(11)
    crf = CRF(len(PANX_LABELS), *bio_constraints(PANX_LABELS))
    emissions = torch.randn(16, 9, len(PANX_LABELS), generator=gen) * 5
    emissions[:, :, PANX_LABELS.index("I-PER")] += 10   # tempt the decoder to open with I-PER
    for path in crf.decode(emissions, torch.ones(16, 9, dtype=torch.bool)):
        labels = [PANX_LABELS[i] for i in path]
        assert not labels[0].startswith("I-")
        for prev, cur in zip(labels, labels[1:]):
            assert not cur.startswith("I-") or prev[2:] == cur[2:]


def test_bf16_autocast_matches_float32():
    gen = torch.Generator().manual_seed(13)
    crf = CRF(5)
    emissions = torch.randn(3, 6, 5, generator=gen)
    tags = torch.randint(0, 5, (3, 6), generator=gen)
    mask = torch.ones(3, 6, dtype=torch.bool)
    expected = crf(emissions, tags, mask)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        got = crf(emissions.bfloat16(), tags, mask)
    assert got.dtype == torch.float32
    # Only the bf16 rounding of the inputs differs (about 3 significant digits over 6 steps).
    assert torch.allclose(got, expected, atol=0.1)


def test_bad_masks_and_shapes_are_rejected():
    crf = CRF(3)
    emissions = torch.zeros(1, 3, 3)
    with pytest.raises(ValueError, match="first position"):
        crf.decode(emissions, torch.tensor([[False, True, True]]))
    with pytest.raises(ValueError, match="left-aligned"):
        crf.decode(emissions, torch.tensor([[True, False, True]]))
    with pytest.raises(ValueError, match=r"\[B, T, 3\]"):
        crf.decode(torch.zeros(1, 3, 4), torch.ones(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="allowed must be"):
        CRF(3, allowed=torch.ones(2, 2, dtype=torch.bool))


def test_length_one_log_likelihood_is_a_softmax():
    crf = CRF(3)
    with torch.no_grad():
        crf.start.copy_(torch.tensor([0.0, 1.0, 2.0]))
        crf.end.zero_()
    emissions = torch.tensor([[[1.0, 0.0, 0.0]]])
    # Scores 1, 1, 2 -> log p(tag 2) = 2 - log(e + e + e^2).
    expected = 2 - math.log(2 * math.e + math.e ** 2)
    got = crf(emissions, torch.tensor([[2]]), torch.tensor([[True]]))
    assert got.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_matches_cpu():
    gen = torch.Generator().manual_seed(17)
    crf = CRF(len(PANX_LABELS), *bio_constraints(PANX_LABELS))
    emissions = torch.randn(4, 7, len(PANX_LABELS), generator=gen)
    tags = torch.tensor([[0, 1, 2, 0, 0, 0, 0]] * 4)
    mask = torch.arange(7).expand(4, 7) < torch.tensor([[7], [5], [2], [1]])
    expected, expected_paths = crf(emissions, tags, mask), crf.decode(emissions, mask)
    device = torch.device("cuda")
    crf_gpu = crf.to(device)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        got = crf_gpu(emissions.to(device).bfloat16(), tags.to(device), mask.to(device))
        paths = crf_gpu.decode(emissions.to(device), mask.to(device))
    assert got.dtype == torch.float32 and got.device.type == "cuda"
    assert torch.allclose(got.cpu(), expected, atol=0.1)
    assert paths == expected_paths


def test_scores_start_at_zero_no_preference():
    # issue 20: a random +-0.1 start was larger than what 150 steps at head_lr moved the transitions
    crf = CRF(len(PANX_LABELS), *bio_constraints(PANX_LABELS))
    assert all(float(p.abs().max()) == 0.0 for p in crf.parameters())
