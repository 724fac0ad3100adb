"""Auxiliary losses as pure tensor functions: PhoneXL's alignment and masked LM, and the baselines'.

- :func:`align_loss` is L_align, the CLIP-style orthographic-phonemic alignment within each sentence.
- :func:`sample_word_mask` picks the whole tokens that L_MLM / L_XMLM hide (ratio mu).
- :func:`masked_lm_loss` is the cross-entropy of those predictions.
- :func:`symmetric_kl` is xTune's consistency term; :func:`distill_kl` is FILTER's self-teaching term.

Every loss is computed in float32 (inputs may be bf16 under autocast), masks padding out rather than
relying on it being zero, and returns a finite scalar (0.0 with a graph) when there is nothing to average.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over ``mask``; 0.0 (still in the graph) when the mask is empty.

    ``torch.where`` instead of multiplication keeps a NaN/inf at a masked-out position from leaking
    into the sum or its gradient.
    """
    kept = torch.where(mask, values, torch.zeros_like(values))
    return kept.sum() / mask.sum().clamp(min=1)


def align_loss(pe: torch.Tensor, orth: torch.Tensor, word_mask: torch.Tensor, log_scale: torch.Tensor,
               max_scale: float = 100.0) -> torch.Tensor:
    """PhoneXL's orthographic-phonemic alignment loss, (L_OtoP + L_PtoO) / 2.

    Within each sentence, token ``i``'s phonemic vector should be most similar to token ``i``'s
    orthographic vector among that sentence's tokens, and vice versa. Three bugs of the seed code are
    avoided here: vectors are L2-normalised along the *feature* axis (not the sequence axis), the
    temperature is ``exp(log_scale)`` (not the raw log value), and padding is masked out of both the
    rows and the columns of the softmax.

    Args:
        pe: ``[B, W, D]`` phonemic embeddings, one per token.
        orth: ``[B, W, D]`` orthographic embeddings, one per token.
        word_mask: ``[B, W]`` bool, True for real tokens.
        log_scale: scalar, the learnable log inverse temperature (CLIP initialises it to log(1/0.07)).
        max_scale: the scale is clamped to this, as in CLIP, so the logits cannot blow up.

    Returns:
        Float32 scalar averaged over the batch's real tokens; a one-token sentence contributes log 1 = 0.
    """
    if pe.shape != orth.shape or pe.dim() != 3 or tuple(word_mask.shape) != tuple(pe.shape[:2]):
        raise ValueError(f"pe and orth must be [B, W, D] with word_mask [B, W]; got pe "
                         f"{tuple(pe.shape)}, orth {tuple(orth.shape)}, mask {tuple(word_mask.shape)}")
    if max_scale <= 0:
        raise ValueError(f"max_scale must be > 0, got {max_scale}")
    word_mask = word_mask.bool()
    with torch.autocast(device_type=pe.device.type, enabled=False):
        keep = word_mask.unsqueeze(-1)
        # Zero the padding first: garbage (even NaN) there must not reach the matmul's gradient.
        pe_n = F.normalize(torch.where(keep, pe.float(), 0.0), dim=-1)
        orth_n = F.normalize(torch.where(keep, orth.float(), 0.0), dim=-1)
        scale = log_scale.float().clamp(max=math.log(max_scale)).exp()
        sim = scale * orth_n @ pe_n.transpose(1, 2)                          # [B, W_orth, W_pe]
        pair = word_mask.unsqueeze(2) & word_mask.unsqueeze(1)               # [B, W, W]
        logits = sim.masked_fill(~pair, torch.finfo(sim.dtype).min)
        o_to_p = logits.log_softmax(dim=2).diagonal(dim1=1, dim2=2)         # orth i -> its pe  [B, W]
        p_to_o = logits.log_softmax(dim=1).diagonal(dim1=1, dim2=2)         # pe i -> its orth  [B, W]
        return _masked_mean(-(o_to_p + p_to_o) / 2, word_mask)


