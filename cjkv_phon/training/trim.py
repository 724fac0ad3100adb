"""Vocabulary trimming: keep only the word-embedding rows that a run can ever look up.

A multilingual backbone's word-embedding table is most of its parameters (e5-small: 250k x 384 = 96M
of 118M), while a PAN-X zh+vi run reads ~3 x 10^4 distinct subwords. The other rows cost AdamW time
every step (the embedding gradient is dense), memory, and ~1.1 GB per checkpoint (weights + two AdamW
moments), yet never change what the model computes on the run's data. Trimming is an exact operation
on ``(model, set of used ids)``, applied after any vocabulary extension (``vocab.extend_vocab``), so
it works whatever rows the table has:

    used = run_subword_ids(cfg, data, collator, system)     # every id the run can collate
    vocab = VocabMap.of(used, model.word_embeddings.num_embeddings)
    trim_model(model, vocab)                                 # E_word[kept]; the tied MLM decoder and
                                                             # its bias follow
    collator.use_vocab(vocab)                                # collate() remaps ids to the new rows

The used set is the run's whole reachable vocabulary: the subwords of every sentence of every split of
both languages of the task (not only the subsample the run evaluates, so a trimmed checkpoint scores
the full dev/test files exactly), their transcriptions (collated even when PE is off), every side of every entry of the
pivot dictionary when one is loaded (code-switching and dict-MT insert only those), the tokenizer's
special tokens, and what the system adds (``System.extra_subword_ids``: xTune's sampled segmentations).
A test set chooses nothing here: keeping its rows is what makes the trimmed model compute exactly what
the full one computes on it; no row is trained differently (an unused row never gets a gradient).

Exactness, and its one exception: embedding lookups, PE, the data-vocabulary MLM softmax
(``mlm_vocab: data``), the gradients of the kept rows and their AdamW updates are identical, and so is the
gradient norm used for clipping (unused rows have zero gradient). A softmax over the WHOLE vocabulary
(PhoneXL's ``mlm_vocab: full``) needs every row, so a system that asks for it
(``System.needs_full_vocabulary``) is not trimmed and the results record says so.

The kept original ids are stored in the model as the buffer ``trimmed_vocab`` (so every checkpoint
carries its mapping): row ``k`` of the trimmed table is row ``trimmed_vocab[k]`` of the tokenizer's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable

import torch
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VocabMap:
    """Original tokenizer ids -> rows of a trimmed table.

    Attributes:
        kept: ``[V']`` the kept original ids, ascending (row k of the trimmed table is id ``kept[k]``).
        lookup: ``[V]`` the trimmed row of each original id, -1 where the id was not kept.
    """

    kept: torch.Tensor
    lookup: torch.Tensor

    @classmethod
    def of(cls, ids: Iterable[int], vocab_size: int) -> "VocabMap":
        """The map keeping ``ids`` (duplicates and order do not matter) of a ``vocab_size`` table."""
        kept = torch.tensor(sorted(set(ids)), dtype=torch.long)
        if len(kept) == 0 or int(kept[0]) < 0 or int(kept[-1]) >= vocab_size:
            raise ValueError(f"kept ids must be non-empty and within [0, {vocab_size}); got "
                             f"{len(kept)} ids in [{int(kept.min()) if len(kept) else None}, "
                             f"{int(kept.max()) if len(kept) else None}]")
        lookup = torch.full((vocab_size,), -1, dtype=torch.long)
        lookup[kept] = torch.arange(len(kept))
        return cls(kept, lookup)

    @property
    def size(self) -> int:
        """V', the number of kept rows."""
        return int(self.kept.numel())

    def row(self, token_id: int) -> int:
        """The trimmed row of one original id (``KeyError`` if it was not kept)."""
        row = int(self.lookup[token_id]) if 0 <= token_id < len(self.lookup) else -1
        if row < 0:
            raise KeyError(f"token id {token_id} is not in the trimmed vocabulary")
        return row

    def remap(self, ids: torch.Tensor, fallback: int) -> tuple[torch.Tensor, int]:
        """``ids`` (original) as trimmed rows; ids not kept become ``fallback`` (a trimmed row).

        Returns:
            ``(rows, number of ids that were not kept)``. The trainer's own data never has any (the
            used set covers it by construction); text from elsewhere can, and reads as ``unk``.
        """
        rows = self.lookup[ids]
        missing = rows < 0
        n_missing = int(missing.sum())
        return (rows.masked_fill(missing, fallback) if n_missing else rows), n_missing


def special_ids(tokenizer) -> set[int]:
    """Every special token id of ``tokenizer`` (pad, unk, cls/bos, sep/eos, mask, ...)."""
    return {int(i) for i in tokenizer.all_special_ids if i is not None}


def subword_ids(collator, texts: Iterable[str]) -> set[int]:
    """The ids ``collator.pieces`` gives any of ``texts`` (each distinct string tokenised once)."""
    return {i for text in set(texts) for i in collator.pieces(text)}


def trim_model(model: nn.Module, vocab: VocabMap) -> None:
    """Slice ``model``'s word embeddings (and the tied MLM decoder's bias) to ``vocab.kept``, in place.

    ``model`` is a ``PhoneXLModel``: its backbone's input embedding table is replaced by the kept rows
    (same dtype, device, ``padding_idx`` moved to the pad token's new row), ``config.vocab_size`` is
    updated, and ``mlm_head.bias`` (if any) is sliced the same way; the decoder weight IS the table.
    """
    emb = model.word_embeddings
    if emb.num_embeddings != len(vocab.lookup):
        raise ValueError(f"the table has {emb.num_embeddings} rows but the map is for {len(vocab.lookup)}")
    kept = vocab.kept.to(emb.weight.device)
    pad = emb.padding_idx
    new = nn.Embedding(vocab.size, emb.embedding_dim, padding_idx=vocab.row(pad) if pad is not None else None,
                       device=emb.weight.device, dtype=emb.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(emb.weight[kept])
    new.weight.requires_grad_(emb.weight.requires_grad)
    model.backbone.set_input_embeddings(new)
    model.backbone.config.vocab_size = vocab.size
    head = getattr(model, "mlm_head", None)
    if head is not None:
        head.bias = nn.Parameter(head.bias.detach()[kept].clone(), requires_grad=head.bias.requires_grad)
    model.register_buffer("trimmed_vocab", kept.clone())


def run_subword_ids(cfg, data, collator, system, with_phonemes: bool) -> set[int]:
    """Every subword id the run can feed the model (see the module docstring for what is included).

    Args:
        cfg: the resolved ``TrainConfig`` (task, languages, data folder, phoneme column).
        data: the run's ``RunData`` (its sentences are included even if they are not in ``data_dir``).
        collator: the run's collator (its ``pieces`` is what collation uses).
        system: the run's ``System`` (its dictionary and ``extra_subword_ids``).
        with_phonemes: include the transcriptions (the model reads them when PE is on).
    """
    from cjkv_phon.data.release_reader import load_split   # the data stage, imported where it is used
    from cjkv_phon.schema import SPLITS

    texts: set[str] = set()
    for ex in [ex for exs in (data.train, *data.evals.values()) for ex in exs]:
        texts.update(ex.tokens)
        if with_phonemes:
            texts.update(ex.phonemes)
    columns = ["tokens", cfg.phonemes] if with_phonemes else ["tokens"]
    for lang in (cfg.source_lang, cfg.target_lang):
        for split in SPLITS:
            try:
                table = load_split(cfg.data_dir, cfg.task, lang, split)
            except FileNotFoundError:          # a release without this split: nothing to include
                continue
            for name in columns:
                if name in table.schema.names:
                    texts.update(t for row in table.column(name).to_pylist() if row for t in row if t)
    dictionary = getattr(system, "dictionary", None)
    if dictionary is not None:
        for entry in dictionary.entries:
            for side in (entry.source, entry.target):
                texts.update(side.tokens)
                if with_phonemes:
                    texts.update(side.ipa)
                    texts.update(side.romanized)
    # id 0 is the collator's padding value of phoneme pieces (masked, but looked up)
    ids = subword_ids(collator, texts) | special_ids(collator.tokenizer) | {0}
    encoder = getattr(collator, "phoneme_encoder", None)
    if encoder is not None and getattr(encoder, "word_rows", True):      # segment units (phoneme_symbols.SegmentEncoder): its rows, incl. unk
        ids |= set(encoder.ids.values()) | {encoder.unk_id}
    return ids | set(system.extra_subword_ids(texts))


def trim_run_vocabulary(cfg, data, collator, system, model) -> dict[str, Any]:
    """Trim ``model`` and remap ``collator`` for this run if ``cfg.trim_vocab``; the record's summary.

    Returns:
        ``{"trimmed": bool, "rows": rows in the table, "of": rows before}`` plus ``"reason"`` when
        trimming was asked for but not done (a system that needs the whole vocabulary).
    """
    before = model.word_embeddings.num_embeddings
    if not cfg.trim_vocab:
        return {"trimmed": False, "rows": before, "of": before}
    if system.needs_full_vocabulary():
        log.info("vocabulary not trimmed: %s needs every row (full-vocabulary softmax)", cfg.system)
        return {"trimmed": False, "rows": before, "of": before, "reason": "the system needs the full vocabulary"}
    # Transcriptions are collated (phon_ids) even when PE is off, so their pieces are always kept; they
    # are few (IPA symbols and Latin letters) next to the orthography's.
    vocab = VocabMap.of(run_subword_ids(cfg, data, collator, system, with_phonemes=True), before)
    trim_model(model, vocab)
    collator.use_vocab(vocab)
    log.info("vocabulary trimmed to the run's %d subwords (of %d rows)", vocab.size, before)
    return {"trimmed": True, "rows": vocab.size, "of": before}
