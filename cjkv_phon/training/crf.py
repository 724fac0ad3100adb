"""A linear-chain conditional random field over the encoder's word outputs.

The paper puts a CRF on top of the encoder for both NER and POS. This one adds optional transition
constraints: under IOB2 an ``I-X`` tag may only continue a ``B-X``/``I-X`` chunk and may not open a
sentence. Constraints are applied as a large finite penalty (``FORBIDDEN``) in training *and* decoding,
so forbidden paths get essentially zero probability while a gold path that breaks them (noisy data)
still gives a finite loss instead of ``inf``/``NaN``.

Shapes: B sentences, T word positions, K tags. Masks are left-aligned prefixes: position 0 is always on.
All scores are computed in float32 with autocast disabled, so bf16 emissions do not lose the
log-sum-exp's precision.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

# Penalty added to forbidden starts/transitions. exp(-1e4) underflows to exactly 0 in float32, yet the
# value stays finite so sums of penalties never become -inf - -inf = NaN.
FORBIDDEN = -1e4
REDUCTIONS = ("mean", "sum", "token_mean")


def bio_constraints(labels: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Allowed transitions and starts for an IOB2 label list.

    ``I-X`` may only follow ``B-X`` or ``I-X`` and may not start a sentence; every other tag may follow
    anything. A label set without ``I-`` prefixes (UPOS: ``NOUN``, ``INTJ``, ...) is left unconstrained.

    Args:
        labels: tag names in id order, e.g. ``("O", "B-PER", "I-PER", ...)``.

    Returns:
        ``(allowed [K, K] bool, allowed_start [K] bool)``; ``allowed[i, j]`` means ``i -> j`` is permitted.
    """
    k = len(labels)
    allowed = torch.ones(k, k, dtype=torch.bool)
    allowed_start = torch.ones(k, dtype=torch.bool)
    for j, label in enumerate(labels):
        if not label.startswith("I-"):
            continue
        chunk_type = label[2:]
        allowed_start[j] = False
        allowed[:, j] = torch.tensor([lab in (f"B-{chunk_type}", f"I-{chunk_type}") for lab in labels])
    return allowed, allowed_start