def sample_word_mask(word_mask: torch.Tensor, ratio: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Choose whole tokens to mask: ``round(ratio * n_words)`` per sentence, uniformly at random.

    At least one token is chosen when ``ratio > 0`` and the sentence has a token, so short sentences
    still train the masked objective. ``round`` is Python's (half to even): 0.25 * 10 = 2.5 -> 2.

    Args:
        word_mask: ``[B, W]`` bool, True for real tokens.
        ratio: mu, in [0, 1].
        generator: the random stream; the same generator state gives the same choice.

    Returns:
        ``[B, W]`` bool on word_mask's device, a subset of ``word_mask``.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    word_mask = word_mask.bool()
    n_words = word_mask.sum(dim=1)                                           # [B]
    # float64 so ratio * n matches Python's own arithmetic (0.15 * 10 = 1.5000000000000002 -> 2).
    count = torch.round(n_words.double() * ratio).long()
    if ratio > 0:
        count = torch.maximum(count, (n_words > 0).long())
    gen_device = generator.device if generator is not None else word_mask.device
    noise = torch.rand(word_mask.shape, generator=generator, device=gen_device).to(word_mask.device)
    # Padding gets noise 2 so it sorts after every real token; the `count` smallest are chosen.
    noise = torch.where(word_mask, noise, torch.full_like(noise, 2.0))
    rank = noise.argsort(dim=1).argsort(dim=1)                               # rank of each position
    return (rank < count.unsqueeze(1)) & word_mask


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over the positions whose label is not ``ignore_index``.

    Unlike ``F.cross_entropy(reduction="mean")`` this returns 0.0 (with a graph, so ``backward`` works)
    rather than NaN when a batch has no masked token, which happens with small ratios and short
    sentences.

    Args:
        logits: ``[N, V]`` vocabulary scores.
        labels: ``[N]`` long target ids, ``ignore_index`` where nothing is predicted.
        ignore_index: the label value to skip.

    Returns:
        Float32 scalar.
    """
    if logits.dim() != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"logits must be [N, V] and labels [N]; got {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    with torch.autocast(device_type=logits.device.type, enabled=False):
        total = F.cross_entropy(logits.float(), labels, ignore_index=ignore_index, reduction="sum")
        return total / (labels != ignore_index).sum().clamp(min=1)


def _check_kl_shapes(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are [B, W, K] and ``mask`` is [B, W]."""
    if a.shape != b.shape or a.dim() != 3 or tuple(mask.shape) != tuple(a.shape[:2]):
        raise ValueError(f"expected two [B, W, K] tensors and a [B, W] mask; got {tuple(a.shape)}, "
                         f"{tuple(b.shape)}, {tuple(mask.shape)}")


def symmetric_kl(p_logits: torch.Tensor, q_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """xTune's consistency term KL(p||q) + KL(q||p), averaged over the masked-in positions.

    Both sides keep their gradient (xTune regularises both views towards each other); detach one input
    for a one-sided version.

    Args:
        p_logits: ``[B, W, K]`` tag scores on one view of the sentence.
        q_logits: ``[B, W, K]`` tag scores on the other view.
        mask: ``[B, W]`` bool, positions to compare.

    Returns:
        Float32 scalar >= 0.
    """
    _check_kl_shapes(p_logits, q_logits, mask)
    with torch.autocast(device_type=p_logits.device.type, enabled=False):
        log_p = p_logits.float().log_softmax(dim=-1)
        log_q = q_logits.float().log_softmax(dim=-1)
        # KL(p||q) + KL(q||p) = sum_k (p_k - q_k)(log p_k - log q_k): one pass, never negative per term.
        per_position = ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum(dim=-1)      # [B, W]
        return _masked_mean(per_position, mask.bool())


def distill_kl(student_logits: torch.Tensor, teacher_probs: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
    """FILTER's self-teaching term KL(teacher || student), averaged over the masked-in positions.

    Args:
        student_logits: ``[B, W, K]`` tag scores of the model being trained.
        teacher_probs: ``[B, W, K]`` probabilities from the teacher (treated as constants).
        mask: ``[B, W]`` bool.

    Returns:
        Float32 scalar >= 0; teacher zeros contribute 0 (0 log 0 = 0).
    """
    _check_kl_shapes(student_logits, teacher_probs, mask)
    with torch.autocast(device_type=student_logits.device.type, enabled=False):
        teacher = teacher_probs.detach().float()
        log_student = student_logits.float().log_softmax(dim=-1)
        per_position = (torch.xlogy(teacher, teacher) - teacher * log_student).sum(dim=-1)  # [B, W]
        return _masked_mean(per_position, mask.bool())
