"""Subword <-> word pooling, so orthography and phonemes both have one vector per dataset token.

The paper mean-pools the subword pieces of each token (and of its IPA) so the two modalities line up
token by token; the phonemic embedding of a token is then added to every one of its subwords.

``word_index[b, s]`` is the position of the word that subword ``s`` belongs to, or -1 for special
tokens and padding. Every function here is vectorised over the batch (scatter/gather, no Python loop)
and keeps to the input tensors' device.
"""

from __future__ import annotations

import torch


def _check_index(word_index: torch.Tensor, num_words: int, hidden: torch.Tensor | None = None) -> None:
    """Raise ``ValueError`` if ``word_index`` is not [B, S] or points past the ``num_words`` slots.

    An index past the end would otherwise be dropped silently (scatter) or crash inside gather with a
    message that does not say which argument is wrong.
    """
    if word_index.dim() != 2:
        raise ValueError(f"word_index must be [B, S], got {tuple(word_index.shape)}")
    if hidden is not None and (hidden.dim() != 3 or hidden.shape[:2] != word_index.shape):
        raise ValueError(f"hidden must be [B, S, D] matching word_index {tuple(word_index.shape)}, "
                         f"got {tuple(hidden.shape)}")
    if num_words < 0:
        raise ValueError(f"num_words must be >= 0, got {num_words}")
    too_big = int(word_index.max()) if word_index.numel() else -1
    if too_big >= num_words:
        raise ValueError(f"word_index holds word {too_big} but num_words is {num_words}")


def _flat_targets(hidden: torch.Tensor, word_index: torch.Tensor, num_words: int) -> torch.Tensor:
    """Flattened ``b * W + w`` slot [B*S] of every subword; subwords outside any word go to a dump slot.

    The dump slot is ``B * W`` (one past the end), so scatters need no boolean indexing (which would
    force a device sync and a dynamic shape).
    """
    _check_index(word_index, num_words, hidden)
    word_index = word_index.long()              # scatter_reduce wants int64 indices
    batch = word_index.shape[0]
    valid = word_index >= 0
    offsets = torch.arange(batch, device=word_index.device).unsqueeze(1) * num_words
    slot = torch.where(valid, word_index + offsets, torch.full_like(word_index, batch * num_words))
    return slot.reshape(-1)


def mean_pool(hidden: torch.Tensor, word_index: torch.Tensor,
              num_words: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Average the subword vectors of each word.

    Args:
        hidden: ``[B, S, D]`` subword vectors.
        word_index: ``[B, S]`` long, word position per subword, -1 for specials/padding.
        num_words: W, the number of word slots in the output.

    Returns:
        ``(pooled [B, W, D] in hidden's dtype, word_mask [B, W] bool)``; words with no subword (padding,
        or a word the tokenizer dropped) get a zero vector and ``False``.
    """
    batch, _, dim = hidden.shape
    slot = _flat_targets(hidden, word_index, num_words)
    # Accumulate in float32: summing many bf16 vectors in bf16 loses most of their precision.
    flat = hidden.reshape(-1, dim).float()
    sums = torch.zeros(batch * num_words + 1, dim, device=hidden.device).index_add_(0, slot, flat)
    counts = torch.zeros(batch * num_words + 1, device=hidden.device).index_add_(
        0, slot, torch.ones_like(slot, dtype=torch.float32))
    sums, counts = sums[:-1], counts[:-1]                      # drop the dump slot
    pooled = sums / counts.clamp(min=1).unsqueeze(1)
    return pooled.reshape(batch, num_words, dim).to(hidden.dtype), (counts > 0).reshape(batch, num_words)


def first_pool(hidden: torch.Tensor, word_index: torch.Tensor,
               num_words: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The vector of each word's first subword (the usual token-classification choice).

    Args:
        hidden: ``[B, S, D]``.
        word_index: ``[B, S]`` long, -1 for specials/padding.
        num_words: W.

    Returns:
        ``(pooled [B, W, D], word_mask [B, W] bool)``; zeros where a word has no subword.
    """
    batch, seq, dim = hidden.shape
    slot = _flat_targets(hidden, word_index, num_words)
    position = torch.arange(seq, device=hidden.device).expand(batch, seq).reshape(-1)
    # The smallest subword position per word; ``seq`` (out of range) marks a word with none.
    first = torch.full((batch * num_words + 1,), seq, device=hidden.device, dtype=torch.long)
    first = first.scatter_reduce(0, slot, position, reduce="amin", include_self=True)[:-1]
    word_mask = first < seq
    rows = torch.arange(batch, device=hidden.device).repeat_interleave(num_words) * seq
    picked = hidden.reshape(-1, dim)[rows + first.clamp(max=seq - 1)]           # [B*W, D]
    picked = torch.where(word_mask.unsqueeze(1), picked, torch.zeros_like(picked))
    return picked.reshape(batch, num_words, dim), word_mask.reshape(batch, num_words)


def broadcast_to_subwords(word_vectors: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
    """Copy each word's vector onto all of its subwords (zeros at -1 positions).

    Used to add a token's phonemic embedding to every subword of that token.

    Args:
        word_vectors: ``[B, W, D]``.
        word_index: ``[B, S]`` long, -1 for specials/padding.

    Returns:
        ``[B, S, D]`` in word_vectors' dtype.
    """
    _check_index(word_index, word_vectors.shape[1])
    batch, num_words, dim = word_vectors.shape
    if num_words == 0:                          # nothing to gather from: every subword gets zeros
        return word_vectors.new_zeros(batch, word_index.shape[1], dim)
    valid = (word_index >= 0).unsqueeze(-1)                                     # [B, S, 1]
    index = word_index.clamp(min=0).unsqueeze(-1).expand(-1, -1, dim)           # [B, S, D]
    gathered = word_vectors.gather(1, index)
    return torch.where(valid, gathered, torch.zeros_like(gathered))
