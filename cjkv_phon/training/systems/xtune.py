"""xTune, zero-shot variant (Zheng et al. 2021): consistency regularisation, then self-training.

* Stage ``consistency`` (``cfg.epochs`` epochs): each step, every source sentence gets an augmented
  view, a dictionary code-switch with ratio ``r`` re-drawn every step (CoSDA-ML style; labels follow
  the switched spans), encoded with sampled subword segmentations where the tokenizer has piece
  probabilities (Unigram: XLM-R, e5; ``systems/subword_sampling.py``; WordPiece mBERT has none). Loss = task(original) + task(view) + λ · symmetric KL between the token-level
  label distributions (softmax of the emissions) of the two views, compared on the original tokens
  through the code-switch alignment (kept tokens and the first token of each switched span, whose
  labels are equal by construction; ``systems/dict_mt.py``).
* Stage ``self-training`` (``options.self_training_epochs``, default ``cfg.epochs``): the stage-1 model
  labels the dictionary translation ("dict-MT") of every source sentence; training continues on the
  source sentences plus these pseudo-labelled translations with the same stage-1 loss.

Difference from the paper, forced by what runs here: no machine translation (the MT views and the
translate-train data are the word-by-word dictionary translation, hence resources "Dict+dict-MT").
Options: ``consistency_weight`` (λ, default 1.0), ``self_training_epochs`` (default ``cfg.epochs``),
``subword_alpha`` (sampling smoothing, default 0.1; 0 turns sampling off).
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from typing import Sequence

import torch

from cjkv_phon.training.batches import Example
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.losses import symmetric_kl
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.system import SYSTEMS, PredictFn, Stage, System, TrainBatch
from cjkv_phon.training.systems.dict_mt import gather_words, pair_tensors, switched_view
from cjkv_phon.training.systems.subword_sampling import SamplingCollator, UnigramSampler, supports

log = logging.getLogger(__name__)


@SYSTEMS.register("xtune")
class XTune(System):
    """Two-stage consistency training with dictionary views (see the module docstring)."""

    uses_phonemes = False
    resources = "Dict+dict-MT"

    def __init__(self, cfg: TrainConfig, collator, dictionary=None) -> None:
        super().__init__(cfg, collator, dictionary)
        self.weight = float(cfg.options.get("consistency_weight", 1.0))
        self.st_epochs = int(cfg.options.get("self_training_epochs", cfg.epochs))
        if self.weight < 0 or self.st_epochs < 1:
            raise ValueError(f"xtune: consistency_weight must be >= 0 and self_training_epochs >= 1; "
                             f"got {self.weight}, {self.st_epochs}")
        if cfg.r is None:
            raise ValueError("xtune needs a resolved config (r is None): pass cfg.resolved()")
        alpha = float(cfg.options.get("subword_alpha", 0.1))
        self.sampling = (SamplingCollator(collator, UnigramSampler(collator.tokenizer, alpha))
                         if alpha > 0 and supports(collator.tokenizer) else None)
        if self.sampling is None:
            log.info("xtune: no subword sampling (alpha %s, tokenizer model not Unigram)", alpha)

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        return True

    def extra_subword_ids(self, texts: set[str]) -> set[int]:
        """Sampled segmentations can use any vocabulary piece inside a word: keep them all."""
        return self.sampling.possible_ids(texts) if self.sampling is not None else set()

    def stages(self) -> list[Stage]:
        return [Stage("consistency", self.cfg.epochs), Stage("self-training", self.st_epochs)]

    def begin_stage(self, stage: Stage, model: PhoneXLModel, examples: list[Example],
                    predict: PredictFn) -> list[Example]:
        """Before self-training, add the dict-MT translations labelled by the stage-1 model."""
        if stage.name != "self-training":
            return examples
        views = [self._view(ex, 1.0, None, "top").example for ex in examples]
        translated = [v for v, ex in zip(views, examples) if v.tokens != ex.tokens]
        pseudo = [replace(v, id=f"{v.id}.dict-mt", tags=tuple(tags))
                  for v, tags in zip(translated, predict(translated))] if translated else []
        log.info("xtune self-training: %d source + %d pseudo-labelled dict-MT sentences",
                 len(examples), len(pseudo))
        return examples + pseudo

    def _view(self, ex: Example, ratio: float, rng: random.Random | None, sampling: str = "support"):
        return switched_view(ex, self.collator, self.dictionary, self.cfg.source_lang,
                             self.cfg.target_lang, ratio, rng, sampling)

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        views = [self._view(ex, self.cfg.r, rng) for ex in examples]
        augmented = [v.example for v in views]
        return TrainBatch({"main": self.collator.collate(examples),
                           "augmented": self.sampling.collate_sampled(augmented, rng) if self.sampling
                           else self.collator.collate(augmented)},
                          {"pairs": pair_tensors(views, "label")})

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        main, aug = batch.main, batch.views["augmented"]
        em_main = model.emissions(model.word_vectors(model(main), main))        # [B, W, K]
        em_aug = model.emissions(model.word_vectors(model(aug), aug))            # [B, W', K]
        task = model.task_loss(em_main, main.tags, main.word_mask)
        task_aug = model.task_loss(em_aug, aug.tags, aug.word_mask)
        src, dst, mask = (t.to(em_main.device) for t in batch.extras["pairs"])  # [B, A] each
        consistency = symmetric_kl(gather_words(em_main, src), gather_words(em_aug, dst), mask)
        loss = task + task_aug + self.weight * consistency
        return {"loss": loss, "task": task, "task_augmented": task_aug, "consistency": consistency}
