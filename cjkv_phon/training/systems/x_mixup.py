"""X-MIXUP (Yang et al. 2022): manifold mixup of source and translation hidden states, with alignment.

Each source sentence is paired with its translation, here the word-by-word dictionary translation
("dict-MT": no MT system runs here; ``systems/dict_mt.py``), computed once per sentence. Per step:

1. Source and translation run separately through layers ``0 .. m`` (``options.mix_layer``, default the
   middle layer).
2. Mixup at layer ``m``: each source token's state is mixed with the state of its aligned translation
   token (the code-switch alignment maps every source token to one translation token):
   ``h_src <- (1 - λ) h_src + λ h_trn[aligned]`` on every subword of the token (``options.mix_ratio``
   λ, default 0.2). X-MIXUP finds the aligned states by cross-attention; the dictionary gives the
   alignment directly, which the dict-MT translation makes exact.
3. Both continue through layers ``m .. L``. Loss = task(mixed source, gold tags) + task(translation,
   projected tags: X-MIXUP's translate-train) + ``options.align_weight`` (default 1.0) · MSE between
   the aligned source and translation token states at the last layer (X-MIXUP's alignment loss).
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from cjkv_phon.training.batches import Example
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.pooling import broadcast_to_subwords
from cjkv_phon.training.system import SYSTEMS, Stage, System, TrainBatch
from cjkv_phon.training.systems.dict_mt import DictTranslations, gather_words, pair_tensors


def aligned_mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over masked-in positions of the per-position mean squared difference; a, b [B, A, H]."""
    with torch.autocast(device_type=a.device.type, enabled=False):
        per_position = (a.float() - b.float()).pow(2).mean(-1)                          # [B, A]
        # where, not multiply: a non-finite value at a padded position must not reach the sum.
        kept = torch.where(mask.bool(), per_position, torch.zeros_like(per_position))
        return kept.sum() / mask.sum().clamp(min=1)


@SYSTEMS.register("x-mixup")
class XMixup(System):
    """Mixup of aligned source/translation states at a middle layer (see the module docstring)."""

    uses_phonemes = False
    resources = "dict-MT"

    def __init__(self, cfg: TrainConfig, collator, dictionary=None) -> None:
        super().__init__(cfg, collator, dictionary)
        self.mix_ratio = float(cfg.options.get("mix_ratio", 0.2))
        self.align_weight = float(cfg.options.get("align_weight", 1.0))
        self.mix_layer = cfg.options.get("mix_layer")          # None: the model's middle layer
        if not 0.0 <= self.mix_ratio <= 1.0 or self.align_weight < 0:
            raise ValueError(f"x-mixup: mix_ratio must be in [0, 1] and align_weight >= 0; got "
                             f"{self.mix_ratio}, {self.align_weight}")
        self.translation = DictTranslations(collator, dictionary, cfg.source_lang, cfg.target_lang)

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        return True

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        views = [self.translation(ex) for ex in examples]
        return TrainBatch({"main": self.collator.collate(examples),
                           "translation": self.collator.collate([v.example for v in views])},
                          {"full": pair_tensors(views, "full")})

    def _layer(self, model: PhoneXLModel) -> int:
        m = model.num_layers // 2 if self.mix_layer is None else int(self.mix_layer)
        if not 0 <= m <= model.num_layers:
            raise ValueError(f"x-mixup: mix_layer must be in 0..{model.num_layers}, got {m}")
        return m

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        src, trn, m = batch.main, batch.views["translation"], self._layer(model)
        s_idx, t_idx, mask = (t.to(src.input_ids.device) for t in batch.extras["full"])   # [B, W] each
        h_src = model.encode(model.embed(src), src.attention_mask, 0, m)                 # [B, S, H]
        h_trn = model.encode(model.embed(trn), trn.attention_mask, 0, m)                 # [B, S', H]
        # Full pairs list source tokens 0..n-1 in order, so column w of the gather is source token w.
        partner = gather_words(model.word_vectors(h_trn, trn), t_idx)                    # [B, W, H]
        partner = broadcast_to_subwords(partner * mask.unsqueeze(-1), src.word_index, src.word_last)   # [B, S, H]
        on_word = (src.word_index >= 0).unsqueeze(-1)
        mixed = torch.where(on_word, (1 - self.mix_ratio) * h_src + self.mix_ratio * partner, h_src)
        out_src = model.word_vectors(model.encode(mixed, src.attention_mask, m), src)    # [B, W, H]
        out_trn = model.word_vectors(model.encode(h_trn, trn.attention_mask, m), trn)    # [B, W', H]
        task = model.task_loss(model.emissions(out_src), src.tags, src.word_mask)
        task_trn = model.task_loss(model.emissions(out_trn), trn.tags, trn.word_mask)
        align = aligned_mse(gather_words(out_src, s_idx), gather_words(out_trn, t_idx), mask)
        loss = task + task_trn + self.align_weight * align
        return {"loss": loss, "task": task, "task_translation": task_trn, "align": align}
