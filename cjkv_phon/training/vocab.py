"""IPA vocabulary extension: add the transcription symbols the tokenizer cannot spell, resize E_word.

The paper extends the tokenizer with IPA symbols (ŋ, ç, ʃ, ʒ, tone letters ˥˧˩, ...) so a
transcription is not mostly ``[UNK]``. A symbol is added only if the tokenizer turns it, standing alone,
into an unknown token: symbols it already has (Latin letters, often ``ŋ`` in a 250k vocabulary) keep their
pretrained embeddings. Added symbols become "added tokens", which the tokenizer splits out before its
own model runs, so ``tɕiŋ˥`` becomes ``t ɕ i ŋ ˥``-style pieces instead of one ``[UNK]``.

The new rows of E_word are drawn by ``resize_token_embeddings`` from a normal distribution with the
existing rows' mean and covariance (transformers' ``mean_resizing``), so they start inside the
distribution the encoder was trained on. PE shares E_word (see model.py), so one resize covers
both the orthographic and the phonemic input. With ``extend_vocab=False`` the transcriptions are
tokenised with the original vocabulary (the paper's "PE, no extension" ablation).

Example:
    >>> symbols = phoneme_symbols(ex.phonemes for ex in examples)     # ['ŋ', 'ɕ', 'ʂ', '˥', ...]
    >>> added = extend_vocab(tokenizer, model, symbols)               # those that were unknown
"""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import torch

log = logging.getLogger(__name__)


def phoneme_symbols(transcriptions: Iterable[Sequence[str]]) -> list[str]:
    """Sorted distinct non-space characters of per-token transcriptions (one sequence per sentence)."""
    return sorted({ch for sent in transcriptions for tok in sent for ch in tok if not ch.isspace()})


def unknown_symbols(tokenizer, symbols: Iterable[str]) -> list[str]:
    """The symbols that the tokenizer maps, standing alone, to (or onto a piece with) its unk id."""
    unk = tokenizer.unk_token_id
    return [s for s in symbols if unk in tokenizer(s, add_special_tokens=False)["input_ids"]]


def extend_vocab(tokenizer, model: torch.nn.Module, symbols: Iterable[str]) -> list[str]:
    """Add the unknown ``symbols`` to ``tokenizer`` and resize ``model``'s embeddings to match.

    Args:
        tokenizer: a fast tokenizer, modified in place.
        model: the backbone (``PreTrainedModel``), resized in place.
        symbols: candidate characters, e.g. ``phoneme_symbols(...)``.

    Returns:
        The symbols that were added, in the order of their new ids.
    """
    added = unknown_symbols(tokenizer, symbols)
    if added:
        tokenizer.add_tokens(added)
        model.resize_token_embeddings(len(tokenizer))
    log.info("vocabulary extension: %d of the transcription symbols were unknown and added (vocab %d)",
             len(added), len(tokenizer))
    return added
