"""IPA vocabulary extension: add the transcription symbols the tokenizer cannot spell, resize E_word.

The paper extends the tokenizer with IPA symbols (ŋ, ç, ʃ, ʒ, tone letters ˥˧˩, ...) so a
transcription is not mostly ``[UNK]``. A symbol is added only if the tokenizer turns it, standing alone,
into an unknown token: symbols it already has (Latin letters, often ``ŋ`` in a 250k vocabulary) keep their
pretrained embeddings. Added symbols become "added tokens", which the tokenizer splits out before its
own model runs, so ``tɕiŋ˥`` becomes ``t ɕ i ŋ ˥``-style pieces instead of one ``[UNK]``.

The table only ever GROWS: a backbone whose embedding table is already larger than its tokenizer
(multilingual-e5-small has 250,037 rows for 250,002 tokenizer entries) keeps every row, and the added
symbols take the first unused row ids ``len(tokenizer)``, ``len(tokenizer) + 1``, ...; the table is
resized only when the added ids do not fit. (``resize_token_embeddings(len(tokenizer))`` would cut
e5's table to 250,008 rows.) Every added symbol's row is then (re)initialised, whether it was an
unused tail row or a new one, by ``init_added_rows``: the mean of the tokenizer's own rows plus
Gaussian noise with their per-dimension standard deviation, drawn from a ``torch.Generator`` seeded
with the run's seed. Each added symbol thus gets its own vector, inside the distribution the encoder
was trained on, and drawing it consumes nothing from torch's global RNG. (transformers'
``mean_resizing`` gives every added row nearly the same vector: max pairwise distance 1.9e-5 on e5,
against 0.56 between existing rows, so the symbols would start indistinguishable.) PE shares E_word
(see model.py), so one table covers both the orthographic and the phonemic input. With ``extend_vocab=False`` the transcriptions are
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


def init_added_rows(weight: torch.Tensor, rows: Sequence[int], known: int, seed: int) -> None:
    """Set ``weight[rows]`` to mean + per-dimension std x N(0, 1) of ``weight[:known]`` (in place).

    Args:
        weight: the embedding table [V, H].
        rows: the row ids of the added symbols.
        known: how many leading rows are the tokenizer's own (their statistics are used).
        seed: seeds a private generator, so the draw is reproducible and leaves the global RNG alone.
    """
    if not rows:
        return
    with torch.no_grad():
        base = weight[:known].float()
        mean, std = base.mean(0), base.std(0)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        noise = torch.randn((len(rows), weight.shape[1]), generator=gen)
        weight[torch.tensor(list(rows), dtype=torch.long)] = (mean + std * noise).to(weight.dtype).to(weight.device)


def extend_vocab(tokenizer, model: torch.nn.Module, symbols: Iterable[str], seed: int = 0,
                 whole: bool = False) -> list[str]:
    """Add the unknown ``symbols`` to ``tokenizer``; grow ``model``'s table only if needed (never shrink).

    Args:
        tokenizer: a fast tokenizer, modified in place.
        model: the backbone (``PreTrainedModel``), resized in place when the new ids do not fit.
        symbols: candidate characters, e.g. ``phoneme_symbols(...)`` (or segments, with ``whole``).
        seed: seeds the added rows' initialisation (``init_added_rows``).
        whole: add every symbol that is not ONE vocabulary entry as it stands (phoneme segments such
            as ``tɕ`` or ``˨˩˦``, looked up whole by ``phoneme_symbols.SegmentEncoder``), instead of
            only those the tokenizer turns into an unknown piece.

    Returns:
        The symbols that were added, in the order of their new ids.
    """
    symbols = list(symbols)
    if whole:
        unk = tokenizer.unk_token_id
        added = [s for s in symbols if tokenizer.convert_tokens_to_ids(s) in (None, unk)]
    else:
        added = unknown_symbols(tokenizer, symbols)
    rows_before = model.get_input_embeddings().num_embeddings
    known = min(len(tokenizer), rows_before)
    if added:
        tokenizer.add_tokens(added)
        if len(tokenizer) > rows_before:
            with torch.random.fork_rng(devices=[]):      # resize's own init draws: rows re-set below
                model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        ids = tokenizer.convert_tokens_to_ids(added)
        init_added_rows(model.get_input_embeddings().weight, ids, known, seed)
    log.info("vocabulary extension: %d of the transcription symbols were unknown and added "
             "(tokenizer %d, embedding rows %d -> %d)", len(added), len(tokenizer), rows_before,
             model.get_input_embeddings().num_embeddings)
    return added
