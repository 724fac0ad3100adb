"""CoSDA-ML (Qin et al. 2020): train the task on code-switched source sentences.

Every step, each source sentence has a random ``r`` of its label-safe dictionary spans replaced by
target-language translations from the pivot dictionary (``dictionary.codeswitch.code_switch``); labels
follow the switched spans. The switch is re-drawn every step, never fixed at feature building. As in the
paper's CoSDA-ML baseline there is no PE: the model sees orthography only.
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from cjkv_phon.training.batches import Example, code_switch_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.system import SYSTEMS, Stage, System, TrainBatch


@SYSTEMS.register("cosda-ml")
class CosdaML(System):
    """Task loss on a freshly code-switched copy of each batch."""

    uses_phonemes = False

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        return True

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        switched = code_switch_examples(examples, self.collator, self.dictionary, self.cfg.source_lang,
                                        self.cfg.target_lang, self.cfg.r, rng, self.cfg.phonemes)
        return TrainBatch({"main": self.collator.collate(switched)})

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        task = self.task_loss(model, batch.main)
        return {"loss": task, "task": task}
