"""The System interface: what a training method (finetune, PhoneXL, CoSDA-ML, xTune, ...) decides.

The trainer (``trainer.train``) owns everything methods share: data loading, the optimizer and schedule,
gradient accumulation, checkpoints and resume, evaluation and the results record. A ``System`` decides
the rest, through five hooks the trainer calls in this order:

    system = SYSTEMS[cfg.system](cfg, collator, dictionary)
    model = system.build_model(backbone)                       # once
    for stage in system.stages():                              # e.g. xTune: consistency, self-training
        examples = system.begin_stage(stage, model, train_examples, predict)
        for each step:
            batch = system.prepare(step_examples, rng, stage)  # re-sampled EVERY step (switches, ...)
            losses = system.losses(model, batch.to(device), step, generator)
            losses["loss"].backward()                          # other keys are logged components

``prepare`` runs on the CPU with a ``random.Random`` seeded from (seed, step), so augmentations are
drawn afresh every step and a resumed run draws exactly what the uninterrupted run drew. ``losses`` gets
a torch ``generator`` on the model's device seeded the same way, for masks drawn on the device.

Adding a method is adding one file in ``training/systems/`` that subclasses ``System`` and decorates it
with ``@SYSTEMS.register("name")``; ``training/systems/__init__.py`` imports every module there.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

import torch

from cjkv_phon.registry import Registry
from cjkv_phon.training.batches import Batch, Collator, Example
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import ModelSettings, PhoneXLModel

# Predicts tag strings for a list of examples with the current model (long sentences are split and
# re-joined); the trainer supplies it to ``begin_stage`` (xTune's stage-2 pseudo-labels).
PredictFn = Callable[[Sequence[Example]], list[list[str]]]


@dataclass(frozen=True)
class Stage:
    """One training stage: its name (logged, stored in checkpoints) and its number of epochs."""

    name: str
    epochs: int

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"stage {self.name!r}: epochs must be >= 1, got {self.epochs}")


@dataclass
class TrainBatch:
    """Everything one step needs: named views of the same sentences.

    ``views["main"]`` is the batch as read (always present). Systems add their own views, e.g.
    ``"switched"`` (code-switched copy for L_XMLM or CoSDA-ML) or ``"translation"``.
    ``extras`` carries anything else a system wants to hand from ``prepare`` to ``losses``.
    """

    views: dict[str, Batch]
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def main(self) -> Batch:
        return self.views["main"]

    def to(self, device: torch.device | str) -> "TrainBatch":
        """A copy with every view's tensors on ``device``."""
        return TrainBatch({k: v.to(device) for k, v in self.views.items()}, self.extras)


class System(ABC):
    """Base class of a training method.

    Class attributes:
        uses_phonemes: the method reads transcriptions (PE); when False the trainer does not require
            them and the model is built without PE and LE.

    Args:
        cfg: the resolved run config (``TrainConfig.resolved()``); ``cfg.options`` holds method-specific
            settings.
        collator: turns examples into batches (the run's tokenizer, labels and subword budget).
        dictionary: the ``PivotDictionary`` for ``source -> target``, or None when not needed.
    """

    uses_phonemes: ClassVar[bool] = True

    def __init__(self, cfg: TrainConfig, collator: Collator, dictionary: Any = None) -> None:
        self.cfg = cfg
        self.collator = collator
        self.dictionary = dictionary

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        """Whether the run must load the pivot dictionary (``cfg.dictionary_dir``); default no."""
        return False

    def needs_full_vocabulary(self) -> bool:
        """Whether the method reads every row of the word-embedding table (a full-vocabulary softmax);
        such runs are not trimmed (``trim.py``). Default no."""
        return False

    def extra_subword_ids(self, texts: set[str]) -> set[int]:
        """Tokenizer ids this method can feed the model beyond the plain tokenisation of ``texts``
        (every token and transcription string of the run's data and dictionary), e.g. sampled
        segmentations; kept when the vocabulary is trimmed. Default none."""
        return set()

    def model_settings(self) -> ModelSettings:
        """Which model additions this method uses.

        The default follows the config's ablation flags for methods that read transcriptions, and is
        orthography only (no PE, no LE) for those that do not; neither gets an MLM head.
        """
        phon = self.uses_phonemes
        return ModelSettings(use_pe=phon and self.cfg.use_pe, use_le=phon and self.cfg.use_le,
                             use_crf=self.cfg.use_crf, with_mlm_head=False)

    def build_model(self, backbone: torch.nn.Module) -> PhoneXLModel:
        """The model for this method on ``backbone`` (vocabulary already extended); its added components
        are initialised from ``cfg.seed`` alone (``model.component_rng``), the same for every system."""
        settings = self.model_settings()
        encoder = self.collator.phoneme_encoder
        # pe_design table / segments / features: PE's own table over the encoder's inventory
        pe_table = (encoder.build_table(backbone.config.hidden_size, self.cfg.seed)
                    if settings.use_pe and hasattr(encoder, "build_table") else None)
        return PhoneXLModel(backbone, self.collator.labels, settings, init_seed=self.cfg.seed,
                            task_loss_norm=self.cfg.task_loss_norm, pe_table=pe_table)

    def stages(self) -> list[Stage]:
        """Training stages in order; one stage of ``cfg.epochs`` epochs by default."""
        return [Stage("train", self.cfg.epochs)]

    def begin_stage(self, stage: Stage, model: PhoneXLModel, examples: list[Example],
                    predict: PredictFn) -> list[Example]:
        """Called before each stage; returns the examples the stage trains on (default: unchanged).

        Args:
            stage: the stage about to start.
            model: the model as trained so far (e.g. to pseudo-label with ``predict``).
            examples: the source training examples (already split to the subword budget).
            predict: tags the given examples with the current model.
        """
        return examples

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        """Build this step's batch on the CPU; the default is the examples as read."""
        return TrainBatch({"main": self.collator.collate(examples)})

    @abstractmethod
    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Loss components of one step; ``"loss"`` is the total that is back-propagated.

        Args:
            model: the model (in train mode, on the run's device).
            batch: ``prepare``'s output on the model's device.
            step: the global optimizer step (0-based), for schedules inside a method.
            generator: a torch generator on the model's device, seeded per step.
        """

    def task_loss(self, model: PhoneXLModel, batch: Batch) -> torch.Tensor:
        """The supervised loss on ``batch``'s gold tags (shared by every method)."""
        hidden = model(batch)
        return model.task_loss(model.emissions(model.word_vectors(hidden, batch)), batch.tags,
                               batch.word_mask)


SYSTEMS: Registry[type[System]] = Registry("system")