class CRF(nn.Module):
    """Linear-chain CRF with learnable start, end and transition scores.

    Args:
        num_tags: K, the number of tags.
        allowed: optional ``[K, K]`` bool, ``allowed[i, j]`` = transition ``i -> j`` permitted.
        allowed_start: optional ``[K]`` bool, tags a sentence may start with.

    Example:
        >>> crf = CRF(7, *bio_constraints(PANX_LABELS))
        >>> loss = crf.nll(emissions, tags, mask)       # training
        >>> paths = crf.decode(emissions, mask)         # list of tag-id lists
    """

    def __init__(self, num_tags: int, allowed: torch.Tensor | None = None,
                 allowed_start: torch.Tensor | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        # Zero init (issue 20): exactly "no preference", so whatever the scores hold after training was
        # learnt. pytorch-crf's uniform(-0.1, 0.1) start was larger than the <= 0.05 the transitions
        # moved in a 150-step cpu-v2 run at head_lr: the decoder read mostly its random start. Ties
        # are broken by the emissions; the constraints (below) are applied on top.
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        allowed = torch.ones(num_tags, num_tags, dtype=torch.bool) if allowed is None else allowed
        allowed_start = (torch.ones(num_tags, dtype=torch.bool) if allowed_start is None
                         else allowed_start)
        if tuple(allowed.shape) != (num_tags, num_tags):
            raise ValueError(f"allowed must be [{num_tags}, {num_tags}], got {tuple(allowed.shape)}")
        if tuple(allowed_start.shape) != (num_tags,):
            raise ValueError(f"allowed_start must be [{num_tags}], got {tuple(allowed_start.shape)}")
        # Buffers, so the constraints follow .to(device) and are saved in the state dict.
        self.register_buffer("allowed", allowed.to(torch.bool).clone())
        self.register_buffer("allowed_start", allowed_start.to(torch.bool).clone())

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, constrained={not bool(self.allowed.all())}"

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start [K], end [K] and transition [K, K] scores in float32 with the constraints applied."""
        start = self.start.float().masked_fill(~self.allowed_start, FORBIDDEN)
        trans = self.transitions.float().masked_fill(~self.allowed, FORBIDDEN)
        return start, self.end.float(), trans

    def _check(self, emissions: torch.Tensor, mask: torch.Tensor) -> None:
        """Raise ``ValueError`` for shapes or masks the recursions below would silently get wrong."""
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ValueError(f"emissions must be [B, T, {self.num_tags}], got {tuple(emissions.shape)}")
        if tuple(mask.shape) != tuple(emissions.shape[:2]):
            raise ValueError(f"mask must be {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}")
        if emissions.shape[1] == 0 or not bool(mask[:, 0].all()):
            raise ValueError("every sequence needs its first position unmasked (mask[:, 0] all True)")
        if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
            raise ValueError("mask must be a left-aligned prefix (no True after a False)")

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of each gold tag sequence.

        Args:
            emissions: ``[B, T, K]`` unnormalised tag scores.
            tags: ``[B, T]`` long gold tag ids; values at masked positions are ignored (e.g. -100).
            mask: ``[B, T]`` bool, a left-aligned prefix per sequence.

        Returns:
            ``[B]`` float32 ``log p(tags | emissions)``.
        """
        mask = mask.bool()
        self._check(emissions, mask)
        with torch.autocast(device_type=emissions.device.type, enabled=False):
            emissions = emissions.float()
            tags = tags.masked_fill(~mask, 0)        # padding labels such as -100 must not index
            return self._path_score(emissions, tags, mask) - self._log_partition(emissions, mask)

    def _path_score(self, emissions: torch.Tensor, tags: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        """Score [B] of the given tag paths: start + emissions + transitions + end."""
        start, end, trans = self._scores()
        emit = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)          # [B, T]
        step = trans[tags[:, :-1], tags[:, 1:]]                              # [B, T-1]
        score = start[tags[:, 0]] + emit[:, 0]
        score = score + ((emit[:, 1:] + step) * mask[:, 1:]).sum(dim=1)
        last = tags.gather(1, (mask.sum(dim=1, keepdim=True) - 1)).squeeze(1)  # [B]
        return score + end[last]

    def _log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z [B] by the forward algorithm; padded steps carry the previous alpha unchanged."""
        start, end, trans = self._scores()
        alpha = start + emissions[:, 0]                                      # [B, K]
        for t in range(1, emissions.shape[1]):
            # [B, K_prev, 1] + [K_prev, K] + [B, 1, K] -> logsumexp over K_prev -> [B, K]
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor,
            reduction: str = "mean") -> torch.Tensor:
        """Negative log-likelihood, reduced over the batch.

        Args:
            emissions, tags, mask: as in :meth:`forward`.
            reduction: ``"mean"`` per sequence, ``"sum"``, or ``"token_mean"`` (divided by the number of
                unmasked positions, so long and short sentences weigh by their length).

        Returns:
            A float32 scalar.
        """
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; valid: {', '.join(REDUCTIONS)}")
        nll = -self.forward(emissions, tags, mask)
        if reduction == "sum":
            return nll.sum()
        if reduction == "token_mean":
            return nll.sum() / mask.sum().clamp(min=1)
        return nll.mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Viterbi decoding: the best tag path of each sequence, cut to its unmasked length.

        Args:
            emissions: ``[B, T, K]``.
            mask: ``[B, T]`` bool, a left-aligned prefix per sequence.

        Returns:
            ``B`` lists of tag ids; list ``b`` has ``mask[b].sum()`` entries.
        """
        mask = mask.bool()
        self._check(emissions, mask)
        with torch.autocast(device_type=emissions.device.type, enabled=False):
            path = self._viterbi(emissions.float(), mask)
        lengths = mask.sum(dim=1).tolist()
        return [row[:n] for row, n in zip(path.tolist(), lengths)]

    def _viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best path [B, T] (values past each length repeat the last real tag)."""
        start, end, trans = self._scores()
        batch, length, k = emissions.shape
        # At a padded step the back-pointer is the identity, so backtracking passes straight through
        # and the path's last real tag is the one chosen by the end scores.
        identity = torch.arange(k, device=emissions.device).expand(batch, k)
        score = start + emissions[:, 0]                                      # [B, K]
        pointers = []
        for t in range(1, length):
            best, arg = (score.unsqueeze(2) + trans).max(dim=1)              # [B, K] each
            on = mask[:, t].unsqueeze(1)
            score = torch.where(on, best + emissions[:, t], score)
            pointers.append(torch.where(on, arg, identity))
        tag = (score + end).argmax(dim=1)                                    # [B]
        path = [tag]
        for back in reversed(pointers):
            tag = back.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        return torch.stack(path[::-1], dim=1)


@torch.no_grad()
def crf_record(crf: CRF, labels: Sequence[str]) -> dict[str, Any]:
    """What results.json records of the trained CRF: how far its scores moved from their zero start.

    Issue 20: at head_lr the transitions moved <= 0.05 in a cpu-v2 run, so constrained Viterbi read the
    initialisation. ``max_abs`` is over the allowed transitions (the forbidden ones are masked).
    """
    trans = crf.transitions.float()
    allowed = crf.allowed
    return {"init": "zeros",
            "max_abs": {"transitions": round(float(trans.masked_select(allowed).abs().max()), 4),
                        "start": round(float(crf.start.float().masked_select(crf.allowed_start).abs().max()), 4),
                        "end": round(float(crf.end.float().abs().max()), 4)},
            "transitions": {f"{labels[i]}->{labels[j]}": round(float(trans[i, j]), 4)
                            for i in range(len(labels)) for j in range(len(labels)) if allowed[i, j]}}
