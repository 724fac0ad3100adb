"""Plain fine-tuning: the backbone on orthography only (no PE, no LE, no auxiliary losses).

It runs through the same model, trainer and evaluation code as PhoneXL, so the two differ only in what
PhoneXL adds: the mBERT / XLM-R rows of the paper's tables.
"""

from __future__ import annotations

import torch

from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.system import SYSTEMS, System, TrainBatch


@SYSTEMS.register("finetune")
class Finetune(System):
    """Task loss on the source sentences as read."""

    uses_phonemes = False

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        task = self.task_loss(model, batch.main)
        return {"loss": task, "task": task}
