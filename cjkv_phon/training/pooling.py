"""Subword <-> word pooling, so orthography and phonemes both have one vector per dataset token.

The paper mean-pools the subword pieces of each token (and of its IPA) so the two modalities line up
token by token; the phonemic embedding of a token is then added to every one of its subwords.

``word_index[b, s]`` is the position of the word that subword ``s`` belongs to, or -1 for special
tokens and padding. Every function here is vectorised over the batch (scatter/gather, no Python loop)
and keeps to the input tensors' device.

A subword may cover SEVERAL consecutive words (``subwords.py``, the ``natural`` tokenisation: the piece
``日本語`` covers three character tokens). ``word_last[b, s]`` is then the last word it covers
(``word_index`` the first); every covered word owns it: it enters each of their means, and a word vector
broadcast to it is the mean over its words. ``word_last=None`` means every subword covers one word.
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


def covered_words(word_index: torch.Tensor, word_last: torch.Tensor | None = None) -> torch.Tensor:
    """``[B, S, K]`` the words each subword covers (``word_index`` .. ``word_last``), -1 padded.

    K is the widest span in the batch (1 when ``word_last`` is None or every subword covers one word).
    """
    if word_last is None:
        return word_index.unsqueeze(-1)
    if word_last.shape != word_index.shape:
        raise ValueError(f"word_last {tuple(word_last.shape)} must match word_index {tuple(word_index.shape)}")
    width = max(int((word_last - word_index).max()) + 1, 1) if word_index.numel() else 1
    idx = word_index.unsqueeze(-1) + torch.arange(width, device=word_index.device)      # [B, S, K]
    valid = (word_index.unsqueeze(-1) >= 0) & (idx <= word_last.unsqueeze(-1))
    return torch.where(valid, idx, torch.full_like(idx, -1))


def _spread(hidden: torch.Tensor, word_index: torch.Tensor,
            word_last: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(hidden [B, S*K, D], word index [B, S*K]): a subword covering k words appears once per word."""
    idx = covered_words(word_index, word_last)                                           # [B, S, K]
    if idx.shape[-1] == 1:
        return hidden, idx.squeeze(-1)
    batch, seq, dim = hidden.shape
    spread = hidden.unsqueeze(2).expand(batch, seq, idx.shape[-1], dim).reshape(batch, -1, dim)
    return spread, idx.reshape(batch, -1)


def words_hit(flags: torch.Tensor, word_index: torch.Tensor,
              word_last: torch.Tensor | None = None) -> torch.Tensor:
    """``[B, S]`` bool: does subword s cover any word whose ``flags[b, w]`` is set (e.g. masked words)?"""
    idx = covered_words(word_index, word_last)                                           # [B, S, K]
    hit = flags.gather(1, idx.clamp(min=0).reshape(idx.shape[0], -1)).reshape(idx.shape)
    return (hit & (idx >= 0)).any(-1)


def mean_pool(hidden: torch.Tensor, word_index: torch.Tensor, num_words: int,
              word_last: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Average the subword vectors of each word.

    Args:
        hidden: ``[B, S, D]`` subword vectors.
        word_index: ``[B, S]`` long, word position per subword, -1 for specials/padding.
        num_words: W, the number of word slots in the output.
        word_last: ``[B, S]`` the last word each subword covers; None = ``word_index``.

    Returns:
        ``(pooled [B, W, D] in hidden's dtype, word_mask [B, W] bool)``; words with no subword (padding,
        or a word the tokenizer dropped) get a zero vector and ``False``.
    """
    _check_index(word_index, num_words, hidden)
    hidden, word_index = _spread(hidden, word_index, word_last)
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


def first_pool(hidden: torch.Tensor, word_index: torch.Tensor, num_words: int,
               word_last: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The vector of each word's first subword (the usual token-classification choice).

    Args:
        hidden: ``[B, S, D]``.
        word_index: ``[B, S]`` long, -1 for specials/padding.
        num_words: W.
        word_last: ``[B, S]`` the last word each subword covers; None = ``word_index``.

    Returns:
        ``(pooled [B, W, D], word_mask [B, W] bool)``; zeros where a word has no subword.
    """
    _check_index(word_index, num_words, hidden)
    hidden, word_index = _spread(hidden, word_index, word_last)
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


def broadcast_to_subwords(word_vectors: torch.Tensor, word_index: torch.Tensor,
                          word_last: torch.Tensor | None = None) -> torch.Tensor:
    """Copy each word's vector onto all of its subwords (zeros at -1 positions); a subword covering
    several words gets the mean of their vectors.

    Used to add a token's phonemic embedding to every subword of that token.

    Args:
        word_vectors: ``[B, W, D]``.
        word_index: ``[B, S]`` long, -1 for specials/padding.
        word_last: ``[B, S]`` the last word each subword covers; None = ``word_index``.

    Returns:
        ``[B, S, D]`` in word_vectors' dtype.
    """
    _check_index(word_index, word_vectors.shape[1])
    batch, num_words, dim = word_vectors.shape
    if num_words == 0:                          # nothing to gather from: every subword gets zeros
        return word_vectors.new_zeros(batch, word_index.shape[1], dim)
    idx = covered_words(word_index, word_last)                                  # [B, S, K]
    seq, width = idx.shape[1], idx.shape[2]
    valid = (idx >= 0).unsqueeze(-1)                                            # [B, S, K, 1]
    index = idx.clamp(min=0).reshape(batch, seq * width, 1).expand(-1, -1, dim)  # [B, S*K, D]
    gathered = word_vectors.gather(1, index).reshape(batch, seq, width, dim)
    gathered = torch.where(valid, gathered, torch.zeros_like(gathered))
    if width == 1:
        return gathered.squeeze(2)
    return gathered.sum(2) / valid.sum(2).clamp(min=1).to(gathered.dtype)
