"""Length-aware batching: which examples go together in a batch, for training and for evaluation.

A batch is padded to its own longest example (``Collator.collate``), so batching sentences of similar
length removes most of the padding the encoder would otherwise compute on. PAN-X chunks range from a
handful to 128 subwords; random batches of 16 are ~64% padding, sorted ones ~10%.

Training (``epoch_batches``), "sort within buckets": the epoch's seeded permutation is cut into buckets
of ``bucket`` batches, each bucket is sorted by length and cut into batches, and the batch order is
then shuffled with the same seeded stream. Every epoch therefore still sees a fresh random grouping
(which sentences share a bucket) and a random batch order, determined by ``(seed, stage, epoch)``
alone, while each batch holds sentences of similar length. The batch size, hence the number of
optimizer steps and the loss's per-sentence weighting, is unchanged. ``bucket=1`` is the unsorted
order: the same batches, in the same order, as plain shuffled slicing.

Evaluation (``eval_batches``): all chunks sorted by length, longest first, then cut into batches; the
caller puts predictions back in input order (``evaluation.predict_tags``).

Example:
    >>> epoch_batches([5, 1, 9, 2, 8, 3], batch_size=2, seed=(1, 0, 0), bucket=3)   # doctest: +SKIP
    [[1, 3], [2, 4], [5, 0]]       # (lengths 1,2 / 9,8 / 3,5): similar lengths together, shuffled
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def epoch_batches(lengths: Sequence[int], batch_size: int, seed: Sequence[int],
                  bucket: int) -> list[list[int]]:
    """One epoch's training batches: lists of indices into the examples whose ``lengths`` are given.

    Args:
        lengths: the padded dimension of each example (subwords, specials included).
        batch_size: examples per batch (the last batch of the epoch may be smaller).
        seed: the ``numpy`` seed sequence of this epoch, e.g. ``(cfg.seed, stage, epoch)``.
        bucket: batches per length-sorted bucket; 1 = no sorting (plain shuffled slices).

    Returns:
        ``ceil(len(lengths) / batch_size)`` batches covering every index exactly once.
    """
    if batch_size < 1 or bucket < 1:
        raise ValueError(f"batch_size and bucket must be >= 1, got {batch_size}, {bucket}")
    rng = np.random.default_rng(list(seed))
    order = rng.permutation(len(lengths))
    if bucket == 1:
        return [order[k:k + batch_size].tolist() for k in range(0, len(order), batch_size)]
    size = batch_size * bucket
    lens = np.asarray(lengths)
    batches: list[list[int]] = []
    for start in range(0, len(order), size):
        chunk = order[start:start + size]
        chunk = chunk[np.argsort(lens[chunk], kind="stable")]
        batches += [chunk[k:k + batch_size].tolist() for k in range(0, len(chunk), batch_size)]
    return [batches[k] for k in rng.permutation(len(batches))]


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Evaluation batches: indices sorted by length (longest first, ties in input order), cut into
    batches of ``batch_size``; every index appears exactly once."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda k: -lengths[k])
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]


def subword_length(collator, ex) -> int:
    """The subwords ``collator`` gives example ``ex`` (specials included): its padded dimension."""
    budget = collator.max_subwords - 2
    return 2 + sum(min(len(collator.pieces(tok)), budget) for tok in ex.tokens)


def padding_stats(attention_mask) -> tuple[int, int]:
    """``(real subwords, padded slots)`` of one batch's ``[B, S]`` attention mask."""
    return int(attention_mask.sum()), int(attention_mask.numel())
