"""FILTER (Fang et al. 2021): separate shallow layers, fused intermediate layers, self-teaching KL.

Each source sentence is paired with its translation, here the word-by-word dictionary translation
("dict-MT": no MT system runs here; ``systems/dict_mt.py``). With ``L`` layers, ``m`` =
``options.fuse_start`` and ``k`` = ``options.fuse_end``:

1. Source and translation are encoded separately by layers ``0 .. m`` (local context);
2. their states are concatenated along the sequence and layers ``m .. k`` attend across both
   (fusion; each half keeps its own position embeddings from ``embed``);
3. the halves are split again and run separately through layers ``k .. L``.

Loss = task(fused source half, gold tags) + ``options.kl_weight`` (default 1.0) · KL(source || translation)
on the aligned tokens (FILTER's self-teaching: the source side's label distribution, detached, teaches
the translation side, whose own labels FILTER does not trust) + ``options.plain_weight`` (default 1.0) ·
task(source through the plain, unfused encoder). The last term exists because evaluation is the same
single-sentence path for every system (no translation is paired with a test sentence), so the plain
path must be trained too; set it to 0 for the paper's objective.
Defaults for ``m, k``: ``1, L - 1`` (``0, L - 1`` for models with fewer than 3 layers): a shallow local
encoder and a deep fusion, the region FILTER's layer search favoured; tune them on source dev.
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from cjkv_phon.training.batches import Example
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.losses import distill_kl
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.system import SYSTEMS, Stage, System, TrainBatch
from cjkv_phon.training.systems.dict_mt import DictTranslations, gather_words, pair_tensors


@SYSTEMS.register("filter")
class Filter(System):
    """Shallow-separate / fused / deep-separate encoding with self-teaching (see the module docstring)."""

    uses_phonemes = False
    resources = "dict-MT"

    def __init__(self, cfg: TrainConfig, collator, dictionary=None) -> None:
        super().__init__(cfg, collator, dictionary)
        self.kl_weight = float(cfg.options.get("kl_weight", 1.0))
        self.plain_weight = float(cfg.options.get("plain_weight", 1.0))
        self.fuse = (cfg.options.get("fuse_start"), cfg.options.get("fuse_end"))
        if self.kl_weight < 0 or self.plain_weight < 0:
            raise ValueError(f"filter: kl_weight and plain_weight must be >= 0; got {self.kl_weight}, "
                             f"{self.plain_weight}")
        self.translation = DictTranslations(collator, dictionary, cfg.source_lang, cfg.target_lang)

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        return True

    def fusion_layers(self, num_layers: int) -> tuple[int, int]:
        """``(m, k)`` with ``0 <= m < k <= num_layers``, from the options or the defaults."""
        m = int(self.fuse[0]) if self.fuse[0] is not None else (1 if num_layers >= 3 else 0)
        k = int(self.fuse[1]) if self.fuse[1] is not None else num_layers - 1
        if not 0 <= m < k <= num_layers:
            raise ValueError(f"filter: need 0 <= fuse_start < fuse_end <= {num_layers}; got {m}, {k}")
        return m, k

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        views = [self.translation(ex) for ex in examples]
        return TrainBatch({"main": self.collator.collate(examples),
                           "translation": self.collator.collate([v.example for v in views])},
                          {"label": pair_tensors(views, "label")})

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        src, trn = batch.main, batch.views["translation"]
        m, k = self.fusion_layers(model.num_layers)
        s_len = src.input_ids.shape[1]
        h_src = model.encode(model.embed(src), src.attention_mask, 0, m)                  # [B, S, H]
        h_trn = model.encode(model.embed(trn), trn.attention_mask, 0, m)                  # [B, S', H]
        both_mask = torch.cat([src.attention_mask, trn.attention_mask], dim=1)           # [B, S+S']
        fused = model.encode(torch.cat([h_src, h_trn], dim=1), both_mask, m, k)         # [B, S+S', H]
        out_src = model.encode(fused[:, :s_len], src.attention_mask, k)                  # [B, S, H]
        out_trn = model.encode(fused[:, s_len:], trn.attention_mask, k)                  # [B, S', H]
        em_src = model.emissions(model.word_vectors(out_src, src))                       # [B, W, K]
        em_trn = model.emissions(model.word_vectors(out_trn, trn))                       # [B, W', K]
        task = model.task_loss(em_src, src.tags, src.word_mask)
        s_idx, t_idx, mask = (t.to(em_src.device) for t in batch.extras["label"])         # [B, A]
        teacher = gather_words(em_src, s_idx).float().softmax(-1)
        kl = distill_kl(gather_words(em_trn, t_idx), teacher, mask)
        out = {"task": task, "kl": kl}
        loss = task + self.kl_weight * kl
        if self.plain_weight > 0:
            out["task_plain"] = self.task_loss(model, src)
            loss = loss + self.plain_weight * out["task_plain"]
        out["loss"] = loss
        return out
