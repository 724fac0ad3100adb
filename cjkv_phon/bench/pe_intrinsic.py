"""Intrinsic check of a phonemic-embedding design before any training (issue 14, part 2).

For the pairs of a MUSE pivot dictionary (``cjkv build-dict``: e.g. 电子 ``tjɛn˥˩ tsɨ˨˩˦`` - điện tử
``ɗiən6 tɨ4``), a design whose PE puts the two sides of a true pair closer than the two sides of a random
pair carries, already at initialisation, the sound correspondence that zero-shot transfer leans on.

Word-level PE: the mean of the symbol vectors (``PhoneXLModel.phoneme_symbol_vectors``) over the
word's WHOLE transcription, i.e. all symbols of all its tokens pooled together (each token's symbols
capped at the collator's ``max_phoneme_pieces``, as in training). Random pairs: each source word with
the target word of another, uniformly drawn entry, ``shuffles`` times from a fixed seed.

Reported per design and pair: mean cosine of true pairs and of random pairs, their gap with a 95%
bootstrap interval over entries, and the fraction of (entry, draw) cases where the true pair's cosine
beats the random one's (0.5 = no signal).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch.nn import functional as F

BOOTSTRAP = 1000


@torch.no_grad()
def word_vectors(model, collator, transcriptions: Sequence[Sequence[str]], lang: str) -> torch.Tensor:
    """[N, H] word-level PE of N words, each given as its tokens' transcriptions."""
    out = []
    for tokens in transcriptions:
        ids = [i for tok in tokens for i in collator.phoneme_ids(tok, lang)[: collator.max_phoneme_pieces]]
        ids_t = torch.tensor(ids or [collator.unk_id], dtype=torch.long)
        if getattr(collator.phoneme_encoder, "word_rows", True):
            ids_t = collator.model_ids(ids_t)
        out.append(model.phoneme_symbol_vectors(ids_t).float().mean(0))
    return torch.stack(out)


def pair_cosines(source: torch.Tensor, target: torch.Tensor, shuffles: int = 10,
                 seed: int = 0) -> dict[str, Any]:
    """True-pair vs random-pair cosine of row-aligned ``source`` / ``target`` [N, H] (N >= 2)."""
    n = source.shape[0]
    if n < 2 or target.shape[0] != n:
        raise ValueError(f"need >= 2 aligned pairs, got {n} source and {target.shape[0]} target rows")
    rng = np.random.default_rng(seed)
    true = F.cosine_similarity(source, target, dim=-1).numpy()                        # [N]
    # each entry's random counterpart: another entry's target (offset 1..N-1, so never itself)
    idx = (np.arange(n)[None, :] + rng.integers(1, n, size=(shuffles, n))) % n        # [K, N]
    rand = F.cosine_similarity(source.unsqueeze(0), target[torch.from_numpy(idx)], dim=-1).numpy()  # [K, N]
    per_entry = true - rand.mean(0)
    boot = rng.integers(0, n, size=(BOOTSTRAP, n))
    means = per_entry[boot].mean(1)
    return {"pairs": int(n), "true_cosine": float(true.mean()), "random_cosine": float(rand.mean()),
            "gap": float(per_entry.mean()),
            "gap_ci95": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))],
            "true_beats_random": float((true[None, :] > rand).mean()),
            "mean_pe_norm": float(torch.cat([source, target]).norm(dim=-1).mean())}


def dictionary_check(model, collator, rows: Sequence[dict], source_lang: str, target_lang: str,
                     shuffles: int = 10, seed: int = 0) -> dict[str, Any]:
    """``pair_cosines`` over dictionary rows (``source_ipa`` / ``target_ipa`` per-token lists)."""
    src = word_vectors(model, collator, [r["source_ipa"] for r in rows], source_lang)
    tgt = word_vectors(model, collator, [r["target_ipa"] for r in rows], target_lang)
    return pair_cosines(src, tgt, shuffles, seed)
